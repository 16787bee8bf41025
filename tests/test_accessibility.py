"""Every portal page: labelled inputs, images with alt text, a language, and nothing loaded from elsewhere."""

import pytest
from bs4 import BeautifulSoup

from tests.helpers import member_client

PAGES = [
    "/",
    "/invest",
    "/borrow",
    "/borrow?type=credit",
    "/tools/equal_installment?principal=10000&annual_rate_percent=12&term_months=12",
    "/login",
    "/register",
    "/forgot",
    "/account",
    "/account/recharge",
    "/account/withdraw",
    "/account/cards",
    "/account/verification",
    "/account/funds",
    "/account/bids",
    "/account/calendar",
    "/account/loans",
    "/account/autoinvest",
    "/account/messages",
    "/account/security",
    "/account/password",
    "/account/profile",
    "/account/points",
    "/chat",
    "/account/chats",
    "/help",
    "/help/search?q=x",
    "/help/contact",
    "/community",
    "/community/search?q=x",
]


def problems(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    found = []
    if not soup.html or not soup.html.get("lang"):
        found.append("<html> without lang")
    labelled = {label.get("for") for label in soup.find_all("label") if label.get("for")}
    for field in soup.find_all(["input", "select", "textarea"]):
        if field.name == "input" and field.get("type") in ("hidden", "submit", "button"):
            continue
        if (
            field.get("id") in labelled
            or field.get("aria-label")
            or field.get("aria-labelledby")
            or field.find_parent("label") is not None
        ):
            continue
        found.append(f"unlabelled <{field.name} name={field.get('name')!r}>")
    for image in soup.find_all("img"):
        if image.get("alt") is None:
            found.append(f"<img src={image.get('src')!r}> without alt")
    for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
        for element in soup.find_all(tag):
            value = element.get(attribute) or ""
            if value.startswith(("http:", "https:", "//")):
                found.append(f"<{tag}> loads {value} from elsewhere")
    return found


@pytest.mark.parametrize("host", ["demo.localhost", "acme.localhost"])
def test_portal_pages_are_accessible_and_self_contained(wsgi_app, db, tenants, client, host):
    slug = host.split(".")[0]
    phone = "13800138900" if slug == "demo" else "+12025550177"
    member, _ = member_client(
        wsgi_app,
        db,
        phone,
        slug=slug,
        host=host,
        credit_line=1_000_000,
        id_number=None if slug == "demo" else "X1234567",
    )
    checked = 0
    for path in PAGES:
        page = (
            member.app.get(path, headers={"Host": host}, expect_errors=True)
            if path.startswith("/account")
            else client.app.get(path, headers={"Host": host}, expect_errors=True)
        )
        if page.status_int == 404:
            continue  # a module the tenant does not offer
        assert page.status_int == 200, (path, page.status)
        assert problems(page.text) == [], path
        checked += 1
    assert checked >= 15
