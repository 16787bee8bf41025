"""Offline repayments: a maker records the bank transfer a borrower made (amount, the bank's reference, the day it
arrived); a checker — never the maker — applies it. Applying credits the borrower's wallet with the transfer and
repays the loan with it at once, earliest installment first, through the same path as a borrower's own partial
repayment (charges, fee, interest, then principal; lenders paid their shares): either both happen or neither.

A transfer is applied once: its bank reference is unique within the tenant, and an applied or rejected record is
never decided again. The amount may not exceed what the loan owes now (checked when recorded and again when
applied: close of day may have collected meanwhile).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ...db import utcnow
from ...domain import DomainError
from ...i18n import _
from ...ledger import Ledger, Wallet
from ...loans import repay
from ...loans.errors import positive_amount
from ...loans.models import INSTALLMENT_ENDED, Loan, LoanStatus
from ...money import Money
from ...payments.reserve import same_person
from .models import OFFLINE_REPAYMENTS, OfflineRepayment, OfflineStatus

REPAYING = (LoanStatus.REPAYING.value, LoanStatus.DEFAULTED.value)


class OfflineRepaymentError(DomainError):
    """An offline repayment refused (the field, a message to act on). Nothing changed."""


def owed_now(loan: Loan, day: dt.date) -> int:
    """What the loan owes by ``day``: every unpaid installment due by then, or the next one if none is."""
    unpaid = [i for i in loan.installments if i.status not in INSTALLMENT_ENDED]
    if not unpaid:
        return 0
    due = [i for i in unpaid if i.due_date <= day] or unpaid[:1]
    return sum(i.owed for i in due)


def _check_amount(loan: Loan, amount: int, day: dt.date, field: str = "amount") -> None:
    owed = owed_now(loan, day)
    if amount > owed:
        raise OfflineRepaymentError(
            field,
            _(
                "At most ${owed} is due now; to repay more, pay the loan off.",
                mapping={"owed": str(Money(owed, loan.currency))},
            ),
        )


def record(session, tenant, loan: Loan, *, amount_text, bank_reference, received_on, by: str) -> OfflineRepayment:
    """The maker's record of a bank transfer for ``loan``; it waits for a checker."""
    if loan.status not in REPAYING:
        raise OfflineRepaymentError("loan", _("Only a loan being repaid takes repayments."))
    try:
        amount = positive_amount(amount_text, loan.currency, "amount").minor
    except DomainError as error:
        raise OfflineRepaymentError("amount", error.message) from None
    reference = str(bank_reference or "").strip()
    if not 4 <= len(reference) <= 120:
        raise OfflineRepaymentError(
            "bank_reference", _("Enter the bank's reference of the transfer (4 to 120 characters).")
        )
    try:
        day = dt.date.fromisoformat(str(received_on or "").strip())
    except ValueError:
        raise OfflineRepaymentError("received_on", _("Enter the date the money arrived as YYYY-MM-DD.")) from None
    if day > tenant.business_date:
        raise OfflineRepaymentError("received_on", _("The money cannot arrive after the business date."))
    _check_amount(loan, amount, tenant.business_date)
    if session.scalar(
        sa.select(sa.func.count())
        .select_from(OfflineRepayment)
        .where(OfflineRepayment.tenant_id == tenant.id, OfflineRepayment.bank_reference == reference)
    ):
        raise OfflineRepaymentError("bank_reference", _("This bank transfer is recorded already."))
    recorded = OfflineRepayment(
        tenant_id=tenant.id,
        loan_id=loan.id,
        amount=amount,
        currency=loan.currency,
        bank_reference=reference,
        received_on=day,
        requested_by=by[:120],
    )
    session.add(recorded)
    session.flush()
    return recorded


def locked(session, tenant_id: int, record_id) -> OfflineRepayment | None:
    try:
        number = int(str(record_id))
    except ValueError:
        return None
    if not 0 < number < 2**31:
        return None
    return session.scalars(
        sa.select(OfflineRepayment)
        .where(OfflineRepayment.tenant_id == tenant_id, OfflineRepayment.id == number)
        .with_for_update()
    ).first()


def decide(session, tenant, recorded: OfflineRepayment, *, approve: bool, note: str, by: str) -> None:
    """The checker applies the transfer to the loan (wallet credited, loan repaid) or rejects it with a note."""
    if recorded.status != OfflineStatus.PENDING.value:
        raise OfflineRepaymentError("decision", _("This repayment has been decided already."))
    if same_person(recorded.requested_by, by):
        raise OfflineRepaymentError("decision", _("Another staff member applies a repayment you recorded."))
    note = str(note or "").strip()
    if len(note) > 300:
        raise OfflineRepaymentError("note", _("Use at most ${n} characters.", mapping={"n": 300}))
    if approve:
        loan = session.scalars(sa.select(Loan).where(Loan.id == recorded.loan_id).with_for_update()).one()
        if loan.status not in REPAYING:
            raise OfflineRepaymentError("decision", _("The loan is no longer being repaid."))
        _check_amount(loan, recorded.amount, tenant.business_date, "decision")
        money = Money(recorded.amount, recorded.currency)
        Wallet(Ledger(session, tenant.id), loan.borrower_id, loan.currency).recharge(
            money, key=f"offline-repayment:{recorded.id}", ref=f"loan:{loan.number}", initiator=by
        )
        repay(session, tenant, loan, str(money), by=by)
    elif not note:
        raise OfflineRepaymentError("note", _("Say why the repayment is rejected."))
    OFFLINE_REPAYMENTS.move(recorded, OfflineStatus.APPLIED if approve else OfflineStatus.REJECTED)
    recorded.decided_by, recorded.decided_at, recorded.note = by[:120], utcnow(), note
    session.flush()


def of_loan(session, tenant_id: int, loan_id: int) -> list[OfflineRepayment]:
    return list(
        session.scalars(
            sa.select(OfflineRepayment)
            .where(OfflineRepayment.tenant_id == tenant_id, OfflineRepayment.loan_id == loan_id)
            .order_by(OfflineRepayment.id.desc())
        )
    )
