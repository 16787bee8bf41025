"""Merging two records of one customer (the same credit code): the kept one takes the other's applications,
relationships, documents, statements and accounts; the other leaves the lists. Refused for different kinds
or identifiers, for clashing statement periods, and to staff without ``credit.customer``."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent
from core.credit.applications.models import CreditApplication, CreditProduct
from core.credit.customers.models import (
    BankAccount,
    Customer,
    CustomerDocument,
    CustomerRelation,
    FinancialStatement,
)
from core.tenancy.services import tenant_by_slug
from tests.helpers import staff_client, submit
from tests.test_credit_customers import (
    CUSTOMERS,
    DEMO,
    OTHER_CODE,
    VALID_CODE,
    create_corporate,
    create_individual,
    customer_id,
    upload,
)
from tests.test_credit_customers_statements import enter


@pytest.fixture
def manager(wsgi_app, db, tenants):
    return staff_client(wsgi_app, db, "rm-xu", "relationship_manager")


def _product(session, tenant) -> CreditProduct:
    found = session.scalars(sa.select(CreditProduct).where(CreditProduct.tenant_id == tenant.id)).first()
    if found is not None:
        return found
    product = CreditProduct(
        tenant_id=tenant.id,
        code="merge-test",
        names={"en": "Working capital"},
        customer_kind="corporate",
        funding_source="own_funds",
        loan_type="credit",
        min_amount=100_000,
        max_amount=100_000_000,
        min_term_months=1,
        max_term_months=36,
        min_rate_percent=Decimal(6),
        max_rate_percent=Decimal(24),
        repayment_methods=["equal_installment"],
        active=True,
    )
    session.add(product)
    session.flush()
    return product


def duplicate_of(db, kept_id: int) -> int:
    """A second record of the kept company, as an import from an older system left it, with an application."""
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        kept = session.get(Customer, kept_id)
        other = Customer(
            tenant_id=tenant.id,
            number="C2601999999",
            kind="corporate",
            name=kept.name + " (imported)",
            identifier=kept.identifier,
            phone="",
            email="imported@example.com",
        )
        session.add(other)
        session.flush()
        from core.credit.customers.models import CorporateProfile

        session.add(CorporateProfile(tenant_id=tenant.id, customer_id=other.id, legal_representative="林建國"))
        session.add(
            CreditApplication(
                tenant_id=tenant.id,
                number="A2601000001",
                customer_id=other.id,
                product_id=_product(session, tenant).id,
                amount=50_000_000,
                currency="CNY",
                annual_rate_percent=Decimal(8),
                term_months=12,
                repayment_method="equal_installment",
            )
        )
        session.flush()
        return other.id


def test_merging_moves_everything_to_the_kept_customer(manager, db):
    kept = customer_id(create_corporate(manager))
    other = duplicate_of(db, kept)
    third = customer_id(create_corporate(manager, name="泉州紡織", credit_code=OTHER_CODE, phone=""))
    enter(manager, other, period_end="2024-12-31")
    enter(manager, kept, period_end="2025-12-31")
    upload(manager, other, "licence.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf", 303, "business_licence")
    with db.transaction() as session:
        third_number = session.get(Customer, third).number
    page = manager.get(DEMO, f"{CUSTOMERS}/{other}/relationships")
    submit(manager, DEMO, page, {"kind": "related_party", "related": third_number}, status=303)
    page = manager.get(DEMO, f"{CUSTOMERS}/{other}/company")
    submit(
        manager,
        DEMO,
        page,
        {"bank_name": "興業銀行", "account_number": "118100100100123456"},
        action="add_account",
        status=303,
    )

    page = manager.get(DEMO, f"{CUSTOMERS}/{kept}/merge")
    assert "C2601999999" in page.text
    submit(manager, DEMO, page, {"other": str(other)}, status=303)

    with db.transaction() as session:
        assert session.get(Customer, other).merged_into_id == kept
        assert session.get(Customer, kept).email == "imported@example.com"  # the kept one had none
        assert session.scalars(sa.select(CreditApplication.customer_id)).all() == [kept]
        assert session.scalars(sa.select(CustomerDocument.customer_id)).all() == [kept]
        assert sorted(session.scalars(sa.select(FinancialStatement.customer_id))) == [kept, kept]
        assert session.scalars(sa.select(BankAccount.customer_id)).all() == [kept]
        relation = session.scalars(sa.select(CustomerRelation)).one()
        assert (relation.customer_id, relation.related_id) == (kept, third)
        merged = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "credit.customer.merge")).one()
        assert merged.after["applications"] == 1 and merged.after["statements"] == 1
    listing = manager.get(DEMO, CUSTOMERS).text
    assert f'href="{CUSTOMERS}/{other}"' not in listing and f'href="{CUSTOMERS}/{kept}"' in listing
    assert f'href="{CUSTOMERS}/{kept}"' in manager.get(DEMO, f"{CUSTOMERS}/{other}").text  # "merged into"


def test_merging_different_kinds_or_identifiers_or_clashing_periods_is_refused(manager, wsgi_app, db):
    kept = customer_id(create_corporate(manager))
    different_code = customer_id(create_corporate(manager, name="泉州紡織", credit_code=OTHER_CODE, phone=""))
    individual = customer_id(create_individual(manager))
    for other in (different_code, individual, kept):
        refused = manager.post(
            DEMO,
            f"{CUSTOMERS}/{kept}/merge",
            {"csrf_token": _csrf(manager, kept), "other": str(other)},
            status=400,
        )
        assert 'id="other-error"' in refused.text
    other = duplicate_of(db, kept)
    enter(manager, other, period_end="2025-12-31")
    enter(manager, kept, period_end="2025-12-31")
    page = manager.get(DEMO, f"{CUSTOMERS}/{kept}/merge")
    refused = submit(manager, DEMO, page, {"other": str(other)}, status=400)
    assert "2025-12-31" in refused.text
    approver = staff_client(wsgi_app, db, "approver-xu", "credit_approver")
    approver.get(DEMO, f"{CUSTOMERS}/{kept}/merge", status=403)
    with db.transaction() as session:
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.merged_into_id.is_not(None)))
            == 0
        )
        assert session.scalars(sa.select(CreditApplication.customer_id)).all() == [other]
    assert VALID_CODE


def _csrf(client, customer: int) -> str:
    page = client.get(DEMO, f"{CUSTOMERS}/{customer}/merge")
    return next(f for f in page.forms.values() if "csrf_token" in f.fields)["csrf_token"].value
