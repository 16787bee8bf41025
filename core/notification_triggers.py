"""Which facts tell whom: core's listeners on the lifecycle events (:mod:`core.events`).

The loan and payment modules decide; this module only listens, so the facts
are told where they are final:

- a loan's status change (fired just before commit, the change complete):
  ``full`` tells its bidders (loan full) and its borrower (funded);
  ``full`` → ``repaying`` tells each lender (disbursed) and the borrower
  (disbursed) and awards the lenders their VIP points by the tenant's
  ``[vip]`` rule; ``failed`` or ``rejected`` tells each bidder whose bid was
  refunded;
- ledger transfers, collected as they are posted and read just before
  commit, once per member and fact however many legs carry it: repayment
  principal, interest or an advance credited to a lender (payback received,
  per installment), a gateway recharge credited, a withdrawal paid out, a
  withdrawal's frozen amount released because staff or the gateway refused it
  (not when the member cancelled).

Verification decisions are told by :func:`core.members.services.review_verification`.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from . import events
from .ledger.models import LedgerAccount
from .members.conduct import award_points, points_for_investment
from .members.models import Member
from .money import Money, currency_exponent
from .notifications import SEEN, member_locale, notify
from .payments.models import Withdrawal
from .tenancy.models import Tenant

TRANSFERS = "lendstack_notify_transfers"
PAYBACK_REASONS = frozenset({"repayment_principal", "repayment_interest", "advance"})
TOLD_REASONS = PAYBACK_REASONS | {"recharge", "withdrawal", "withdraw_unfreeze"}
FAILED = frozenset({"failed", "rejected"})
POINTS_REASON = "invested"  # a code: the points page shows its label


def _code(status) -> str:
    """A status as its stored code, whether a plain string or an enum member."""
    return str(getattr(status, "value", status))


def _tenant(session, tenant_id):

    return session.get(Tenant, tenant_id) if tenant_id is not None else None


def _money(tenant, member_id: int, session, minor: int, currency: str) -> str:
    """``minor`` as the member reads money in their language (¥1,234.50)."""

    member = session.get(Member, member_id)
    locale = member_locale(tenant, member) if member is not None else tenant.default_locale
    return Money(minor, currency).format(locale)


# -- loan status changes ------------------------------------------------------------


@events.listen("lendstack_loan_status_changed")
def loan_status_changed(session, tenant_id, loan, old_status, new_status) -> None:
    """Tell bidders and the borrower of a loan that filled, was disbursed, or failed."""
    tenant = _tenant(session, tenant_id)
    if tenant is None:
        return
    old, new = _code(old_status), _code(new_status)
    if new == "full":
        _tell_lenders(session, tenant, loan, "loan_full", ("frozen",))
        notify(
            session,
            tenant,
            loan.borrower_id,
            "borrower_loan_funded",
            {"loan": loan.number, "amount": _money(tenant, loan.borrower_id, session, loan.amount, loan.currency)},
            key=loan.number,
        )
    elif old == "full" and new == "repaying":
        invested = _tell_lenders(session, tenant, loan, "loan_disbursed", ("accepted",))
        paid = loan.amount - (loan.borrower_fee if loan.fee_mode == "deducted" else 0)
        notify(
            session,
            tenant,
            loan.borrower_id,
            "borrower_loan_disbursed",
            {"loan": loan.number, "amount": _money(tenant, loan.borrower_id, session, paid, loan.currency)},
            key=loan.number,
        )
        award_investment_points(session, tenant, loan, invested)
    elif new in FAILED and old in ("bidding", "full"):
        _tell_lenders(session, tenant, loan, "loan_failed", ("refunded",))


def _tell_lenders(session, tenant, loan, event: str, bid_statuses) -> dict[int, int]:
    """Tell each member holding bids in ``bid_statuses`` on ``loan``; their totals (minor units) by member."""
    totals: dict[int, int] = {}
    for bid in loan.bids:
        if _code(bid.status) in bid_statuses:
            totals[bid.member_id] = totals.get(bid.member_id, 0) + bid.amount
    for member_id, amount in totals.items():
        notify(
            session,
            tenant,
            member_id,
            event,
            {"loan": loan.number, "amount": _money(tenant, member_id, session, amount, loan.currency)},
            key=loan.number,
        )
    return totals


def award_investment_points(session, tenant, loan, invested: dict[int, int]) -> None:
    """VIP points by the tenant's ``[vip]`` rule (``points_per_100`` invested, per lender and loan, rounded
    down), once the loan is disbursed: the money is then invested. Once per lender and loan."""

    exponent = currency_exponent(loan.currency)
    for member_id, amount in invested.items():
        points = points_for_investment(tenant, amount, exponent)
        member = session.get(Member, member_id)
        if points and member is not None:
            award_points(session, member, points, reason=POINTS_REASON, ref=f"invest:loan:{loan.id}")


# -- ledger transfers -----------------------------------------------------------------


@events.listen("lendstack_transfers_posted")
def transfers_posted(session, tenant_id, transfers) -> None:
    """Keep the transfers members hear about until just before commit (close of day posts thousands:
    nothing is read here)."""
    told = [t for t in transfers if t.reason in TOLD_REASONS]
    if told and tenant_id is not None:
        session.info.setdefault(TRANSFERS, []).append((tenant_id, told))


@events.before_commit
def tell_transfers(session) -> None:
    """Tell every member of the money the transaction moved for them, once per member and fact."""
    pending = session.info.pop(TRANSFERS, None)
    if not pending:
        return
    by_tenant: dict[int, list] = {}
    for tenant_id, transfers in pending:
        by_tenant.setdefault(tenant_id, []).extend(transfers)
    for tenant_id, transfers in by_tenant.items():
        tenant = _tenant(session, tenant_id)
        if tenant is not None:
            _tell(session, tenant, transfers)


def _owners(session, tenant_id: int, transfers) -> dict[int, tuple[int, str]]:
    """Member accounts among the transfers' accounts: ``{account id: (member id, code)}``."""

    ids = {t.credit for t in transfers} | {t.debit for t in transfers}
    rows = session.execute(
        sa.select(LedgerAccount.id, LedgerAccount.owner_id, LedgerAccount.code).where(
            LedgerAccount.tenant_id == tenant_id, LedgerAccount.owner_kind == "member", LedgerAccount.id.in_(ids)
        )
    ).all()
    return {row.id: (row.owner_id, row.code) for row in rows}


def _tell(session, tenant, transfers) -> None:
    owners = _owners(session, tenant.id, transfers)
    facts: dict[tuple[int, str, str], list] = {}  # (member, event, ref) → [minor, currency]
    for t in transfers:
        credited, debited = owners.get(t.credit), owners.get(t.debit)
        found = _fact(t, credited, debited)
        if found is not None:
            member_id, event = found
            fact = facts.setdefault((member_id, event, t.ref), [0, t.amount.currency])
            fact[0] += t.amount.minor
    for (member_id, event, ref), (minor, currency) in facts.items():
        params = {"amount": _money(tenant, member_id, session, minor, currency)}
        if event == "payback_received":
            params["loan"] = ref.split(":")[1] if ref.count(":") >= 1 else ref
        if event == "withdrawal_refused":
            refused = _refused_withdrawal(session, ref)
            if refused is None:
                continue  # the member cancelled it: nothing to tell
            params["reason"] = refused.reason or "-"
        notify(session, tenant, member_id, event, params, key=ref)


def _fact(transfer, credited, debited) -> tuple[int, str] | None:
    """Which member a transfer tells of what, or ``None``."""
    reason = transfer.reason
    if reason in PAYBACK_REASONS and credited and credited[1] == "available":
        return credited[0], "payback_received"
    if reason == "recharge" and credited and transfer.ref.startswith("payment:"):
        return credited[0], "recharge_credited"  # a gateway's recharge (not a seed or a correction)
    if reason == "withdrawal" and debited and transfer.ref.startswith("withdrawal:"):
        return debited[0], "withdrawal_paid"
    if reason == "withdraw_unfreeze" and credited and transfer.ref.startswith("withdrawal:"):
        return credited[0], "withdrawal_refused"
    return None


def _refused_withdrawal(session, ref: str):
    """The withdrawal ``ref`` names when staff or the gateway refused it (not when its member cancelled)."""

    withdrawal = session.scalars(sa.select(Withdrawal).where(Withdrawal.reference == ref.split(":", 1)[1])).first()
    if withdrawal is None or _code(withdrawal.status) not in ("rejected", "failed"):
        return None
    return withdrawal


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    """What was collected or told belongs to one transaction (close of day commits many in one session)."""
    session.info.pop(TRANSFERS, None)
    session.info.pop(SEEN, None)
