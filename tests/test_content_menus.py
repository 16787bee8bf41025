"""Sections staff add and flag "show in menu" / "show in footer" appear in the portal's menu and footer: on
their own site only, named in the language the page is read in; a pages section shows its published pages."""

import re

from tests.helpers import submit
from tests.test_cms_public import section_id_by_slug
from tests.test_content import ACME, DEMO, item_by_title, publish, section_id, staff, step, write


def menu(html: str) -> list[tuple[str, str]]:
    """The main menu's links as (address, text)."""
    nav = html.split('class="main-nav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)


def footer(html: str) -> list[tuple[str, str]]:
    """The footer's links as (address, text)."""
    if 'class="footer-links"' not in html:
        return []
    nav = html.split('class="footer-links"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav)


def add_section(reviewer, **values):
    page = reviewer.get(DEMO, "/admin/content/sections")
    submit(reviewer, DEMO, page, values, status=303)


def test_a_section_flagged_for_the_menu_and_footer_shows_there_in_the_readers_language(wsgi_app, db, tenants, client):
    reviewer = staff(wsgi_app, db, "sections", "content_reviewer")
    names = {"name_zh_Hant": "平台公告", "name_zh_Hans": "平台公告栏", "name_en": "Notices", "slug": "notices"}
    add_section(reviewer, **names, in_menu=True, in_footer=True)
    add_section(reviewer, name_zh_Hant="活動", name_en="Events", slug="events")  # flagged for neither

    home = client.get(DEMO, "/?_LOCALE_=zh_Hant").text
    assert ("/notices", "平台公告") in menu(home) and ("/notices", "平台公告") in footer(home)
    english = client.get(DEMO, "/?_LOCALE_=en").text
    assert ("/notices", "Notices") in menu(english) and ("/notices", "Notices") in footer(english)
    assert ("/notices", "平台公告栏") in menu(client.get(DEMO, "/?_LOCALE_=zh_Hans").text)
    assert all(url != "/events" for url, _ in menu(home) + footer(home))
    shown = client.get(DEMO, "/notices?_LOCALE_=en").text
    assert '<a href="/notices" aria-current="page">Notices</a>' in shown
    other = client.get(ACME, "/").text
    assert all(url != "/notices" for url, _ in menu(other) + footer(other))

    notices = section_id_by_slug(db, "notices")
    page = reviewer.get(DEMO, f"/admin/content/sections/{notices}")
    submit(reviewer, DEMO, page, {"name_zh_Hant": "平台公告", "in_menu": False}, status=303)
    home = client.get(DEMO, "/?_LOCALE_=zh_Hant").text
    assert all(url != "/notices" for url, _ in menu(home)) and ("/notices", "平台公告") in footer(home)


def test_a_pages_section_in_the_menu_shows_its_published_pages(wsgi_app, db, tenants, client):
    reviewer = staff(wsgi_app, db, "pages-sections", "content_reviewer")
    add_section(reviewer, kind="pages", name_zh_Hant="服務", name_en="Service", slug="service", in_menu=True)
    service = section_id_by_slug(db, "service")
    writer = staff(wsgi_app, db, "pages-writer", "content_editor")
    for title, locale in (("收費標準", "zh_Hant"), ("Fees", "en"), ("草稿頁", "zh_Hant")):
        slug = "draft" if title == "草稿頁" else "fees"
        write(writer, service, title=title, body="費率", slug=slug, locale=locale)
        if title != "草稿頁":
            step(writer, item_by_title(db, title).id, "submit")
            publish(reviewer, item_by_title(db, title).id)
    assert ("/pages/fees", "收費標準") in menu(client.get(DEMO, "/?_LOCALE_=zh_Hant").text)
    assert ("/pages/fees", "Fees") in menu(client.get(DEMO, "/?_LOCALE_=en").text)
    assert all(url != "/pages/draft" for url, _ in menu(client.get(DEMO, "/?_LOCALE_=zh_Hant").text))
    assert all(url != "/pages/fees" for url, _ in menu(client.get(ACME, "/").text))


def test_built_in_sections_follow_their_flags(wsgi_app, db, tenants, client):
    reviewer = staff(wsgi_app, db, "builtin-sections", "content_reviewer")
    industry = section_id(db, "industry")
    assert all(url != "/industry" for url, _ in menu(client.get(DEMO, "/").text))
    page = reviewer.get(DEMO, f"/admin/content/sections/{industry}")
    submit(reviewer, DEMO, page, {"in_menu": True, "in_footer": True}, status=303)
    home = client.get(DEMO, "/?_LOCALE_=en").text
    assert [url for url, _ in menu(home)].count("/industry") == 1  # its own entry, not a second one
    assert ("/industry", "Industry news") in footer(home)
