"""No page is wider than the screen: every portal, account and back-office page at 1280×800 and 390×844, in
both themes (``demo``: the default theme, ``acme``: classic). Wide tables scroll inside their ``.table-wrap``;
nothing sticks out of its card and every checkbox sits beside its label's text."""

import pytest

from tests.browser.pages import (
    BOXES,
    FORMS,
    OVERFLOW,
    VIEWPORTS,
    admin_page,
    arrange,
    links,
    member_page,
    url,
    visitor_page,
)

PUBLIC = [
    "/",
    "/invest",
    "/borrow",
    "/borrow?type=credit",
    "/tools",
    "/tools/equal_installment?principal=10000&annual_rate_percent=12&term_months=12",
    "/login",
    "/register",
    "/forgot",
    "/does-not-exist",
]


def check(page, path, artifacts, shots) -> dict:
    """The overflow found on the page at each viewport (screenshots of the pages named in ``shots``)."""
    found = {}
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        problems = page.evaluate(OVERFLOW) + page.evaluate(FORMS) + (page.evaluate(BOXES) if size == "desktop" else [])
        if problems:
            found[f"{path} @ {size}"] = problems
        if path in shots or problems:
            name = (path.strip("/").replace("/", "-").split("?")[0] or "home") + f"-{size}.png"
            page.screenshot(path=artifacts / name, full_page=True)
    page.set_viewport_size(VIEWPORTS["desktop"])
    return found


def visit(page, port, slug, paths, artifacts, shots=()) -> dict:
    found = {}
    for path in paths:
        page.goto(url(port, slug, path))
        found.update(check(page, path, artifacts, shots))
    return found


@pytest.mark.parametrize("slug", ["demo", "acme"])
def test_no_page_is_wider_than_the_screen(browser, live_server, db, tenants, artifacts, slug):
    port = live_server
    seeded = arrange(db, slug)
    loan_page = f"/invest/{seeded['open_number']}"
    found = {}

    visitor = visitor_page(browser, slug)
    found.update(visit(visitor, port, slug, PUBLIC + [loan_page], artifacts, shots=("/", "/borrow?type=credit")))

    member = member_page(browser, port, slug, seeded["lender_phone"])
    account = links(member, ".account-nav a, .tabs a[href^='/account']") or []
    found.update(
        visit(
            member,
            port,
            slug,
            ["/", "/account"] + [p for p in account if p != "/account"],
            artifacts,
            shots=("/", "/account"),
        )
    )
    # The bid's confirm step, and the borrow form with its live schedule preview.
    member.goto(url(port, slug, loan_page))
    member.fill("#amount", "1000")
    member.click("form:has(#amount) button[type=submit]")
    member.wait_for_selector("input[name=confirm]", state="attached")
    found.update(check(member, loan_page + "#confirm", artifacts, shots=(loan_page + "#confirm",)))
    member.goto(url(port, slug, "/borrow?type=credit"))
    member.fill("#title", "A title long enough to fill the field")
    member.fill("#amount", "5000")
    member.fill("#annual_rate_percent", "10")
    member.fill("#term_months", "12")
    member.wait_for_selector("#schedule-preview tbody tr:nth-child(12)")
    found.update(check(member, "/borrow#preview", artifacts, shots=("/borrow#preview",)))

    admin = admin_page(browser, port, slug, seeded["secret"])
    sidebar = links(admin, ".sidebar nav a")
    assert len(sidebar) >= 10, sidebar
    details = [
        f"/admin/loans/{seeded['open_id']}",
        f"/admin/loans/{seeded['repaying_id']}",
        f"/admin/members/{seeded['lender_id']}",
        "/admin/loans/new",
        "/admin/content/new",
    ]
    found.update(visit(admin, port, slug, sidebar + details, artifacts, shots=("/admin/audit", "/admin")))

    assert found == {}
