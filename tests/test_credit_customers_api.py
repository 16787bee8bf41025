"""``/api/v1/admin/customers``: created, refused with problem details naming the field, listed and searched,
read with details; tenancy and permissions as on the pages."""

import pytest
import sqlalchemy as sa

from core.credit.customers.models import Customer, IndividualProfile
from tests.conftest import count
from tests.helpers import resident_id
from tests.test_api_settings import token
from tests.test_credit_customers import OTHER_CODE, VALID_CODE, wrong_check

DEMO, ACME = "demo.localhost", "acme.localhost"
LIST = "/api/v1/admin/customers"


@pytest.fixture
def manager(client, db, tenants):
    return token(client, db, "api-rm", "relationship_manager")


def person(**changes):
    body = {
        "kind": "individual",
        "name": "黃志明",
        "id_number": resident_id(61),
        "phone": "13800138061",
        "monthly_income": "8000.00",
        "total_liabilities": "20000",
        "monthly_debt_payments": "1500.50",
        "employment_years": 3,
        "marital_status": "single",
    }
    return {**body, **changes}


def company(**changes):
    body = {
        "kind": "corporate",
        "name": "廈門鷺江貿易有限公司",
        "credit_code": VALID_CODE,
        "legal_representative": "黃海",
        "registered_capital": "1000000",
        "industry": "F",
        "established_on": "2020-03-15",
    }
    return {**body, **changes}


def post(client, body, headers, status):
    return client.post_json(DEMO, LIST, body, headers=headers, status=status)


def test_creating_an_individual_and_reading_it_back(client, db, manager):
    made = post(client, person(), manager, 201).json
    assert made["kind"] == "individual" and made["identifier"] == resident_id(61)
    assert made["individual"]["monthly_income"] == "8000.00"
    assert made["individual"]["monthly_debt_payments"] == "1500.50"
    assert made["individual"]["birth_date"] == "1980-01-01"
    read = client.get(DEMO, f"{LIST}/{made['id']}", headers=manager).json
    assert read == made
    with db.transaction() as session:
        assert session.scalars(sa.select(IndividualProfile)).one().monthly_debt_payments == 150_050


def test_creating_a_company(client, manager):
    made = post(client, company(), manager, 201).json
    assert made["corporate"]["registered_capital"] == "1000000.00"
    assert made["corporate"]["industry"] == "F" and made["statements"] == []


@pytest.mark.parametrize(
    "body, field",
    [
        (person(id_number=resident_id(61)[:17] + ("1" if resident_id(61)[17] != "1" else "2")), "id_number"),
        (person(name=" "), "name"),
        (person(monthly_income="12.345"), "monthly_income"),
        (person(phone="12345"), "phone"),
        (company(credit_code=wrong_check(VALID_CODE)), "credit_code"),
        (company(credit_code="91350100M000100Y"), "credit_code"),
        (company(industry="Z"), "industry"),
        (company(established_on="2031-01-01"), "established_on"),
    ],
)
def test_a_refusal_names_the_field_and_saves_nothing(client, db, manager, body, field):
    problem = post(client, body, manager, 422).json
    assert problem["field"] == field and problem["errors"][0]["field"] == field
    with db.transaction() as session:
        assert count(session, Customer) == 0


def test_a_body_the_document_does_not_describe_is_a_400(client, manager):
    assert post(client, {**person(), "grade": "AA"}, manager, 400).json["field"] == "grade"
    assert post(client, {**person(), "monthly_income": "-5"}, manager, 400).json["field"] == "monthly_income"


def test_a_duplicate_is_a_409_naming_the_existing_customer(client, manager):
    first = post(client, company(), manager, 201).json
    problem = post(client, company(name="Other", credit_code=VALID_CODE.lower()), manager, 409).json
    assert problem["field"] == "credit_code" and first["number"] in problem["detail"]


def test_the_list_searches_and_pages(client, manager):
    post(client, person(), manager, 201)
    post(client, company(), manager, 201)
    post(client, company(name="泉州紡織", credit_code=OTHER_CODE), manager, 201)
    everyone = client.get(DEMO, LIST, headers=manager).json
    assert [c["name"] for c in everyone["customers"]] == ["泉州紡織", "廈門鷺江貿易有限公司", "黃志明"]
    assert everyone["more"] is False and everyone["page"] == 1
    assert [c["name"] for c in client.get(DEMO, f"{LIST}?q=138061", headers=manager).json["customers"]] == ["黃志明"]
    found = client.get(DEMO, f"{LIST}?q={OTHER_CODE[:12]}", headers=manager).json["customers"]
    assert [c["identifier"] for c in found] == [OTHER_CODE]
    assert client.get(DEMO, f"{LIST}?page=2", headers=manager).json["customers"] == []
    client.get(DEMO, f"{LIST}?page=0", headers=manager, status=400)


def test_another_tenants_customer_is_404_and_permissions_hold(client, db, manager):
    made = post(client, person(), manager, 201).json
    with db.transaction() as session:
        from core.accounts.services import create_staff
        from core.tenancy.services import tenant_by_slug
        from tests.helpers import PASSWORD

        create_staff(session, tenant_by_slug(session, "acme"), "acme-api", PASSWORD, "relationship_manager")
    acme = {
        "Authorization": "Bearer "
        + client.post_json(ACME, "/api/v1/auth/token", {"login": "acme-api", "password": PASSWORD, "as": "staff"}).json[
            "token"
        ]
    }
    assert client.get(ACME, f"{LIST}/{made['id']}", headers=acme, status=404).json["status"] == 404
    assert client.get(ACME, LIST, headers=acme).json["customers"] == []

    service = token(client, db, "api-cs", "customer_service")
    client.get(DEMO, LIST, headers=service, status=403)
    client.get(DEMO, f"{LIST}/{made['id']}", headers=service, status=403)
    approver = token(client, db, "api-approver", "credit_approver")
    assert client.get(DEMO, f"{LIST}/{made['id']}", headers=approver).json["id"] == made["id"]
    post(client, company(), approver, 403)
    client.get(DEMO, LIST, status=401)
    with db.transaction() as session:
        assert count(session, Customer) == 1


def test_the_same_company_created_at_once_is_created_once(served, client, db, manager, backend):
    """Eight requests for one credit code raced against a served app: one 201, seven 409, one row."""
    if backend != "postgresql":
        pytest.skip("the race runs against PostgreSQL (SQLite takes one writer at a time)")
    import httpx

    from tests.test_races import race

    def create(i):
        with httpx.Client(base_url=served, headers={"Host": DEMO, **manager}, timeout=60) as http:
            return http.post(LIST, json=company(name=f"廈門鷺江 {i}")).status_code

    statuses = race(8, create)
    assert sorted(statuses) == [201] + [409] * 7, statuses
    with db.transaction() as session:
        assert count(session, Customer) == 1


def test_hostile_values_are_refused_not_failed(client, manager):
    for query in ("q=%00", "page=99999999999999999999", "q=" + "x" * 200):
        assert client.get(DEMO, f"{LIST}?{query}", headers=manager, status="*").status_int in (200, 400)
    for path in ("/99999999999", "/0", "/abc"):
        assert client.get(DEMO, f"{LIST}{path}", headers=manager, status="*").status_int in (400, 404)
    assert post(client, person(name="a\x00b"), manager, "*").status_int in (400, 422)
    assert post(client, person(id_number="\x00" * 18), manager, 400).json["field"] == "id_number"
