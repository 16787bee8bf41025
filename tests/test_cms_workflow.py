"""The content centre's review workflow through the back office: a writer and two reviewers, four eyes,
versions with their differences, scheduled publishing, refusals that change nothing, permissions."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from webtest import Upload

from core.accounts.models import AuditEvent
from core.content.models import ContentItem, ContentVersion
from tests.helpers import submit
from tests.test_content import DEMO, PNG, item_by_title, section_id, staff, step, write


def post_step(client, item_id, action, status):
    """POST a review step straight to its address (with the sign-in's CSRF token), as a crafted form would."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(DEMO, "/admin").text).group(1)
    return client.post(DEMO, f"/admin/content/{item_id}/review", {"action": action, "csrf_token": token}, status=status)


def status_of(db, item_id) -> str:
    with db.transaction() as session:
        return session.get(ContentItem, item_id).status


def test_submit_return_resubmit_approve_publish_with_four_eyes(wsgi_app, db, tenants, client):
    writer = staff(wsgi_app, db, "writer", "content_editor")
    reviewer = staff(wsgi_app, db, "reviewer", "content_reviewer")
    other = staff(wsgi_app, db, "reviewer2", "content_reviewer")
    chief = staff(wsgi_app, db, "chief", "administrator")  # writes and reviews
    news = section_id(db, "news")
    write(writer, news, title="平台三週年", summary="感謝大家", body="第一段\n\n第二段", locale="zh_Hant")
    item = item_by_title(db, "平台三週年")
    assert item.status == "draft" and item.version == 1
    post_step(writer, item.id, "approve", 403)
    step(writer, item.id, "submit")
    page = step(reviewer, item.id, "return", 400, note="")
    assert "Say what should change before returning it." in page.text
    assert status_of(db, item.id) == "submitted"
    step(reviewer, item.id, "return", note="請補充週年活動的日期")
    assert status_of(db, item.id) == "returned"
    page = writer.get(DEMO, f"/admin/content/{item.id}")
    assert "請補充週年活動的日期" in page.text
    page = post_step(writer, item.id, "submit", 400)
    assert "Change the item as the reviewer asked, then submit it again." in page.text
    submit(writer, DEMO, page, {"body": "第一段\n\n活動日期：五月一日\n\n第二段"}, status=303)
    assert status_of(db, item.id) == "draft"
    step(writer, item.id, "submit")
    # the chief changes the text, so the chief may not approve it; another reviewer does
    page = chief.get(DEMO, f"/admin/content/{item.id}")
    submit(chief, DEMO, page, {"title": "平台三週年慶"}, status=303)
    step(chief, item.id, "submit")
    page = step(chief, item.id, "approve", 400)
    assert "You wrote or changed this item: another reviewer approves it." in page.text
    assert status_of(db, item.id) == "submitted"
    step(other, item.id, "approve")
    client.get(DEMO, f"/news/{item.id}", status=404)  # approved is not published yet
    step(reviewer, item.id, "publish")
    assert status_of(db, item.id) == "published"
    assert "平台三週年慶" in client.get(DEMO, "/news").text
    page = client.get(DEMO, f"/news/{item.id}")
    assert "活動日期：五月一日" in page.text
    feed = client.get(DEMO, "/news/feed.xml")
    assert feed.content_type == "application/atom+xml" and "平台三週年慶" in feed.text
    assert f"http://demo.localhost/news/{item.id}" in feed.text
    assert f"<loc>http://demo.localhost/news/{item.id}</loc>" in client.get(DEMO, "/sitemap.xml").text
    with db.transaction() as session:
        actions = session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.object_type == "content_item", AuditEvent.object_id == str(item.id))
            .order_by(AuditEvent.id)
        ).all()
        numbers = session.scalars(
            sa.select(ContentVersion.number).where(ContentVersion.item_id == item.id).order_by(ContentVersion.number)
        ).all()
    assert actions == [
        "content.save",
        "content.submit",
        "content.return",
        "content.save",
        "content.submit",
        "content.save",
        "content.submit",
        "content.approve",
        "content.publish",
    ]
    assert numbers == [1, 2, 3]
    diff = reviewer.get(DEMO, f"/admin/content/{item.id}/versions/2")
    assert "<ins>活動日期：五月一日</ins>" in diff.text and "<del>" not in diff.text
    diff = reviewer.get(DEMO, f"/admin/content/{item.id}/versions/3?against=1")
    assert "<del>平台三週年</del>" in diff.text and "<ins>平台三週年慶</ins>" in diff.text
    # published: changes wait for unpublishing; unpublished it leaves the site and stays approved
    page = writer.get(DEMO, f"/admin/content/{item.id}")
    assert "Unpublish it before changing it." in page.text and 'name="title"' not in page.text
    step(reviewer, item.id, "unpublish")
    assert status_of(db, item.id) == "approved"
    client.get(DEMO, f"/news/{item.id}", status=404)
    assert "平台三週年慶" not in client.get(DEMO, "/news/feed.xml").text


def test_a_scheduled_item_appears_only_once_its_time_has_come(wsgi_app, db, tenants, client):
    writer = staff(wsgi_app, db, "writer", "content_editor")
    reviewer = staff(wsgi_app, db, "reviewer", "content_reviewer")
    news = section_id(db, "news")
    local = dt.datetime.now(ZoneInfo("Asia/Shanghai"))  # the demo site's time zone
    past = (local - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    page = write(writer, news, 400, title="預告", body="明天見", publish_at=past)
    assert "Choose a time in the future" in page.text
    soon = (local + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    write(writer, news, title="預告", body="明天見", publish_at=soon)
    item = item_by_title(db, "預告")
    step(writer, item.id, "submit")
    step(reviewer, item.id, "approve")
    step(reviewer, item.id, "publish")
    assert status_of(db, item.id) == "scheduled"
    assert "預告" not in client.get(DEMO, "/news").text
    client.get(DEMO, f"/news/{item.id}", status=404)
    assert "預告" not in client.get(DEMO, "/news/feed.xml").text
    assert f"/news/{item.id}<" not in client.get(DEMO, "/sitemap.xml").text
    with db.transaction() as session:  # two hours pass
        session.get(ContentItem, item.id).published_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    assert "預告" in client.get(DEMO, "/news").text
    assert "明天見" in client.get(DEMO, f"/news/{item.id}").text
    assert "Published" in reviewer.get(DEMO, f"/admin/content/{item.id}").text
    assert status_of(db, item.id) == "scheduled"  # read as published: no job moved it


def test_bad_input_is_refused_and_saves_nothing(wsgi_app, db, tenants, client):
    writer = staff(wsgi_app, db, "writer", "content_editor")
    news = section_id(db, "news")
    page = write(writer, news, 400, title="很長的文章", body="字" * 1_000_000)
    assert "keep it under 100,000 characters" in page.text
    page = write(
        writer, news, 400, title="封面", body="正文", cover=Upload("cover.png", b"GIF89a not an image", "image/png")
    )
    assert "Upload a JPEG, PNG, GIF or WebP image." in page.text
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    page = write(writer, news, 400, title="封面", body="正文", cover=Upload("cover.png", svg, "image/png"))
    assert "SVG images are not accepted" in page.text
    assert "Give a title of 2 to 120 characters." in write(writer, news, 400, title="x", body="正文").text
    with db.transaction() as session:
        assert not session.scalars(sa.select(ContentItem).where(ContentItem.kind != "page")).all()
    write(writer, news, title="有封面", body="正文", cover=Upload("cover.png", PNG, "image/png"))
    item = item_by_title(db, "有封面")
    assert item.cover_id is not None


def test_each_role_does_only_its_own_part(wsgi_app, db, tenants, client):
    writer = staff(wsgi_app, db, "writer", "content_editor")
    designer = staff(wsgi_app, db, "designer", "designer")
    reviewer = staff(wsgi_app, db, "reviewer", "content_reviewer")
    outsider = staff(wsgi_app, db, "cashier", "cashier")
    news = section_id(db, "news")
    write(writer, news, title="角色測試", body="正文")
    item = item_by_title(db, "角色測試")
    for path in (
        "/admin/content",
        f"/admin/content/{item.id}",
        f"/admin/content/new?section={news}",
        f"/admin/content/{item.id}/versions/1",
        "/admin/content/sections",
    ):
        outsider.get(DEMO, path, status=403)
    post_step(outsider, item.id, "submit", 403)
    designer.get(DEMO, f"/admin/content/new?section={news}", status=403)  # designers make banners
    writer.get(DEMO, "/admin/content/new?section=banners", status=403)
    reviewer.get(DEMO, f"/admin/content/new?section={news}", status=403)
    writer.get(DEMO, "/admin/content/sections", status=403)
    step(writer, item.id, "submit")
    page = writer.get(DEMO, f"/admin/content/{item.id}")
    assert 'value="approve"' not in page.text
    # a designer changes the cover of a writer's item: it is reviewed again
    page = designer.get(DEMO, f"/admin/content/{item.id}")
    submit(designer, DEMO, page, {"cover": Upload("c.png", PNG, "image/png")}, status=303)
    assert status_of(db, item.id) == "draft"
    with db.transaction() as session:
        assert session.get(ContentItem, item.id).cover_id is not None
