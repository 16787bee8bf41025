"""The people and companies around a customer: relationships, shareholders, bank accounts; and merging
two records of one customer.

A relationship links two customers of the tenant (spouse, guarantor of, related party); it is read from
both ends. A company's shareholders' shares add up to at most 100 %. Merging keeps one customer and moves
the other's applications, relationships, shareholdings, bank accounts, documents and statements to it;
the other is marked ``merged_into`` and leaves the lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import sqlalchemy as sa

from ...i18n import _
from . import inputs
from .inputs import CustomerError
from .models import (
    BankAccount,
    CustomerDocument,
    CustomerKind,
    CustomerRelation,
    FinancialStatement,
    RelationKind,
    Shareholder,
)
from .services import get_customer, lock_customers

RELATION_KINDS = {
    RelationKind.SPOUSE.value: _("Spouse"),
    RelationKind.GUARANTOR_OF.value: _("Guarantor of"),
    RelationKind.RELATED_PARTY.value: _("Related party"),
}
RELATION_SEEN_BACK = {RelationKind.GUARANTOR_OF.value: _("Guaranteed by")}
"""How a relationship reads from its other end (the same unless named here)."""


def _related(session, customer, form: Mapping, field: str):
    """The live customer another field names by id or number, never the customer itself."""
    typed = str(form.get(field) or "").strip()
    if not typed:
        raise CustomerError(field, _("Enter the other customer's number."))
    if typed.isascii() and typed.isdigit():
        try:
            other = get_customer(session, customer.tenant_id, typed)
        except CustomerError:
            other = None
    else:
        from .models import Customer

        other = session.scalars(
            sa.select(Customer).where(Customer.tenant_id == customer.tenant_id, Customer.number == typed.upper()[:20])
        ).first()
    if other is None or other.merged_into_id is not None:
        raise CustomerError(field, _("There is no such customer."))
    if other.id == customer.id:
        raise CustomerError(field, _("A customer cannot be related to itself."))
    return other


def relations_of(session, customer) -> list[tuple[CustomerRelation, object, object]]:
    """(relation, the other customer, how it reads from here) for every relationship of the customer."""
    from .models import Customer

    rows = session.scalars(
        sa.select(CustomerRelation)
        .where(
            CustomerRelation.tenant_id == customer.tenant_id,
            sa.or_(CustomerRelation.customer_id == customer.id, CustomerRelation.related_id == customer.id),
        )
        .order_by(CustomerRelation.id)
    ).all()
    result = []
    for relation in rows:
        outgoing = relation.customer_id == customer.id
        other = session.get(Customer, relation.related_id if outgoing else relation.customer_id)
        label = (
            RELATION_KINDS[relation.kind]
            if outgoing
            else RELATION_SEEN_BACK.get(relation.kind, RELATION_KINDS[relation.kind])
        )
        result.append((relation, other, label))
    return result


def add_relation(session, customer, form: Mapping) -> CustomerRelation:
    """Relate the customer to another (``related``: its number) as ``kind``, with an optional ``note``."""
    kind = str(form.get("kind") or "")
    if kind not in RELATION_KINDS:
        raise CustomerError("kind", _("Choose the relationship."))
    other = _related(session, customer, form, "related")
    if kind == RelationKind.SPOUSE.value and CustomerKind.CORPORATE.value in (customer.kind, other.kind):
        raise CustomerError("kind", _("Only individuals can be spouses."))
    note = inputs.text(form, "note", 200)
    lock_customers(session, customer.tenant_id, customer.id, other.id)
    if any(
        r.kind == kind and other.id in (r.customer_id, r.related_id) for r, _o, _l in relations_of(session, customer)
    ):
        raise CustomerError("related", _("This relationship is recorded already."))
    relation = CustomerRelation(
        tenant_id=customer.tenant_id, customer_id=customer.id, related_id=other.id, kind=kind, note=note
    )
    session.add(relation)
    session.flush()
    return relation


def remove_relation(session, customer, relation_id) -> CustomerRelation:
    found = next((r for r, _o, _l in relations_of(session, customer) if str(r.id) == str(relation_id)), None)
    if found is None:
        raise CustomerError("relation", _("There is no such relationship."))
    session.delete(found)
    session.flush()
    return found


def _rows(session, model, customer):
    return session.scalars(
        sa.select(model)
        .where(model.tenant_id == customer.tenant_id, model.customer_id == customer.id)
        .order_by(model.id)
    ).all()


def shareholders_of(session, customer) -> list[Shareholder]:
    return _rows(session, Shareholder, customer)


def bank_accounts_of(session, customer) -> list[BankAccount]:
    return _rows(session, BankAccount, customer)


def _company(customer) -> None:
    if customer.kind != CustomerKind.CORPORATE.value:
        raise CustomerError("customer", _("Only a corporate customer has shareholders and company accounts."))


def add_shareholder(session, customer, form: Mapping) -> Shareholder:
    """A shareholder (``name``, ``share_percent``, optionally ``holder``: a customer's number); the shares
    of all shareholders may not pass 100 %."""
    _company(customer)
    holder = _related(session, customer, form, "holder") if str(form.get("holder") or "").strip() else None
    name = inputs.text(form, "name", 120) or (holder.name if holder else "")
    if not name:
        raise CustomerError("name", _("Fill this in."))
    share = inputs.percent(form, "share_percent")
    lock_customers(session, customer.tenant_id, customer.id)
    taken = sum((s.share_percent for s in shareholders_of(session, customer)), Decimal(0))
    if taken + share > 100:
        raise CustomerError(
            "share_percent",
            _("The shares would add up to ${total}%: they cannot exceed 100%.", mapping={"total": str(taken + share)}),
        )
    row = Shareholder(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        name=name,
        share_percent=share,
        holder_id=holder.id if holder else None,
    )
    session.add(row)
    session.flush()
    return row


def add_bank_account(session, customer, form: Mapping) -> BankAccount:
    """A company account: ``bank_name``, ``account_name``, ``account_number`` (digits, 8 to 32)."""
    _company(customer)
    number = "".join(str(form.get("account_number") or "").split())
    if not (number.isascii() and number.isdigit() and 8 <= len(number) <= 32):
        raise CustomerError("account_number", _("Enter the account number: 8 to 32 digits."))
    row = BankAccount(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        bank_name=inputs.text(form, "bank_name", 120, required=True),
        account_name=inputs.text(form, "account_name", 120) or customer.name,
        account_number=number,
    )
    session.add(row)
    session.flush()
    return row


def remove_row(session, customer, model, row_id):
    """Remove a shareholder or bank account of the customer."""
    found = next((r for r in _rows(session, model, customer) if str(r.id) == str(row_id)), None)
    if found is None:
        raise CustomerError("row", _("There is no such entry."))
    session.delete(found)
    session.flush()
    return found


def merge(session, kept, other) -> dict:
    """Merge ``other`` into ``kept`` (same kind, same identifier); what was moved, by table."""
    from ..applications.models import CreditApplication

    if other.id == kept.id:
        raise CustomerError("other", _("Choose another customer to merge."))
    lock_customers(session, kept.tenant_id, kept.id, other.id)
    if kept.merged_into_id is not None:
        raise CustomerError("other", _("This customer was merged into another: merge into that one instead."))
    if other.merged_into_id is not None:
        raise CustomerError("other", _("That customer has been merged already."))
    if other.kind != kept.kind:
        raise CustomerError("other", _("An individual and a company cannot be merged."))
    if other.identifier != kept.identifier:
        raise CustomerError("other", _("Only customers with the same ID number or credit code can be merged."))
    if kept.member_id and other.member_id and kept.member_id != other.member_id:
        raise CustomerError("other", _("The two customers are different members: they cannot be merged."))
    _refuse_clashing_statements(session, kept, other)
    moved = {}
    tenant = kept.tenant_id
    for name, model in (
        ("applications", CreditApplication),
        ("documents", CustomerDocument),
        ("statements", FinancialStatement),
        ("shareholders", Shareholder),
        ("bank_accounts", BankAccount),
    ):
        moved[name] = _move(session, model, model.customer_id, tenant, other.id, kept.id)
    moved["holdings"] = _move(session, Shareholder, Shareholder.holder_id, tenant, other.id, kept.id)
    moved["relations"] = _move_relations(session, kept, other)
    if kept.member_id is None and other.member_id is not None:
        kept.member_id, other.member_id = other.member_id, None
    for field in ("phone", "email", "address"):
        if not getattr(kept, field) and getattr(other, field):
            setattr(kept, field, getattr(other, field))
    other.merged_into_id = kept.id
    session.flush()
    return moved


def _move(session, model, column, tenant_id: int, old: int, new: int) -> int:
    rows = session.scalars(sa.select(model).where(model.tenant_id == tenant_id, column == old)).all()
    for row in rows:
        setattr(row, column.key, new)
    return len(rows)


def _refuse_clashing_statements(session, kept, other) -> None:
    have = {(s.period_kind, s.period_end) for s in _rows(session, FinancialStatement, kept)}
    for statement in _rows(session, FinancialStatement, other):
        if (statement.period_kind, statement.period_end) in have:
            raise CustomerError(
                "other",
                _(
                    "Both customers have a statement for the period ending ${date}: delete one of them first.",
                    mapping={"date": statement.period_end.isoformat()},
                ),
            )


def _move_relations(session, kept, other) -> int:
    """Re-point the other's relationships to the kept one, dropping those that would relate it to itself or
    repeat one it has."""
    seen = {(r.customer_id, r.related_id, r.kind) for r in _rows(session, CustomerRelation, kept)}
    seen |= {
        (r.customer_id, r.related_id, r.kind)
        for r in session.scalars(sa.select(CustomerRelation).where(CustomerRelation.related_id == kept.id))
    }
    rows = session.scalars(
        sa.select(CustomerRelation).where(
            CustomerRelation.tenant_id == kept.tenant_id,
            sa.or_(CustomerRelation.customer_id == other.id, CustomerRelation.related_id == other.id),
        )
    ).all()
    moved = 0
    for row in rows:
        source = kept.id if row.customer_id == other.id else row.customer_id
        target = kept.id if row.related_id == other.id else row.related_id
        if source == target or (source, target, row.kind) in seen:
            session.delete(row)
            continue
        row.customer_id, row.related_id = source, target
        seen.add((source, target, row.kind))
        moved += 1
    return moved
