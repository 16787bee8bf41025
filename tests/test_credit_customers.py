"""Credit customers through the back office and the API: individuals and companies created and refused,
duplicates, relationships, documents checked by their bytes, merging, tenancy and permissions."""

import io
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent
from core.credit.customers.models import (
    CorporateProfile,
    Customer,
    CustomerDocument,
    CustomerRelation,
    FinancialStatement,
    IndividualProfile,
)
from tests.conftest import count
from tests.helpers import resident_id, staff_client, submit

DEMO, ACME = "demo.localhost", "acme.localhost"
CUSTOMERS = "/admin/credit/customers"
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(body17: str) -> str:
    """A unified social credit code by GB 32100's rule, computed here independently of the product."""
    weights = [3**i % 31 for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
    total = sum(CODE_CHARS.index(c) * w for c, w in zip(body17, weights))
    return body17 + CODE_CHARS[(31 - total % 31) % 31]


VALID_CODE = credit_code("91350100M000100Y4")
OTHER_CODE = credit_code("91110108MA01ABCD1")


def wrong_check(code: str) -> str:
    return code[:17] + next(c for c in CODE_CHARS if c != code[17])


@pytest.fixture
def manager(wsgi_app, db, tenants):
    return staff_client(wsgi_app, db, "rm-chen", "relationship_manager")


def individual_form(**changes):
    values = {
        "name": "陳大文",
        "id_type": "cn_resident",
        "id_number": resident_id(41),
        "phone": "13800138041",
        "email": "chen@example.com",
        "address": "福州市鼓樓區",
        "employer": "福州機械廠",
        "position": "工程師",
        "employment_years": "6",
        "monthly_income": "12,000.00",
        "marital_status": "married",
        "dependants": "2",
        "property_count": "1",
        "property_value": "800000",
        "vehicle_value": "100000",
        "deposits": "50000.50",
        "other_assets": "0",
        "total_liabilities": "300000",
        "monthly_debt_payments": "3000",
    }
    values.update(changes)
    return values


def corporate_form(**changes):
    values = {
        "name": "福州海峽機電有限公司",
        "credit_code": VALID_CODE,
        "legal_representative": "林建國",
        "registered_capital": "5000000",
        "industry": "C",
        "established_on": "2015-06-01",
        "phone": "13800138042",
        "email": "",
        "address": "福州市倉山區",
    }
    values.update(changes)
    return values


def create_individual(client, host=DEMO, status=303, **changes):
    page = client.get(host, f"{CUSTOMERS}/new/individual")
    return submit(client, host, page, individual_form(**changes), status=status)


def create_corporate(client, host=DEMO, status=303, **changes):
    page = client.get(host, f"{CUSTOMERS}/new/corporate")
    return submit(client, host, page, corporate_form(**changes), status=status)


def customer_id(response) -> int:
    return int(response.location.rstrip("/").rsplit("/", 1)[1])


def test_an_individual_created_through_the_page_keeps_every_detail_in_minor_units(manager, db):
    made = create_individual(manager)
    page = manager.get(DEMO, made.location.split("localhost", 1)[-1])
    assert "陳大文" in page.text and resident_id(41) in page.text
    with db.transaction() as session:
        customer = session.scalars(sa.select(Customer)).one()
        profile = session.scalars(sa.select(IndividualProfile)).one()
        assert customer.kind == "individual" and customer.identifier == resident_id(41)
        assert customer.number.startswith("C2701") and len(customer.number) == 11
        assert (customer.phone, customer.email) == ("+8613800138041", "chen@example.com") or customer.phone.endswith(
            "13800138041"
        )
        assert profile.monthly_income == 1_200_000  # 12,000.00 yuan in fen
        assert profile.deposits == 5_000_050
        assert profile.property_value == 80_000_000 and profile.total_liabilities == 30_000_000
        assert str(profile.birth_date) == "1980-01-01"  # from the resident ID number
        assert (profile.employment_years, profile.dependants, profile.marital_status) == (6, 2, "married")
        assert session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "credit.customer.create"))


def test_a_company_created_through_the_page_with_a_valid_credit_code(manager, db):
    made = create_corporate(manager)
    page = manager.get(DEMO, made.location.split("localhost", 1)[-1])
    assert VALID_CODE in page.text
    with db.transaction() as session:
        customer = session.scalars(sa.select(Customer)).one()
        profile = session.scalars(sa.select(CorporateProfile)).one()
        assert customer.kind == "corporate" and customer.identifier == VALID_CODE
        assert profile.registered_capital == 500_000_000 and profile.industry == "C"
        assert profile.legal_representative == "林建國"


@pytest.mark.parametrize(
    "number",
    [
        resident_id(41)[:17] + ("0" if resident_id(41)[17] != "0" else "1"),  # wrong check character
        "110105198001010",  # 15 characters
        "910105198001010416",  # no such region
        "110105198002300412",  # 30 February
    ],
)
def test_an_invalid_resident_id_is_refused_and_nothing_saved(manager, db, number):
    refused = create_individual(manager, status=400, id_number=number)
    assert 'id="id_number-error"' in refused.text
    with db.transaction() as session:
        assert count(session, Customer) == 0 and count(session, IndividualProfile) == 0


@pytest.mark.parametrize(
    "code",
    [wrong_check(VALID_CODE), VALID_CODE[:17], VALID_CODE[:16] + "I" + VALID_CODE[17], "9135010" + "O" * 11],
)
def test_an_invalid_credit_code_is_refused_and_nothing_saved(manager, db, code):
    refused = create_corporate(manager, status=400, credit_code=code)
    assert 'id="credit_code-error"' in refused.text
    with db.transaction() as session:
        assert count(session, Customer) == 0 and count(session, CorporateProfile) == 0


def test_a_duplicate_id_number_is_refused_with_a_link_to_the_existing_customer(manager, db):
    first = customer_id(create_individual(manager))
    refused = create_individual(manager, status=400, name="陳大文 (again)", id_number=resident_id(41).lower())
    assert f'href="{CUSTOMERS}/{first}"' in refused.text
    first_company = customer_id(create_corporate(manager))
    refused = create_corporate(manager, status=400, name="Another name", credit_code=VALID_CODE.lower())
    assert f'href="{CUSTOMERS}/{first_company}"' in refused.text
    with db.transaction() as session:
        assert count(session, Customer) == 2


def test_search_finds_by_name_number_identifier_and_phone(manager, db):
    person = customer_id(create_individual(manager))
    create_corporate(manager)
    with db.transaction() as session:
        number = session.get(Customer, person).number
    for query, expected in (("陳大", 1), (number, 1), (VALID_CODE[:10], 1), ("138041", 1), ("nobody", 0), ("%", 0)):
        listing = manager.get(DEMO, f"{CUSTOMERS}?q={quote(query)}")
        assert listing.text.count(f'href="{CUSTOMERS}/') - listing.text.count(f'href="{CUSTOMERS}/new') == expected


def test_a_relationship_reads_from_both_ends(manager, db):
    from core.credit.customers.services import related_customer_ids

    husband = customer_id(create_individual(manager))
    wife = customer_id(create_individual(manager, name="王美玲", id_number=resident_id(42), phone="13800138043"))
    with db.transaction() as session:
        wife_number = session.get(Customer, wife).number
    page = manager.get(DEMO, f"{CUSTOMERS}/{husband}/relationships")
    submit(manager, DEMO, page, {"kind": "spouse", "related": wife_number, "note": "married 2010"}, status=303)
    again = manager.get(DEMO, f"{CUSTOMERS}/{husband}/relationships")
    refused = submit(manager, DEMO, again, {"kind": "spouse", "related": wife_number}, status=400)
    assert 'id="related-error"' in refused.text
    itself = submit(manager, DEMO, again, {"kind": "related_party", "related": str(husband)}, status=400)
    assert 'id="related-error"' in itself.text
    assert "陳大文" in manager.get(DEMO, f"{CUSTOMERS}/{wife}").text
    with db.transaction() as session:
        assert count(session, CustomerRelation) == 1
        assert related_customer_ids(session, session.get(Customer, wife).tenant_id, wife) == {husband}
        assert related_customer_ids(session, session.get(Customer, wife).tenant_id, husband) == {wife}


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


def upload(client, customer, name, data, content_type, status, kind="id_document"):
    page = client.get(DEMO, f"{CUSTOMERS}/{customer}/documents")
    form = next(f for f in page.forms.values() if "file" in f.fields)
    form["kind"] = kind
    form["file"] = (name, data, content_type)
    return form.submit(extra_environ={"HTTP_HOST": DEMO}, status=status)


def test_documents_are_checked_by_their_bytes_and_every_opening_is_audited(manager, wsgi_app, db, settings):
    person = customer_id(create_individual(manager))
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
    refused = upload(manager, person, "photo.png", exe, "image/png", 400)
    assert 'id="file-error"' in refused.text
    refused = upload(manager, person, "fake.pdf", b"not a pdf at all", "application/pdf", 400)
    with db.transaction() as session:
        assert count(session, CustomerDocument) == 0
    upload(manager, person, "id-card.png", png_bytes(), "application/octet-stream", 303)
    upload(
        manager,
        person,
        "income.pdf",
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
        "application/pdf",
        303,
        "income_proof",
    )
    with db.transaction() as session:
        docs = session.scalars(sa.select(CustomerDocument).order_by(CustomerDocument.id)).all()
        assert [(d.content_type, d.kind) for d in docs] == [
            ("image/png", "id_document"),
            ("application/pdf", "income_proof"),
        ]
        first = docs[0].id
    opened = manager.get(DEMO, f"{CUSTOMERS}/{person}/documents/{first}")
    assert opened.body == png_bytes() and opened.headers["Content-Type"] == "image/png"
    with db.transaction() as session:
        assert (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "credit.customer.document.open")
            )
            == 1
        )
    approver = staff_client(wsgi_app, db, "approver-li", "credit_approver")
    approver.get(DEMO, f"{CUSTOMERS}/{person}/documents/{first}", status=403)
    assert f"/documents/{first}" not in approver.get(DEMO, f"{CUSTOMERS}/{person}").text


def test_permissions_reading_with_rate_or_approve_changing_only_with_credit_customer(manager, wsgi_app, db):
    person = customer_id(create_individual(manager))
    service = staff_client(wsgi_app, db, "cs-wu", "customer_service")
    service.get(DEMO, CUSTOMERS, status=403)
    service.get(DEMO, f"{CUSTOMERS}/{person}", status=403)
    approver = staff_client(wsgi_app, db, "approver-li", "credit_approver")
    assert "陳大文" in approver.get(DEMO, CUSTOMERS).text
    approver.get(DEMO, f"{CUSTOMERS}/{person}", status=200)
    for path in ("/new/individual", "/new/corporate", f"/{person}/edit", f"/{person}/documents", f"/{person}/merge"):
        approver.get(DEMO, f"{CUSTOMERS}{path}", status=403)


def test_another_tenants_customer_is_not_found(manager, wsgi_app, db):
    person = customer_id(create_individual(manager))
    acme = staff_client(wsgi_app, db, "acme-rm", "relationship_manager", slug="acme", host=ACME)
    for path in ("", "/edit", "/documents", "/relationships", "/merge", "/statements"):
        acme.get(ACME, f"{CUSTOMERS}/{person}{path}", status=404)
    # and its own customer with the same ID number is no duplicate of the other tenant's
    made = create_individual(acme, host=ACME, phone="")
    assert customer_id(made) != person


def test_editing_keeps_the_identity_check_and_a_members_identity(manager, db):
    person = customer_id(create_individual(manager))
    page = manager.get(DEMO, f"{CUSTOMERS}/{person}/edit")
    assert next(f for f in page.forms.values() if "monthly_income" in f.fields)["monthly_income"].value == "12000.00"
    refused = submit(manager, DEMO, page, {"id_number": "123"}, status=400)
    assert 'id="id_number-error"' in refused.text
    page = manager.get(DEMO, f"{CUSTOMERS}/{person}/edit")
    submit(manager, DEMO, page, {"monthly_income": "15000", "employer": "閩江航運"}, status=303)
    with db.transaction() as session:
        profile = session.scalars(sa.select(IndividualProfile)).one()
        assert (profile.monthly_income, profile.employer) == (1_500_000, "閩江航運")


def test_shareholders_may_hold_at_most_one_hundred_percent(manager, db):
    company = customer_id(create_corporate(manager))
    page = manager.get(DEMO, f"{CUSTOMERS}/{company}/company")
    submit(manager, DEMO, page, {"name": "林建國", "share_percent": "60"}, action="add_shareholder", status=303)
    page = manager.get(DEMO, f"{CUSTOMERS}/{company}/company")
    refused = submit(
        manager, DEMO, page, {"name": "張三", "share_percent": "40.01"}, action="add_shareholder", status=400
    )
    assert 'id="share_percent-error"' in refused.text
    submit(manager, DEMO, page, {"name": "張三", "share_percent": "40"}, action="add_shareholder", status=303)
    page = manager.get(DEMO, f"{CUSTOMERS}/{company}/company")
    submit(
        manager,
        DEMO,
        page,
        {"bank_name": "興業銀行", "account_number": "1181 0010 0100 1234 56"},
        action="add_account",
        status=303,
    )
    with db.transaction() as session:
        from core.credit.customers.models import BankAccount, Shareholder

        assert sorted(str(s.share_percent) for s in session.scalars(sa.select(Shareholder))) == ["40", "60"]
        assert session.scalars(sa.select(BankAccount)).one().account_number == "1181001001001234" + "56"
    assert FinancialStatement  # imported for the merge tests' module


def test_every_customer_page_is_accessible(manager):
    from tests.test_accessibility import problems

    person = customer_id(create_individual(manager))
    company = customer_id(create_corporate(manager))
    pages = [CUSTOMERS, f"{CUSTOMERS}/new/individual", f"{CUSTOMERS}/new/corporate"]
    for customer in (person, company):
        pages += [f"{CUSTOMERS}/{customer}{tail}" for tail in ("", "/edit", "/documents", "/relationships", "/merge")]
    pages += [f"{CUSTOMERS}/{company}/company", f"{CUSTOMERS}/{company}/statements"]
    for path in pages:
        page = manager.get(DEMO, path)
        assert problems(page.text) == [], path
        assert 'class="table-wrap"' in page.text or "<table" not in page.text, path


def test_hostile_addresses_and_values_are_refused_not_failed(manager, db):
    person = customer_id(create_individual(manager))
    for path in (
        f"{CUSTOMERS}?q=%00&page=99999999999999999999",
        f"{CUSTOMERS}/99999999999",
        f"{CUSTOMERS}/{person}/documents/99999999999999999999",
    ):
        assert manager.get(DEMO, path, status="*").status_int in (200, 400, 404)
    page = manager.get(DEMO, f"{CUSTOMERS}/{person}/relationships")
    refused = submit(manager, DEMO, page, {"kind": "spouse", "related": "99999999999999999999"}, status=400)
    assert 'id="related-error"' in refused.text
    create_individual(manager, status=400, name="陳\x00大文", id_number=resident_id(43))
    with db.transaction() as session:
        assert count(session, Customer) == 1


def test_the_credit_code_check_agrees_with_gb_32100_worked_out_here():
    import random

    from core.credit.customers.identifiers import credit_code_problem

    assert VALID_CODE == "91350100M000100Y43"  # Σ value × weight = 1,640; 1,640 mod 31 = 28; 31 − 28 = 3
    shuffled = random.Random(32100)
    for _ in range(200):
        code = credit_code("".join(shuffled.choice(CODE_CHARS) for _ in range(17)))
        assert credit_code_problem(code) is None, code
        assert credit_code_problem(wrong_check(code)) == "checksum"
    assert credit_code_problem(VALID_CODE[:17]) == "shape"
    assert credit_code_problem("I" + VALID_CODE[1:]) == "characters"


def test_a_customer_entered_without_details_opens_and_takes_them(manager, db):
    """Another package (or an import) may enter the bare customer row: its pages still work."""
    from core.tenancy.services import tenant_by_slug

    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        bare = Customer(
            tenant_id=tenant.id, number="C2701900001", kind="individual", name="趙六", identifier=resident_id(44)
        )
        session.add(bare)
        session.flush()
        bare_id = bare.id
    assert "趙六" in manager.get(DEMO, f"{CUSTOMERS}/{bare_id}").text
    page = manager.get(DEMO, f"{CUSTOMERS}/{bare_id}/edit")
    submit(manager, DEMO, page, {"monthly_income": "9000", "phone": ""}, status=303)
    with db.transaction() as session:
        assert session.scalars(sa.select(IndividualProfile)).one().monthly_income == 900_000
