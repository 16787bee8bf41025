"""Guarantor institutions (擔保機構) for guaranteed loans (擔保標).

A guarantor has a quota (the most principal it guarantees at once) and a
deposit account in the ledger. A guaranteed loan names its guarantor; the
guarantor's quota left must cover the amount; the guarantor must accept the
loan (its decision recorded by staff with ``loan.guarantee``, with the
guarantee's reference) before the first review can publish it; when an installment of a
guaranteed loan has been overdue for the tenant's ``advance_after_days``, the
guarantor's deposit advances it to the lenders (instead of the risk reserve)
and the borrower's later payment goes back to the deposit.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantOwned, utcnow
from ..i18n import _
from ..ledger import GUARANTOR, Ledger, Transfer
from ..money import InvalidAmount, Money, parse_positive, whole_number
from .errors import LoanError
from .models import LOANS, Loan, LoanStatus
from .records import record
from .standing import outstanding_principal

MAX_ID = 2**31 - 1


class Guarantor(TenantOwned, Base):
    __tablename__ = "guarantors"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    quota: Mapped[int] = mapped_column(sa.BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def find(session, given) -> Guarantor | None:
    """The guarantor whose id a form or JSON gives (``"12"`` or ``12``); ``None`` for anything else.

    An unusable id (``"abc"``, ``"１２"``, one past the column's range, which
    PostgreSQL would answer with an error) finds nothing rather than failing.
    """
    guarantor_id = whole_number(given)
    if guarantor_id is None or not 1 <= guarantor_id <= MAX_ID:
        return None
    # a select, not session.get: the session's tenant filter applies to queries, not to identity-map hits
    return session.scalars(sa.select(Guarantor).where(Guarantor.id == guarantor_id)).first()


def deposit_account(ledger: Ledger, guarantor_id: int, currency: str) -> int:
    return ledger.account(GUARANTOR, guarantor_id, "deposit", currency)


def quota_used(session, guarantor_id: int) -> int:
    """Principal of the guarantor's active loans not yet repaid."""
    return outstanding_principal(
        session, Loan.loan_type == "guaranteed", Loan.type_data["guarantor_id"].as_string() == str(guarantor_id)
    )


def create(session, tenant, name: str, quota_text: str) -> Guarantor:
    """A new guarantor with its quota (the most principal it guarantees at once)."""
    name = (name or "").strip()
    if not 2 <= len(name) <= 120:
        raise LoanError("name", _("Give the guarantor's name."))
    try:
        quota = parse_positive(quota_text, tenant.currency)
    except InvalidAmount as error:
        raise LoanError("quota", error.message) from None
    guarantor = Guarantor(tenant_id=tenant.id, name=name, quota=quota.minor)
    session.add(guarantor)
    session.flush()
    return guarantor


def fund(session, tenant, guarantor: Guarantor, amount_text: str, *, by: str) -> None:
    """Record money the guarantor deposited (received through the platform's bank, into clearing)."""
    try:
        amount = parse_positive(amount_text, tenant.currency)
    except InvalidAmount as error:
        raise LoanError("amount", error.message) from None
    ledger = Ledger(session, tenant.id)
    key = f"guarantor:{guarantor.id}:deposit:{utcnow().timestamp()}"
    ledger.post(
        [
            Transfer(
                ledger.platform("gateway_clearing", tenant.currency),
                deposit_account(ledger, guarantor.id, tenant.currency),
                amount,
                "guarantee_deposit",
                f"guarantor:{guarantor.id}",
            )
        ],
        key=key,
        initiator=by,
    )


GUARANTEE_STATES = ("pending", "accepted", "declined")
MAX_REFERENCE = 120  # within the loan's review note (300) and the event's detail


def guarantee_state(loan: Loan) -> str | None:
    """``pending``, ``accepted`` or ``declined`` for a loan with a guarantor; ``None`` without one."""
    if not loan.type_data.get("guarantor_id"):
        return None
    return loan.type_data.get("guarantee", "pending")


def decide(session, tenant, loan: Loan, *, accept: bool, reference: str, by: str) -> None:
    """Record the guarantor's answer to a submitted guaranteed loan.

    Accepting re-checks the quota (other loans may have used it since the
    application) and needs the guarantee's reference (contract number);
    declining rejects the loan with the reason the borrower sees.
    """
    if loan.status != LoanStatus.SUBMITTED or guarantee_state(loan) != "pending":
        raise LoanError("decision", _("This loan is not waiting for a guarantor's decision."))
    reference = (reference or "").strip()
    if not reference:
        raise LoanError("reason", _("Give the guarantee's reference, or the guarantor's reason to decline."))
    if len(reference) > MAX_REFERENCE:  # refused, not cut short: a cut contract number names another
        raise LoanError("reason", _("Use at most ${n} characters.", mapping={"n": MAX_REFERENCE}))
    guarantor_id = int(loan.type_data["guarantor_id"])
    if accept:
        check(session, tenant, {"guarantor_id": guarantor_id}, Money(loan.amount, loan.currency), excluding=loan.id)
        loan.type_data = {
            **loan.type_data,
            "guarantee": "accepted",
            "guarantee_reference": reference,
            "guarantee_recorded_by": by,
        }
    else:
        loan.type_data = {
            **loan.type_data,
            "guarantee": "declined",
            "guarantee_reference": reference,
            "guarantee_recorded_by": by,
        }
        LOANS.move(loan, LoanStatus.REJECTED)
        loan.review_note = reference
    record(
        session,
        loan,
        "guarantee_accepted" if accept else "guarantee_declined",
        by,
        guarantor=guarantor_id,
        reference=reference,
    )


def check(session, tenant, data: dict, amount: Money, *, excluding: int | None = None):
    """The guarantor a guaranteed application names, checked: exists, active, quota left."""
    guarantor = find(session, data.get("guarantor_id"))
    if guarantor is None or guarantor.tenant_id != tenant.id or not guarantor.active:
        raise LoanError("guarantor_id", _("Choose one of the guarantors offered."))
    used = quota_used(session, guarantor.id)
    if excluding is not None:  # the loan being accepted is counted already: it is submitted
        used -= session.scalar(sa.select(Loan.amount).where(Loan.id == excluding)) or 0
    left = guarantor.quota - used
    if amount.minor > left:
        raise LoanError(
            "amount",
            _("The guarantor can guarantee ${left} more.", mapping={"left": str(Money(max(left, 0), tenant.currency))}),
        )
    return guarantor
