"""The loan as stored: found under its row lock, its event history, the ledger refs of its movements."""

from __future__ import annotations

import sqlalchemy as sa

from .models import Loan, LoanEvent


def locked_loan(
    session, loan_id: int | None = None, *, number: str | None = None, borrower_id: int | None = None
) -> Loan | None:
    """The loan with ``loan_id`` (or ``number``) — only the borrower's own when ``borrower_id`` is given —
    its row locked until the transaction ends, so a state change checks the loan as it is; ``None`` if none.

    Every state change of a loan takes this lock first (the session refreshes a locked row, see
    :mod:`core.db`), so two requests on one loan run one after the other.
    """
    where = [Loan.id == loan_id] if number is None else [Loan.number == number]
    if borrower_id is not None:
        where.append(Loan.borrower_id == borrower_id)
    return session.scalars(sa.select(Loan).where(*where).with_for_update()).first()


def record(session, loan: Loan, event: str, actor: str, **detail) -> None:
    """Add ``event`` by ``actor`` (``member:<id>``, ``staff:<id>``, ``system``…) to the loan's history."""
    session.add(LoanEvent(tenant_id=loan.tenant_id, loan_id=loan.id, event=event, actor=actor, detail=detail))


def ledger_refs(loan: Loan) -> list[str]:
    """The ``ref`` of every ledger transfer a loan causes: bids, disbursement, each period, a payoff."""
    base = f"loan:{loan.number}"
    periods = len(loan.installments) or loan.term_months
    return [base, f"{base}:payoff"] + [f"{base}:{period}" for period in range(1, periods + 1)]
