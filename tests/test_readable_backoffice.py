"""Names a person can read: every back-office and operator page, in every language, shows no raw ids.

The demo site is seeded (loans in every state, members, money, SMS), a few staff actions fill the audit
log, and every GET page of the back office and the operator console is read in English, Traditional and
Simplified Chinese. Only the text a person sees is checked (form values, links and other attributes are
codes on purpose); text marked ``translate="no"`` (a product's own name, an SMS as it was sent) is left out.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent, OrgUnit, Role, StaffGroup, StaffUser
from core.accounts.services import create_operator
from core.db import scope_to_tenant
from core.loans.models import Loan
from core.members.models import Member
from core.payments.models import Withdrawal
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, fill_route, locales_for, staff_client, submit

HOST, OPERATOR = "demo.localhost", "operator.localhost"
LOCALES = ("en", "zh_Hant", "zh_Hans")


# codes that must never reach the text of a page, whatever its language
RAW_ANYWHERE = {
    "plugin id": re.compile(r"(?<![\w@/.-])(?:payments|sms|loan_types|tools|extensions?)\.[a-z_]+\b"),
    "permission or action code": re.compile(
        r"(?<![\w@/.-])(?:member|loan|funds|reserve|content|system|audit|role|staff)\.[a-z_]+(?:\.[a-z_]+)*(?![\w@/-])"
    ),
    "snake_case code": re.compile(r"(?<![\w@/.-])[a-z]+(?:_[a-z]+)+(?![\w@/.-])"),
    "locale code": re.compile(r"\bzh_Han[st]\b"),
    "Python repr": re.compile(r"\{'|': |\bTrue\b|\bFalse\b|\bNone\b"),
    "key=value": re.compile(r"\b[a-z_]+=\S"),
    "actor id": re.compile(r"\b(?:staff|member|operator):[\w-]+"),
}
# single-word codes: English text may use the word, a Chinese page never does
RAW_IN_CHINESE = re.compile(
    r"(?<![\w@/.-])(?:queued|pending|submitted|bidding|repaying|settled|defaulted|failed|rejected|requested|"
    r"processing|paid|cancelled|declared|succeeded|applied|frozen|accepted|refunded|overdue|sent|delivered|"
    r"undelivered|outbox|active|suspended|sandbox|offline|alipay|stripe|verified|unverified|deposit|withdrawal|"
    r"loan_type|payment|extension|administrator|cashier|auditor)(?![\w@/.-])"
)
# English messages a Chinese page must show translated (new and old, one of each kind of page part)
UNTRANSLATED = {
    "Recorded at",
    "Due (business date)",
    "What happened",
    "Status",
    "Plugins",
    "Kind",
    "Payment gateway",
    "SMS provider",
    "Loan type",
    "Overview",
    "Audit log",
    "Waiting to be sent",
    "Sign-up code",
    "Open",
    "Settled on (UTC day)",
}
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,}){3,}")


class VisibleText(HTMLParser):
    """The text nodes a reader sees: no script, style or ``translate="no"`` element's text, no attributes."""

    SKIPPED = {"script", "style", "title"}
    VOID = {"br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []  # per open element: is its text left out
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        hidden = tag in self.SKIPPED or dict(attrs).get("translate") == "no"
        self.stack.append(hidden or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if data.strip() and not (self.stack and self.stack[-1]):
            self.texts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


def problems(texts: list[str], locale: str) -> list[str]:
    """Every raw id (and, on a Chinese page, every English message left untranslated) in ``texts``."""
    found = []
    for text in texts:
        for name, pattern in RAW_ANYWHERE.items():
            found += [f"{name}: {m.group(0)!r} in {text[:80]!r}" for m in pattern.finditer(text)]
        if locale != "en":
            found += [f"raw code: {m.group(0)!r} in {text[:80]!r}" for m in RAW_IN_CHINESE.finditer(text)]
            if text in UNTRANSLATED:
                found.append(f"untranslated: {text!r}")
            found += [f"English sentence: {m.group(0)!r} in {text[:80]!r}" for m in ENGLISH_SENTENCE.finditer(text)]
    return found


def test_the_checker_sees_only_visible_text_and_knows_the_raw_ids():
    html = """<p>Status <b>queued</b></p><input value="first_approved"/><a href="/x?status=pending">已付</a>
    <script>var a = 'payments.sandbox';</script><span translate="no">SMS over HTTP (sandbox)</span>
    <td>{'status': 'paid'}</td><td>amount=3000000</td><td>loan.final_review</td><td>zh_Hant</td>"""
    texts = visible_text(html)
    assert "first_approved" not in " ".join(texts) and "SMS over HTTP (sandbox)" not in texts
    said = "\n".join(problems(texts, "zh_Hant"))
    for expected in (
        "'queued'",
        "untranslated: 'Status'",
        "Python repr",
        "key=value",
        "'loan.final_review'",
        "'zh_Hant'",
    ):
        assert expected in said
    assert problems(["王小明 的提現 W2701 ¥500.00 已核准"], "zh_Hant") == []


@pytest.fixture
def site(wsgi_app, db, tenants, plugins):
    """The demo tenant seeded, an administrator (two-factor) who acted a few times, an operator."""
    from tenants.demo_seed import seed

    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        scope_to_tenant(session, tenant.id)
        seed(session, tenant, plugins, wsgi_app.registry.settings_obj, password=PASSWORD)
        operator_secret = create_operator(session, "readable-root", PASSWORD).totp_secret
    admin = staff_client(wsgi_app, db, "readable-admin", "administrator")
    _act(admin, db)
    admin.operator_secret = operator_secret
    return admin


def _act(admin, db):
    """Staff actions through the pages, so the audit log holds sentences of several kinds."""
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        scope_to_tenant(session, tenant.id)
        pending_member = session.scalars(sa.select(Member.id).where(Member.verification == "pending")).first()
        withdrawal = session.scalars(sa.select(Withdrawal.id).where(Withdrawal.status == "requested")).first()
    page = admin.get(HOST, "/admin/funds/withdrawals")
    submit(admin, HOST, page, {"reason": ""}, action="approve", status=303, action_suffix=f"/withdrawals/{withdrawal}")
    page = admin.get(HOST, f"/admin/members/{pending_member}")
    submit(admin, HOST, page, {"reason": ""}, action="approve", status=303, action_suffix="/verification")
    page = admin.get(HOST, "/admin/funds/adjustments")
    submit(admin, HOST, page, {"member": str(pending_member), "amount": "12.50", "reason": "補償"}, status=303)
    page = admin.get(HOST, "/admin/guarantors")
    submit(admin, HOST, page, {"name": "信保擔保", "quota": "100000"}, status=303)
    page = admin.get(HOST, "/admin/roles")
    form = next(f for f in page.forms.values() if "code" in f.fields)
    form["code"], form["name"] = "front_desk", "前台"
    for box in form.fields["permissions"]:
        box.checked = box._value in ("member.view", "sms.view")
    form.submit("action", value="create", extra_environ={"HTTP_HOST": HOST}, status=303)
    page = admin.get(HOST, "/admin/roles")
    form = next(f for f in page.forms.values() if "front_desk:member.view" in f.fields)
    form["front_desk:funds.view"] = True
    form.submit(extra_environ={"HTTP_HOST": HOST}, status=303)


def _pages(wsgi_app, db) -> list[tuple[str, str]]:
    """(host, path) of every back-office and operator page, each object page once per object shown."""
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        scope_to_tenant(session, tenant.id)
        ids = {
            "admin.loan": session.scalars(sa.select(Loan.id)).all(),
            "admin.member": session.scalars(sa.select(Member.id).limit(4)).all(),
            "admin.staff_user": session.scalars(sa.select(StaffUser.id)).all(),
            "admin.role": session.scalars(sa.select(Role.id)).all(),
            "admin.group": session.scalars(sa.select(StaffGroup.id)).all(),
            "admin.org_unit": session.scalars(sa.select(OrgUnit.id)).all(),
        }
    pages = []
    for route in wsgi_app.routes_mapper.get_routes():
        pattern = route.pattern
        if route.name in ids:
            pages += [(HOST, fill_route(pattern, str(i))) for i in ids[route.name]]
        elif route.name.startswith("admin.") and "{" not in pattern:
            pages.append((HOST, pattern))
        elif route.name.startswith("operator.") and "{" not in pattern:
            pages.append((OPERATOR, pattern))
    return pages


def _operator(wsgi_app, secret):
    import pyotp

    from tests.conftest import Client

    client = Client(wsgi_app)
    form = client.get(OPERATOR, "/operator/login").form
    form["login"], form["password"] = "readable-root", PASSWORD
    form.submit(extra_environ={"HTTP_HOST": OPERATOR}, status=303)
    form = client.get(OPERATOR, "/operator/login/verify").form
    form["code"] = pyotp.TOTP(secret).now()
    form.submit(extra_environ={"HTTP_HOST": OPERATOR}, status=303)
    return client


def test_every_back_office_page_names_things_in_words_in_every_language(wsgi_app, db, site, backend):
    clients = {HOST: site, OPERATOR: _operator(wsgi_app, site.operator_secret)}
    read, found = set(), []
    for host, path in _pages(wsgi_app, db):
        for locale in locales_for(backend, LOCALES):
            response = clients[host].get(host, path, params={"_LOCALE_": locale}, status="*")
            if response.status_int != 200 or response.content_type != "text/html":
                continue  # a POST-only address, a sign-in page that sends a signed-in reader on, a download
            read.add(path)
            found += [f"{path} [{locale}] {p}" for p in problems(visible_text(response.text), locale)]
    for must in (
        "/admin",
        "/admin/audit",
        "/admin/funds/withdrawals",
        "/admin/funds/recharges",
        "/admin/sms",
        "/admin/roles",
        "/admin/loans",
        "/admin/loans/overdue",
        "/operator",
    ):
        assert must in read, f"{must} was not read"
    assert any(p.startswith("/admin/loans/") and p[-1].isdigit() for p in read)
    assert not found, "\n".join(sorted(set(found)))


def test_the_audit_log_reads_as_sentences_with_money_formatted(db, site):
    with db.transaction() as session:
        scope_to_tenant(session, tenant_by_slug(session, "demo").id)
        approved = session.scalars(sa.select(AuditEvent.object_id).where(AuditEvent.action == "withdrawal.approve"))
        withdrawal = session.scalars(sa.select(Withdrawal).where(Withdrawal.reference == approved.one())).one()
        reference, who = withdrawal.reference, session.get(Member, withdrawal.member_id)
        name = who.legal_name or who.display_name
    text = " ".join(visible_text(site.get(HOST, "/admin/audit", params={"_LOCALE_": "en"}).text))
    # the seed's withdrawal is 1,000.00 (major units, by hand): the row names its member and its amount
    assert f"approved {name}'s withdrawal {reference} of CN¥1,000.00" in text
    assert "asked to adjust a member's balance of CN¥12.50" in text
    assert "Waiting for approval → " in text  # the status change, in words


def test_the_guarantor_count_links_to_the_guarantor_queue(wsgi_app, db, site):
    dashboard = site.get(HOST, "/admin", params={"_LOCALE_": "en"})
    link = dashboard.html.find("dt", string="Waiting for the guarantor").find_next("a")
    assert "queue=guarantor" in link["href"]
    listing = site.get(HOST, link["href"])
    with db.transaction() as session:
        scope_to_tenant(session, tenant_by_slug(session, "demo").id)
        waiting = session.scalars(
            sa.select(Loan.number).where(
                Loan.status == "submitted", Loan.type_data["guarantee"].as_string() == "pending"
            )
        ).all()
        first_review = session.scalars(sa.select(Loan.number).where(Loan.status == "submitted")).all()
    shown = {a.text for a in listing.html.select("table a")}
    assert shown == set(waiting)
    assert int(link.text) == len(waiting)
    assert set(first_review) - set(waiting) <= {
        a.text for a in site.get(HOST, "/admin/loans", params={"queue": "first_review"}).html.select("table a")
    }


def test_status_and_gateway_filters_are_choices_in_words(site):
    page = site.get(HOST, "/admin/funds/withdrawals", params={"_LOCALE_": "zh_Hant"})
    status = page.html.find("select", id="status")
    options = {o["value"]: o.text for o in status.find_all("option")}
    assert options["first_approved"] == "等待第二位審核" or not options["first_approved"].isascii()
    gateway = {o["value"]: o.text for o in page.html.find("select", id="gateway").find_all("option")}
    assert "offline" in gateway and gateway["offline"] != "offline"
    filtered = site.get(HOST, "/admin/funds/withdrawals", params={"status": "requested"})
    assert filtered.html.find("select", id="status").find("option", selected=True)["value"] == "requested"


def test_dates_say_whether_they_are_business_dates_or_wall_clock_days(site):
    """Schedules run on the business date, records on the wall clock: each column and filter says which."""
    import datetime as dt

    page = site.get(HOST, "/admin/funds/reconciliation", params={"_LOCALE_": "en"})
    assert page.html.find("label", attrs={"for": "date"}).text == "Settled on (UTC day)"
    # settlements are wall-clock records: the day shown first is today's UTC day, whatever the business date
    assert page.html.find("input", id="date")["value"] == dt.datetime.now(dt.timezone.utc).date().isoformat()
    overdue = site.get(HOST, "/admin/loans/overdue", params={"_LOCALE_": "en"})
    assert "Due (business date)" in [th.text for th in overdue.html.find_all("th")]
    withdrawals = site.get(HOST, "/admin/funds/withdrawals", params={"_LOCALE_": "en"})
    assert "Recorded at" in [th.text for th in withdrawals.html.find_all("th")]
