"""A company's financial statements: entered through the page, refused when they do not balance, imported
from the XLSX template, their ratios shown and served; and the facts rating scorecards read.

The figures (yuan): current assets 5,000,000.00 of which inventory 1,200,000.00; total assets 12,000,000.00;
current liabilities 2,500,000.00, total liabilities 7,000,000.00, equity 5,000,000.00 (7M + 5M = 12M);
revenue 20,000,000.00, operating profit 1,800,000.00, interest expense 333,333.33, net profit 1,234,567.89.
Worked out by hand, rounded half-up to 2 decimals:

- current ratio 5,000,000 / 2,500,000 = 2.00
- quick ratio (5,000,000 − 1,200,000) / 2,500,000 = 1.52
- debt to assets 7,000,000 / 12,000,000 = 58.333… % → 58.33
- return on equity 1,234,567.89 / 5,000,000 = 24.691… % → 24.69
- net margin 1,234,567.89 / 20,000,000 = 6.1728… % → 6.17
- interest coverage 1,800,000 / 333,333.33 = 5.4000000540… → 5.40
"""

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.credit.customers.facts import FACTS, customer_facts
from core.credit.customers.models import Customer, FinancialStatement
from core.db import scope_to_tenant
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.conftest import count
from tests.helpers import resident_id, staff_client, submit
from tests.test_credit_customers import CUSTOMERS, DEMO, create_corporate, create_individual, customer_id

FIGURES = {
    "current_assets": "5,000,000.00",
    "inventory": "1200000",
    "total_assets": "12000000.00",
    "current_liabilities": "2500000",
    "total_liabilities": "7000000",
    "equity": "5000000",
    "revenue": "20000000",
    "operating_profit": "1800000",
    "interest_expense": "333333.33",
    "net_profit": "1234567.89",
    "operating_cash_flow": "900000",
    "investing_cash_flow": "-400000.50",
    "financing_cash_flow": "-100000",
}
EXPECTED_RATIOS = {
    "current_ratio": "2.00",
    "quick_ratio": "1.52",
    "debt_to_assets": "58.33",
    "roe": "24.69",
    "net_margin": "6.17",
    "interest_coverage": "5.40",
}


@pytest.fixture
def manager(wsgi_app, db, tenants):
    return staff_client(wsgi_app, db, "rm-lin", "relationship_manager")


@pytest.fixture
def company(manager):
    return customer_id(create_corporate(manager))


def enter(client, company, status=303, period_kind="annual", period_end="2025-12-31", **changes):
    page = client.get(DEMO, f"{CUSTOMERS}/{company}/statements")
    values = {**FIGURES, "period_kind": period_kind, "period_end": period_end, **changes}
    return submit(client, DEMO, page, values, action="enter", status=status)


def api_token(client, db, login, role):
    from tests.test_api_settings import token

    return token(client, db, login, role)


def test_a_balanced_statement_is_kept_in_minor_units_with_its_ratios_on_the_page(manager, company, db):
    enter(manager, company)
    with db.transaction() as session:
        statement = session.scalars(sa.select(FinancialStatement)).one()
        assert statement.current_assets == 500_000_000 and statement.total_assets == 1_200_000_000
        assert statement.interest_expense == 33_333_333 and statement.net_profit == 123_456_789
        assert statement.investing_cash_flow == -40_000_050 and statement.currency == "CNY"
    page = manager.get(DEMO, f"{CUSTOMERS}/{company}/statements?_LOCALE_=en").text
    assert 'data-ratio="debt_to_assets">58.33%<' in page
    assert 'data-ratio="roe">24.69%<' in page and 'data-ratio="net_margin">6.17%<' in page
    assert 'data-ratio="quick_ratio">1.52<' in page and 'data-ratio="interest_coverage">5.4<' in page


def test_the_api_serves_the_ratios_as_worked_out_by_hand(manager, company, client, db):
    enter(manager, company)
    headers = api_token(client, db, "api-rm", "relationship_manager")
    body = client.get(DEMO, f"/api/v1/admin/customers/{company}", headers=headers).json
    (statement,) = body["statements"]
    assert statement["ratios"] == EXPECTED_RATIOS
    assert statement["lines"]["net_profit"] == "1234567.89"
    assert statement["lines"]["investing_cash_flow"] == "-400000.50"


def test_an_unbalanced_statement_is_refused_naming_its_fields_and_nothing_is_saved(manager, company, db):
    refused = enter(manager, company, status=400, total_assets="12000000.01")
    assert 'id="total_assets-error"' in refused.text
    message = refused.text.split('id="total_assets-error">', 1)[1].split("<", 1)[0]
    # the three figures compared, whatever the page's language
    assert "12000000.01" in message and "7000000.00" in message and "5000000.00" in message
    assert "12000000.00" in message  # liabilities plus equity
    refused = enter(manager, company, status=400, inventory="5000000.01", total_assets="12000000")
    assert 'id="inventory-error"' in refused.text
    refused = enter(manager, company, status=400, period_kind="quarterly", period_end="2026-06-15")
    assert 'id="period_end-error"' in refused.text
    refused = enter(manager, company, status=400, net_profit="1e6")
    assert 'id="net_profit-error"' in refused.text
    with db.transaction() as session:
        assert count(session, FinancialStatement) == 0


def test_entering_a_period_again_replaces_its_statement(manager, company, db):
    enter(manager, company)
    enter(manager, company, net_profit="1000000")
    enter(manager, company, period_kind="quarterly", period_end="2026-06-30")
    with db.transaction() as session:
        rows = session.scalars(sa.select(FinancialStatement).order_by(FinancialStatement.period_end)).all()
        assert [(s.period_kind, s.net_profit) for s in rows] == [("annual", 100_000_000), ("quarterly", 123_456_789)]


def test_the_xlsx_template_round_trip(manager, company, db):
    from openpyxl import Workbook, load_workbook

    template = manager.get(DEMO, f"{CUSTOMERS}/statement-template.xlsx")
    assert template.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(template.body))
    sheet = book.worksheets[0]
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == list(FIGURES)
    assert all(row[1] is None for row in sheet.iter_rows(min_row=2, values_only=True))
    for row in range(2, sheet.max_row + 1):  # numbers as a spreadsheet holds them, and one as text
        typed = FIGURES[sheet.cell(row, 1).value].replace(",", "")
        sheet.cell(row, 2).value = typed if row == 2 else float(typed) if "." in typed else int(typed)
    out = io.BytesIO()
    book.save(out)

    page = manager.get(DEMO, f"{CUSTOMERS}/{company}/statements")
    form = next(f for f in page.forms.values() if "file" in f.fields)
    form["period_kind"], form["period_end"] = "annual", "2025-12-31"
    form["file"] = ("statement.xlsx", out.getvalue(), "application/octet-stream")
    form.submit("action", value="import", extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        statement = session.scalars(sa.select(FinancialStatement)).one()
        assert statement.net_profit == 123_456_789 and statement.investing_cash_flow == -40_000_050
        assert statement.interest_expense == 33_333_333 and statement.current_assets == 500_000_000

    unbalanced = Workbook()
    unbalanced.active.append(["total_assets", 100])
    unbalanced.active.append(["total_liabilities", 50])
    bad_code = Workbook()
    bad_code.active.append(["cash_in_hand", 100])
    bad_amount = Workbook()
    bad_amount.active.append(["revenue", "lots"])
    bad_amount.active.append(["inventory", -5])  # only losses and outflows are negative
    for data in (_saved(unbalanced), _saved(bad_code), _saved(bad_amount), b"MZ this is no workbook"):
        page = manager.get(DEMO, f"{CUSTOMERS}/{company}/statements")
        form = next(f for f in page.forms.values() if "file" in f.fields)
        form["period_kind"], form["period_end"] = "annual", "2024-12-31"
        form["file"] = ("statement.xlsx", data, "application/octet-stream")
        refused = form.submit("action", value="import", extra_environ={"HTTP_HOST": DEMO}, status=400)
        assert 'id="file-error"' in refused.text
    with db.transaction() as session:
        assert count(session, FinancialStatement) == 1


def _saved(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_individual_has_no_statements_page(manager, db):
    person = customer_id(create_individual(manager))
    manager.get(DEMO, f"{CUSTOMERS}/{person}/statements", status=404)


def test_approvers_read_statements_but_cannot_enter_them(manager, company, wsgi_app, db):
    enter(manager, company)
    approver = staff_client(wsgi_app, db, "approver-ma", "credit_approver")
    page = approver.get(DEMO, f"{CUSTOMERS}/{company}/statements")
    assert "data-ratio" in page.text and "period_end" not in page.forms
    approver.post(DEMO, f"{CUSTOMERS}/{company}/statements", {"csrf_token": "x"}, status=403)


def test_company_facts_come_from_the_latest_annual_statement(manager, company, db):
    enter(manager, company, period_end="2024-12-31", net_profit="1", revenue="100")
    enter(manager, company)  # 2025: the figures above
    enter(manager, company, period_kind="quarterly", period_end="2026-09-30", net_profit="5")
    with db.transaction() as session:
        facts = customer_facts(session, session.get(Customer, company))
    assert {code: facts[code] for code in EXPECTED_RATIOS} == {k: Decimal(v) for k, v in EXPECTED_RATIOS.items()}
    assert facts["years_in_business"] == Decimal(11)  # 2015-06-01 to the business date 2027-01-04
    assert facts["registered_capital"] == Decimal("5000000.00")
    assert facts["revenue"] == Decimal("20000000.00") and facts["industry"] == "C"
    assert set(facts) == {code for code, fact in FACTS.items() if fact.kind == "corporate"}


def test_individual_facts_worked_out_by_hand(manager, wsgi_app, db):
    """Born 1980-01-01 (the ID number): 47 on 2027-01-04; debts 3,000 of 12,000 income: 25.00 %;
    assets 800,000 + 100,000 + 50,000.50 = 950,000.50 over 300,000 liabilities: 3.1666… → 3.17."""
    person = customer_id(create_individual(manager))
    with db.transaction() as session:
        facts = customer_facts(session, session.get(Customer, person))
    assert facts == {
        "age": Decimal(47),
        "monthly_income": Decimal("12000.00"),
        "employment_years": Decimal(6),
        "debt_to_income": Decimal("25.00"),
        "assets_to_liabilities": Decimal("3.17"),
        "has_property": Decimal(1),
        "overdue_count": Decimal(0),
        "dependants": Decimal(2),
        "marital_status": "married",
        "total_assets": Decimal("950000.50"),
        "monthly_debt_payments": Decimal("3000.00"),
    }


def test_a_member_becomes_a_customer_once_and_their_overdue_installments_count(wsgi_app, db, tenants):
    from core.credit.customers.services import customer_for_member
    from core.loans.models import Installment

    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        scope_to_tenant(session, tenant.id)
        hooks = wsgi_app.registry["plugins"].for_tenant(tenant)
        lender = factories.member(session, tenant, "13900139051", balance=2_000_000)
        borrower = factories.member(session, tenant, "13900139052", name="李大華", credit_line=10_000_000)
        loan = factories.loan(
            session, tenant, hooks, borrower, "repaying", lenders=[lender], term_months="3", min_bid="100"
        )
        first = session.scalars(
            sa.select(Installment).where(Installment.loan_id == loan.id, Installment.period == 1)
        ).one()
        first.status = "overdue"
        customer = customer_for_member(session, tenant, borrower)
        assert customer_for_member(session, tenant, borrower).id == customer.id
        assert (customer.name, customer.identifier, customer.member_id) == ("李大華", resident_id(52), borrower.id)
        assert str(customer.individual.birth_date) == "1980-01-01"
        assert FACTS["overdue_count"].value(session, customer) == Decimal(1)
        unverified = factories.member(session, tenant, "13900139053", verified=False)
        with pytest.raises(Exception) as refused:
            customer_for_member(session, tenant, unverified)
        assert getattr(refused.value, "field", None) == "member"
        session.flush()
        assert count(session, Customer) == 1


def test_a_walk_in_customer_becomes_the_members_customer(manager, wsgi_app, db):
    from core.credit.customers.services import customer_for_member

    walk_in = customer_id(create_individual(manager, id_number=resident_id(54), phone=""))
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        scope_to_tenant(session, tenant.id)
        member = factories.member(session, tenant, "13900139054")
        assert customer_for_member(session, tenant, member).id == walk_in
        assert session.get(Customer, walk_in).member_id == member.id


def test_the_customers_page_shows_its_applications_and_loans(manager, wsgi_app, db):
    from core.credit.applications.models import CreditApplication
    from core.credit.customers.services import customer_for_member
    from tests.test_credit_customers_merge import _product

    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        scope_to_tenant(session, tenant.id)
        hooks = wsgi_app.registry["plugins"].for_tenant(tenant)
        lender = factories.member(session, tenant, "13900139071", balance=2_000_000)
        borrower = factories.member(session, tenant, "13900139072", name="周小龍", credit_line=10_000_000)
        loan = factories.loan(session, tenant, hooks, borrower, "repaying", lenders=[lender], term_months="3")
        customer = customer_for_member(session, tenant, borrower)
        session.add(
            CreditApplication(
                tenant_id=tenant.id,
                number="A2701000009",
                customer_id=customer.id,
                product_id=_product(session, tenant).id,
                amount=3_000_000,
                currency="CNY",
                annual_rate_percent=Decimal(9),
                term_months=6,
                repayment_method="equal_installment",
            )
        )
        session.flush()
        ids = customer.id, loan.number
    page = manager.get(DEMO, f"{CUSTOMERS}/{ids[0]}").text
    assert "A2701000009" in page and ids[1] in page and "周小龍" in page
