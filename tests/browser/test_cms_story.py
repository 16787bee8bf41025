"""The content centre's review workflow in a real browser, on both themes: a content editor writes a news item,
a reviewer returns it with a comment, the editor changes it and submits it again, another person (the reviewer)
approves and publishes it, and a visitor finds it from the site's menu on the news list and reads it.

The demo tenant shows the default theme in Traditional Chinese, acme the classic theme in English."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import PASSWORD

SITES = {
    # slug: (browser locale, item language as the editor's select offers it, the news section's name, item text)
    "demo": ("zh-TW", "zh_Hant", "新聞中心", ("平台三週年慶", "感謝一路同行", "三年來，出借人累計收回本息。")),
    "acme": ("en-US", "en", "News", ("Acme turns three", "Thank you for three years", "Three years of fair loans.")),
}
COMMENT = {"demo": "請補充週年活動的日期", "acme": "Please add the date of the celebration"}
ADDED = {"demo": "活動日期：五月一日", "acme": "The celebration is on 1 May."}


def url(port, slug, path):
    return f"http://{slug}.localhost:{port}{path}"


def staff_page(browser, port, db, slug, login, role):
    """A staff member of ``slug`` signed in through the back office's sign-in page (and the two-factor step)."""
    with db.transaction() as session:
        secret = factories.staff(session, tenant_by_slug(session, slug), login, role)
    page = browser.new_context(locale=SITES[slug][0]).new_page()
    page.goto(url(port, slug, "/admin/login"))
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("form:has(#login) button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin(/login/verify)?$"))
    if page.url.endswith("/verify"):
        page.fill("#code", pyotp.TOTP(secret).now())
        page.click("form:has(#code) button[type=submit]")
        page.wait_for_url(url(port, slug, "/admin"))
    return page


@pytest.mark.parametrize("slug", ["demo", "acme"])
def test_an_item_is_returned_resubmitted_approved_and_published_to_the_news_list(
    browser, live_server, db, tenants, artifacts, slug
):
    port = live_server
    locale, language, news, (title, summary, body) = SITES[slug]
    writer = staff_page(browser, port, db, slug, "story-writer", "content_editor")
    reviewer = staff_page(browser, port, db, slug, "story-reviewer", "content_reviewer")
    visitor = browser.new_context(locale=locale).new_page()

    # The editor writes a news item in the site's language and asks for review.
    writer.goto(url(port, slug, "/admin/content"))
    writer.click(f"a.button[href*='/admin/content/new?section=']:has-text('{news}')")
    writer.fill("#title", title)
    writer.fill("#summary", summary)
    writer.fill("#body", body)
    writer.select_option("#locale", language)
    writer.click("form:has(#title) button[type=submit]")
    writer.wait_for_url(re.compile(r".*/admin/content/\d+$"))
    item_path = writer.url.split(str(port), 1)[1]
    item_id = int(item_path.rsplit("/", 1)[1])
    writer.click("button[name=action][value=submit]")
    expect(writer.locator("button[name=action][value=submit]")).to_have_count(0)

    # The reviewer finds it among the submitted items and returns it with a comment.
    reviewer.goto(url(port, slug, "/admin/content?status=submitted"))
    reviewer.click(f"a[href='{item_path}']")
    reviewer.fill("#note", COMMENT[slug])
    reviewer.click("button[name=action][value=return]")
    reviewer.wait_for_url(url(port, slug, item_path))
    expect(reviewer.locator("button[name=action][value=approve]")).to_have_count(0)

    # The editor reads the comment, changes the text and submits it again.
    writer.goto(url(port, slug, item_path))
    expect(writer.locator("main")).to_contain_text(COMMENT[slug])
    writer.screenshot(path=artifacts / "returned.png", full_page=True)
    writer.fill("#body", f"{body}\n\n{ADDED[slug]}")
    writer.click("form:has(#title) button[type=submit]")
    writer.wait_for_url(url(port, slug, item_path))
    writer.click("button[name=action][value=submit]")
    expect(writer.locator("button[name=action][value=submit]")).to_have_count(0)
    expect(writer.locator("button[name=action][value=approve]")).to_have_count(0)  # an editor never approves

    # The reviewer approves it: approved is not yet on the site.
    reviewer.goto(url(port, slug, item_path))
    reviewer.click("button[name=action][value=approve]")
    expect(reviewer.locator("button[name=action][value=publish]")).to_be_visible()
    visitor.goto(url(port, slug, "/news"))
    expect(visitor.locator("main")).not_to_contain_text(title)
    assert visitor.goto(url(port, slug, f"/news/{item_id}")).status == 404

    # Published, it is on the news list the site's menu leads to, with its text.
    reviewer.click("button[name=action][value=publish]")
    expect(reviewer.locator("button[name=action][value=unpublish]")).to_be_visible()
    reviewer.screenshot(path=artifacts / "published.png", full_page=True)
    visitor.goto(url(port, slug, "/"))
    visitor.click("a[href='/news']")
    visitor.wait_for_url(url(port, slug, "/news"))
    entry = visitor.locator(f".news-list a:has-text('{title}')")
    expect(entry).to_be_visible()
    expect(visitor.locator(".news-list")).to_contain_text(summary)
    visitor.screenshot(path=artifacts / f"news-{slug}.png", full_page=True)
    entry.click()
    visitor.wait_for_url(url(port, slug, f"/news/{item_id}"))
    expect(visitor.locator("h1")).to_have_text(title)
    expect(visitor.locator("main")).to_contain_text(ADDED[slug])
    visitor.screenshot(path=artifacts / f"item-{slug}.png", full_page=True)
    for page in (writer, reviewer, visitor):
        page.context.close()
