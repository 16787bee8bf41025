"""Settings versions from the back office (list, changes, restore), the manifest download, and who may open
the settings at all."""

from __future__ import annotations

import re
import tomllib

import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent
from core.tenancy.services import tenant_by_slug
from tests.helpers import staff_client

HOST = "demo.localhost"
SETTINGS_PAGES = (
    "/admin/settings",
    "/admin/settings/branding",
    "/admin/settings/parameters",
    "/admin/settings/menus",
    "/admin/settings/versions",
    "/admin/settings/versions/1",
    "/admin/settings/manifest.toml",
)


@pytest.fixture
def admin(wsgi_app, db, tenants):
    """A signed-in administrator reading in English (the choice is remembered in a cookie)."""
    client = staff_client(wsgi_app, db, "versions-admin", "administrator")
    client.get(HOST, "/admin", params={"_LOCALE_": "en"})
    return client


def save_parameter(admin, name, value):
    page = admin.get(HOST, "/admin/settings/parameters")
    form = next(f for f in page.forms.values() if name in f.fields)
    form[name] = value
    return form.submit(extra_environ={"HTTP_HOST": HOST}, status=303)


def version_numbers(admin) -> list[int]:
    page = admin.get(HOST, "/admin/settings/versions", params={"_LOCALE_": "en"})
    return [int(a.get_text()) for a in page.html.select("table a[href*='/admin/settings/versions/']")]


def bid_unit(db) -> str:
    with db.transaction() as session:
        return tenant_by_slug(session, "demo").lending["bid_unit"]


def test_the_hub_links_to_every_settings_page(admin):
    page = admin.get(HOST, "/admin/settings", params={"_LOCALE_": "en"})
    links = {a["href"] for a in page.html.select("ul.settings-links a")}
    assert links == {
        "/admin/settings/branding",
        "/admin/settings/plugins",
        "/admin/settings/parameters",
        "/admin/settings/menus",
        "/admin/roles",
        "/admin/groups",
        "/admin/org",
        "/admin/settings/versions",
        "/admin/settings/manifest.toml",
    }
    assert all(li.p.get_text(strip=True) for li in page.html.select("ul.settings-links li"))


def test_each_save_adds_a_version_and_restoring_brings_the_earlier_value_back(admin, db):
    start = version_numbers(admin)
    save_parameter(admin, "lending.bid_unit", "100")
    after_first = version_numbers(admin)
    assert len(after_first) == len(start) + 1
    save_parameter(admin, "lending.bid_unit", "200")
    numbers = version_numbers(admin)
    assert len(numbers) == len(start) + 2 and bid_unit(db) == "200"
    first_change = numbers[1]  # newest first: the save that set 100

    page = admin.get(HOST, f"/admin/settings/versions/{first_change}", params={"_LOCALE_": "en"})
    row = next(tr for tr in page.html.select("table.changes tbody tr") if tr.th.get_text(strip=True) == "Bid unit")
    assert [td.get_text(strip=True) for td in row.find_all("td")] == ["50", "100"]
    form = next(f for f in page.forms.values() if f.action.endswith(f"/versions/{first_change}"))
    response = form.submit(extra_environ={"HTTP_HOST": HOST}, status=303)
    assert bid_unit(db) == "100"
    assert f"restored={first_change}" in response.location
    assert len(version_numbers(admin)) == len(start) + 3  # the restore is a version too
    newest = admin.get(HOST, "/admin/settings/versions", params={"_LOCALE_": "en"})
    assert f"Restored version {first_change}" in newest.text
    with db.transaction() as session:
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "settings.restore")).one()
        assert (event.before, event.after) == ({"lending.bid_unit": "200"}, {"lending.bid_unit": "100"})


def test_restoring_the_current_version_changes_nothing(admin, db):
    save_parameter(admin, "lending.bid_unit", "100")
    newest = version_numbers(admin)[0]
    page = admin.get(HOST, f"/admin/settings/versions/{newest}")
    form = next(f for f in page.forms.values() if f.action.endswith(f"/versions/{newest}"))
    response = form.submit(extra_environ={"HTTP_HOST": HOST}, status=303)
    assert response.location.endswith("restored=0")
    assert version_numbers(admin)[0] == newest


def test_an_unknown_version_is_not_found(admin):
    admin.get(HOST, "/admin/settings/versions/9999", status=404)


def test_the_manifest_download_has_the_settings_and_no_secret(admin, db):
    save_parameter(admin, "lending.bid_unit", "100")
    response = admin.get(HOST, "/admin/settings/manifest.toml", params={"_LOCALE_": "en"})
    assert response.headers["Content-Disposition"] == 'attachment; filename="demo.toml"'
    text = response.body.decode("utf-8")
    assert text.startswith("#") and "secrets" in text.split("\n\n")[0]
    assert "demo-sandbox-signing-secret" not in text
    data = tomllib.loads(text)
    assert data["slug"] == "demo" and data["lending"]["bid_unit"] == "100"
    assert "secret" not in data["plugins"]["payments.sandbox"]
    assert data["plugins"]["payments.offline"]["bank_name"] == "中國工商銀行 上海分行"


@pytest.mark.parametrize("role", ["auditor", "content_editor"])
def test_staff_without_the_settings_permission_get_403_everywhere(wsgi_app, db, tenants, role):
    staff = staff_client(wsgi_app, db, f"no-settings-{role}", role)
    page = staff.get(HOST, "/admin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    for path in SETTINGS_PAGES:
        staff.get(HOST, path, status=403)
        staff.post(HOST, path, {"csrf_token": token, "branding.site_title.en": "Taken over"}, status=403)
    with db.transaction() as session:
        assert tenant_by_slug(session, "demo").brand("site_title", locale="en") == "鼎信網貸"
    assert "/admin/settings" not in page.text  # not in their menu either
