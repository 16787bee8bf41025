"""The lifecycle through the pages: borrow, review, invest, final review, repay."""

import re

import sqlalchemy as sa

from core.ledger import Ledger, Wallet, verify
from core.loans.models import Loan, Payback
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests.helpers import luhn_card, member_client, staff_client, submit

DEMO = "demo.localhost"


def seed(db, member_id, minor):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), member_id, "CNY").recharge(
            Money(minor, "CNY"), key=f"seed:{member_id}", ref="test", initiator="test"
        )


def test_borrow_review_invest_disburse_repay_through_the_pages(wsgi_app, db, tenants):
    borrower, borrower_id = member_client(wsgi_app, db, "13800138100", card=luhn_card(), credit_line=1_000_000)
    lender, lender_id = member_client(wsgi_app, db, "13800138101")
    seed(db, lender_id, 1_000_000)
    page = borrower.get(DEMO, "/borrow?_LOCALE_=en")
    assert "Credit loan" in page.text and "Credit line left" in page.text
    assert "Submit application" not in page.text  # the types first, each explaining itself
    page = borrower.get(DEMO, "/borrow?type=credit&_LOCALE_=en")
    refused = submit(
        borrower,
        DEMO,
        page,
        {"title": "x", "amount": "5000.00", "annual_rate_percent": "10", "term_months": "6", "fundraising_days": "5"},
        status=400,
    )
    assert "title of 4 to 120" in refused.text and 'value="5000.00"' in refused.text  # the input is kept
    form = [f for f in refused.forms.values() if "preview" in f.fields][0]
    form["title"] = "裝修借款"
    preview = form.submit("preview", value="1", extra_environ={"HTTP_HOST": DEMO}, status=200)
    assert "Your repayment schedule" in preview.text and preview.text.count('<td class="num">') >= 18
    with db.transaction() as session:
        assert session.scalars(sa.select(Loan)).first() is None  # a preview saves nothing
    page = borrower.get(DEMO, "/borrow?type=credit")
    submit(
        borrower,
        DEMO,
        page,
        {
            "title": "裝修借款",
            "amount": "5000.00",
            "annual_rate_percent": "10",
            "term_months": "6",
            "fundraising_days": "5",
            "min_bid": "100",
        },
        status=303,
    )
    with db.transaction() as session:
        loan = session.scalars(sa.select(Loan)).one()
        loan_id, number = loan.id, loan.number
    # Anonymous visitors do not see a loan before its first review.
    lender.get(DEMO, f"/invest/{number}", status=404)
    officer = staff_client(wsgi_app, db, "risk1", "risk_officer")
    page = officer.get(DEMO, f"/admin/loans/{loan_id}")
    submit(officer, DEMO, page, {"reason": ""}, "approve", status=303)
    assert number in lender.get(DEMO, "/invest").text
    page = lender.get(DEMO, f"/invest/{number}?_LOCALE_=en")
    too_much = submit(lender, DEMO, page, {"amount": "6000.00"}, status=400)
    assert "left to fund" in too_much.text
    page = lender.get(DEMO, f"/invest/{number}?_LOCALE_=en")
    assert "About the borrower" in page.text and "王**" in page.text and "王小明" not in page.text
    assert "Projected" in page.text  # the schedule before disbursement
    # First step: what the bid brings (5,000.00 at 10% over the term, less the 10% fee on interest).
    confirm = submit(lender, DEMO, page, {"amount": "5000.00"}, status=200)
    assert "What this bid brings you" in confirm.text and "Confirm the bid" in confirm.text
    with db.transaction() as session:
        assert session.get(Loan, loan_id).funded == 0  # nothing frozen before confirming
    submit(lender, DEMO, confirm, {"confirm": "1"}, status=303)
    assert "¥5,000.00" in lender.get(DEMO, "/account/bids").text
    page = officer.get(DEMO, f"/admin/loans/{loan_id}")
    submit(officer, DEMO, page, {"reason": ""}, "approve", status=303)
    with db.transaction() as session:
        assert session.get(Loan, loan_id).status == "repaying"
    detail = officer.get(DEMO, f"/admin/loans/{loan_id}?_LOCALE_=en").text
    assert "Ledger movements" in detail and "Bid placed (frozen)" in detail and "Loan disbursed" in detail
    seed(db, borrower_id, 200_000)  # enough for the first installment and more
    page = borrower.get(DEMO, "/account/loans")
    repay = [f for f in page.forms.values() if "loan" in f.fields][0]
    repay.submit("loan", extra_environ={"HTTP_HOST": DEMO}, status=303)
    page = borrower.get(DEMO, "/account/loans")
    repay = [f for f in page.forms.values() if "installments" in f.fields][0]
    repay["installments"] = "2"  # several at once
    repay.submit("loan", extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        assert [i.status for i in session.get(Loan, loan_id).installments].count("paid") == 3
    overview = lender.get(DEMO, "/account").text
    assert "Receivable principal" in overview and "Net assets" in overview
    received = lender.get(DEMO, "/account/bids").text
    assert re.search(r"Received paybacks|已收回款|回款", received)
    calendar = lender.get(DEMO, "/account/calendar?_LOCALE_=en").text
    assert "Received this month" in calendar and "✓" in calendar  # the payback, on the day it came
    with db.transaction() as session:
        second_due = session.scalars(
            sa.select(Payback.due_date).where(Payback.status == "due").order_by(Payback.due_date)
        ).first()
    later = lender.get(DEMO, f"/account/calendar?month={second_due:%Y-%m}&_LOCALE_=en").text
    assert f'datetime="{second_due.isoformat()}"' in later and 'class="expected"' in later
    assert "The months ahead" in later
    assert lender.get(DEMO, "/account/calendar?month=nonsense").status_int == 200  # falls back to this month
    with db.transaction() as session:
        assert verify(session) == []


def test_the_home_page_shows_real_figures_and_open_loans(wsgi_app, db, tenants, client):
    import core.loans as loans
    from core.members.models import Member

    borrower, borrower_id = member_client(wsgi_app, db, "13800138150", credit_line=1_000_000)
    page = client.get(DEMO, "/?_LOCALE_=en")
    assert "Total lent" in page.text and "Open for bids" not in page.text
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        from core.db import scope_to_tenant

        scope_to_tenant(session, demo.id)
        hooks = wsgi_app.registry["plugins"].for_tenant(demo)
        loan = loans.apply(
            session,
            demo,
            hooks,
            session.get(Member, borrower_id),
            {
                "loan_type": "credit",
                "title": "首頁展示借款",
                "amount": "2000.00",
                "annual_rate_percent": "9",
                "term_months": "3",
                "repayment_method": "equal_installment",
                "min_bid": "100",
            },
        )
        loans.review(session, demo, hooks, loan, approve=True, reason="", by="staff")
    page = client.get(DEMO, "/?_LOCALE_=en")
    assert "Open for bids" in page.text and "首頁展示借款" in page.text
    assert client.get("acme.localhost", "/").status_int == 200  # the classic theme shows the figures too


def test_invest_filters_and_sorts(wsgi_app, db, tenants, client):
    import core.loans as loans
    from core.db import scope_to_tenant
    from core.members.models import Member

    _, borrower_id = member_client(wsgi_app, db, "13800138160", credit_line=10_000_000)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        hooks = wsgi_app.registry["plugins"].for_tenant(demo)
        for title, rate, months, amount in (("低利長期", "6", "24", "8000.00"), ("高利短期", "15", "3", "2000.00")):
            loan = loans.apply(
                session,
                demo,
                hooks,
                session.get(Member, borrower_id),
                {
                    "loan_type": "credit",
                    "title": title,
                    "amount": amount,
                    "annual_rate_percent": rate,
                    "term_months": months,
                    "repayment_method": "equal_installment",
                    "min_bid": "100",
                },
            )
            loans.review(session, demo, hooks, loan, approve=True, reason="", by="staff")
    text = client.get(DEMO, "/invest?sort=rate").text
    assert text.index("高利短期") < text.index("低利長期")
    text = client.get(DEMO, "/invest?sort=term&max_term=12").text
    assert "高利短期" in text and "低利長期" not in text
    text = client.get(DEMO, "/invest?min_rate=10&max_amount=5000").text
    assert "高利短期" in text and "低利長期" not in text
    assert "低利長期" not in client.get(DEMO, "/invest?min_rate=10").text  # 6% < 10% as numbers, not as text
    assert "低利長期" in client.get(DEMO, "/invest?min_rate=abc").text  # an unusable filter is ignored


def test_the_countdown_counts_on_the_business_calendar():
    import datetime as dt
    from types import SimpleNamespace

    from core.loans.views import seconds_left

    tenant = SimpleNamespace(timezone="Asia/Shanghai", business_date=dt.date(2027, 1, 4))
    loan = SimpleNamespace(deadline=dt.date(2027, 1, 6))
    ten_am = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Shanghai, another real date
    # Bidding closes at the close of the deadline's day: 2 days and 14 hours from 10:00 on the business date.
    assert seconds_left(tenant, loan, ten_am) == (2 * 24 + 14) * 3600
    assert seconds_left(tenant, SimpleNamespace(deadline=dt.date(2027, 1, 3)), ten_am) == 0
    assert seconds_left(tenant, SimpleNamespace(deadline=None), ten_am) is None
