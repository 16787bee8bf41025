"""Branding from the back office: texts per language with fallback, company details, colours, logo upload."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from core.accounts.models import AuditEvent
from core.tenancy.models import TenantVersion
from core.tenancy.services import tenant_by_slug
from core.uploads import TenantFile
from tests.helpers import staff_client

HOST = "demo.localhost"


@pytest.fixture
def admin(wsgi_app, db, tenants):
    """A signed-in administrator reading in English (the choice is remembered in a cookie)."""
    client = staff_client(wsgi_app, db, "brand-admin", "administrator")
    client.get(HOST, "/admin", params={"_LOCALE_": "en"})
    return client


def png(width=8, height=8, colour=(200, 30, 30), size_bytes=None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    data = out.getvalue()
    if size_bytes is not None:  # a valid PNG padded past a limit with an ancillary chunk's worth of bytes
        data += b"\0" * (size_bytes - len(data))
    return data


def branding_form(admin):
    page = admin.get(HOST, "/admin/settings/branding")
    return next(f for f in page.forms.values() if "branding.site_title.en" in f.fields)


def save(admin, values, upload=None, status=303):
    form = branding_form(admin)
    for name, value in values.items():
        form[name] = value
    if upload is not None:
        form[upload[0]] = (upload[1], upload[2])
    return form.submit(extra_environ={"HTTP_HOST": HOST}, status=status)


def stored_branding(db) -> dict:
    with db.transaction() as session:
        return dict(tenant_by_slug(session, "demo").branding)


def test_an_english_visitor_sees_the_english_texts_and_others_fall_back_to_the_default_language(client, admin, db):
    save(
        admin,
        {
            "branding.site_title.en": "Dingxin Lending",
            "branding.footer_text.en": "Dingxin Lending · Lending involves risk",
            "branding.site_title.zh_Hant": "鼎信網貸",
        },
    )
    branding = stored_branding(db)
    assert branding["site_title"] == {"zh_Hant": "鼎信網貸", "en": "Dingxin Lending"}
    english = client.get(HOST, "/", params={"_LOCALE_": "en"})
    assert "<title>Dingxin Lending</title>" in english.text
    assert "Dingxin Lending · Lending involves risk" in english.text
    chinese = client.get(HOST, "/", params={"_LOCALE_": "zh_Hant"})
    assert "<title>鼎信網貸</title>" in chinese.text and "鼎信網貸 · 投資有風險，出借需謹慎" in chinese.text
    # zh_Hans has no text of its own: the default language's shows
    simplified = client.get(HOST, "/", params={"_LOCALE_": "zh_Hans"})
    assert "<title>鼎信網貸</title>" in simplified.text and "Dingxin Lending" not in simplified.text


def test_saving_unchanged_changes_nothing_and_records_no_version(admin, db):
    before = stored_branding(db)
    with db.transaction() as session:
        versions = session.scalar(sa.select(sa.func.count()).select_from(TenantVersion))
    response = save(admin, {})
    assert response.location.endswith("saved=0")
    assert stored_branding(db) == before  # one text for every language stays one text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TenantVersion)) == versions


def test_company_details_show_in_the_footer_with_links(client, admin, db):
    save(
        admin,
        {
            "branding.company_name.zh_Hant": "鼎信金融信息服務有限公司",
            "branding.company_licence": "91310000MA1FL0000X",
            "branding.company_icp": "滬ICP備12345678號",
            "branding.company_hotline": "+86 400-800-1234",
            "branding.company_email": "service@dingxin.example",
            "branding.company_address.zh_Hant": "上海市浦東新區世紀大道100號",
        },
    )
    page = client.get(HOST, "/", params={"_LOCALE_": "zh_Hant"})
    footer = page.html.find("footer")
    text = footer.get_text()
    assert "鼎信金融信息服務有限公司" in text and "91310000MA1FL0000X" in text and "上海市浦東新區世紀大道100號" in text
    icp = footer.find("a", string="滬ICP備12345678號")
    assert icp["href"] == "https://beian.miit.gov.cn/"
    assert footer.find("a", string="+86 400-800-1234")["href"] == "tel:+864008001234"
    assert footer.find("a", string="service@dingxin.example")["href"] == "mailto:service@dingxin.example"
    # an English reader sees the company name in the default language (no English one given)
    assert "鼎信金融信息服務有限公司" in client.get(HOST, "/", params={"_LOCALE_": "en"}).text


def test_a_logo_upload_shows_on_the_portal_and_is_served_with_its_type(client, admin, db):
    data = png()
    save(admin, {}, upload=("branding.logo", "logo.png", data))
    logo = stored_branding(db)["logo"]
    assert logo.startswith("/media/") and logo.endswith(".png")
    page = client.get(HOST, "/")
    assert page.html.find("img", class_="brand-logo")["src"] == logo
    served = client.get(HOST, logo)
    assert served.body == data
    assert served.content_type == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in served.headers["Cache-Control"]
    with db.transaction() as session:
        row = session.scalars(sa.select(TenantFile)).one()
        assert (row.purpose, row.size, row.content_type) == ("logo", len(data), "image/png")
    # the file exists only for its own tenant's hosts
    client.get("acme.localhost", logo, status=404)
    client.get(HOST, logo.replace(".png", ".gif"), status=404)


def test_a_favicon_may_be_an_ico_and_the_page_names_its_type(client, admin, db):
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 10, 10)).save(out, format="ICO")
    save(admin, {}, upload=("branding.favicon", "favicon.ico", out.getvalue()))
    favicon = stored_branding(db)["favicon"]
    assert favicon.endswith(".ico")
    icon = client.get(HOST, "/").html.find("link", rel="icon")
    assert icon["href"] == favicon and icon["type"] == "image/x-icon"
    assert client.get(HOST, favicon).content_type == "image/x-icon"


@pytest.mark.parametrize(
    "upload, message",
    [
        (("branding.logo", "big.png", png(size_bytes=512 * 1024 + 1)), "larger than 512 KB"),
        (("branding.logo", "logo.png", b"this is plain text, not a picture\n" * 4), "Upload a PNG, JPEG, GIF or WebP"),
        (
            ("branding.logo", "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
            "SVG images are not accepted",
        ),
        (("branding.favicon", "icon.png", png(size_bytes=100 * 1024 + 1)), "larger than 100 KB"),
    ],
)
def test_a_bad_upload_is_refused_by_its_field_and_changes_nothing(admin, db, upload, message):
    before = stored_branding(db)
    response = save(admin, {"branding.tagline.en": "Changed too"}, upload=upload, status=400)
    error = response.html.find(id=f"{upload[0]}-error")
    assert message in error.get_text()
    assert stored_branding(db) == before
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TenantFile)) == 0


def test_a_colour_below_contrast_is_refused_next_to_its_field(admin, db):
    before = stored_branding(db)
    response = save(admin, {"branding.primary_color": "#ffff00", "branding.tagline.en": "Changed too"}, status=400)
    error = response.html.find(id="branding.primary_color-error")
    assert "1.07:1" in error.get_text() and "4.5:1" in error.get_text()  # white on yellow, and what AA asks
    assert response.html.find(id="branding.primary_color")["aria-invalid"] == "true"
    assert stored_branding(db) == before


def test_the_contrast_is_shown_and_a_good_colour_is_saved_from_the_text_field(client, admin, db):
    page = admin.get(HOST, "/admin/settings/branding")
    assert "to 1" in page.html.find(id="branding.primary_color-contrast").get_text()
    save(admin, {"branding.primary_color": "#0b5394"})
    assert stored_branding(db)["primary_color"] == "#0b5394"
    assert "--brand-primary:#0b5394" in client.get(HOST, "/").text


def test_the_colour_picker_alone_changes_the_colour(admin, db):
    save(admin, {"branding.accent_color.picker": "#f6d32d"})
    assert stored_branding(db)["accent_color"] == "#f6d32d"


def test_each_save_is_audited_with_the_paths_that_changed(admin, db):
    save(admin, {"branding.tagline.en": "Lend with care"})
    with db.transaction() as session:
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "settings.branding")).one()
        # one text for every language became a text per language: the diff says so path by path
        assert event.before == {
            "branding.tagline": "安心出借，輕鬆借款",
            "branding.tagline.en": None,
            "branding.tagline.zh_Hant": None,
        }
        assert event.after == {
            "branding.tagline": None,
            "branding.tagline.en": "Lend with care",
            "branding.tagline.zh_Hant": "安心出借，輕鬆借款",
        }
        version = session.scalars(sa.select(TenantVersion).order_by(TenantVersion.number.desc())).first()
        assert version.action == "settings.branding"
