"""The input contract: one shape of amount and rate at every door, bounded dates, lengths refused, never a 500.

The API takes amounts and rates matching ``^[0-9]+(\\.[0-9]+)?$`` (a 400 from
the OpenAPI document otherwise); a form may also group thousands with commas
and spaces. Whatever a visitor puts in a filter or an address answers with a
page or a problem naming the field, on SQLite and PostgreSQL alike.
"""

import re
import uuid

import pyotp
import pytest
import sqlalchemy as sa

from core.loans.autoinvest import AutoInvestRule
from core.loans.models import Loan
from core.payments.models import Payment
from core.tenancy.services import tenant_by_slug
from tests.conftest import count
from tests.helpers import PASSWORD, member_client, submit
from tests.test_api_loans import token

DEMO = "demo.localhost"
ACME = "acme.localhost"
SCHEDULE = {
    "method": "equal_installment",
    "principal": "10000.00",
    "annual_rate_percent": "12",
    "term_months": 12,
    "start_date": "2027-01-15",
}
GUARANTEED = {
    "loan_type": "guaranteed",
    "title": "擔保週轉借款",
    "amount": "8000.00",
    "annual_rate_percent": "10",
    "term_months": 6,
    "repayment_method": "equal_installment",
}


def problem(response, status: int, field: str) -> dict:
    assert response.status_int == status
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["field"] == field and body["errors"][0]["message"]
    return body


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


# -- the API: the document's pattern and lengths ----------------------------------------------------


def test_every_amount_and_rate_in_the_document_has_the_pattern_and_every_string_a_bound(client, tenants):
    spec = client.get(DEMO, "/api/v1/openapi.json").json
    resolve = lambda s: spec["components"]["schemas"][s["$ref"].rsplit("/", 1)[1]] if "$ref" in s else s  # noqa: E731
    unbounded, unpatterned = [], []
    for path, operations in spec["paths"].items():
        for verb, operation in operations.items():
            body = operation.get("requestBody", {}) if isinstance(operation, dict) else {}
            if "$ref" in body:
                body = spec["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[1]]
            schema = resolve(body.get("content", {}).get("application/json", {}).get("schema", {}))
            for name, prop in (schema.get("properties") or {}).items():
                prop = resolve(prop)
                if prop.get("type") == "array":
                    prop = resolve(prop["items"])
                if prop.get("type") == "string" and "maxLength" not in prop and "enum" not in prop:
                    unbounded.append(f"{verb} {path} {name}")
                if (
                    re.search(r"amount|rate|balance|bid|principal|value", name)
                    and prop.get("format") not in ("date", "date-time")
                    and prop.get("type") == "string"
                    and prop.get("pattern") != r"^[0-9]+(\.[0-9]+)?$"
                ):
                    unpatterned.append(f"{verb} {path} {name}")
    assert unbounded == [] and unpatterned == []


@pytest.mark.parametrize("amount", ["１００", "١٠٠", "1_000", "+100", "1e2", " 100", "100 ", "1,000", "-100", "NaN"])
def test_a_bid_amount_outside_the_pattern_is_400_naming_it(wsgi_app, db, tenants, client, amount):
    member_client(wsgi_app, db, "13800138500")
    headers = {**token(client, "13800138500"), "Idempotency-Key": uuid.uuid4().hex}
    problem(
        client.post_json(DEMO, "/api/v1/loans/1/bids", {"amount": amount}, headers=headers, status=400), 400, "amount"
    )


def test_a_loan_id_past_the_columns_range_is_refused_not_a_database_error(tenants, client):
    """The document bounds an id (400); the input layer may answer first that no such row exists (404)."""
    for loan_id in ("2147483648", "99999999999999999999999"):
        answer = client.get(DEMO, f"/api/v1/loans/{loan_id}", status="*")
        assert answer.status_int in (400, 404) and answer.content_type == "application/problem+json"
    problem(client.get(DEMO, "/api/v1/loans/0", status=400), 400, "id")


@pytest.mark.parametrize(
    "change, status, field",
    [
        ({"annual_rate_percent": "1e999999999"}, 400, "annual_rate_percent"),
        ({"annual_rate_percent": "1e1"}, 400, "annual_rate_percent"),
        ({"annual_rate_percent": "NaN"}, 400, "annual_rate_percent"),
        ({"amount": "８０００"}, 400, "amount"),
        ({"min_bid": "1e2"}, 400, "min_bid"),
        ({"purpose": "用" * 501}, 400, "purpose"),
        ({"title": "標" * 121}, 400, "title"),
        ({"collateral_description": "房" * 501}, 400, "collateral_description"),
        ({"guarantor_id": "99999999999999999999"}, 422, "guarantor_id"),
        ({"guarantor_id": "１"}, 422, "guarantor_id"),
        ({"guarantor_id": 2**31}, 422, "guarantor_id"),
    ],
)
def test_an_application_outside_the_contract_is_refused_and_nothing_is_saved(
    wsgi_app, db, tenants, client, change, status, field
):
    member_client(wsgi_app, db, "13800138501")
    borrower = token(client, "13800138501")
    problem(
        client.post_json(
            DEMO, "/api/v1/loans", {**GUARANTEED, "guarantor_id": "1", **change}, headers=borrower, status=status
        ),
        status,
        field,
    )
    with db.transaction() as session:
        assert count(session, Loan) == 0


def test_a_long_reason_is_refused_not_cut_short(wsgi_app, db, tenants, client):
    from core.accounts.services import create_staff
    from core.loans import guarantors

    member_client(wsgi_app, db, "13800138502")
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        guarantor_id = guarantors.create(session, demo, "鼎信融資擔保", "50000").id
        secret = create_staff(session, demo, "liaison2", PASSWORD, "risk_officer").totp_secret
    borrower = token(client, "13800138502")
    staff = token(client, "liaison2", staff=True, totp=pyotp.TOTP(secret).now())
    loan = client.post_json(
        DEMO, "/api/v1/loans", {**GUARANTEED, "guarantor_id": str(guarantor_id)}, headers=borrower, status=201
    ).json
    url = f"/api/v1/admin/loans/{loan['id']}/guarantee"
    body = problem(
        client.post_json(DEMO, url, {"decision": "approve", "reason": "合" * 301}, headers=staff, status=400),
        400,
        "reason",
    )
    assert "300" in body["errors"][0]["message"] and "合合合" not in body["detail"]
    reference = "DX-" + "9" * 118  # 121 characters: longer than a guarantee's reference holds
    body = problem(
        client.post_json(DEMO, url, {"decision": "approve", "reason": reference}, headers=staff, status=422),
        422,
        "reason",
    )
    assert "120" in body["errors"][0]["message"]
    with db.transaction() as session:
        kept = session.get(Loan, loan["id"])
        assert kept.status == "submitted" and kept.type_data["guarantee"] == "pending"
    accepted = client.post_json(DEMO, url, {"decision": "approve", "reason": "DX-" + "9" * 117}, headers=staff)
    assert accepted.json["status"] == "submitted"
    with db.transaction() as session:
        assert session.get(Loan, loan["id"]).type_data["guarantee_reference"] == "DX-" + "9" * 117


# -- auto-invest: rates through the one parser, loan types the tenant's ----------------------------


@pytest.mark.parametrize(
    "change, status, field",
    [
        ({"min_rate": "NaN"}, 400, "min_rate"),
        ({"max_rate": "NaN"}, 400, "max_rate"),
        ({"min_rate": "1e999999999"}, 400, "min_rate"),
        ({"max_rate": "Infinity"}, 400, "max_rate"),
        ({"max_rate": "100.5"}, 422, "max_rate"),
        ({"min_rate": "1.00001"}, 422, "min_rate"),
        ({"keep_balance": "１"}, 400, "keep_balance"),
        ({"amount_per_loan": "500.001"}, 422, "amount_per_loan"),
        ({"min_term": 2**40}, 422, "min_term"),
        ({"max_term": 601}, 422, "max_term"),
        ({"loan_types": ["credit", "no_such_type"]}, 422, "loan_types"),
        ({"loan_types": ["x" * 41]}, 400, "loan_types/0"),
    ],
)
def test_an_autoinvest_rule_outside_the_contract_is_refused_over_the_api(
    wsgi_app, db, tenants, client, change, status, field
):
    member_client(wsgi_app, db, "13800138503")
    headers = {**token(client, "13800138503"), "Host": DEMO}
    answer = client.app.put_json(
        "/api/v1/me/autoinvest", {"amount_per_loan": "500.00", **change}, headers=headers, status=status
    )
    problem(answer, status, field)
    with db.transaction() as session:
        assert count(session, AutoInvestRule) == 0


def test_an_autoinvest_rule_names_only_the_tenants_loan_types(wsgi_app, db, tenants, client):
    member_client(wsgi_app, db, "13800138504")
    headers = {**token(client, "13800138504"), "Host": DEMO}
    rule = client.app.put_json(
        "/api/v1/me/autoinvest",
        {
            "amount_per_loan": "500.00",
            "min_rate": "8.5",
            "max_rate": "12.25",
            "loan_types": ["mortgage", "credit", "credit"],
        },
        headers=headers,
    ).json
    assert rule["loan_types"] == ["mortgage", "credit"] and (rule["min_rate"], rule["max_rate"]) == ("8.5", "12.25")
    # acme offers credit loans only: a mortgage is no type of its own
    member_client(wsgi_app, db, "+12025550105", slug="acme", host=ACME)
    body = {"login": "+12025550105", "password": PASSWORD}
    acme = {"Authorization": "Bearer " + client.post_json(ACME, "/api/v1/auth/token", body).json["token"], "Host": ACME}
    problem(
        client.app.put_json(
            "/api/v1/me/autoinvest", {"amount_per_loan": "500.00", "loan_types": ["mortgage"]}, headers=acme, status=422
        ),
        422,
        "loan_types",
    )
    client.app.put_json("/api/v1/me/autoinvest", {"amount_per_loan": "500.00", "loan_types": ["credit"]}, headers=acme)


def test_the_autoinvest_page_refuses_nan_and_unknown_types_by_field(wsgi_app, db, tenants):
    member, _ = member_client(wsgi_app, db, "13800138506")
    page = member.get(DEMO, "/account/autoinvest?_LOCALE_=en")
    answer = submit(member, DEMO, page, {"amount_per_loan": "500", "min_rate": "NaN"}, status=400)
    assert "Enter an annual rate in percent, such as 12." in answer.text
    answer = member.post(
        DEMO,
        "/account/autoinvest?_LOCALE_=en",
        {"csrf_token": csrf(page), "amount_per_loan": "500", "loan_types": "no_such_type"},
        status=400,
    )
    assert "Choose one of the loan types offered." in answer.text
    with db.transaction() as session:
        assert count(session, AutoInvestRule) == 0
    submit(
        member,
        DEMO,
        page,
        {"amount_per_loan": "1,000", "min_rate": " 6 ", "max_rate": "15", "keep_balance": "2 000"},
        status=303,
    )
    with db.transaction() as session:
        rule = session.scalars(sa.select(AutoInvestRule)).one()
        assert (rule.amount_per_loan, rule.keep_balance, str(rule.min_rate)) == (100000, 200000, "6")


# -- the calculators: bounded start dates, the form's amount rule ----------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"start_date": "2201-01-01"}, "Choose a start date from 1900-01-01 to 2200-12-31."),
        ({"start_date": "20270115"}, "Enter a date as YYYY-MM-DD."),
        ({"annual_rate_percent": "1e999999999"}, "Enter an annual rate in percent, such as 12."),
        ({"annual_rate_percent": "NaN"}, "Enter an annual rate in percent, such as 12."),
        ({"principal": "１０，０００"}, "Enter an amount such as 100.00."),
        ({"principal": "1,0000"}, "Enter an amount such as 100.00."),
        ({"principal": "1e4"}, "Enter an amount such as 100.00."),
        ({"term_months": "１２"}, "Enter a whole number."),
    ],
)
def test_the_calculator_page_names_what_is_wrong(client, tenants, change, message):
    page = client.get(DEMO, "/tools/equal_installment", params={**SCHEDULE, **change, "_LOCALE_": "en"}, status=400)
    assert message in page.text


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01", "1899-12-31"])
def test_the_calculator_page_refuses_a_start_date_out_of_range(client, tenants, start):
    """Refused by field (by the page or, before it, by the input layer's date bounds): never a 500."""
    page = client.get(DEMO, "/tools/equal_installment", params={**SCHEDULE, "start_date": start}, status=400)
    assert "start_date" in page.text


def test_the_calculator_page_takes_thousands_separators(client, tenants):
    """10,000 at 12% over 12 months: 10000 × 0.01 / (1 − 1.01⁻¹²) = 888.4878… → 888.49 a month."""
    page = client.get(
        DEMO, "/tools/equal_installment", params={**SCHEDULE, "principal": " 10,000.00 ", "_LOCALE_": "en"}
    )
    assert "888.49" in page.text


def test_the_schedule_api_bounds_the_start_date(client, tenants):
    body = problem(
        client.post_json(DEMO, "/api/v1/tools/schedule", {**SCHEDULE, "start_date": "2201-01-01"}, status=422),
        422,
        "start_date",
    )
    assert "2200-12-31" in body["errors"][0]["message"]
    for start in ("9999-12-31", "0001-01-01"):  # the input layer's date bounds may refuse these first (400)
        answer = client.post_json(DEMO, "/api/v1/tools/schedule", {**SCHEDULE, "start_date": start}, status="*")
        problem(answer, answer.status_int, "start_date")
        assert answer.status_int in (400, 422)
    last = client.post_json(
        DEMO, "/api/v1/tools/schedule", {**SCHEDULE, "term_months": 600, "start_date": "2200-12-31"}
    ).json["installments"][-1]
    assert last["due_date"] == "2250-12-31"


# -- lists and pages: an unusable filter never fails ------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "min_rate=NaN",
        "min_rate=1e999999999",
        "min_rate=%EF%BC%91%EF%BC%90",
        "max_term=99999999999999999999",
        "max_term=-1",
        "page=99999999999999999999",
        "page=0",
        "page=abc",
        "max_amount=1e999999",
        "max_amount=99999999999999999999999",
        "fund=abc",
        "type=nope",
        "sort=nope",
        "tab=nope",
    ],
)
def test_invest_list_ignores_an_unusable_filter(client, tenants, query):
    """Ignored (the whole list), or refused by the input layer before the view (``page``): never a 500."""
    assert client.get(DEMO, f"/invest?{query}", status="*").status_int in (200, 400)


@pytest.mark.parametrize("month", ["0001-01", "1899-12", "9999-12", "2201-01", "2027-13", "2027-1", "abc", "-"])
def test_the_payback_calendar_never_fails_on_a_month(wsgi_app, db, tenants, month):
    member, _ = member_client(wsgi_app, db, "13800138507")
    assert member.get(DEMO, f"/account/calendar?month={month}", status="*").status_int in (200, 400)


def test_a_recharge_form_refuses_full_width_digits_and_takes_separators(wsgi_app, db, tenants):
    member, _ = member_client(wsgi_app, db, "13800138508")
    page = member.get(DEMO, "/account/recharge?_LOCALE_=en")
    answer = submit(member, DEMO, page, {"gateway": "sandbox", "amount": "１００"}, status=400)
    assert "Enter an amount such as 100.00." in answer.text
    with db.transaction() as session:
        assert count(session, Payment) == 0
    submit(member, DEMO, page, {"gateway": "sandbox", "amount": "1,000.00"}, status=303)
    with db.transaction() as session:
        assert session.scalars(sa.select(Payment.amount)).one() == 100000


def test_a_mortgage_application_takes_the_appraised_value_under_the_form_rule(wsgi_app, db, tenants):
    """500,000 appraised at the demo's 70% loan-to-value secures 350,000: a 300,000 loan is within it."""
    member, _ = member_client(wsgi_app, db, "13800138509", credit_line=1_000_000_00)
    page = member.get(DEMO, "/borrow?type=mortgage&_LOCALE_=en")
    values = {
        "title": "房產抵押週轉",
        "amount": "300,000",
        "annual_rate_percent": "9",
        "term_months": "12",
        "collateral_kind": "property",
        "collateral_description": "上海市浦東新區住宅一套",
    }
    for bad in ("５００，０００", "5e5", "500_000", "+500000"):
        answer = submit(member, DEMO, page, {**values, "appraised_value": bad}, status=400)
        assert "Enter the appraised value, such as 500000.00." in answer.text
    with db.transaction() as session:
        assert count(session, Loan) == 0
    submit(member, DEMO, page, {**values, "appraised_value": "500,000.00"}, status=303)
    with db.transaction() as session:
        assert session.scalars(sa.select(Loan.amount)).one() == 300_000_00
