"""What a credit application says, as the contract and the loan need it: its product's name, its guarantees
and collateral (from the application's own tables), and the loan type's details they make."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ...money import Money
from ..applications.models import Collateral, CreditApplication, CreditProduct, Guarantee
from ..customers.models import Customer


def product_name(product: CreditProduct | None, locale: str) -> str:
    """The product's name in ``locale`` (else any it has, else its code)."""
    if product is None:
        return ""
    names = product.names or {}
    return names.get(locale) or next((name for name in names.values() if name), "") or product.code


@dataclass(frozen=True)
class Pledge:
    """One guarantee (``kind`` "guarantee": a guarantor customer) or item of collateral, as a contract shows it."""

    kind: str
    party: str  # the guarantor's name, or the collateral's kind
    description: str
    amount: Money | None  # the amount guaranteed (None: the whole loan) or the appraised value


def guarantees(session, application: CreditApplication) -> list[Pledge]:
    """The application's guarantors, in the order they were added."""
    rows = session.execute(
        sa.select(Guarantee, Customer)
        .join(Customer, Customer.id == Guarantee.guarantor_id)
        .where(Guarantee.application_id == application.id)
        .order_by(Guarantee.id)
    ).all()
    return [
        Pledge(
            "guarantee",
            customer.name,
            customer.identifier,
            Money(guarantee.amount, application.currency) if guarantee.amount else None,
        )
        for guarantee, customer in rows
    ]


def collateral(session, application: CreditApplication) -> list[Pledge]:
    """The application's collateral, in the order it was added."""
    rows = session.scalars(
        sa.select(Collateral).where(Collateral.application_id == application.id).order_by(Collateral.id)
    ).all()
    return [
        Pledge("collateral", row.kind, row.description, Money(row.appraised_value, application.currency))
        for row in rows
    ]


def loan_details(application: CreditApplication) -> dict[str, str]:
    """The loan type's own fields the loan is applied with: the first collateral item (a mortgage loan's)."""
    from sqlalchemy.orm import object_session

    session = object_session(application)
    first = session.scalars(
        sa.select(Collateral).where(Collateral.application_id == application.id).order_by(Collateral.id).limit(1)
    ).first()
    if first is None:
        return {}
    return {
        "collateral_kind": first.kind,
        "collateral_description": first.description,
        "appraised_value": str(Money(first.appraised_value, application.currency)),
    }
