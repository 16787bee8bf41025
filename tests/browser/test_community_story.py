"""The member community in a real browser: a member posts a topic, another member reports it, a moderator finds
it among the reported posts and hides the topic with a reason; other people then read "hidden by a moderator"
and the author reads why."""

import re

import pyotp
import sqlalchemy as sa
from playwright.sync_api import expect

from core.community.models import Post
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import PASSWORD

TITLE, BODY = "加我微信，保證月入十萬", "高收益理財，**穩賺不賠**，私聊我。"
REASON, WHY = "疑似廣告", "廣告內容，違反社區規則"


def url(port, path):
    return f"http://demo.localhost:{port}{path}"


def member_page(browser, port, db, phone, name):
    """A verified member signed in through the sign-in page, reading in Traditional Chinese."""
    with db.transaction() as session:
        factories.member(session, tenant_by_slug(session, "demo"), phone, name=name)
    page = browser.new_context(locale="zh-TW").new_page()
    page.goto(url(port, "/login"))
    page.fill("#login", phone)
    page.fill("#password", PASSWORD)
    page.click("form:has(#login) button[type=submit]")
    page.wait_for_url(url(port, "/account"))
    return page


def moderator_page(browser, port, db, login):
    """A community moderator signed in to the back office (with the two-factor step when asked for it)."""
    with db.transaction() as session:
        secret = factories.staff(session, tenant_by_slug(session, "demo"), login, "moderator")
    page = browser.new_context(locale="zh-TW").new_page()
    page.goto(url(port, "/admin/login"))
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("form:has(#login) button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin(/login/verify)?$"))
    if page.url.endswith("/verify"):
        page.fill("#code", pyotp.TOTP(secret).now())
        page.click("form:has(#code) button[type=submit]")
        page.wait_for_url(url(port, "/admin"))
    return page


def test_a_member_posts_another_reports_and_a_moderator_hides_the_topic(browser, live_server, db, tenants, artifacts):
    port = live_server
    author = member_page(browser, port, db, "13800138961", "陳大文")
    reader = member_page(browser, port, db, "13800138962", "李小龍")
    visitor = browser.new_context(locale="zh-TW").new_page()

    # The author opens the community from the site's menu, chooses a board and posts a topic.
    author.goto(url(port, "/"))
    author.click("a[href='/community']")
    author.wait_for_url(url(port, "/community"))
    author.click("a:has-text('投資交流')")
    author.wait_for_url(re.compile(r".*/community/boards/\d+$"))
    board_path = author.url.split(str(port), 1)[1]
    author.fill("#title", TITLE)
    author.fill("#body", BODY)
    author.click("form:has(#title) button[type=submit]")
    author.wait_for_url(re.compile(r".*/community/topics/\d+$"))
    topic_path = author.url.split(str(port), 1)[1]
    topic_id = int(topic_path.rsplit("/", 1)[1])
    expect(author.locator(".post-body strong")).to_have_text("穩賺不賠")  # Markdown rendered

    # Another member finds it on the board and reports it with a reason.
    reader.goto(url(port, board_path))
    reader.click(f"a[href='{topic_path}']")
    with db.transaction() as session:
        opening = session.scalars(sa.select(Post.id).where(Post.topic_id == topic_id, Post.opening.is_(True))).one()
    reader.fill(f"#report-{opening}", REASON)
    reader.click(f"form[action$='/posts/{opening}/report'] button[type=submit]")
    reader.wait_for_url(re.compile(r".*/community/topics/\d+\?done=reported$"))
    expect(reader.locator("p.flash[role=status]")).to_have_text("謝謝，版主會查看此帖子。")

    # The moderator sees the report in the queue, opens the topic and hides it with a reason.
    moderator = moderator_page(browser, port, db, "story-moderator")
    moderator.goto(url(port, "/admin/community"))
    reported = moderator.locator(f"article#post-{opening}")
    expect(reported).to_contain_text(REASON)
    expect(reported.locator(".post-body strong")).to_have_text("穩賺不賠")
    moderator.screenshot(path=artifacts / "queue.png", full_page=True)
    reported.locator(f"a[href='/admin/community/topics/{topic_id}']").click()
    moderator.wait_for_url(url(port, f"/admin/community/topics/{topic_id}"))
    moderator.fill("#topic-reason", WHY)
    moderator.click("form:has(#topic-reason) button[name=action][value=hide]")
    moderator.wait_for_url(url(port, f"/admin/community/topics/{topic_id}"))
    expect(moderator.locator("button[name=action][value=restore]")).to_be_visible()
    moderator.goto(url(port, "/admin/community"))
    expect(moderator.locator(f"article#post-{opening}")).to_have_count(0)  # the report is closed

    # Others read that a moderator hid it, without its text; the author reads why.
    for page in (reader, visitor):
        page.goto(url(port, topic_path))
        expect(page.locator("main")).to_contain_text("此話題已被版主隱藏。")
        expect(page.locator("main")).not_to_contain_text("穩賺不賠")
        expect(page.locator("main")).not_to_contain_text(WHY)
    reader.screenshot(path=artifacts / "hidden-to-others.png", full_page=True)
    author.goto(url(port, topic_path))
    expect(author.locator("main")).to_contain_text(WHY)
    author.screenshot(path=artifacts / "hidden-to-the-author.png", full_page=True)
    for page in (author, reader, visitor, moderator):
        page.context.close()
