"""The content centre on the public site and the API: lists, articles, pages, feeds, sitemap, robots, Open
Graph; XSS stored and shown safely; nothing of one tenant on another; sections staff add; the page templates."""

import re
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa
from webtest import Upload

from core.content.models import ContentItem, Section
from core.tenancy.services import tenant_by_slug
from tests.conftest import Client
from tests.helpers import submit
from tests.test_content import ACME, DEMO, PNG, item_by_title, publish, section_id, staff, step, write

XSS = (
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    "[click](javascript:alert(3))",
    '<svg onload="alert(4)">',
    '"><script>alert(5)</script>',
    '<a href="jAvAsCrIpT:alert(6)">x</a>',
)


def executable(html: str) -> list[str]:
    """Markup that would run, as a browser parses the page: a script element (other than the site's own), an
    inline event handler, a ``javascript:`` address."""
    from html.parser import HTMLParser

    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
                found.append(tag)
            found.extend(f"{tag} {name}" for name in attrs if name.startswith("on"))
            for name in ("href", "src", "action"):
                if (attrs.get(name) or "").strip().lower().startswith("javascript:"):
                    found.append(f"{tag} {name}")

    Parser().feed(html)
    return found


PUBLISHERS = [0]  # a new writer and reviewer for each item


def published(wsgi_app, db, host=DEMO, slug="demo", code="news", section=None, **values):
    """An item written, submitted, approved and published by the staff of ``slug``'s site; its row."""
    PUBLISHERS[0] += 1
    writer = staff(wsgi_app, db, f"writer-{slug}-{PUBLISHERS[0]}", "content_editor", slug=slug, host=host)
    reviewer = staff(wsgi_app, db, f"reviewer-{slug}-{PUBLISHERS[0]}", "content_reviewer", slug=slug, host=host)
    write(writer, section or section_id(db, code, slug), host=host, **values)
    item = item_by_title(db, values["title"])
    step(writer, item.id, "submit", host=host)
    publish(reviewer, item.id, host=host)
    return item


def test_xss_in_every_text_field_is_stored_and_shown_harmless(wsgi_app, db, tenants, client):
    vector = " ".join(XSS)
    item = published(
        wsgi_app, db, title='"><script>alert(1)</script>', summary='<img src=x onerror="alert(2)">', body=vector
    )
    with db.transaction() as session:
        assert session.get(ContentItem, item.id).body == vector  # kept as written
    for path in ("/", "/news", f"/news/{item.id}"):
        page = client.get(DEMO, path)
        assert not executable(page.text), path
        assert "&lt;script&gt;" in page.text or "alert(1)" not in page.text
    feed = client.get(DEMO, "/news/feed.xml")
    ET.fromstring(feed.body)  # well-formed: every text escaped
    assert "<script>" not in feed.text
    admin = staff(wsgi_app, db, "looker", "content_reviewer")
    for path in ("/admin/content", f"/admin/content/{item.id}", f"/admin/content/{item.id}/versions/1"):
        assert not executable(admin.get(DEMO, path).text), path


def test_lists_page_by_ten_and_show_only_the_visitors_language(wsgi_app, db, tenants, client):
    writer = staff(wsgi_app, db, "writer", "content_editor")
    reviewer = staff(wsgi_app, db, "reviewer", "content_reviewer")
    industry = section_id(db, "industry")
    for n in range(12):
        write(writer, industry, title=f"行業消息 {n:02d}", body=f"第 {n} 則", locale="zh_Hant" if n else "en")
    with db.transaction() as session:
        ids = session.scalars(
            sa.select(ContentItem.id).where(ContentItem.kind == "industry").order_by(ContentItem.id)
        ).all()
    for item_id in ids:
        step(writer, item_id, "submit")
        publish(reviewer, item_id)
    first = client.get(DEMO, "/industry?_LOCALE_=zh_Hant")
    assert "行業消息 11" in first.text and "行業消息 02" in first.text and "行業消息 01" not in first.text
    assert "行業消息 00" not in first.text  # an English item
    second = client.get(DEMO, "/industry?page=2&_LOCALE_=zh_Hant")
    assert "行業消息 01" in second.text and "行業消息 11" not in second.text
    client.get(DEMO, "/industry?page=3", status=404)
    assert "行業消息 00" in client.get(DEMO, "/industry?_LOCALE_=en").text


def test_pages_begin_as_drafts_and_are_published_by_their_address(wsgi_app, db, tenants, client):
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        pages = session.scalars(sa.select(ContentItem).where(ContentItem.kind == "page")).all()
        mine = [p for p in pages if p.tenant_id == tenant.id]
    assert {p.slug for p in mine} == {
        "about",
        "security",
        "guide",
        "contact",
        "terms",
        "privacy",
        "loan-agreement",
        "lender-risk",
        "loan-contract",
    }
    assert {p.locale for p in mine} == {"zh_Hant", "zh_Hans", "en"}
    assert all(p.status == "draft" for p in pages)
    about = next(p for p in mine if p.slug == "about" and p.locale == "zh_Hant")
    assert "鼎信網貸" in about.body and "【公司全稱】" in about.body
    client.get(DEMO, "/pages/about", status=404)
    writer = staff(wsgi_app, db, "writer", "content_editor")
    reviewer = staff(wsgi_app, db, "reviewer", "content_reviewer")
    page = writer.get(DEMO, f"/admin/content/{about.id}")
    submit(writer, DEMO, page, {"body": about.body.replace("【公司全稱】", "鼎信科技有限公司")}, status=303)
    step(writer, about.id, "submit")
    publish(reviewer, about.id)
    shown = client.get(DEMO, "/pages/about?_LOCALE_=zh_Hant")
    assert "鼎信科技有限公司" in shown.text and "<h2>我們做甚麼</h2>" in shown.text
    assert "鼎信科技有限公司" in client.get(DEMO, "/pages/about?_LOCALE_=en").text  # no English page published
    assert "<loc>http://demo.localhost/pages/about</loc>" in client.get(DEMO, "/sitemap.xml").text
    assert "關於我們" in client.get(DEMO, "/pages?_LOCALE_=zh_Hant").text
    client.get(ACME, "/pages/about", status=404)


def test_open_graph_tags_describe_an_article(wsgi_app, db, tenants, client):
    item = published(
        wsgi_app, db, title="有封面的消息", summary="封面摘要", body="正文 **粗體**", cover=Upload("c.png", PNG)
    )
    page = client.get(DEMO, f"/news/{item.id}")
    with db.transaction() as session:
        cover = session.get(ContentItem, item.id).cover_url
    assert '<meta property="og:title" content="有封面的消息"/>' in page.text
    assert '<meta property="og:description" content="封面摘要"/>' in page.text
    assert f'<meta property="og:image" content="http://demo.localhost{cover}"/>' in page.text
    assert f'<meta property="og:url" content="http://demo.localhost/news/{item.id}"/>' in page.text
    assert client.get(DEMO, cover).body == PNG


def test_robots_and_sitemap_name_the_host_asked(wsgi_app, db, tenants, client):
    robots = client.get(DEMO, "/robots.txt")
    assert robots.content_type == "text/plain" and "Sitemap: http://demo.localhost/sitemap.xml" in robots.text
    assert "Disallow: /admin" in robots.text
    assert "Sitemap: http://acme.localhost/sitemap.xml" in client.get(ACME, "/robots.txt").text
    tree = ET.fromstring(client.get(ACME, "/sitemap.xml").body)
    urls = [e.text for e in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "http://acme.localhost/news" in urls and all(u.startswith("http://acme.localhost/") for u in urls)


def test_staff_add_a_section_with_its_own_address(wsgi_app, db, tenants, client):
    reviewer = staff(wsgi_app, db, "reviewer", "content_reviewer")
    page = reviewer.get(DEMO, "/admin/content/sections")
    taken = submit(reviewer, DEMO, page, {"name_zh_Hant": "投資", "slug": "invest"}, status=400)
    assert "This address is taken: choose another." in taken.text
    page = reviewer.get(DEMO, "/admin/content/sections")
    submit(reviewer, DEMO, page, {"name_zh_Hant": "平台公告", "name_en": "Notices", "slug": "notices"}, status=303)
    notices = section_id_by_slug(db, "notices")
    item = published(wsgi_app, db, code=None, section=notices, title="系統維護通知", body="週六凌晨維護")
    assert "系統維護通知" in client.get(DEMO, "/notices").text
    assert client.get(DEMO, f"/news/{item.id}", status=301).location.endswith(f"/notices/{item.id}")
    assert "系統維護通知" in client.get(DEMO, f"/notices/{item.id}").text
    assert "系統維護通知" in client.get(DEMO, "/notices/feed.xml").text
    client.get(ACME, "/notices", status=404)
    client.get(DEMO, "/invest")  # other pages keep their addresses
    news = section_id(db, "news")
    page = reviewer.get(DEMO, f"/admin/content/sections/{news}")
    assert 'name="what" value="delete"' not in page.text  # built-in sections stay
    page = reviewer.get(DEMO, f"/admin/content/sections/{notices}")
    refused = submit(reviewer, DEMO, page, {"what": "delete"}, status=400)
    assert "Move or delete the section's items first." in refused.text


def section_id_by_slug(db, slug):
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        return session.scalars(sa.select(Section.id).where(Section.tenant_id == tenant.id, Section.slug == slug)).one()


def test_the_built_in_sections_are_made_for_a_tenant_that_has_none(wsgi_app, db, tenants, client):
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "acme")
        session.execute(sa.delete(ContentItem).where(ContentItem.tenant_id == tenant.id))
        session.execute(sa.delete(Section).where(Section.tenant_id == tenant.id))
    assert client.get(ACME, "/news").status_int == 200
    with db.transaction() as session:
        codes = session.scalars(sa.select(Section.code).where(Section.tenant_id == tenant.id)).all()
        pages = session.scalar(
            sa.select(sa.func.count()).select_from(ContentItem).where(ContentItem.tenant_id == tenant.id)
        )
    assert sorted(codes) == ["industry", "media", "news", "pages"] and pages == 8 * 2  # acme: en and zh_Hans


def test_nothing_of_one_tenant_is_found_on_another(wsgi_app, db, tenants, api):
    demo_item = published(wsgi_app, db, title="鼎信的消息", body="只屬於鼎信", cover=Upload("c.png", PNG))
    acme_item = published(wsgi_app, db, host=ACME, slug="acme", title="Acme news", body="Acme only")
    visitor = Client(wsgi_app)
    for mine, theirs, item in ((DEMO, ACME, demo_item), (ACME, DEMO, acme_item)):
        slug = "demo" if mine == DEMO else "acme"
        for path in (f"/news/{item.id}", f"/news/{item.id}?_LOCALE_=en", f"/content/images/{item.id}"):
            visitor.get(theirs, path, status=404)
        assert item.title not in visitor.get(theirs, "/news").text
        assert item.title not in visitor.get(theirs, "/news/feed.xml").text
        assert f"/news/{item.id}<" not in visitor.get(theirs, "/sitemap.xml").text
        api.get(theirs, f"/api/v1/content/items/{item.id}", status=404)
        assert item.title not in api.get(theirs, "/api/v1/content/news").text
        other_slug = "acme" if slug == "demo" else "demo"
        outsider = staff(wsgi_app, db, f"chief-{other_slug}", "administrator", slug=other_slug, host=theirs)
        for path in (
            f"/admin/content/{item.id}",
            f"/admin/content/{item.id}/versions/1",
            f"/admin/content/sections/{item.section_id}",
        ):
            outsider.get(theirs, path, status=404)
        token = re.search(r'name="csrf_token" value="([^"]+)"', outsider.get(theirs, "/admin").text).group(1)
        outsider.post(
            theirs, f"/admin/content/{item.id}/review", {"action": "unpublish", "csrf_token": token}, status=404
        )
        outsider.post(theirs, f"/admin/content/{item.id}", {"what": "delete", "csrf_token": token}, status=404)
        assert visitor.get(mine, f"/news/{item.id}").status_int == 200


# -- the API ------------------------------------------------------------------------------------------------


@pytest.fixture
def api(wsgi_app, engine):
    return Client(wsgi_app)


def test_the_api_lists_a_sections_published_items_by_page(wsgi_app, db, tenants, api):
    first = published(wsgi_app, db, title="第一則", summary="摘要一", body="正文 *一*", locale="zh_Hant")
    second = published(wsgi_app, db, title="第二則", body="正文二", cover=Upload("c.png", PNG))
    draft_writer = staff(wsgi_app, db, "drafter", "content_editor")
    write(draft_writer, section_id(db, "news"), title="草稿", body="未發布")
    draft = item_by_title(db, "草稿")
    body = api.get(DEMO, "/api/v1/content/news?per_page=1", headers={"Accept-Language": "zh-TW"}).json
    assert body["total"] == 2 and body["pages"] == 2 and body["per_page"] == 1 and body["name"] == "新聞中心"
    assert [i["title"] for i in body["items"]] == ["第二則"]
    assert body["items"][0]["url"] == f"http://demo.localhost/news/{second.id}"
    assert body["items"][0]["cover_url"].startswith("http://demo.localhost/media/")
    body = api.get(DEMO, "/api/v1/content/news?per_page=1&page=2", headers={"Accept-Language": "zh-TW"}).json
    assert [i["id"] for i in body["items"]] == [first.id]
    english = api.get(DEMO, "/api/v1/content/news", headers={"Accept-Language": "en"}).json
    assert [i["title"] for i in english["items"]] == ["第二則"]  # 第一則 is written for zh_Hant readers
    api.get(DEMO, "/api/v1/content/news?per_page=51", status=400)
    api.get(DEMO, "/api/v1/content/nowhere", status=404)
    one = api.get(DEMO, f"/api/v1/content/items/{first.id}").json
    assert one["body"] == "正文 *一*" and one["body_html"] == "<p>正文 <em>一</em></p>\n" and one["summary"] == "摘要一"
    api.get(DEMO, f"/api/v1/content/items/{draft.id}", status=404)
    api.get(DEMO, "/api/v1/content/items/999999", status=404)
