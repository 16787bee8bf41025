"""Names a person can read: every portal page, in every language, shows no raw id and no untranslated text.

Every GET route of the portal (found in the route mapper, as tests/test_fuzz.py
does) is rendered for a visitor and for a member of the seeded demo site who
lent, borrowed and recharged through two gateways, in zh_Hant, zh_Hans and en.
The visible text (text nodes and the attributes a person reads or hears) may
not hold a status or gateway code, a plugin id, a locale code, a Python repr or
an amount in minor units; a Chinese page may not show an English msgid of the
catalogue untranslated; a Traditional page writes 淨 and 帳, never 凈 or 賬.
Also here: the greeting, the email sign-up's code label, the calculators'
payment heading and the sandbox checkout's language switch.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from core.tenancy import HostKindPredicate
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, fill_route, locales_for, submit

ROOT = Path(__file__).resolve().parents[1]
DEMO = "demo.localhost"
LOCALES = ("zh_Hant", "zh_Hans", "en")


LENDER = "13900000011"  # the seed's first lender: bids, paybacks, a card
# Routes that are not pages a person reads: files, machine endpoints, or pages that need a signed link.
NOT_PAGES = {"static", "content.image", "payments.callback", "payments.payout_callback", "sandbox.checkout"}

STATUSES = {
    "submitted", "bidding", "full", "repaying", "settled", "defaulted", "written_off", "rejected", "failed",
    "cancelled", "frozen", "accepted", "refunded", "due", "overdue", "paid", "pending", "declared", "succeeded",
    "requested", "first_approved", "processing", "applied", "queued", "active", "unverified", "verified",
}  # fmt: skip
RAW_IDS = [
    (re.compile(r"\b[a-z]+_[a-z_]+\b"), "a snake_case code"),
    (re.compile(r"\b(?:sandbox|offline|alipay|stripe)\b"), "a gateway code"),
    (re.compile(r"\b(?:payments|loan_types|sms|tools)\.[a-z_]+\b"), "a plugin id"),
    (re.compile(r"\b(?:zh_Hant|zh_Hans|zh-Hant|zh-Hans|en_US|zh_TW|zh_CN)\b"), "a locale code"),
    (re.compile(r"\{'|'\}|\bNone\b|\bTrue\b|\bFalse\b|Decimal\(|datetime\.|<[a-z_.]+ object at"), "a Python repr"),
    (re.compile(r"\b(?:amount|minor|fee|principal)=\d+"), "an amount in minor units"),
    (re.compile(r"\$\{[a-z_]+\}"), "an unfilled ${placeholder}"),
]
ZH_ONLY = [(re.compile(r"\b(?:%s)\b" % "|".join(sorted(STATUSES))), "a status code")]
HANT_ONLY = [(re.compile("[凈賬]"), "凈 or 賬 (Traditional pages write 淨 and 帳)")]
READ_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")


class VisibleText(HTMLParser):
    """The text a person reads or hears on a page: text nodes (not scripts or styles) and labelling attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        self.texts += [value.strip() for name, value in attrs if name in READ_ATTRIBUTES and value and value.strip()]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


def greeting(page) -> str:
    return re.search(r'<span class="greeting">([^<]*)</span>', page.text).group(1).strip()


def language_switch(page) -> list[tuple[str, str | None]]:
    """The switch's entries in order: (name, link), the current language without a link."""
    nav = re.search(r'<nav class="locale-switch".*?</nav>', page.text, re.S).group(0)
    entries = re.findall(r'<a [^>]*href="([^"]*)"[^>]*>([^<]*)</a>|<strong[^>]*>([^<]*)</strong>', nav)
    return [(name or current, unescape(href) or None) for href, name, current in entries]


def schedule_headings(page) -> list[str]:
    table = re.search(r'<table class="schedule">.*?</thead>', page.text, re.S).group(0)
    return [re.sub(r"<[^>]+>", "", th).strip() for th in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]


@pytest.fixture(scope="module")
def msgids() -> set[str]:
    """The English source strings of the catalogue that a page would show as they are: words, not names."""
    with (ROOT / "themes/default/locale/en/LC_MESSAGES/lendstack.po").open("rb") as f:
        ids = {m.id for m in read_po(f) if m.id and isinstance(m.id, str)}
    return {i for i in ids if re.search(r"[a-z]{2,}", i) and "${" not in i and i not in {"English"}}


def problems(text: str, locale: str, msgids: set[str]) -> list[str]:
    """What is wrong with one piece of visible text on a page in ``locale``."""
    checks = RAW_IDS + (ZH_ONLY if locale != "en" else []) + (HANT_ONLY if locale == "zh_Hant" else [])
    found = [
        f"{why}: {match.group(0)!r} in {text[:80]!r}"
        for pattern, why in checks
        for match in [pattern.search(text)]
        if match
    ]
    if locale != "en" and text in msgids:
        found.append(f"untranslated: {text!r}")
    return found


def portal_routes(wsgi_app):
    for route in wsgi_app.routes_mapper.get_routes():
        kinds = [p.value for p in route.predicates if isinstance(p, HostKindPredicate)]
        if (
            kinds == ["operator"]
            or route.pattern.startswith(("/api", "/admin", "/operator"))
            or route.name in NOT_PAGES
        ):
            continue
        if route.name.endswith("logout"):
            continue
        yield route


@pytest.fixture
def site(db, tenants, wsgi_app, settings):
    """The demo tenant seeded as `make demo` does, and its first lender signed in with two recharges made."""
    from core.settings import AppSettings
    from tenants.demo_seed import seed
    from tests.conftest import Client

    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        seed(session, tenant, wsgi_app.registry["plugins"], AppSettings.from_ini(settings), password=PASSWORD)
    member = Client(wsgi_app)
    page = member.get(DEMO, "/login")
    submit(member, DEMO, page, {"login": LENDER, "password": PASSWORD}, status=303)
    page = member.get(DEMO, "/account/recharge")
    submit(member, DEMO, page, {"gateway": "offline", "amount": "100"}, status=303)
    page = member.get(DEMO, "/account/recharge")
    checkout = submit(member, DEMO, page, {"gateway": "sandbox", "amount": "250"}, status=303).location
    return {"member": member, "checkout": checkout}


def _examples(db) -> dict[str, list[str]]:
    """Values for the routes' placeholders: a loan number, a news item, a calculator, a recharge reference."""
    from core.content.models import ContentItem
    from core.loans.models import Loan
    from core.payments.models import Payment

    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        loans = session.scalars(sa.select(Loan.number).where(Loan.tenant_id == tenant.id)).all()
        news = session.scalars(sa.select(ContentItem.id).where(ContentItem.tenant_id == tenant.id)).all()
        references = session.scalars(sa.select(Payment.reference).where(Payment.tenant_id == tenant.id)).all()
    return {
        "number": list(loans),
        "id": [str(i) for i in news],
        "code": ["equal_installment", "one_time", "quarterly", "equal_principal", "interest_first"],
        "reference": list(references),
    }


def _paths(route, examples) -> list[str]:
    holders = re.findall(r"\{([^}:]+)(?::[^}]*)?\}", route.pattern)
    if not holders:
        return [route.pattern]
    values = examples.get(holders[0], [])
    return [fill_route(route.pattern, value, count=1) for value in values]


QUERIES = {  # pages with states behind a query: each state is a page too
    "/invest": ["", "?tab=bidding", "?tab=review", "?tab=repaying", "?tab=settled"],
    "/register": ["", "?with=email"],
}


def test_every_portal_page_reads_as_words_in_every_language(wsgi_app, db, site, client, msgids, backend):
    examples = _examples(db)
    found, seen = [], 0
    for route in portal_routes(wsgi_app):
        for path in _paths(route, examples):
            for query in QUERIES.get(path, [""]):
                for who, visitor in (("visitor", client), ("member", site["member"])):
                    for locale in locales_for(backend, LOCALES):
                        sep = "&" if "?" in query else "?"
                        url = f"{path}{query}{sep}_LOCALE_={locale}"
                        if path.startswith("/tools/"):
                            url += "&principal=10000&annual_rate_percent=12&term_months=12&term_days=30"
                        response = visitor.get(DEMO, url, status="*")
                        if response.status_int != 200 or "html" not in response.content_type:
                            continue
                        seen += 1
                        for text in visible_texts(response.text):
                            found += [f"{who} {locale} {url}: {p}" for p in problems(text, locale, msgids)]
    assert seen > (100 if backend == "sqlite" else 33), f"only {seen} pages rendered"  # one language on PostgreSQL
    assert not found, f"{len(found)} problems:\n" + "\n".join(sorted(set(found))[:80])


def test_the_member_is_greeted_by_name_and_the_switch_names_languages(site, db):
    member = site["member"]
    page = member.get(DEMO, "/account/funds?_LOCALE_=zh_Hant")
    assert greeting(page) == "李**"  # the seed's verified name, masked as on every page, not 139****0011
    page = member.get(DEMO, "/account/profile")
    submit(member, DEMO, page, {"display_name": "豪哥"}, status="*")
    page = member.get(DEMO, "/account/funds")
    assert greeting(page) == "豪哥"
    assert [name for name, _ in language_switch(page)] == ["繁體中文", "简体中文", "English"]


def test_the_email_sign_up_asks_for_the_email_code(tenants, client):
    acme = "acme.localhost"  # takes email sign-ups
    sms = client.get(acme, "/register?_LOCALE_=en")
    assert "SMS code" in sms.text and "Email code" not in sms.text
    email = client.get(acme, "/register?with=email&_LOCALE_=en")
    assert "Email code" in email.text and "SMS code" not in email.text
    assert "电子邮件验证码" in client.get(acme, "/register?with=email&_LOCALE_=zh_Hans").text


@pytest.mark.parametrize(
    "code, months, heading",
    [
        ("equal_installment", 12, "Monthly payment"),
        ("quarterly", 12, "Quarterly payment"),
        ("one_time", 12, "Repayment at maturity"),
    ],
)
def test_the_calculator_names_the_payment_by_the_method(tenants, client, code, months, heading):
    page = client.get(DEMO, f"/tools/{code}?_LOCALE_=en&principal=12000&annual_rate_percent=12&term_months={months}")
    assert schedule_headings(page)[4] == heading
    zh = client.get(DEMO, f"/tools/{code}?_LOCALE_=zh_Hant&principal=12000&annual_rate_percent=12&term_months={months}")
    assert schedule_headings(zh)[4] == {"Monthly payment": "月還款", "Quarterly payment": "季還款"}.get(
        heading, "到期還款"
    )


def test_the_sandbox_checkout_switches_language_and_keeps_its_signed_link(site):
    member, checkout = site["member"], site["checkout"]
    path = urlsplit(checkout).path + "?" + urlsplit(checkout).query
    page = member.get(DEMO, path)
    links = {name: href for name, href in language_switch(page) if href}
    assert set(links) == {"简体中文", "English"}  # zh_Hant is the page's own language
    english = member.get(DEMO, links["English"])  # a 404 before: the switch dropped the signed query
    assert "Sandbox checkout" in english.text and "¥250.00" in english.text
    kept = dict(parse_qsl(urlsplit(links["English"]).query))
    assert kept["_LOCALE_"] == "en" and kept["sig"] == dict(parse_qsl(urlsplit(checkout).query))["sig"]
