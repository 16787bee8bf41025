"""Every link and button in the header, the footer and the pages' main actions is readable: WCAG AA contrast
(4.5:1, 3:1 for large text) against the background actually behind it, computed in the browser, in both themes,
signed out and signed in, on a desktop and on a phone with its menu open."""

import pytest

from tests.browser.pages import (
    CONTRAST,
    VIEWPORTS,
    arrange,
    member_page,
    url,
    visitor_page,
)

CONTROLS = (
    "header a, header button, header summary, footer a, footer button, "
    "main .button, main button, main .tabs a, main .actions a"
)


def pages(number) -> list[str]:
    return [
        "/",
        "/invest",
        f"/invest/{number}",
        "/borrow",
        "/borrow?type=credit",
        "/login",
        "/register",
        "/tools/equal_installment?principal=10000&annual_rate_percent=12&term_months=12",
    ]


def unreadable(page, port, slug, paths) -> dict:
    found = {}
    for path in paths:
        page.goto(url(port, slug, path))
        for size, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            if size == "phone":
                page.click("summary.menu-button")  # the links live behind the menu button there
            problems = page.evaluate(CONTRAST, CONTROLS)
            if problems:
                found[f"{path} @ {size}"] = problems
        page.set_viewport_size(VIEWPORTS["desktop"])
    return found


@pytest.mark.parametrize("slug", ["demo", "acme"])
def test_links_and_buttons_are_readable(browser, live_server, db, tenants, artifacts, slug):
    port = live_server
    seeded = arrange(db, slug)
    visitor = visitor_page(browser, slug)
    found = unreadable(visitor, port, slug, pages(seeded["open_number"]))
    member = member_page(browser, port, slug, seeded["lender_phone"])
    found.update(
        {f"signed in: {k}": v for k, v in unreadable(member, port, slug, pages(seeded["open_number"])).items()}
    )
    assert found == {}


@pytest.mark.parametrize("slug", ["demo", "acme"])
def test_the_phone_header_is_a_menu_button(browser, live_server, tenants, artifacts, slug):
    """On a phone the header is one row with a menu button; the sign-in link shows once it is opened."""
    page = browser.new_context(viewport=VIEWPORTS["phone"]).new_page()
    page.goto(url(live_server, slug, "/"))
    assert page.eval_on_selector(".site-header", "el => el.getBoundingClientRect().height") <= 80
    assert not page.is_visible("a.sign-in")
    page.screenshot(path=artifacts / "phone-header-closed.png")
    page.click("summary.menu-button")
    assert page.is_visible("a.sign-in")
    page.screenshot(path=artifacts / "phone-header-open.png")
    page.set_viewport_size(VIEWPORTS["desktop"])  # wide screens show the links without the button
    assert page.is_visible("a.sign-in") and not page.is_visible("summary.menu-button")
    icon = page.eval_on_selector("link[rel=icon]", "el => el.href")
    favicon = page.goto(icon)  # the theme's own: the classic theme overrides the default's
    assert favicon.headers["content-type"].startswith("image/svg+xml")
    assert ("#faf8f3" in favicon.text()) == (slug == "acme")
