"""The loan ledger books (臺賬) and the comprehensive query (綜合查詢): the page, the API as JSON, CSV and XLSX,
``lendstack report ledger-book``; filters, totals worked out by hand, tenant isolation, hostile filters, and a
streamed export of a few thousand loans.

The loans are written straight into the tables (a classification row where a loan needs a class), so every
figure below is known by construction; one loan goes through its real lifecycle instead, to show the book reads
what the schedule engine writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import ROUND_HALF_UP, Decimal

import pyotp
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from openpyxl import load_workbook
from webob import Request

import core.loans as loans
from cli import main
from core.accounts.models import OrgUnit
from core.accounts.services import create_staff
from core.credit.applications.models import CreditApplication, CreditProduct
from core.credit.classification.models import LoanRisk
from core.credit.customers.models import Customer
from core.db import scope_to_tenant
from core.loans.models import Installment, Loan
from core.members.models import Member
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import PASSWORD, staff_client
from tests.test_accessibility import problems

DEMO, ACME = "demo.localhost", "acme.localhost"
BOOK, API = "/admin/credit/books", "/api/v1/admin/reports/ledger-book"
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- the world: loans of every kind, with figures known by construction ------------------------------------------


def _member(session, tenant, phone: str, name: str) -> Member:
    member = Member(tenant_id=tenant.id, phone=phone, password_hash="x", display_name=f"{phone[-4:]}", legal_name=name)
    session.add(member)
    session.flush()
    return member


def _customer(session, tenant, number: str, name: str, member: Member, manager_id: int, kind="individual") -> Customer:
    customer = Customer(
        tenant_id=tenant.id,
        number=number,
        kind=kind,
        name=name,
        identifier=f"ID{number}",
        member_id=member.id,
        relationship_manager_id=manager_id,
    )
    session.add(customer)
    session.flush()
    return customer


def _loan(session, tenant, number, borrower, *, amount, status="repaying", loan_type="credit", disbursed, schedule):
    """A disbursed loan with ``schedule``: (due date, principal, principal paid, installment status) per period."""
    loan = Loan(
        tenant_id=tenant.id,
        number=number,
        borrower_id=borrower.id,
        loan_type=loan_type,
        title=number,
        amount=amount,
        currency=tenant.currency,
        annual_rate_percent=Decimal("12"),
        term_months=len(schedule),
        repayment_method="equal_principal",
        min_bid=100,
        fundraising_days=5,
        funded=amount,
        status=status,
        disbursed_on=disbursed,
    )
    session.add(loan)
    session.flush()
    for period, (due, principal, paid, state) in enumerate(schedule, start=1):
        session.add(
            Installment(
                tenant_id=tenant.id,
                loan_id=loan.id,
                period=period,
                due_date=due,
                principal=principal,
                interest=0,
                paid_principal=paid,
                status=state,
            )
        )
    return loan


def _apply(session, tenant, loan, customer, product_code, number):
    product = session.scalars(
        sa.select(CreditProduct).where(CreditProduct.tenant_id == tenant.id, CreditProduct.code == product_code)
    ).one()
    session.add(
        CreditApplication(
            tenant_id=tenant.id,
            number=number,
            customer_id=customer.id,
            product_id=product.id,
            amount=loan.amount,
            currency=loan.currency,
            annual_rate_percent=loan.annual_rate_percent,
            term_months=loan.term_months,
            repayment_method=loan.repayment_method,
            status="disbursed",
            loan_id=loan.id,
        )
    )


def _risk(session, tenant, loan, risk_class, days, outstanding, rate, provision, on=dt.date(2026, 3, 31)):
    session.add(
        LoanRisk(
            tenant_id=tenant.id,
            loan_id=loan.id,
            risk_class=risk_class,
            rule_class=risk_class,
            days_past_due=days,
            outstanding_principal=outstanding,
            provision_rate=rate,
            provision=provision,
            classified_on=on,
        )
    )


def monthly(first: dt.date, count: int, principal: int, paid_periods: int = 0, part: int = 0):
    """``count`` monthly periods of ``principal`` from ``first``: the first ``paid_periods`` paid, the next one
    ``part`` paid (overdue)."""
    rows = []
    for n in range(count):
        due = dt.date(first.year + (first.month - 1 + n) // 12, (first.month - 1 + n) % 12 + 1, first.day)
        if n < paid_periods:
            rows.append((due, principal, principal, "paid"))
        elif n == paid_periods and part:
            rows.append((due, principal, part, "overdue"))
        else:
            rows.append((due, principal, 0, "due"))
    return rows


@pytest.fixture
def world(db, tenants):
    """demo's book (and one acme loan): ids by name.

    ``A`` consumer loan of 王小明 (C1, manager rm1 in 信貸部 under 總行), 12 × 10,000.00, three paid and 2,500.00 of
    the fourth: not classified, so normal, owing 87,500.00. ``B`` working-capital loan of 大華貿易 (C2, rm2 in
    分行), substandard 45 days, owing 400,000.00, provision 25 % = 100,000.00. ``C`` P2P credit loan of 李四 (a
    member, no customer), defaulted, doubtful 120 days, owing 10,000.00, provision 5,000.00. ``D`` P2P credit loan
    of the member 王小明 is (so C1's), special mention 10 days, owing 15,000.00, provision 750.00. ``E`` settled
    consumer loan of C1; ``F`` written-off P2P loan of 李四, loss 400 days, 8,000.00 owed and provided; ``G`` still
    bidding. ``H``: acme's.
    """
    ids = {}
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        head = OrgUnit(tenant_id=demo.id, name="總行")
        session.add(head)
        session.flush()
        credit_dept = OrgUnit(tenant_id=demo.id, name="信貸部", parent_id=head.id)
        branch = OrgUnit(tenant_id=demo.id, name="分行")
        session.add_all([credit_dept, branch])
        session.flush()
        rm1 = create_staff(session, demo, "books-rm1", PASSWORD, "relationship_manager", display_name="林經理")
        rm2 = create_staff(session, demo, "books-rm2", PASSWORD, "relationship_manager", display_name="周經理")
        rm1.org_unit_id, rm2.org_unit_id = credit_dept.id, branch.id
        wang = _member(session, demo, "13900000001", "王小明")
        dahua = _member(session, demo, "13900000002", "大華貿易有限公司")
        li = _member(session, demo, "13900000003", "李四")
        c1 = _customer(session, demo, "C2601000001", "王小明", wang, rm1.id)
        c2 = _customer(session, demo, "C2601000002", "大華貿易有限公司", dahua, rm2.id, kind="corporate")
        a = _loan(
            session,
            demo,
            "L-A",
            wang,
            amount=12_000_000,
            disbursed=dt.date(2026, 1, 15),
            schedule=monthly(dt.date(2026, 2, 15), 12, 1_000_000, paid_periods=3, part=250_000),
        )
        _apply(session, demo, a, c1, "consumer", "A-A")
        b = _loan(
            session,
            demo,
            "L-B",
            dahua,
            amount=50_000_000,
            disbursed=dt.date(2025, 6, 1),
            schedule=monthly(dt.date(2025, 7, 1), 5, 10_000_000, paid_periods=1),
        )
        _apply(session, demo, b, c2, "working_capital", "A-B")
        _risk(session, demo, b, "substandard", 45, 40_000_000, "25", 10_000_000)
        c = _loan(
            session,
            demo,
            "L-C",
            li,
            amount=1_000_000,
            status="defaulted",
            disbursed=dt.date(2025, 3, 10),
            schedule=monthly(dt.date(2025, 4, 10), 2, 500_000),
        )
        _risk(session, demo, c, "doubtful", 120, 1_000_000, "50", 500_000)
        d = _loan(
            session,
            demo,
            "L-D",
            wang,
            amount=2_000_000,
            disbursed=dt.date(2025, 12, 20),
            schedule=monthly(dt.date(2026, 1, 20), 6, 333_333) + [(dt.date(2026, 6, 20), 2, 0, "due")],
        )
        _risk(session, demo, d, "special_mention", 10, 1_500_000, "5", 75_000)
        e = _loan(
            session,
            demo,
            "L-E",
            wang,
            amount=600_000,
            status="settled",
            disbursed=dt.date(2025, 1, 5),
            schedule=monthly(dt.date(2025, 2, 5), 2, 300_000, paid_periods=2),
        )
        e.settled_on = dt.date(2025, 3, 5)
        _apply(session, demo, e, c1, "consumer", "A-E")
        f = _loan(
            session,
            demo,
            "L-F",
            li,
            amount=800_000,
            status="written_off",
            disbursed=dt.date(2024, 1, 1),
            schedule=monthly(dt.date(2024, 2, 1), 1, 800_000),
        )
        _risk(session, demo, f, "loss", 400, 800_000, "100", 800_000)
        g = _loan(session, demo, "L-G", li, amount=500_000, status="bidding", disbursed=None, schedule=[])
        ids.update(
            head=head.id, dept=credit_dept.id, branch=branch.id, rm1=rm1.id, rm2=rm2.id, c1=c1.id, c2=c2.id, li=li.id
        )
        ids.update({name: loan.id for name, loan in zip("ABCDEFG", (a, b, c, d, e, f, g))})
    with db.transaction() as session:
        acme = tenant_by_slug(session, "acme")
        scope_to_tenant(session, acme.id)
        unit = OrgUnit(tenant_id=acme.id, name="Acme HQ")
        session.add(unit)
        rm = create_staff(session, acme, "books-acme-rm", PASSWORD, "relationship_manager")
        session.flush()
        rm.org_unit_id = unit.id
        person = _member(session, acme, "+14155550100", "Jane Roe")
        _customer(session, acme, "C-ACME-1", "Jane Roe", person, rm.id)
        h = _loan(
            session,
            acme,
            "L-H",
            person,
            amount=9_999_900,
            disbursed=dt.date(2026, 1, 2),
            schedule=monthly(dt.date(2026, 2, 2), 1, 9_999_900),
        )
        _risk(session, acme, h, "substandard", 60, 9_999_900, "25", 2_499_975)
        ids.update(H=h.id, acme_unit=unit.id, acme_rm=rm.id)
    return ids


# Every outstanding loan's (outstanding, provision) in minor units, worked out above by hand.
FIGURES = {
    "A": (12_000_000 - 3 * 1_000_000 - 250_000, 0),  # 87,500.00, not classified
    "B": (40_000_000, 10_000_000),
    "C": (1_000_000, 500_000),
    "D": (1_500_000, 75_000),
}
CLASS_OF = {"A": "normal", "B": "substandard", "C": "doubtful", "D": "special_mention", "F": "loss"}


def yuan(minor: int) -> str:
    """Minor units as the API writes them: 8750000 → "87500.00"."""
    return f"{minor // 100}.{minor % 100:02d}"


def staff_token(client, db, login, role, slug="demo", host=DEMO):
    with db.transaction() as session:
        secret = create_staff(session, tenant_by_slug(session, slug), login, PASSWORD, role).totp_secret
    body = {"login": login, "password": PASSWORD, "as": "staff"}
    if secret:
        body["totp"] = pyotp.TOTP(secret).now()
    return {"Authorization": "Bearer " + client.post_json(host, "/api/v1/auth/token", body).json["token"]}


def numbers(body) -> list[str]:
    return [loan["number"] for loan in body["loans"]]


# -- the API as JSON -----------------------------------------------------------------------------------------------


def test_the_default_book_is_the_outstanding_loans_with_totals_by_class_and_business_type(client, db, world):
    auth = staff_token(client, db, "books-risk", "risk_officer")
    body = client.get(DEMO, API, headers=auth).json
    assert numbers(body) == ["L-A", "L-B", "L-C", "L-D"]
    by_number = {loan["number"]: loan for loan in body["loans"]}
    for name, (outstanding, provision) in FIGURES.items():
        loan = by_number[f"L-{name}"]
        assert loan["outstanding_principal"] == yuan(outstanding)
        assert loan["provision"] == yuan(provision)
        assert loan["risk_class"] == CLASS_OF[name]
    a = by_number["L-A"]
    assert a["outstanding_principal"] == "87500.00" and a["days_past_due"] == 0 and a["classified_on"] is None
    assert (a["customer_number"], a["customer_name"], a["product_code"]) == ("C2601000001", "王小明", "consumer")
    assert (a["relationship_manager"], a["org_unit"], a["maturity_on"]) == ("林經理", "信貸部", "2027-01-15")
    assert (a["amount"], a["currency"], a["disbursed_on"]) == ("120000.00", "CNY", "2026-01-15")
    c = by_number["L-C"]  # a P2P loan of a member who is no customer: the member's name, the loan type
    assert (c["customer_id"], c["customer_name"], c["product_code"], c["status"]) == (
        None,
        "李四",
        "credit",
        "defaulted",
    )
    assert (c["overdue_bucket"], c["provision_rate"], c["maturity_on"]) == ("91-180", "50", "2025-05-10")
    d = by_number["L-D"]  # a P2P loan of a member who is a customer: that customer and their manager
    assert (d["customer_id"], d["relationship_manager"], d["product_code"]) == (world["c1"], "林經理", "credit")

    totals = body["totals"]
    assert (totals["count"], totals["outstanding_principal"], totals["provision"]) == (4, "512500.00", "105750.00")
    assert [(t["risk_class"], t["count"], t["outstanding_principal"], t["provision"]) for t in totals["by_class"]] == [
        ("normal", 1, "87500.00", "0.00"),
        ("special_mention", 1, "15000.00", "750.00"),
        ("substandard", 1, "400000.00", "100000.00"),
        ("doubtful", 1, "10000.00", "5000.00"),
        ("loss", 0, "0.00", "0.00"),
    ]
    by_product = {
        t["product_code"]: (t["count"], t["outstanding_principal"], t["provision"]) for t in totals["by_product"]
    }
    assert by_product == {
        "consumer": (1, "87500.00", "0.00"),
        "credit": (2, "25000.00", "5750.00"),
        "working_capital": (1, "400000.00", "100000.00"),
    }
    assert (body["page"], body["pages"], body["filters"]) == (1, 1, {"status": "outstanding"})


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"class": "substandard"}, ["L-B"]),
        ({"product": "consumer"}, ["L-A"]),
        ({"product": "consumer", "status": "all"}, ["L-A", "L-E"]),
        ({"product": "credit"}, ["L-C", "L-D"]),
        ({"product": "credit", "class": "doubtful"}, ["L-C"]),
        ({"manager": "rm2"}, ["L-B"]),
        ({"org_unit": "head"}, ["L-A", "L-D"]),  # 信貸部 is under 總行
        ({"org_unit": "branch"}, ["L-B"]),
        ({"overdue": "current"}, ["L-A"]),
        ({"overdue": "1-30"}, ["L-D"]),
        ({"overdue": "31-90"}, ["L-B"]),
        ({"overdue": "91-180"}, ["L-C"]),
        ({"overdue": "361+", "status": "all"}, ["L-F"]),
        ({"status": "written_off"}, ["L-F"]),
        ({"status": "all"}, ["L-A", "L-B", "L-C", "L-D", "L-E", "L-F"]),
        ({"customer": "王小明"}, ["L-A", "L-D"]),
        ({"customer": "c2601000002"}, ["L-B"]),
        ({"customer": "李"}, ["L-C"]),
        ({"customer": "50%_"}, []),
        ({"disbursed_from": "2025-12-01"}, ["L-A", "L-D"]),
        ({"disbursed_to": "2025-06-01"}, ["L-B", "L-C"]),
        ({"disbursed_from": "2025-06-01", "disbursed_to": "2025-12-20"}, ["L-B", "L-D"]),
        ({"maturity_to": "2026-06-30"}, ["L-B", "L-C", "L-D"]),
        ({"maturity_to": "2025-11-01"}, ["L-B", "L-C"]),
        ({"maturity_from": "2026-07-01", "maturity_to": "2027-01-15"}, ["L-A"]),
    ],
)
def test_filters_combine(client, db, world, query, expected):
    auth = staff_token(client, db, "books-filter", "auditor")
    named = {key: str(world.get(value, value)) for key, value in query.items()}
    body = client.get(DEMO, API, params=named, headers=auth).json
    assert numbers(body) == expected
    assert body["totals"]["count"] == len(expected)


def test_books_by_class_and_by_business_type_are_ordered_so(client, db, world):
    auth = staff_token(client, db, "books-order", "auditor")
    by_class = client.get(DEMO, API, params={"book": "class", "status": "all"}, headers=auth).json
    assert numbers(by_class) == ["L-A", "L-E", "L-D", "L-B", "L-C", "L-F"]
    by_product = client.get(DEMO, API, params={"book": "product"}, headers=auth).json
    assert numbers(by_product) == ["L-A", "L-C", "L-D", "L-B"]  # consumer, credit, working_capital


def test_pages_of_the_json_book(client, db, world):
    auth = staff_token(client, db, "books-pages", "auditor")
    first = client.get(DEMO, API, params={"per_page": "3", "status": "all"}, headers=auth).json
    second = client.get(DEMO, API, params={"per_page": "3", "page": "2", "status": "all"}, headers=auth).json
    assert (numbers(first), numbers(second)) == (["L-A", "L-B", "L-C"], ["L-D", "L-E", "L-F"])
    assert first["pages"] == second["pages"] == 2
    assert first["totals"] == second["totals"] and first["totals"]["count"] == 6


# -- hostile and refused ----------------------------------------------------------------------------------------


def problem(response, field: str, status: int = 400) -> dict:
    assert response.status_int == status, response.text
    assert response.content_type == "application/problem+json"
    assert response.json["field"] == field and response.json["errors"][0]["message"]
    return response.json


@pytest.mark.parametrize(
    "query, field",
    [
        ({"class": "bogus"}, "class"),
        ({"class": "normal' OR 1=1 --"}, "class"),
        ({"overdue": "10-20"}, "overdue"),
        ({"status": "bidding"}, "status"),
        ({"book": "members"}, "book"),
        ({"product": "no-such-product"}, "product"),
        ({"product": "x" * 41}, "product"),
        ({"customer": "x" * 101}, "customer"),
        ({"customer": "a\x00b"}, "customer"),
        ({"org_unit": "999999"}, "org_unit"),
        ({"org_unit": "abc"}, "org_unit"),
        ({"org_unit": "99999999999999999999"}, "org_unit"),
        ({"manager": "0"}, "manager"),
        ({"disbursed_from": "2026-02-30"}, "disbursed_from"),
        ({"disbursed_from": "yesterday"}, "disbursed_from"),
        ({"maturity_to": "9999-12-31"}, "maturity_to"),
        ({"disbursed_from": "2026-02-01", "disbursed_to": "2026-01-31"}, "disbursed_to"),
        ({"maturity_from": "2026-02-01", "maturity_to": "2026-01-31"}, "maturity_to"),
        ({"page": "0"}, "page"),
        ({"per_page": "201"}, "per_page"),
        ({"page": "NaN"}, "page"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(client, db, world, query, field):
    auth = staff_token(client, db, "books-hostile", "auditor")
    problem(client.get(DEMO, API, params=query, headers={**auth, "Accept-Language": "en"}, status="*"), field)


def test_another_tenants_unit_staff_and_loan_type_are_no_filter_here(client, db, world):
    auth = staff_token(client, db, "books-cross", "auditor")
    for query, field in (
        ({"org_unit": str(world["acme_unit"])}, "org_unit"),
        ({"manager": str(world["acme_rm"])}, "manager"),
    ):
        problem(client.get(DEMO, API, params=query, headers=auth, status="*"), field)


def test_an_accept_the_book_cannot_answer_is_406(client, db, world):
    auth = staff_token(client, db, "books-accept", "auditor")
    problem(client.get(DEMO, API, headers={**auth, "Accept": "image/png"}, status="*"), "Accept", 406)


def test_who_may_read_the_books(client, db, world):
    assert client.get(DEMO, API, status="*").status_int == 401
    refused = staff_token(client, db, "books-rm-api", "relationship_manager")
    assert client.get(DEMO, API, headers=refused, status="*").status_int == 403
    assert client.get(DEMO, API, headers={**refused, "Accept": CSV_TYPE}, status="*").status_int == 403


# -- tenants ---------------------------------------------------------------------------------------------------------


def test_each_tenant_reads_only_its_own_book(client, wsgi_app, db, world):
    acme = staff_token(client, db, "books-acme", "auditor", slug="acme", host=ACME)
    body = client.get(ACME, API, params={"status": "all"}, headers=acme).json
    assert numbers(body) == ["L-H"]
    assert (body["totals"]["currency"], body["totals"]["outstanding_principal"]) == ("USD", "99999.00")
    assert body["totals"]["provision"] == "24999.75"
    rows = list(
        csv.reader(io.StringIO(client.get(ACME, API, headers={**acme, "Accept": CSV_TYPE}).text.lstrip("\ufeff")))
    )
    assert [r[0] for r in rows[1:]] == ["L-H"]
    page = staff_client(wsgi_app, db, "books-acme-page", "auditor", slug="acme", host=ACME).get(ACME, BOOK)
    assert "L-H" in page.text and "L-A" not in page.text and "王小明" not in page.text
    demo = staff_token(client, db, "books-demo", "auditor")
    assert "L-H" not in numbers(client.get(DEMO, API, params={"status": "all"}, headers=demo).json)


# -- files -----------------------------------------------------------------------------------------------------------


def test_csv_has_a_line_per_loan_with_plain_amounts_and_iso_dates(client, db, world):
    auth = staff_token(client, db, "books-csv", "auditor")
    answer = client.get(
        DEMO, API, params={"status": "all"}, headers={**auth, "Accept": CSV_TYPE, "Accept-Language": "en"}
    )
    assert answer.content_type == CSV_TYPE
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="ledger-book-demo-')
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(answer.body.decode("utf-8").lstrip("\ufeff"))))
    assert [r["Loan number"] for r in rows] == ["L-A", "L-B", "L-C", "L-D", "L-E", "L-F"]
    a = rows[0]
    assert (a["Outstanding principal"], a["Provision"], a["Amount"], a["Disbursed on"]) == (
        "87500.00",
        "0.00",
        "120000.00",
        "2026-01-15",
    )
    assert (a["Maturity date"], a["Business type"], a["Five-level class"]) == ("2027-01-15", "Consumer loan", "Normal")
    assert rows[5]["Overdue bucket"] == "Over 360 days" and rows[5]["Status"] == "Written off"
    assert rows[4]["Settled on"] == "2025-03-05" and rows[4]["Outstanding principal"] == "0.00"


def test_text_a_spreadsheet_would_run_as_a_formula_is_kept_as_text(client, db, world):
    with db.transaction() as session:
        session.get(Customer, world["c2"]).name = "=HYPERLINK(\"http://evil\",\"x\")"
    auth = staff_token(client, db, "books-formula", "auditor")
    text = client.get(DEMO, API, params={"class": "substandard"}, headers={**auth, "Accept": CSV_TYPE}).text
    assert next(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))["客戶"].startswith("'=HYPERLINK")
    body = client.get(DEMO, API, params={"class": "substandard"}, headers={**auth, "Accept": XLSX_TYPE}).body
    sheet = load_workbook(io.BytesIO(body)).worksheets[1]
    cell = [c for c in next(sheet.iter_rows(min_row=2, max_row=2)) if str(c.value).startswith("=HYPERLINK")]
    assert cell and cell[0].data_type == "s"


def _sheet_rows(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_xlsx_holds_numbers_as_numbers_and_dates_as_dates(client, db, world):
    auth = staff_token(client, db, "books-xlsx", "auditor")
    headers = {**auth, "Accept": XLSX_TYPE, "Accept-Language": "en"}
    answer = client.get(DEMO, API, params={"status": "all"}, headers=headers)
    assert answer.content_type == XLSX_TYPE
    book = load_workbook(io.BytesIO(answer.body))
    assert book.sheetnames == ["Totals", "Loan details"]
    rows = _sheet_rows(book["Loan details"])
    assert [r["Loan number"] for r in rows] == ["L-A", "L-B", "L-C", "L-D", "L-E", "L-F"]
    a = rows[0]
    assert isinstance(a["Outstanding principal"], (int, float)) and not isinstance(a["Outstanding principal"], bool)
    assert round(a["Outstanding principal"] * 100) == FIGURES["A"][0]
    assert round(a["Amount"] * 100) == 12_000_000 and a["Provision"] == 0
    assert isinstance(a["Disbursed on"], dt.datetime) and a["Disbursed on"].date() == dt.date(2026, 1, 15)
    assert a["Maturity date"].date() == dt.date(2027, 1, 15) and a["Classified on"] is None
    assert isinstance(a["Days past due"], int) and a["Term (months)"] == 12
    b = rows[1]
    assert (round(b["Provision"] * 100), b["Provision rate (%)"], b["Days past due"]) == (10_000_000, 25, 45)
    assert b["Classified on"].date() == dt.date(2026, 3, 31)
    money_cell = book["Loan details"]["O2"]
    assert money_cell.number_format == "#,##0.00" and book["Loan details"]["L2"].number_format == "yyyy-mm-dd"

    totals = list(book["Totals"].iter_rows(values_only=True))
    assert totals[0][0] == "Business date"
    assert ("Status", "Every disbursed loan") in [r[:2] for r in totals]
    by_class = {r[0]: r[1:4] for r in totals if r and r[0] in ("Normal", "Substandard", "Loss", "Total")}
    assert by_class["Normal"][0] == 2 and round(by_class["Normal"][1] * 100) == FIGURES["A"][0]  # A and settled E
    assert by_class["Loss"][0] == 1 and round(by_class["Loss"][2] * 100) == 800_000
    outstanding = sum(o for o, _ in FIGURES.values()) + 800_000
    provision = sum(p for _, p in FIGURES.values()) + 800_000
    assert by_class["Total"][0] == 6
    assert round(by_class["Total"][1] * 100) == outstanding and round(by_class["Total"][2] * 100) == provision


def test_xlsx_book_by_class_has_a_sheet_per_class_in_the_readers_language(client, db, world):
    auth = staff_token(client, db, "books-xlsx-class", "auditor")
    answer = client.get(
        DEMO, API, params={"book": "class"}, headers={**auth, "Accept": XLSX_TYPE, "Accept-Language": "en"}
    )
    book = load_workbook(io.BytesIO(answer.body))
    assert book.sheetnames == ["Totals", "Normal", "Special mention", "Substandard", "Doubtful"]
    assert [r["Loan number"] for r in _sheet_rows(book["Doubtful"])] == ["L-C"]
    by_product = client.get(
        DEMO, API, params={"book": "product"}, headers={**auth, "Accept": XLSX_TYPE, "Accept-Language": "en"}
    )
    book = load_workbook(io.BytesIO(by_product.body))
    assert book.sheetnames[0] == "Totals" and book.sheetnames[1] == "Consumer loan"
    assert [r["Loan number"] for r in _sheet_rows(book[book.sheetnames[2]])] == ["L-C", "L-D"]


def test_headers_are_in_the_readers_language(client, db, world):
    auth = staff_token(client, db, "books-zh", "auditor")
    text = client.get(DEMO, API, headers={**auth, "Accept": CSV_TYPE, "Accept-Language": "zh-TW"}).text
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert {"客戶", "狀態"} <= set(header) and "Customer" not in header
    first = next(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert first["客戶"] == "王小明" and "個人消費貸款" in first.values()


def test_exports_read_the_book_in_batches_after_the_last_row(client, db, world, monkeypatch):
    """Batches of two rows: each book's order is followed across batches, every loan once."""
    from core.credit.books import query

    monkeypatch.setattr(query, "BATCH", 2)
    auth = staff_token(client, db, "books-batches", "auditor")
    for book, expected in (
        ("loans", ["L-A", "L-B", "L-C", "L-D", "L-E", "L-F"]),
        ("class", ["L-A", "L-E", "L-D", "L-B", "L-C", "L-F"]),
        ("product", ["L-A", "L-E", "L-C", "L-D", "L-F", "L-B"]),
    ):
        params = {"book": book, "status": "all"}
        text = client.get(DEMO, API, params=params, headers={**auth, "Accept": CSV_TYPE}).text
        assert [r[0] for r in list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]] == expected, book


# -- the page ------------------------------------------------------------------------------------------------------


def test_the_page_shows_the_query_its_totals_and_export_links_that_keep_the_filters(wsgi_app, db, world):
    staff = staff_client(wsgi_app, db, "books-page", "risk_officer")
    page = staff.get(DEMO, BOOK, params={"_LOCALE_": "en"})
    assert problems(page.text) == []
    totals = page.html.find(id="totals-by-class")
    cells = {
        row["data-class"]: [td.get_text(strip=True) for td in row.find_all("td")]
        for row in totals.find_all("tr", attrs={"data-class": True})
    }
    assert cells["normal"] == ["1", "CN¥87,500.00", "CN¥0.00"]
    assert cells["substandard"] == ["1", "CN¥400,000.00", "CN¥100,000.00"]
    assert cells["loss"] == ["0", "CN¥0.00", "CN¥0.00"]
    assert cells["total"] == ["4", "CN¥512,500.00", "CN¥105,750.00"]
    rows = page.html.find(id="book-rows").find("tbody").find_all("tr")
    assert [r.find("th").get_text(strip=True) for r in rows] == ["L-A", "L-B", "L-C", "L-D"]
    filtered = staff.get(DEMO, BOOK, params={"class": "substandard", "product": "working_capital"})
    links = [a["href"] for a in filtered.html.find_all("a") if "/admin/credit/books/export." in a.get("href", "")]
    assert len(links) == 2 and all("class=substandard" in h and "product=working_capital" in h for h in links)
    answer = staff.get(DEMO, links[0])
    assert answer.content_type == CSV_TYPE
    assert [r[0] for r in list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))[1:]] == ["L-B"]
    xlsx = staff.get(DEMO, links[1], params={"_LOCALE_": "en"})
    [b] = _sheet_rows(load_workbook(io.BytesIO(xlsx.body)).worksheets[1])
    assert b["Loan number"] == "L-B" and round(b["Provision"] * 100) == 10_000_000


def test_a_bad_filter_on_the_page_is_shown_by_its_field(wsgi_app, db, world):
    staff = staff_client(wsgi_app, db, "books-page-bad", "auditor")
    page = staff.get(DEMO, BOOK, params={"class": "bogus", "_LOCALE_": "en"}, status=400)
    field = page.html.find(id="class")
    assert field["aria-invalid"] == "true" and page.html.find(id="class-error").get_text(strip=True)
    assert page.html.find(id="book-rows") is None and problems(page.text) == []
    dates = staff.get(DEMO, BOOK, params={"disbursed_from": "2026-02-01", "disbursed_to": "2026-01-01"}, status=400)
    assert dates.html.find(id="disbursed_to")["aria-invalid"] == "true"
    export = staff.get(DEMO, "/admin/credit/books/export.csv", params={"product": "nothing"}, status=400)
    assert export.content_type == "text/html" and export.html.find(id="product")["aria-invalid"] == "true"
    assert staff.get(DEMO, "/admin/credit/books/export.pdf", status="*").status_int == 404


def test_pages_of_the_page_keep_the_filters(wsgi_app, db, world, monkeypatch):
    from core.credit.books import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    staff = staff_client(wsgi_app, db, "books-page-pages", "auditor")
    first = staff.get(DEMO, BOOK, params={"status": "all"})
    assert [r.find("th").get_text(strip=True) for r in first.html.find(id="book-rows").tbody.find_all("tr")] == [
        "L-A",
        "L-B",
    ]
    following = [a["href"] for a in first.html.find_all("a") if "page=2" in a.get("href", "")]
    assert following and "status=all" in following[0]
    last = staff.get(DEMO, BOOK, params={"status": "all", "page": "99"})
    assert [r.find("th").get_text(strip=True) for r in last.html.find(id="book-rows").tbody.find_all("tr")] == [
        "L-E",
        "L-F",
    ]


def test_an_empty_book_has_zero_totals_and_files_with_headers_only(client, wsgi_app, db, tenants):
    page = staff_client(wsgi_app, db, "books-empty", "auditor").get(DEMO, BOOK, params={"_LOCALE_": "en"})
    assert "Nothing matches." in page.text and page.html.find(id="totals-by-product") is None
    total = page.html.find(id="totals-by-class").find("tr", attrs={"data-class": "total"})
    assert [td.get_text(strip=True) for td in total.find_all("td")] == ["0", "CN¥0.00", "CN¥0.00"]
    auth = staff_token(client, db, "books-empty-api", "auditor")
    body = client.get(DEMO, API, headers=auth).json
    assert (body["loans"], body["pages"], body["totals"]["count"], body["totals"]["by_product"]) == ([], 1, 0, [])
    text = client.get(DEMO, API, headers={**auth, "Accept": CSV_TYPE}).text
    assert len(list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))) == 1
    xlsx = client.get(DEMO, API, headers={**auth, "Accept": XLSX_TYPE, "Accept-Language": "en"}).body
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == ["Totals", "Loan details"] and book["Loan details"].max_row == 1


def test_only_staff_with_the_books_permission_see_the_page(wsgi_app, db, world):
    assert (
        staff_client(wsgi_app, db, "books-rm-page", "relationship_manager").get(DEMO, BOOK, status="*").status_int
        == 403
    )
    cashier = staff_client(wsgi_app, db, "books-cashier", "cashier")
    assert cashier.get(DEMO, "/admin/credit/books/export.csv", status="*").status_int == 403
    assert staff_client(wsgi_app, db, "books-auditor", "auditor").get(DEMO, BOOK).status_int == 200


# -- a loan through its real lifecycle ----------------------------------------------------------------------------


def test_a_p2p_loan_repaid_once_owes_what_its_schedule_still_asks(client, db, tenants, plugins, wsgi_app):
    """10,000.00 at 12 % over 12 months, equal installments: P·r/(1−(1+r)^−12) = 888.49 a month with r = 1 %,
    the first month's interest 100.00, so the first installment repays 788.49 and 9,211.51 is still owed."""
    r = Decimal("0.01")
    payment = (Decimal(1_000_000) * r / (1 - (1 + r) ** -12)).quantize(Decimal(1), ROUND_HALF_UP)
    assert payment == 88_849
    owed = 1_000_000 - (88_849 - 10_000)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        hooks = plugins.for_tenant(demo)
        borrower = factories.member(session, demo, "13700000001", name="趙六", credit_line=5_000_000)
        lender = factories.member(session, demo, "13700000002", name="錢七", balance=2_000_000)
        made = factories.loan(session, demo, hooks, borrower, "repaying", lenders=[lender])
        factories.recharge(session, demo, borrower, 200_000, key="books-repay")
        loans.repay_next(session, demo, made, by="member")
        number = made.number
    auth = staff_token(client, db, "books-life", "auditor")
    [loan] = client.get(DEMO, API, headers=auth).json["loans"]
    assert (loan["number"], loan["customer_name"], loan["product_code"]) == (number, "趙六", "credit")
    assert loan["outstanding_principal"] == yuan(owed) == "9211.51"
    assert (loan["risk_class"], loan["days_past_due"], loan["provision"]) == ("normal", 0, "0.00")


# -- the command --------------------------------------------------------------------------------------------------


@pytest.fixture
def ini(tmp_path, settings, engine):
    path = tmp_path / "test.ini"
    lines = ["[app:main]", "use = egg:lendstack"] + [f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run(ini, *args):
    return CliRunner().invoke(main, ["report", "ledger-book", "-c", ini, *args], catch_exceptions=False)


def test_the_command_writes_xlsx_csv_and_json(ini, db, world, tmp_path):
    out = tmp_path / "book.xlsx"
    result = run(
        ini, "--tenant", "demo", "--format", "xlsx", "-o", str(out), "--class", "substandard", "--locale", "en"
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote 1 loan(s) to {out}"
    book = load_workbook(out)
    [b] = _sheet_rows(book["Loan details"])
    assert b["Loan number"] == "L-B" and round(b["Outstanding principal"] * 100) == 40_000_000
    assert isinstance(b["Disbursed on"], dt.datetime)
    assert ("Five-level class", "Substandard") in [r[:2] for r in book["Totals"].iter_rows(values_only=True)]

    out = tmp_path / "book.csv"
    result = run(ini, "--tenant", "demo", "-o", str(out), "--product", "credit", "--overdue", "91-180")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["L-C"] and "客戶" in rows[0]  # the tenant's language by default

    out = tmp_path / "book.json"
    result = run(
        ini,
        "--tenant",
        "demo",
        "--format",
        "json",
        "-o",
        str(out),
        "--status",
        "all",
        "--disbursed-from",
        "2025-01-01",
        "--disbursed-to",
        "2025-12-31",
    )
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text(encoding="utf-8"))
    assert numbers(body) == ["L-B", "L-C", "L-D", "L-E"]
    assert body["totals"]["count"] == 4
    assert body["totals"]["outstanding_principal"] == yuan(40_000_000 + 1_000_000 + 1_500_000 + 0)
    assert body["filters"] == {"status": "all", "disbursed_from": "2025-01-01", "disbursed_to": "2025-12-31"}

    stdout = run(ini, "--tenant", "demo", "--format", "json", "--class", "loss", "--status", "all")
    assert stdout.exit_code == 0 and numbers(json.loads(stdout.output)) == ["L-F"]
    empty = run(ini, "--tenant", "demo", "--format", "json", "--class", "loss")
    assert empty.exit_code == 0 and json.loads(empty.output)["loans"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tenant", "ghost"], "tenant"),
        (["--tenant", "demo", "--class", "bogus"], "--class"),
        (["--tenant", "demo", "--overdue", "10-20"], "--overdue"),
        (["--tenant", "demo", "--format", "pdf"], "--format"),
        (["--tenant", "demo", "--product", "nothing"], "--product: There is no such product or loan type."),
        (["--tenant", "demo", "--disbursed-from", "2026-13-01"], "--disbursed-from"),
        (["--tenant", "demo", "--disbursed-from", "2026-02-01", "--disbursed-to", "2026-01-01"], "--disbursed-to"),
        (["--tenant", "demo", "--org-unit", "abc"], "--org-unit"),
        (["--tenant", "demo", "--manager", "99999"], "--manager"),
        (["--tenant", "demo", "--customer", "x" * 101], "--customer"),
        (["--tenant", "demo", "--locale", "fr"], "locale"),
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(ini, db, world, tmp_path, args, message):
    out = tmp_path / "book.xlsx"
    out.write_bytes(b"the earlier file")
    result = CliRunner().invoke(main, ["report", "ledger-book", "-c", ini, "-o", str(out), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert out.read_bytes() == b"the earlier file" and sorted(p.name for p in tmp_path.iterdir()) == [
        "book.xlsx",
        "test.ini",
    ]


def test_the_commands_choices_are_the_books():
    from cli import report
    from core.credit.books.filters import BOOKS, BUCKETS, STATUS_CHOICES
    from core.credit.classification.models import CLASSES

    assert report.CLASSES == tuple(c.value for c in CLASSES)
    assert (report.OVERDUE, report.STATUSES) == (tuple(BUCKETS), tuple(STATUS_CHOICES))
    book = next(p for p in report.ledger_book.params if p.name == "book")
    assert tuple(book.type.choices) == BOOKS


def test_an_output_in_a_missing_folder_is_refused(ini, db, world, tmp_path):
    result = CliRunner().invoke(
        main, ["report", "ledger-book", "-c", ini, "--tenant", "demo", "-o", str(tmp_path / "no" / "b.csv")]
    )
    assert result.exit_code == 2 and "does not exist" in result.output


# -- a big book, streamed ----------------------------------------------------------------------------------------

BULK = 3_000


def _bulk(db) -> tuple[int, int]:
    """``BULK`` loans of the demo tenant written in bulk: loan n owes 1,000.00 + n cents over two installments (the
    first paid); every third is substandard with 25 % provided. (outstanding, provision) in minor units."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        borrower = _member(session, demo, "13600000001", "批量客戶")
        common = dict(
            tenant_id=demo.id,
            borrower_id=borrower.id,
            loan_type="credit",
            title="bulk",
            currency="CNY",
            annual_rate_percent=Decimal("10"),
            term_months=2,
            repayment_method="equal_principal",
            min_bid=100,
            fundraising_days=5,
            status="repaying",
            disbursed_on=dt.date(2026, 1, 1),
        )
        session.execute(
            sa.insert(Loan),
            [dict(common, number=f"B{n:06d}", amount=200_000 + n, funded=200_000 + n) for n in range(BULK)],
        )
        ids = dict(session.execute(sa.select(Loan.number, Loan.id).where(Loan.title == "bulk")).all())
        session.execute(
            sa.insert(Installment),
            [
                dict(
                    tenant_id=demo.id,
                    loan_id=ids[f"B{n:06d}"],
                    period=period,
                    due_date=due,
                    principal=principal,
                    interest=0,
                    paid_principal=paid,
                    status=state,
                )
                for n in range(BULK)
                for period, due, principal, paid, state in (
                    (1, dt.date(2026, 2, 1), 100_000, 100_000, "paid"),
                    (2, dt.date(2026, 3, 1), 100_000 + n, 0, "due"),
                )
            ],
        )
        risky = [n for n in range(BULK) if n % 3 == 0]
        session.execute(
            sa.insert(LoanRisk),
            [
                dict(
                    tenant_id=demo.id,
                    loan_id=ids[f"B{n:06d}"],
                    risk_class="substandard",
                    rule_class="substandard",
                    days_past_due=40,
                    outstanding_principal=100_000 + n,
                    provision_rate="25",
                    provision=int((Decimal(100_000 + n) / 4).quantize(Decimal(1), ROUND_HALF_UP)),
                    classified_on=dt.date(2026, 3, 31),
                )
                for n in risky
            ],
        )
    outstanding = sum(100_000 + n for n in range(BULK))
    provision = sum(int((Decimal(100_000 + n) / 4).quantize(Decimal(1), ROUND_HALF_UP)) for n in risky)
    return outstanding, provision


def _raw_get(wsgi_app, path, headers):
    """The app's own answer to a GET, its body left as the iterable the app returned."""
    request = Request.blank(path, headers={"Host": DEMO, **headers})
    status, answer_headers, body = request.call_application(wsgi_app)
    return status, dict(answer_headers), body


def test_a_few_thousand_loans_stream_out_as_csv_and_xlsx(client, db, tenants, wsgi_app):
    outstanding, provision = _bulk(db)
    auth = staff_token(client, db, "books-bulk", "auditor")
    body = client.get(DEMO, API, params={"per_page": "1"}, headers=auth).json
    assert (body["totals"]["count"], body["pages"]) == (BULK, BULK)
    assert body["totals"]["outstanding_principal"] == yuan(outstanding)
    assert body["totals"]["provision"] == yuan(provision)

    status, headers, chunks = _raw_get(wsgi_app, API, {**auth, "Accept": CSV_TYPE})
    assert status.startswith("200") and "Content-Length" not in headers
    assert not isinstance(chunks, (list, tuple))  # made as it is read, not before
    parts = list(chunks)
    assert len(parts) > BULK // 500
    rows = list(csv.reader(io.StringIO(b"".join(parts).decode("utf-8-sig"))))[1:]
    assert len(rows) == BULK and len({r[0] for r in rows}) == BULK
    assert [r[0] for r in rows[:2]] == ["B000000", "B000001"]
    assert sum(round(Decimal(r[14]) * 100) for r in rows) == outstanding
    assert sum(round(Decimal(r[19]) * 100) for r in rows) == provision

    status, headers, chunks = _raw_get(wsgi_app, API, {**auth, "Accept": XLSX_TYPE, "Accept-Language": "en"})
    assert not isinstance(chunks, (list, tuple))
    data = b"".join(chunks)
    book = load_workbook(io.BytesIO(data), read_only=True)
    loans_read = list(book["Loan details"].iter_rows(min_row=2, values_only=True))
    assert len(loans_read) == BULK
    assert sum(round(Decimal(str(r[14])) * 100) for r in loans_read) == outstanding
    assert all(isinstance(r[11], dt.datetime) for r in loans_read)
    book.close()
