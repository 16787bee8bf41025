"""The demo tenant's story in a real browser: a new visitor registers with the SMS code the development outbox
delivered (its log, as on the console of ``make demo``; the back office shows it masked),
verifies, recharges through the sandbox gateway and bids; a borrower applies; staff approve, review and
disburse; close of day collects the installment and the lender sees the payback received."""

import pyotp
import sqlalchemy as sa

import core.loans as loans
from core.accounts.services import create_staff
from core.db import scope_to_tenant
from core.loans.models import Installment, Loan
from core.members.models import Member
from core.members.services import create_member
from core.sms import SmsMessage
from core.tenancy.services import tenant_by_slug
from tests.dev_outbox import OUTBOX
from tests.helpers import PASSWORD, resident_id


def url(port, path, host="demo.localhost"):
    return f"http://{host}:{port}{path}"


def latest_code(db, phone):
    """The code the visitor's phone received: the development outbox's log, never the back office."""
    with db.transaction() as session:
        body = session.scalars(
            sa.select(SmsMessage.body).where(SmsMessage.phone.like(f"%{phone}")).order_by(SmsMessage.id.desc())
        ).first()
    assert "******" in body  # what staff see
    return OUTBOX.code_for(phone)


def fill(page, values: dict) -> None:
    """Type into each field (``#id``: text) or choose in each select (``select#id``: value) like a person."""
    for selector, value in values.items():
        if selector.startswith("select"):
            page.select_option(selector, value)
        else:
            page.fill(selector, value)


def member_page(browser, port, phone, **context):
    """A member signed in through the sign-in page, in zh-TW (and ``context``: a viewport)."""
    page = browser.new_context(locale="zh-TW", **context).new_page()
    page.goto(url(port, "/login"))
    fill(page, {"#login": phone, "#password": PASSWORD})
    page.click("form:has(#login) button[type=submit]")
    page.wait_for_url(url(port, "/account"))
    return page


def staff_page(browser, port, db, login):
    """A signed-in risk officer (two-factor typed in like a person would)."""
    with db.transaction() as session:
        secret = create_staff(session, tenant_by_slug(session, "demo"), login, PASSWORD, "risk_officer").totp_secret
    page = browser.new_context(locale="zh-TW").new_page()
    page.goto(url(port, "/admin/login"))
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/login/verify")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(url(port, "/admin"))
    return page


def test_the_demo_story(browser, live_server, db, tenants, artifacts):
    port = live_server
    # A phone-sized browser in Traditional Chinese.
    visitor = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-TW").new_page()

    # A new visitor registers with the code the SMS outbox received.
    visitor.goto(url(port, "/register"))
    visitor.screenshot(path=artifacts / "register-default-theme.png", full_page=True)
    visitor.fill("#phone", "13912345678")
    visitor.click("button[value=send_code]")
    visitor.fill("#code", latest_code(db, "13912345678"))
    visitor.fill("#password", PASSWORD)
    visitor.fill("#confirm", PASSWORD)
    visitor.click("button[value=register]")
    visitor.wait_for_url(url(port, "/account"))

    # Real-name verification, approved by a risk officer.
    visitor.goto(url(port, "/account/verification"))
    visitor.fill("#legal_name", "陳大文")
    visitor.fill("#id_number", resident_id(321))
    visitor.click("form:has(#legal_name) button[type=submit]")
    with db.transaction() as session:
        lender_id = session.scalars(sa.select(Member.id).where(Member.phone == "+8613912345678")).one()
    officer = staff_page(browser, port, db, "story-officer")
    officer.goto(url(port, f"/admin/members/{lender_id}"))
    officer.click("button[name=decision][value=approve]")
    visitor.goto(url(port, "/account/verification"))
    assert "已認證" in visitor.inner_text("main")

    # Recharge 5,000.00 through the sandbox gateway's own checkout page.
    visitor.goto(url(port, "/account/recharge"))
    visitor.check("input[name=gateway][value=sandbox]")
    visitor.fill("#amount", "5000.00")
    visitor.click("form:has(#amount) button[type=submit]")
    visitor.wait_for_url("**/sandbox-gateway/checkout/**")
    visitor.screenshot(path=artifacts / "sandbox-checkout.png", full_page=True)
    visitor.click("button[value=pay]")
    visitor.wait_for_url("**/account/recharge/R*")
    assert "5,000.00" in visitor.inner_text("main")

    # A borrower applies for a credit loan.
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        borrower_member = create_member(
            session,
            demo,
            phone="13712345678",
            password=PASSWORD,
            legal_name="林小華",
            id_number=resident_id(322),
            verified=True,
        )
        borrower_member.credit_line = 1_000_000  # set by staff after verification
    borrower = member_page(browser, port, "13712345678")
    borrower.goto(url(port, "/borrow?type=credit"))
    fill(
        borrower,
        {
            "#title": "小店週轉資金",
            "#amount": "3000.00",
            "#annual_rate_percent": "12",
            "#term_months": "3",
            "#fundraising_days": "5",
            "#min_bid": "100",
        },
    )
    borrower.click("form:has(#title) button[type=submit]:not([name=preview])")
    borrower.wait_for_url("**/account/loans**")
    with db.transaction() as session:
        loan_id, number = session.execute(sa.select(Loan.id, Loan.number)).one()

    # First review publishes it; the lender bids the whole amount and sees it frozen.
    officer.goto(url(port, f"/admin/loans/{loan_id}"))
    officer.click("button[name=decision][value=approve]")
    visitor.goto(url(port, "/invest"))
    visitor.screenshot(path=artifacts / "invest-default-theme.png", full_page=True)
    visitor.goto(url(port, f"/invest/{number}"))
    visitor.fill("#amount", "3000.00")
    visitor.click("form:has(#amount) button[type=submit]")
    visitor.wait_for_selector("input[name=confirm]", state="attached")  # the expected payback first
    visitor.screenshot(path=artifacts / "bid-confirm-default-theme.png", full_page=True)
    visitor.click("form:has(input[name=confirm]) button[type=submit]")
    visitor.wait_for_url("**/account/bids**")
    visitor.goto(url(port, "/account"))
    assert "¥3,000.00" in visitor.inner_text("main")  # frozen
    assert "¥2,000.00" in visitor.inner_text("main")  # still available

    # Final review disburses; close of day on the first due date collects the installment.
    officer.goto(url(port, f"/admin/loans/{loan_id}"))
    officer.screenshot(path=artifacts / "admin-final-review.png", full_page=True)
    officer.click("button[name=decision][value=approve]")
    with db.transaction() as session:
        first_due = session.scalars(
            sa.select(Installment.due_date).where(Installment.loan_id == loan_id, Installment.period == 1)
        ).one()
    while True:
        with db.transaction() as session:
            demo = tenant_by_slug(session, "demo")
            scope_to_tenant(session, demo.id)
            if demo.business_date > first_due:
                break
            loans.close_of_day(session, demo, demo.business_date)
    visitor.goto(url(port, "/account/bids"))
    text = visitor.inner_text("main")
    assert "已收回款" in text and "990.07" in text  # the first installment's principal came back
    assert "還款中" in text  # the investment's loan is repaying
    visitor.screenshot(path=artifacts / "paybacks.png", full_page=True)

    # The other theme, for the record.
    with db.transaction() as session:  # a loan open for bids there too
        acme_tenant = tenant_by_slug(session, "acme")
        scope_to_tenant(session, acme_tenant.id)
        acme_borrower = create_member(
            session,
            acme_tenant,
            phone="+12025550188",
            password=PASSWORD,
            legal_name="Alice Smith",
            id_number="X7654321",
            verified=True,
        )
        acme_borrower.credit_line = 2_000_000
        hooks = db.registry["plugins"].for_tenant(acme_tenant)
        acme_loan = loans.apply(
            session,
            acme_tenant,
            hooks,
            acme_borrower,
            {
                "loan_type": "credit",
                "title": "Bakery equipment",
                "amount": "8000.00",
                "annual_rate_percent": "9",
                "term_months": "12",
                "repayment_method": "equal_installment",
                "min_bid": "100",
            },
        )
        loans.review(session, acme_tenant, hooks, acme_loan, approve=True, reason="", by="story")
        acme_number = acme_loan.number
    acme = browser.new_context(locale="en-US").new_page()
    for path, name in (
        ("/", "home-classic-theme.png"),
        ("/invest", "invest-classic-theme.png"),
        (f"/invest/{acme_number}", "loan-classic-theme.png"),
        ("/borrow", "borrow-classic-theme.png"),
        (
            "/tools/equal_installment?principal=10000&annual_rate_percent=12&term_months=12",
            "calculator-classic-theme.png",
        ),
    ):
        acme.goto(url(port, path, host="acme.localhost"))
        acme.screenshot(path=artifacts / name, full_page=True)
    assert "Bakery equipment" in acme.goto(url(port, "/invest", host="acme.localhost")).text()
    assert "A**** S****" in acme.goto(url(port, f"/invest/{acme_number}", host="acme.localhost")).text()
    assert (artifacts / "calculator-classic-theme.png").stat().st_size > 0


def test_a_borrower_applies_for_each_loan_type(browser, live_server, db, tenants, artifacts):
    """Credit, net-worth, mortgage and guaranteed loans from the borrow page; an instant loan from the back office."""
    from core.ledger import Ledger, Wallet
    from core.money import Money

    port = live_server
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        member = create_member(
            session,
            demo,
            phone="13612345678",
            password=PASSWORD,
            legal_name="周美玲",
            id_number=resident_id(401),
            verified=True,
        )
        member.credit_line = 2_000_000
        Wallet(Ledger(session, demo.id), member.id, "CNY").recharge(
            Money(2_000_000, "CNY"), key="story-cash", ref="story", initiator="story"
        )
    officer = staff_page(browser, port, db, "types-officer")
    officer.goto(url(port, "/admin/guarantors"))
    officer.fill("#name", "鼎信融資擔保")
    officer.fill("#quota", "100000")
    officer.click("form:has(#quota) button[type=submit]")
    officer.wait_for_selector("td:has-text('鼎信融資擔保')")

    borrower = member_page(browser, port, "13612345678", viewport={"width": 375, "height": 812})
    borrower.goto(url(port, "/borrow"))
    borrower.screenshot(path=artifacts / "borrow-types-default-theme.png", full_page=True)
    applications = {
        "credit": ("信用週轉借款", "5000.00", {}),
        "net_worth": ("凈值標資金周轉", "3000.00", {}),
        "mortgage": (
            "房產抵押借款",
            "60000.00",
            {
                "select#collateral_kind": "property",
                "#collateral_description": "上海市住宅一套",
                "#appraised_value": "200000",
            },
        ),
        "guaranteed": ("擔保經營借款", "8000.00", {}),
    }
    for code, (title, amount, extra) in applications.items():
        borrower.goto(url(port, "/borrow"))
        borrower.click(f"a[href*='type={code}']")
        borrower.wait_for_selector("#title")
        fill(borrower, {"#title": title, "#amount": amount, "#annual_rate_percent": "10", "#term_months": "6"})
        if code == "credit":
            # the page's script asks the calculator as the borrower types: six rows appear
            borrower.wait_for_selector("#schedule-preview tbody tr:nth-child(6)")
            borrower.screenshot(path=artifacts / "borrow-preview-default-theme.png", full_page=True)
        if code == "guaranteed":
            borrower.select_option("#guarantor_id", label="鼎信融資擔保")
        fill(borrower, extra)
        borrower.click("form:has(#title) button[type=submit]:not([name=preview])")
        borrower.wait_for_url("**/account/loans**")
    mine = borrower.inner_text("main")
    assert all(title in mine for title, _, _ in applications.values())

    # Instant loans are promotions staff publish for a borrower.
    officer.goto(url(port, "/admin/loans/new"))
    fill(
        officer,
        {
            "#borrower": "13612345678",
            "select#loan_type": "instant",
            "#title": "新手專享秒標",
            "#amount": "1000.00",
            "#annual_rate_percent": "12",
            "#term_months": "1",
            "select#repayment_method": "one_time",
            "#fundraising_days": "1",
        },
    )
    officer.click("form:has(#borrower) button[type=submit]")
    officer.wait_for_url("**/admin/loans/*")
    with db.transaction() as session:
        kinds = dict(
            session.execute(
                sa.select(Loan.loan_type, Loan.status)
                .join(Member, Member.id == Loan.borrower_id)
                .where(Member.phone == "+8613612345678")
            ).all()
        )
    assert kinds == {
        "credit": "submitted",
        "net_worth": "submitted",
        "mortgage": "submitted",
        "guaranteed": "submitted",
        "instant": "bidding",
    }
    visitor = browser.new_context(locale="zh-TW").new_page()
    visitor.goto(url(port, "/invest"))
    assert "新手專享秒標" in visitor.inner_text("main")
