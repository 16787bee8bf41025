"""Repayment (還款): whole installments, partial payments, early payoff; advances; write-offs; the overdue list.

A payment on an installment goes to its late fee and penalty interest, then
its interest, then its principal (:func:`allocate`); lenders get their parts
of each at once, less the management fee on the interest received so far.
Every payment is one ledger post under a key derived from the loan and the
installment's state, so a retried payment never moves money twice.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from ..i18n import _
from ..ledger import InsufficientFunds, Ledger, Share, Transfer, Wallet, pay_installment
from ..members.models import Member
from ..money import Money, split_largest_remainder
from .models import Installment, Loan, LoanEvent, Payback
from .services import LoanError, _fee, _money, _percent, record


def _split(total: int, weights: list[int]) -> list[int]:
    return split_largest_remainder(total, weights) if total and sum(weights) else [0] * len(weights)


def _fee_on(payback: Payback, interest: int, percent) -> int:
    """The management fee on ``interest`` more of a payback: charged on the interest received so far, so
    paying in parts costs the lender the same fee as paying at once."""
    return _fee(payback.paid_interest + interest, percent) - _fee(payback.paid_interest, percent)


def _lender_shares(tenant, loan: Loan, paybacks, *, penalty: int, interest: int, principal: int):
    """Lenders' parts of a payment on one period: each its share less the management fee.

    ``interest`` and ``principal`` are split over what each payback still has
    to receive (so paying it all pays each exactly), ``penalty`` pro rata to
    the paybacks. The fee is charged on the interest received so far, so
    paying in parts costs lenders the same fee as paying at once. Returns the
    ledger shares, the fees, and the ``(payback, interest, principal)`` parts.
    """
    percent = _percent(tenant, "lender_fee_percent", "0")
    interests = _split(interest, [p.interest - p.paid_interest for p in paybacks])
    principals = _split(principal, [p.principal - p.paid_principal for p in paybacks])
    penalties = _split(penalty, [p.principal + p.interest for p in paybacks])
    shares, fees, parts = [], 0, []
    for payback, part_interest, part_principal, part_penalty in zip(paybacks, interests, principals, penalties):
        fee = _fee_on(payback, part_interest, percent)
        fees += fee
        shares.append(Share(payback.member_id, Money(part_principal, loan.currency),
                            Money(part_interest - fee + part_penalty, loan.currency)))
        parts.append((payback, part_interest, part_principal))
    return shares, fees, parts


@dataclass(frozen=True)
class Allocation:
    """How a payment on one installment divides: charges first (late fee, then penalty), interest, principal."""

    late_fee: int
    penalty: int
    interest: int
    principal: int

    @property
    def total(self) -> int:
        return self.late_fee + self.penalty + self.interest + self.principal


def allocate(installment: Installment, amount: int) -> Allocation:
    """Apply ``amount`` to an installment in the order penalty, interest, principal (部分還款)."""
    late_paid = min(installment.paid_charges, installment.late_fee)
    late = min(amount, installment.late_fee - late_paid)
    penalty = min(amount - late, installment.charges - installment.paid_charges - late)
    interest = min(amount - late - penalty, installment.interest - installment.paid_interest)
    principal = min(amount - late - penalty - interest, installment.principal - installment.paid_principal)
    return Allocation(late, penalty, interest, principal)


def _paybacks(session, loan: Loan, period: int) -> list[Payback]:
    """The lenders' shares of one period, in bid order (from the loan's loaded paybacks when they are)."""
    if "paybacks" not in sa.inspect(loan).unloaded:  # loaded with the loan (close of day loads them per chunk)
        return [p for p in loan.paybacks if p.period == period]
    return session.scalars(sa.select(Payback).where(Payback.loan_id == loan.id, Payback.period == period)
                           .order_by(Payback.id)).all()


def _first_unpaid(loan: Loan) -> Installment | None:
    return next((i for i in loan.installments if i.status not in ("paid", "written_off")), None)


def _pay(session, tenant, loan: Loan, due: Installment, amount: int, *, by: str, day: dt.date) -> Allocation:
    """One ledger post paying ``amount`` (at most what is owed) of ``due``; the paybacks follow.

    Callers hold the loan's row lock (the pages and the API select it ``FOR UPDATE``, close of day locks
    each chunk's loans), so the installment's state the key is derived from cannot change under them.
    """
    ledger = Ledger(session, tenant.id)
    part = allocate(due, amount)
    whole = part.total == due.owed
    paid_before = due.paid_charges + due.paid_interest + due.paid_principal
    key = f"loan:{loan.id}:repay:{due.period}" + ("" if whole and not paid_before else f":from:{paid_before}")
    ref = f"loan:{loan.number}:{due.period}"
    paybacks = _paybacks(session, loan, due.period)
    parts = []
    if due.advanced_on is not None:
        # the lenders were paid from the reserve (or the guarantor): the borrower repays the advancer
        borrower = Wallet(ledger, loan.borrower_id, loan.currency).available
        legs = [Transfer(borrower, _advancer(ledger, loan), Money(part.total - part.late_fee, loan.currency),
                         "advance_recovery", ref)] if part.total - part.late_fee else []
        if part.late_fee:
            legs.append(Transfer(borrower, ledger.platform("fee_income", loan.currency),
                                 Money(part.late_fee, loan.currency), "fee", ref))
        posted = ledger.post(legs, key=key, initiator=by)
        fees = part.late_fee
    else:
        shares, fees, parts = _lender_shares(tenant, loan, paybacks, penalty=part.penalty, interest=part.interest,
                                             principal=part.principal)
        fees += part.late_fee
        posted = pay_installment(ledger, borrower_id=loan.borrower_id, shares=shares, key=key, ref=ref,
                                 initiator=by, fee=Money(fees, loan.currency))
    if posted.replayed:
        # The same payment from the same state was already posted (another request or job raced this one
        # without the loan's lock): counting it again on the installment would credit money never paid.
        raise LoanError("amount", _("This payment was just made. Reload the page to see the loan as it is."))
    due.paid_charges += part.late_fee + part.penalty
    due.paid_interest += part.interest
    due.paid_principal += part.principal
    for payback, interest, principal in parts:
        payback.paid_interest += interest
        payback.paid_principal += principal
    if whole:
        due.status, due.paid_on = "paid", day
        for payback in paybacks:
            if payback.status == "due":
                payback.status, payback.paid_on = "paid", day
    record(session, loan, "repaid" if whole else "repaid_part", by, period=due.period, amount=part.total,
           penalty=part.penalty + part.late_fee, interest=part.interest, principal=part.principal,
           lender_fees=fees, advanced=due.advanced_on is not None)
    return part


def _settle_if_paid(session, loan: Loan, day: dt.date) -> None:
    if all(i.status == "paid" for i in loan.installments):
        loan.status, loan.settled_on = "settled", day
        record(session, loan, "settled", "system")
        if loan.type_data.get("collateral_kind"):
            loan.type_data = {**loan.type_data, "released_on": day.isoformat()}
            record(session, loan, "collateral_released", "system", collateral=loan.type_data.get("collateral_kind"))


def _check_repaying(loan: Loan) -> Installment:
    if loan.status not in ("repaying", "defaulted"):
        raise LoanError("loan", _("This loan is not being repaid."))
    due = _first_unpaid(loan)
    if due is None:
        raise LoanError("loan", _("Every installment is paid."))
    return due


def repay_next(session, tenant, loan: Loan, *, by: str, on: dt.date | None = None) -> Installment:
    """The borrower pays the rest of the earliest unpaid installment with its penalty interest and late fee.

    Lenders get their shares less the management fee (and the penalty, pro
    rata); an installment the risk reserve already advanced goes back to the
    reserve instead.
    """
    due = _check_repaying(loan)
    try:
        _pay(session, tenant, loan, due, due.owed, by=by, day=on or tenant.business_date)
    except InsufficientFunds:
        raise LoanError("amount", _("The available balance does not cover installment ${period}.",
                                    mapping={"period": due.period})) from None
    _settle_if_paid(session, loan, on or tenant.business_date)
    return due


def repay_installments(session, tenant, loan: Loan, count, *, by: str) -> int:
    """Pay the next ``count`` installments whole (stopping when the loan is settled); what was paid.
    All or nothing: a balance that runs out part-way refuses the lot."""
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 600:
        raise LoanError("installments", _("Give the number of installments to pay, 1 or more."))
    paid = 0
    for _n in range(count):
        if loan.status == "settled":
            break
        due = _check_repaying(loan)
        paid += due.owed
        repay_next(session, tenant, loan, by=by)
    return paid


def repay(session, tenant, loan: Loan, amount_text, *, by: str, on: dt.date | None = None) -> int:
    """部分還款: pay ``amount_text`` towards the loan, earliest installment first, each installment's
    penalty and late fee before its interest before its principal. Refuses more than the loan owes
    now (early payoff has its own rule). Returns what was paid, in minor units."""
    due = _check_repaying(loan)
    amount = _money(amount_text, loan.currency, "amount").minor
    day = on or tenant.business_date
    owed_now = sum(i.owed for i in loan.installments if i.status not in ("paid", "written_off")
                   and (i is due or i.due_date <= day))
    if amount > owed_now:
        raise LoanError("amount", _("At most ${owed} is due now; to repay more, pay the loan off.",
                                    mapping={"owed": str(Money(owed_now, loan.currency))}))
    available = Wallet(Ledger(session, tenant.id), loan.borrower_id, loan.currency).funds().available
    if amount > available:
        raise LoanError("amount", _("Your available balance is not enough."))
    left = amount
    while left:
        due = _first_unpaid(loan)
        left -= _pay(session, tenant, loan, due, min(left, due.owed), by=by, day=day).total
    _settle_if_paid(session, loan, day)
    return amount


def _advancer(ledger: Ledger, loan: Loan) -> int:
    """Who advances an overdue installment: the loan's guarantor, else the platform's risk reserve."""
    if loan.type_data.get("guarantor_id"):
        from .guarantors import deposit_account

        return deposit_account(ledger, int(loan.type_data["guarantor_id"]), loan.currency)
    return ledger.platform("risk_reserve", loan.currency)


def _payoff_charges(installments) -> tuple[int, int]:
    """Late fees and penalty interest still unpaid on ``installments``."""
    late = penalty = 0
    for i in installments:
        late_left = i.late_fee - min(i.paid_charges, i.late_fee)
        late += late_left
        penalty += i.charges - i.paid_charges - late_left
    return late, penalty


def pay_off(session, tenant, loan: Loan, *, by: str, on: dt.date | None = None) -> int:
    """提前還款: all remaining principal at once, with the interest and penalty due so far (the current
    period's and any overdue one's), plus the tenant's ``prepayment_fee_percent`` of the remaining
    principal (to the platform). Later periods' interest is not due. Returns what the borrower paid."""
    current = _check_repaying(loan)
    day = on or tenant.business_date
    unpaid = [i for i in loan.installments if i.status not in ("paid", "written_off")]
    if any(i.advanced_on is not None for i in unpaid):
        raise LoanError("loan", _("This loan cannot be paid off early now."))
    charged = {i.period for i in unpaid if i is current or i.due_date <= day}
    paybacks = session.scalars(sa.select(Payback).where(Payback.loan_id == loan.id, Payback.status == "due")
                               .order_by(Payback.id)).all()
    late_fees, penalty = _payoff_charges(unpaid)
    percent = _percent(tenant, "lender_fee_percent", "0")
    by_lender: dict[int, list[int]] = {}  # member → [principal, interest, fee]
    for payback in paybacks:
        interest = payback.interest - payback.paid_interest if payback.period in charged else 0
        totals = by_lender.setdefault(payback.member_id, [0, 0, 0])
        totals[0] += payback.principal - payback.paid_principal
        totals[1] += interest
        totals[2] += _fee_on(payback, interest, percent)
    lender_fees = sum(t[2] for t in by_lender.values())
    penalties = _split(penalty, [t[0] + t[1] for t in by_lender.values()])
    shares = [Share(member_id, Money(principal, loan.currency), Money(interest - fee + extra, loan.currency))
              for (member_id, (principal, interest, fee)), extra in zip(by_lender.items(), penalties)]
    remaining = sum(i.principal - i.paid_principal for i in unpaid)
    interest_due = sum(i.interest - i.paid_interest for i in unpaid if i.period in charged)
    prepayment_fee = _fee(remaining, _percent(tenant, "prepayment_fee_percent", "0"))
    try:
        pay_installment(Ledger(session, tenant.id), borrower_id=loan.borrower_id, shares=shares,
                        key=f"loan:{loan.id}:payoff", ref=f"loan:{loan.number}:payoff", initiator=by,
                        fee=Money(lender_fees + prepayment_fee + late_fees, loan.currency))
    except InsufficientFunds:
        raise LoanError("amount", _("The available balance does not cover paying the loan off.")) from None
    for installment in unpaid:
        if installment.period not in charged:
            installment.interest = installment.paid_interest  # not due: the loan ended early
        installment.status, installment.paid_on = "paid", day
        installment.paid_principal, installment.paid_interest = installment.principal, installment.interest
        installment.paid_charges = installment.charges
    for payback in paybacks:
        if payback.period not in charged:
            payback.interest = payback.paid_interest
        payback.paid_principal, payback.paid_interest = payback.principal, payback.interest
        payback.status, payback.paid_on = "paid", day
    paid = remaining + interest_due + penalty + prepayment_fee + late_fees
    loan.status, loan.settled_on = "settled", day
    record(session, loan, "paid_off", by, principal=remaining, interest=interest_due, penalty=penalty,
           prepayment_fee=prepayment_fee)
    record(session, loan, "settled", "system")
    return paid


def advance(session, tenant, loan: Loan, installment: Installment, day: dt.date) -> bool:
    """墊付: the risk reserve (or the guarantor) pays the lenders what an overdue installment still owes
    them; the borrower then owes the advancer."""
    paybacks = _paybacks(session, loan, installment.period)
    ledger = Ledger(session, tenant.id)
    shares, _fees, parts = _lender_shares(
        tenant, loan, paybacks, penalty=0, interest=sum(p.interest - p.paid_interest for p in paybacks),
        principal=sum(p.principal - p.paid_principal for p in paybacks))
    reserve = _advancer(ledger, loan)
    legs = [Transfer(reserve, Wallet(ledger, share.member_id, loan.currency).available, share.principal + share.interest,
                     "advance", f"loan:{loan.number}:{installment.period}")
            for share in shares if (share.principal + share.interest).minor]
    try:
        ledger.post(legs, key=f"loan:{loan.id}:advance:{installment.period}", initiator="close-of-day")
    except InsufficientFunds:
        record(session, loan, "advance_refused", "close-of-day", period=installment.period,
               why="the advancer's funds are not enough")
        return False
    installment.advanced_on = day
    for payback, interest, principal in parts:
        payback.paid_interest += interest
        payback.paid_principal += principal
        payback.status, payback.paid_on = "paid", day
    record(session, loan, "advanced", "close-of-day", period=installment.period)
    return True


def pending_write_off(session, loan: Loan) -> LoanEvent | None:
    """The write-off request waiting for a second person's approval, if any."""
    last = session.scalars(sa.select(LoanEvent).where(
        LoanEvent.loan_id == loan.id, LoanEvent.event.in_(["write_off_requested", "write_off_declined",
                                                            "written_off"])).order_by(LoanEvent.id.desc())).first()
    return last if last is not None and last.event == "write_off_requested" else None


def request_write_off(session, loan: Loan, *, reason: str, by: str) -> None:
    """核銷, first step: one staff member asks, with the reason; another approves (:func:`write_off`)."""
    if loan.status != "defaulted":
        raise LoanError("decision", _("Only a defaulted loan can be written off."))
    if not (reason or "").strip():
        raise LoanError("reason", _("Give a reason for the write-off."))
    if pending_write_off(session, loan) is not None:
        raise LoanError("decision", _("A write-off of this loan is already waiting for approval."))
    record(session, loan, "write_off_requested", by, reason=reason.strip()[:300])
    session.flush()


def decline_write_off(session, loan: Loan, *, by: str) -> None:
    if pending_write_off(session, loan) is None:
        raise LoanError("decision", _("No write-off of this loan is waiting for approval."))
    record(session, loan, "write_off_declined", by)
    session.flush()


def write_off(session, loan: Loan, *, by: str) -> None:
    """核銷, second step: a different staff member approves the request; the loan closes and what is unpaid
    stays unpaid (lenders bear it unless advanced)."""
    requested = pending_write_off(session, loan)
    if loan.status != "defaulted" or requested is None:
        raise LoanError("decision", _("No write-off of this loan is waiting for approval."))
    if requested.actor == by:
        raise LoanError("decision", _("Another staff member must approve a write-off you asked for."))
    reason = requested.detail.get("reason", "")
    for installment in loan.installments:
        if installment.status != "paid":
            installment.status = "written_off"
    session.execute(sa.update(Payback).where(Payback.loan_id == loan.id, Payback.status == "due")
                    .values(status="written_off"))
    loan.status, loan.review_note = "written_off", reason[:300]
    record(session, loan, "written_off", by, reason=reason, requested_by=requested.actor)


def overdue_rows(session, tenant, *, limit: int, offset: int = 0):
    """Overdue installments, longest past due first: ``(installment, loan, borrower, days past due)``."""
    rows = session.execute(sa.select(Installment, Loan, Member).join(Loan, Loan.id == Installment.loan_id)
                           .join(Member, Member.id == Loan.borrower_id)
                           .where(Installment.status == "overdue")
                           .order_by(Installment.due_date, Installment.loan_id, Installment.period)
                           .limit(limit).offset(offset)).all()
    return [(i, loan, member, (tenant.business_date - i.due_date).days) for i, loan, member in rows]


