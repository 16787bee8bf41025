"""Site content: staff publish banners, news and media items; the home page shows them, per tenant."""

import sqlalchemy as sa
from webtest import Upload

from core.content.models import ContentItem
from tests.helpers import staff_client

DEMO, ACME = "demo.localhost", "acme.localhost"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def editor_form(client, kind):
    page = client.get(DEMO, f"/admin/content/new?kind={kind}")
    return [f for f in page.forms.values() if "title" in f.fields][0]


def post(form, status, **values):
    for name, value in values.items():
        form[name] = value
    return form.submit(extra_environ={"HTTP_HOST": DEMO}, status=status)


def test_staff_publish_banners_news_and_media_for_the_home_page(wsgi_app, db, tenants, client):
    editor = staff_client(wsgi_app, db, "editor", "content_editor")
    refused = post(editor_form(editor, "banner"), 400, title="新春加息季")
    assert refused.status_int == 400
    refused = post(
        editor_form(editor, "banner"),
        400,
        title="新春加息季",
        image=Upload("banner.png", b"not really a png", "image/png"),
    )
    assert refused.status_int == 400
    refused = post(
        editor_form(editor, "banner"),
        400,
        title="新春加息季",
        link_url="javascript:alert(1)",
        image=Upload("banner.png", PNG, "image/png"),
    )
    assert refused.status_int == 400
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ContentItem)) == 0  # refusals saved nothing
    post(
        editor_form(editor, "banner"),
        303,
        title="新春加息季",
        summary="新會員首筆出借加息 0.5%",
        link_url="/invest",
        image=Upload("banner.png", PNG, "image/png"),
    )
    post(
        editor_form(editor, "news"),
        303,
        title="平台完成年度審計",
        summary="審計報告已發布",
        body="第一段。\n\n第二段說明審計結果。",
        locale="zh_Hant",
    )
    post(
        editor_form(editor, "media"),
        303,
        title="鼎信網貸獲評誠信平台",
        source="財經日報",
        link_url="https://example.com/article",
        body="",
    )
    draft = editor_form(editor, "news")
    draft["published"] = False
    post(draft, 303, title="尚未發布的公告", body="草稿")
    with db.transaction() as session:
        items = {i.title: i for i in session.scalars(sa.select(ContentItem))}
    home = client.get(DEMO, "/")
    assert "新春加息季" in home.text and f"/content/images/{items['新春加息季'].id}" in home.text
    assert "平台完成年度審計" in home.text and "鼎信網貸獲評誠信平台" in home.text
    assert "尚未發布的公告" not in home.text
    assert "平台完成年度審計" not in client.get(DEMO, "/?_LOCALE_=en").text  # a zh_Hant item
    page = client.get(DEMO, f"/news/{items['平台完成年度審計'].id}")
    assert "第二段說明審計結果。" in page.text and "<p>第一段。</p>" in page.text
    image = client.get(DEMO, f"/content/images/{items['新春加息季'].id}")
    assert image.content_type == "image/png" and image.body == PNG
    client.get(DEMO, f"/news/{items['尚未發布的公告'].id}", status=404)
    client.get(ACME, f"/news/{items['平台完成年度審計'].id}", status=404)  # another tenant's item
    assert "新春加息季" not in client.get(ACME, "/").text
    cs = staff_client(wsgi_app, db, "cs-content", "customer_service")
    cs.get(DEMO, "/admin/content", status=403)
    # Editing keeps the image; unpublishing takes the item off the home page.
    form = [
        f for f in editor.get(DEMO, f"/admin/content/{items['新春加息季'].id}").forms.values() if "title" in f.fields
    ][0]
    form["published"] = False
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert "新春加息季" not in client.get(DEMO, "/").text
    with db.transaction() as session:
        assert session.get(ContentItem, items["新春加息季"].id).image_key == items["新春加息季"].image_key
