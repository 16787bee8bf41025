"""Site content: a designer makes a banner, a writer news and media items, a reviewer publishes them; the home
page shows them, per tenant and language."""

import sqlalchemy as sa
from webtest import Upload

from core.content.models import ContentItem, Section
from tests.helpers import staff_client, submit

DEMO, ACME = "demo.localhost", "acme.localhost"


def png_bytes(size=(4, 3)) -> bytes:
    """A real PNG image (Pillow checks a cover by its bytes)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = png_bytes()


def staff(wsgi_app, db, login, role, slug="demo", host=DEMO):
    """A signed-in staff member reading the back office in English."""
    client = staff_client(wsgi_app, db, login, role, slug=slug, host=host)
    client.get(host, "/admin?_LOCALE_=en", status="*")
    return client


def section_id(db, code, slug="demo"):
    from core.tenancy.services import tenant_by_slug

    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        return session.scalars(sa.select(Section.id).where(Section.tenant_id == tenant.id, Section.code == code)).one()


def write(client, section, status=303, host=DEMO, **values):
    """Fill the editor for a new item of ``section`` (a section id, or ``banners``) and save it."""
    page = client.get(host, f"/admin/content/new?section={section}")
    return submit(client, host, page, values, status=status)


def step(client, item_id, action, status=303, host=DEMO, **values):
    """Press a review step's button on the item's page."""
    page = client.get(host, f"/admin/content/{item_id}")
    return submit(client, host, page, values, action=action, status=status, action_suffix="/review")


def item_by_title(db, title) -> ContentItem:
    with db.transaction() as session:
        return session.scalars(sa.select(ContentItem).where(ContentItem.title == title)).one()


def publish(reviewer, item_id, host=DEMO):
    step(reviewer, item_id, "approve", host=host)
    step(reviewer, item_id, "publish", host=host)


def test_staff_publish_banners_news_and_media_for_the_home_page(wsgi_app, db, tenants, client):
    designer = staff(wsgi_app, db, "designer", "designer")
    writer = staff(wsgi_app, db, "writer", "content_editor")
    reviewer = staff(wsgi_app, db, "reviewer", "content_reviewer")
    assert "A banner needs an image." in write(designer, "banners", 400, title="新春加息季").text
    refused = write(
        designer, "banners", 400, title="新春加息季", cover=Upload("b.png", b"not really a png", "image/png")
    )
    assert "Upload a JPEG, PNG, GIF or WebP image." in refused.text
    refused = write(
        designer, "banners", 400, title="新春加息季", link_url="javascript:alert(1)", cover=Upload("b.png", PNG)
    )
    assert "https://" in refused.text
    with db.transaction() as session:
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(ContentItem).where(ContentItem.kind != "page")) == 0
        )
    write(
        designer,
        "banners",
        title="新春加息季",
        summary="新會員首筆出借加息 0.5%",
        link_url="/invest",
        cover=Upload("b.png", PNG),
    )
    news, media = section_id(db, "news"), section_id(db, "media")
    write(
        writer,
        news,
        title="平台完成年度審計",
        summary="審計報告已發布",
        body="第一段。\n\n第二段說明審計結果。",
        locale="zh_Hant",
    )
    write(writer, media, title="鼎信網貸獲評誠信平台", source="財經日報", link_url="https://example.com/article")
    write(writer, news, title="尚未發布的公告", body="草稿")
    banner, audited, noted = (item_by_title(db, t) for t in ("新春加息季", "平台完成年度審計", "鼎信網貸獲評誠信平台"))
    step(designer, banner.id, "submit")
    for item in (audited, noted):
        step(writer, item.id, "submit")
    for item in (banner, audited, noted):
        publish(reviewer, item.id)
    home = client.get(DEMO, "/")
    assert "新春加息季" in home.text and f"/content/images/{banner.id}" in home.text
    assert "平台完成年度審計" in home.text and "鼎信網貸獲評誠信平台" in home.text
    assert "尚未發布的公告" not in home.text
    assert "平台完成年度審計" not in client.get(DEMO, "/?_LOCALE_=en").text  # a zh_Hant item
    page = client.get(DEMO, f"/news/{audited.id}")
    assert "第二段說明審計結果。" in page.text and "<p>第一段。</p>" in page.text
    assert client.get(DEMO, f"/news/{noted.id}", status=301).location.endswith(f"/media/{noted.id}")
    image = client.get(DEMO, f"/content/images/{banner.id}")
    assert image.content_type == "image/png" and image.body == PNG
    client.get(DEMO, f"/news/{item_by_title(db, '尚未發布的公告').id}", status=404)
    client.get(ACME, f"/news/{audited.id}", status=404)  # another tenant's item
    client.get(ACME, f"/content/images/{banner.id}", status=404)
    assert "新春加息季" not in client.get(ACME, "/").text
    cs = staff_client(wsgi_app, db, "cs-content", "customer_service")
    cs.get(DEMO, "/admin/content", status=403)
    # Unpublishing takes the banner off the home page; changing it keeps its image.
    step(reviewer, banner.id, "unpublish")
    assert "新春加息季" not in client.get(DEMO, "/").text
    page = designer.get(DEMO, f"/admin/content/{banner.id}")
    submit(designer, DEMO, page, {"title": "新春加息季（延長）"}, status=303)
    with db.transaction() as session:
        changed = session.get(ContentItem, banner.id)
        assert changed.cover_id == banner.cover_id and changed.status == "draft"
