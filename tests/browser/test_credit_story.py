"""The credit system's whole path in a real browser, on the demo tenant (Traditional Chinese, CNY, a 1% borrower's
fee spread over the installments and a 10% lender's management fee of interest).

A relationship manager enters a walk-in customer with work, income, assets and an identity document, rates them
with the shipped individual scorecard and proposes another grade, which a credit approver approves; applies for
the shipped own-funds consumer loan with its required documents, sees the schedule preview and submits. The
supervisor approves the first step, the credit approver returns it to the supervisor with a comment, the
supervisor approves again and the credit approver approves: approved. The manager draws up the contract,
downloads its PDF and records the signing with the signed scan. A cashier records a capital injection which
another approves; one cashier prepares the disbursement and the other approves it (both signed in with their
second factor). The loan repays on the back office's loans page; close of day on the first due date collects the
first installment from the borrower's account (a walk-in's loan is paid into the account the credit system opened
for them) and the lending fund receives its payback. Every figure is worked out here by hand.
"""

from __future__ import annotations

import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pyotp
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from playwright.sync_api import expect

from cli import main as lendstack
from core.ledger import Ledger, Wallet, verify
from core.loans.models import Installment, Loan
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.browser.pages import OVERFLOW
from tests.helpers import PASSWORD, resident_id

SLUG, LOCALE = "demo", "zh-TW"
PHONE = {"width": 390, "height": 844}

# The walk-in customer: the worked example of docs/credit/rating.md (born 1980-01-01, so 47 on 2027-01-04).
CUSTOMER = {
    "#name": "趙子龍",
    "#id_number": resident_id(515),
    "#address": "台北市大安區和平東路 1 號",
    "#employer": "常山機械股份有限公司",
    "#position": "工程師",
    "#employment_years": "4",
    "#monthly_income": "12000",
    "#property_count": "1",
    "#property_value": "900000",
    "#deposits": "100000",
    "#total_liabilities": "500000",
    "#monthly_debt_payments": "4800",
}
# debt_to_income 4,800 / 12,000 = 40 % → band 36–43 → 4 points × 2.5 = 10; no overdue → 10 × 2 = 20;
# 4 years → 8 × 1.5 = 12; income 12,000 → 8; assets 1,000,000 / 500,000 = 2 → 7; a property → 10; age 47 → 10.
SCORE = 10 + 20 + 12 + 8 + 7 + 10 + 10  # 77 of 100: row A 75–85
OVERRIDE = "B"

AMOUNT, RATE, TERM = Decimal("12000.00"), Decimal("12"), 12
FUND_INJECTION = Decimal("100000.00")
BORROWER_FEE, LENDER_FEE = Decimal("0.01"), Decimal("0.10")  # demo.toml [lending]


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def shown(value: Decimal) -> str:
    """An amount as the pages write it: 1,066.19."""
    return f"{value:,.2f}"


def first_installment() -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(payment, interest, principal, service fee) of period 1: A·r / (1 − (1+r)^−n); the fee spread evenly."""
    r = RATE / 100 / 12
    payment = cents(AMOUNT * r / (1 - (1 + r) ** -TERM))
    interest = cents(AMOUNT * r)
    fee = cents(AMOUNT * BORROWER_FEE / TERM)
    return payment, interest, payment - interest, fee


def total_repayment() -> Decimal:
    """Principal, every period's interest on the balance left (the last period takes what is left) and the fee."""
    r = RATE / 100 / 12
    payment, balance, interest = first_installment()[0], AMOUNT, Decimal(0)
    for period in range(1, TERM + 1):
        owed = cents(balance * r)
        interest += owed
        balance -= balance if period == TERM else payment - owed
    return AMOUNT + interest + cents(AMOUNT * BORROWER_FEE)


def url(port, path):
    return f"http://{SLUG}.localhost:{port}{path}"


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), "#d0d0d0").save(buffer, format="PNG")
    return buffer.getvalue()


def pdf(text: str) -> bytes:
    return (
        b"%PDF-1.4\n% " + text.encode() + b"\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def upload(name: str, data: bytes, mime: str) -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


def staff_page(browser, port, db, login, role, *, second_factor=None):
    """A staff member with one role, signed in through the back office's sign-in page (the code when asked)."""
    with db.transaction() as session:
        secret = factories.staff(session, tenant_by_slug(session, SLUG), login, role)
    page = browser.new_context(locale=LOCALE, viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url(port, "/admin/login"))
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("form:has(#login) button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin(/login/verify)?$"))
    asked = page.url.endswith("/verify")
    if second_factor is not None:
        assert asked == second_factor, f"{login}: second factor asked {asked}"
    if asked:
        page.fill("#code", pyotp.TOTP(secret).now())
        page.click("form:has(#code) button[type=submit]")
        page.wait_for_url(url(port, "/admin"))
    return page


def fits_a_phone(page) -> None:
    """The page is usable at 390 px: nothing sticks out of it."""
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    assert page.evaluate(OVERFLOW) == [], page.url
    page.set_viewport_size(size)


def no_error(page) -> None:
    assert page.locator("p.error, .flash.error").count() == 0, page.inner_text("main")


def decide(page, port, application_id, action, comment="", to_step=None):
    """On the approval workbench: write the comment, choose where a return goes, press the step's action."""
    page.goto(url(port, f"/admin/credit/applications/{application_id}"))
    if comment:
        page.fill("#comment", comment)
    if to_step:
        page.select_option("#to_step", to_step)
    page.click(f"button[name=action][value={action}]")
    page.wait_for_url(url(port, f"/admin/credit/applications/{application_id}"))
    no_error(page)


def close_days(ini, until) -> None:
    """``lendstack jobs close-of-day`` for every business date up to ``until``, as the nightly job runs it."""
    import datetime as dt

    day = dt.date.fromisoformat("2027-01-04")
    while day <= until:
        result = CliRunner().invoke(
            lendstack, ["jobs", "close-of-day", "-c", ini, "--tenant", SLUG, "--date", day.isoformat()]
        )
        assert result.exit_code == 0, result.output
        day += dt.timedelta(days=1)


@pytest.fixture
def ini(tmp_path, settings, engine):
    """An ini file pointing the command at the served app's database."""
    path = tmp_path / "test.ini"
    path.write_text("\n".join(["[app:main]", "use = egg:lendstack", *(f"{k} = {v}" for k, v in settings.items())]))
    return str(path)


@pytest.mark.parametrize("slug", [SLUG])
def test_a_walk_in_customer_is_rated_approved_contracted_disbursed_and_repays(
    browser, live_server, db, tenants, tmp_path, ini, slug
):
    port = live_server
    shots = tmp_path / "shots"
    shots.mkdir()
    manager = staff_page(browser, port, db, "credit-manager", "relationship_manager")
    supervisor = staff_page(browser, port, db, "credit-supervisor", "risk_officer")
    approver = staff_page(browser, port, db, "credit-approver", "credit_approver")
    maker = staff_page(browser, port, db, "credit-maker", "cashier", second_factor=True)
    checker = staff_page(browser, port, db, "credit-checker", "cashier", second_factor=True)

    # 1. The relationship manager enters the walk-in customer and their identity document.
    manager.goto(url(port, "/admin/credit/customers"))
    manager.click("a[href$='/admin/credit/customers/new/individual']")
    manager.select_option("#id_type", "cn_resident")
    for selector, value in CUSTOMER.items():
        manager.fill(selector, value)
    manager.select_option("#marital_status", "married")
    manager.click("form:has(#id_number) button[type=submit]")
    manager.wait_for_url(re.compile(r".*/admin/credit/customers/\d+$"))
    customer_id = int(manager.url.rsplit("/", 1)[1])
    main = manager.inner_text("main")
    assert CUSTOMER["#id_number"] in main and "1980" in main  # the birth date read from the ID number
    assert shown(Decimal("1000000")) in main  # total assets: property 900,000 + deposits 100,000
    number = re.search(r"C\d{10}", manager.inner_text("h1")).group(0)
    manager.click(f"nav.tabs a[href$='/admin/credit/customers/{customer_id}/documents']")
    manager.select_option("#kind", "id_document")
    manager.set_input_files("#file", files=[upload("id-card.png", png(), "image/png")])
    manager.click("form:has(#file) button[type=submit]")
    expect(manager.locator("main table")).to_contain_text("id-card.png")

    # 2. Rated with the shipped individual scorecard: 77 of 100, A; the manager proposes B, the approver approves.
    manager.goto(url(port, f"/admin/credit/customers/{customer_id}/ratings/new"))
    main = manager.inner_text("main")
    assert re.search(rf"\b{SCORE}\s*/\s*100\b", main), main
    manager.screenshot(path=shots / "rating-math.png", full_page=True)
    fits_a_phone(manager)
    manager.select_option("#override_grade", OVERRIDE)
    manager.fill("#reason", "在本行無往來紀錄，先給 B 級")
    manager.click("button[name=action][value=override]")
    manager.wait_for_url(re.compile(r".*/admin/credit/ratings/\d+$"))
    rating_path = manager.url.split(str(port), 1)[1]
    expect(manager.locator("button[name=action][value=approve]")).to_have_count(1)
    approver.goto(url(port, "/admin/credit/ratings"))
    approver.click(f"a[href='{rating_path}']")
    approver.click("button[name=action][value=approve]")
    approver.wait_for_url(url(port, rating_path))
    no_error(approver)
    manager.goto(url(port, f"/admin/credit/customers/{customer_id}"))
    grade = manager.locator("dl.totals div:has(dt) dd").nth(3)  # kind, ID, member, grade
    expect(grade).to_have_text(OVERRIDE)
    fits_a_phone(manager)

    # 3. An application for the own-funds consumer loan, from the customer's page, with its documents.
    manager.click("a[href*='/admin/credit/applications/new']")
    expect(manager.locator("#customer_id")).to_have_value(re.compile(rf"^({customer_id}|{number})$"))
    manager.select_option("#product", "consumer")
    manager.fill("#amount", str(AMOUNT))
    manager.fill("#annual_rate_percent", str(RATE))
    manager.fill("#term_months", str(TERM))
    manager.select_option("#repayment_method", "equal_installment")
    manager.fill("#purpose", "購置自用小客車")
    manager.click("form:has(#customer_id) button[type=submit]")
    manager.wait_for_url(re.compile(r".*/admin/credit/applications/\d+$"))
    no_error(manager)
    application_id = int(manager.url.rsplit("/", 1)[1])
    payment, interest, principal, fee = first_installment()
    assert (payment, interest, fee) == (Decimal("1066.19"), Decimal("120.00"), Decimal("10.00"))  # docs' figures
    preview = manager.locator("table:has(th:text-is('服務費')) tbody tr").first  # the schedule preview's period 1
    row = preview.inner_text()
    assert shown(principal) in row and shown(interest) in row and shown(fee) in row, row
    expect(manager.locator("main")).to_contain_text(shown(total_repayment()))
    for doc_type, name, data, mime in (
        ("id_card", "id-card.png", png(), "image/png"),
        ("income_proof", "salary.pdf", pdf("salary certificate"), "application/pdf"),
    ):
        manager.select_option("#doc_type", doc_type)
        manager.set_input_files("#file", files=[upload(name, data, mime)])
        manager.click("form:has(#doc_type) button[type=submit]")
        manager.wait_for_url(url(port, f"/admin/credit/applications/{application_id}"))
        no_error(manager)
        expect(manager.locator("main")).to_contain_text(name)
    manager.screenshot(path=shots / "application-draft.png", full_page=True)
    fits_a_phone(manager)
    manager.click("button[name=action][value=submit]")
    manager.wait_for_url(url(port, f"/admin/credit/applications/{application_id}"))
    no_error(manager)
    expect(manager.locator("button[name=action][value=submit]")).to_have_count(0)
    expect(manager.locator("button[name=action][value=approve]")).to_have_count(0)  # the manager never approves

    # 4. Two steps with a return: review approves, approval returns to review, review approves, approval approves.
    approver.goto(url(port, f"/admin/credit/applications/{application_id}"))
    expect(approver.locator("button[name=action][value=approve]")).to_have_count(0)  # not their step yet
    decide(supervisor, port, application_id, "approve", "收入證明與身分證件相符")
    expect(supervisor.locator("button[name=action][value=approve]")).to_have_count(0)  # four eyes
    comment = "請主管再核對負債明細"
    decide(approver, port, application_id, "return", comment, to_step="review")
    supervisor.goto(url(port, "/admin/credit"))
    supervisor.click(f"a[href$='/admin/credit/applications/{application_id}']")
    expect(supervisor.locator("main")).to_contain_text(comment)
    expect(supervisor.locator("main")).to_contain_text("信貸審批 → 主管審核")  # the history names the steps
    decide(supervisor, port, application_id, "approve", "負債明細已核對")
    decide(approver, port, application_id, "approve", "同意")
    approver.screenshot(path=shots / "application-approved.png", full_page=True)
    with db.transaction() as session:
        status = session.execute(
            sa.text("SELECT status FROM credit_applications WHERE id = :id"), {"id": application_id}
        ).scalar_one()
    assert status == "approved"

    # 5. The contract: drawn up, its PDF downloaded, the signing recorded with the scan.
    manager.goto(url(port, f"/admin/credit/applications/{application_id}"))
    manager.click(f"a[href$='/admin/credit/applications/{application_id}/contract']")
    manager.click("form:has(#locale) button[type=submit]")
    manager.wait_for_url(url(port, f"/admin/credit/applications/{application_id}/contract"))
    no_error(manager)
    contract_number = re.search(r"HT\d{10}", manager.inner_text("main")).group(0)
    assert contract_number.startswith("HT2701")
    pdf_href = manager.get_attribute("a[href*='/pdf']", "href")
    kind, body = fetched(manager, pdf_href)
    assert kind.startswith("application/pdf") and body.startswith(b"%PDF-")
    assert any(contract_number in text for text in pdf_text(body)), pdf_text(body)
    manager.set_input_files("#scan", files=[upload("signed.pdf", pdf(f"signed {contract_number}"), "application/pdf")])
    manager.click("form:has(#scan) button[type=submit]")
    manager.wait_for_url(url(port, f"/admin/credit/applications/{application_id}/contract"))
    no_error(manager)
    expect(manager.locator("a[href*='/scan']")).to_have_count(1)
    manager.screenshot(path=shots / "contract-signed.png", full_page=True)
    fits_a_phone(manager)

    # 6. A capital injection (maker, checker), then the disbursement (maker, another checker).
    maker.goto(url(port, "/admin/credit/lending-fund"))
    maker.fill("#amount", str(FUND_INJECTION))
    maker.fill("#reason", "股東增資撥入放款資金")
    maker.click("form:has(#amount) button[type=submit]")
    maker.wait_for_url(url(port, "/admin/credit/lending-fund"))
    expect(maker.locator("button[name=decision][value=approve]")).to_have_count(0)  # not their own
    checker.goto(url(port, "/admin/credit/lending-fund"))
    checker.click("button[name=decision][value=approve]")
    checker.wait_for_url(url(port, "/admin/credit/lending-fund"))
    no_error(checker)
    expect(checker.locator("dl.totals dd").first).to_contain_text(shown(FUND_INJECTION))
    maker.goto(url(port, "/admin/credit/disbursements"))
    maker.click(f"form[action$='/disbursements/{application_id}'] button[value=prepare]")
    maker.wait_for_url(url(port, "/admin/credit/disbursements"))
    no_error(maker)
    expect(maker.locator("button[value=approve]")).to_have_count(0)  # the maker never checks
    checker.goto(url(port, "/admin/credit/disbursements"))
    checker.screenshot(path=shots / "disbursement-workbench.png", full_page=True)
    fits_a_phone(checker)
    checker.click(f"form[action$='/disbursements/{application_id}'] button[value=approve]")
    checker.wait_for_url(url(port, "/admin/credit/disbursements"))
    no_error(checker)
    loan_href = checker.get_attribute("main table a[href*='/admin/loans/']", "href")
    fund_after_loan = FUND_INJECTION - AMOUNT
    checker.goto(url(port, "/admin/credit/lending-fund"))
    expect(checker.locator("dl.totals dd").first).to_contain_text(shown(fund_after_loan))

    # 7. The loan repays on the loans page; close of day on the first due date collects the first installment.
    supervisor.goto(url(port, loan_href))
    main = supervisor.inner_text("main")
    assert "還款中" in main and shown(AMOUNT) in main
    assert shown(payment) in main or shown(principal) in main, main  # its schedule
    expect(supervisor.locator("dt:text-is('信用等級') + dd")).to_have_text(OVERRIDE)  # the customer's grade
    supervisor.screenshot(path=shots / "loan-repaying.png", full_page=True)
    for page, path in (
        (supervisor, "/admin/members"),
        (supervisor, "/admin/loans"),
        (supervisor, "/admin/credit/applications"),
        (manager, "/admin/credit/contracts"),
        (manager, f"/admin/credit/customers/{customer_id}"),
    ):
        assert page.goto(url(port, path)).status == 200, path  # the walk-in borrower on every list
    with db.transaction() as session:
        loan_number = session.get(Loan, int(loan_href.rsplit("/", 1)[1])).number
    expect(manager.locator("main")).to_contain_text(loan_number)  # the customer's page lists their loan
    loan_id = int(loan_href.rsplit("/", 1)[1])
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan.origin.endswith(
            session.execute(
                sa.text("SELECT number FROM credit_applications WHERE id = :id"), {"id": application_id}
            ).scalar_one()
        )
        borrower_id = loan.borrower_id
        first_due = session.scalars(
            sa.select(Installment.due_date).where(Installment.loan_id == loan_id, Installment.period == 1)
        ).one()
    assert first_due.isoformat() == "2027-02-04"
    close_days(ini, first_due)
    borrower = supervisor.goto(url(port, f"/admin/members/{borrower_id}"))
    assert borrower.status == 200 and CUSTOMER["#name"] in supervisor.inner_text("main")
    expect_wallet = AMOUNT - payment - fee  # the walk-in's account: the loan paid in, the first installment out
    with db.transaction() as session:
        first = session.scalars(
            sa.select(Installment).where(Installment.loan_id == loan_id, Installment.period == 1)
        ).one()
        assert first.status == "paid"
        assert (first.principal, first.interest) == (int(principal * 100), int(interest * 100))
        wallet = Wallet(Ledger(session, loan.tenant_id), loan.borrower_id, "CNY").funds()
        assert wallet.available == int(expect_wallet * 100)
    payback = payment - cents(interest * LENDER_FEE)  # 1,066.19 less 10 % of 120.00 interest
    checker.goto(url(port, "/admin/credit/lending-fund"))
    expect(checker.locator("dl.totals dd").first).to_contain_text(shown(fund_after_loan + payback))
    checker.screenshot(path=shots / "lending-fund.png", full_page=True)
    fits_a_phone(checker)

    # 8. The books balance.
    with db.transaction() as session:
        assert verify(session) == []
    for page in (manager, supervisor, approver, maker, checker):
        page.context.close()


FETCH = """async (href) => {
  const answer = await fetch(href);
  const bytes = new Uint8Array(await answer.arrayBuffer());
  let binary = '';
  for (const b of bytes) { binary += String.fromCharCode(b); }
  return [answer.headers.get('content-type'), btoa(binary)];
}"""


def fetched(page, href) -> tuple[str, bytes]:
    """What the signed-in browser gets from ``href`` (a download, as the link's click would save it)."""
    import base64

    kind, body = page.evaluate(FETCH, href)
    return kind, base64.b64decode(body)


def pdf_text(data: bytes) -> list[str]:
    """The text a PDF shows, read as a PDF viewer does: each font's ToUnicode map applied to the hex strings of
    the page content (one reading per font, as the glyph numbers of two fonts overlap)."""
    import zlib

    streams = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            streams.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    maps = []
    for stream in streams:
        if b"begincmap" not in stream:
            continue
        glyphs = {}
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
            for glyph, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                glyphs[glyph.upper()] = bytes.fromhex(text.decode()).decode("utf-16-be", "replace")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
            for low, high, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                start = ord(bytes.fromhex(text.decode()).decode("utf-16-be", "replace")[:1] or "\0")
                for n, glyph in enumerate(range(int(low, 16), int(high, 16) + 1)):
                    glyphs[f"{glyph:0{len(low)}X}".encode()] = chr(start + n)
        maps.append(glyphs)
    content = [s for s in streams if b"Tj" in s or b"TJ" in s]
    readings = []
    for glyphs in maps:
        width = len(next(iter(glyphs), b"0000"))
        text = []
        for stream in content:
            for hexed in re.findall(rb"<([0-9A-Fa-f]+)>", stream):
                hexed = hexed.upper()
                text.extend(glyphs.get(hexed[i : i + width], "") for i in range(0, len(hexed), width))
        readings.append("".join(text))
    return readings
