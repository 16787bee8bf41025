"""Menus from the back office: the portal's order, labels per language, hidden entries, sub-menus and custom
links, the footer links, and the back office's menu groups; cycles and unknown entries refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.content.models import ContentItem
from core.db import utcnow
from core.tenancy.services import tenant_by_slug
from tests.helpers import staff_client

HOST = "demo.localhost"


@pytest.fixture
def admin(wsgi_app, db, tenants):
    """A signed-in administrator reading in English (the choice is remembered in a cookie)."""
    client = staff_client(wsgi_app, db, "menu-admin", "administrator")
    client.get(HOST, "/admin", params={"_LOCALE_": "en"})
    return client


def menus_form(admin):
    page = admin.get(HOST, "/admin/settings/menus")
    return next(f for f in page.forms.values() if "menus.portal.row" in f.fields)


def save(admin, values, status=303, extra=()):
    form = menus_form(admin)
    for name, value in values.items():
        form[name] = value
    fields = list(form.submit_fields()) + list(extra)
    return admin.post(HOST, form.action, fields, status=status)


def stored_menus(db) -> dict:
    with db.transaction() as session:
        return dict(tenant_by_slug(session, "demo").menus or {})


def nav_labels(page) -> list[str]:
    return [a.get_text(strip=True) for a in page.html.select("nav.main-nav > ul > li > a")]


def test_the_portal_menu_follows_the_order_labels_and_hidden_entries_set_by_the_admin(client, admin, db):
    default = nav_labels(client.get(HOST, "/", params={"_LOCALE_": "en"}))
    assert default[:3] == ["Home", "Invest", "Borrow"]
    save(
        admin,
        {
            "menus.portal.borrow.position": "5",
            "menus.portal.invest.label.en": "Lend",
            "menus.portal.invest.label.zh_Hant": "我要出借",
            "menus.portal.tools.hidden": True,
        },
    )
    english = nav_labels(client.get(HOST, "/", params={"_LOCALE_": "en"}))
    assert english[:3] == ["Borrow", "Home", "Lend"] and "Calculators" not in english
    assert nav_labels(client.get(HOST, "/", params={"_LOCALE_": "zh_Hant"}))[2] == "我要出借"
    # no Simplified Chinese label: the default language's
    assert nav_labels(client.get(HOST, "/", params={"_LOCALE_": "zh_Hans"}))[2] == "我要出借"
    portal = stored_menus(db)["portal"]
    assert portal[0] == {"key": "borrow"}
    assert {"key": "invest", "label": {"en": "Lend", "zh_Hant": "我要出借"}} in portal


def test_a_custom_link_to_a_news_item_under_a_built_in_entry(client, admin, db):
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        item = ContentItem(
            tenant_id=tenant.id, kind="news", title="平台公告", body="內容", status="published", published_at=utcnow()
        )
        session.add(item)
        session.flush()
        news_id = item.id
    save(
        admin,
        {
            "menus.portal.new.label.en": "Notice",
            "menus.portal.new.label.zh_Hant": "公告",
            "menus.portal.new.content": f"/news/{news_id}",
            "menus.portal.new.parent": "invest",
        },
    )
    entry = next(e for e in stored_menus(db)["portal"] if e.get("url"))
    assert entry == {
        "key": "link-1",
        "label": {"en": "Notice", "zh_Hant": "公告"},
        "url": f"/news/{news_id}",
        "parent": "invest",
    }
    page = client.get(HOST, "/", params={"_LOCALE_": "en"})
    invest = next(li for li in page.html.select("nav.main-nav > ul > li") if li.a.get_text(strip=True) == "Invest")
    child = invest.select_one("ul.sub-nav a")
    assert child.get_text(strip=True) == "Notice" and child["href"] == f"/news/{news_id}"
    client.get(HOST, child["href"], status=200)
    # removing the link takes it off the menu
    save(admin, {"menus.portal.link-1.remove": True})
    assert "portal" not in stored_menus(db)
    assert "Notice" not in client.get(HOST, "/", params={"_LOCALE_": "en"}).text


def test_footer_links_show_in_the_footer_in_the_readers_language(client, admin, db):
    save(
        admin,
        {
            "menus.footer.new.label.zh_Hant": "關於我們",
            "menus.footer.new.label.en": "About us",
            "menus.footer.new.url": "https://about.example.com/",
        },
    )
    assert stored_menus(db)["footer"] == [
        {"key": "footer-1", "label": {"zh_Hant": "關於我們", "en": "About us"}, "url": "https://about.example.com/"}
    ]
    for locale, label in (("en", "About us"), ("zh_Hant", "關於我們"), ("zh_Hans", "關於我們")):
        footer = client.get(HOST, "/", params={"_LOCALE_": locale}).html.find("footer")
        link = footer.select_one("nav.footer-links a")
        assert (link.get_text(strip=True), link["href"]) == (label, "https://about.example.com/")


def test_the_back_office_menu_takes_groups_and_keeps_permissions(wsgi_app, db, admin):
    save(
        admin,
        {
            "menus.admin.admin.members.position": "1",
            "menus.admin.admin.members.group.en": "Customers",
            "menus.admin.admin.recharges.position": "2",
            "menus.admin.admin.recharges.group.en": "Money",
            "menus.admin.admin.sms.hidden": True,
        },
    )
    sidebar = admin.get(HOST, "/admin", params={"_LOCALE_": "en"}).html.find("aside", class_="sidebar")
    headings = [h.get_text(strip=True) for h in sidebar.find_all("h2")]
    assert headings == ["Customers", "Money"]
    first_group = sidebar.find("h2").find_next("ul")
    assert [a.get_text(strip=True) for a in first_group.find_all("a")] == ["Members"]
    assert "SMS outbox" not in sidebar.get_text()
    # a content editor sees only what their role allows, in the same arrangement
    editor = staff_client(wsgi_app, db, "menu-editor", "content_editor")
    text = editor.get(HOST, "/admin", params={"_LOCALE_": "en"}).html.find("aside", class_="sidebar").get_text()
    assert "Members" not in text and "Recharges" not in text and "Site content" in text


def test_the_settings_entry_cannot_be_hidden(admin, db):
    save(admin, {}, extra=[("menus.admin.admin.settings.hidden", "on")])
    sidebar = admin.get(HOST, "/admin", params={"_LOCALE_": "en"}).html.find("aside", class_="sidebar")
    assert "Settings" in sidebar.get_text()


def test_a_menu_cycle_is_refused_by_its_entry_and_changes_nothing(admin, db):
    before = stored_menus(db)
    response = save(
        admin,
        {"menus.portal.invest.parent": "borrow", "menus.portal.borrow.parent": "invest", "menus.footer.new.url": ""},
        status=400,
    )
    rows = [
        response.html.find(attrs={"name": f"menus.portal.{key}.parent"}).find_parent("tr")
        for key in ("invest", "borrow")
    ]
    assert any(row.select_one(".error") for row in rows)
    assert stored_menus(db) == before


def test_an_unknown_built_in_entry_is_refused(admin, db):
    before = stored_menus(db)
    response = save(admin, {}, status=400, extra=[("menus.portal.row", "no-such-page")])
    row = response.html.find(attrs={"name": "menus.portal.row", "value": "no-such-page"}).find_parent("tr")
    assert "no-such-page" in row.get_text() and row.select_one(".error")
    assert stored_menus(db) == before


def test_a_custom_link_needs_a_label_and_a_good_address(admin, db):
    before = stored_menus(db)
    response = save(
        admin, {"menus.footer.new.label.en": "Bad", "menus.footer.new.url": "javascript:alert(1)"}, status=400
    )
    assert response.html.find(attrs={"name": "menus.footer.new.url"}).find_parent("tr").select_one(".error")
    assert stored_menus(db) == before
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).where(ContentItem.kind != "page")) == 0
