"""Repayment (還款): whole installments, partial payments, early payoff; advances; write-offs; the overdue list.

A payment on an installment goes to its late fee and penalty interest, then
its service fee, then its interest, then its principal (:func:`allocate`);
lenders get their parts of each at once, less the management fee, which is
cumulative over each bid's loan (:mod:`.allocation`). Every payment is one
ledger post under a key derived from the loan and the installment's state, so
a retried payment never moves money twice.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ..i18n import _
from ..ledger import InsufficientFunds, Ledger, Wallet
from ..members.models import Member
from ..money import Money
from .allocation import Allocation, Payment, allocate, charge_lender_fees, lender_fees, lender_parts, settle
from .allocation import paybacks_of as _paybacks
from .errors import LoanError, positive_amount
from .guarantors import deposit_account
from .models import (
    INSTALLMENT_ENDED,
    INSTALLMENTS,
    LOANS,
    PAYBACKS,
    Installment,
    InstallmentStatus,
    Loan,
    LoanEvent,
    LoanStatus,
    Payback,
    PaybackStatus,
)
from .records import record
from .rules import lending_number, percent_of


def first_unpaid(loan: Loan) -> Installment | None:
    """The loan's earliest installment neither paid nor written off (``None``: none is left)."""
    return next((i for i in loan.installments if i.status not in INSTALLMENT_ENDED), None)


def _add_part(session, tenant, loan: Loan, payment: Payment, due: Installment, part: Allocation):
    """Add one installment's ``part`` to ``payment``: the late and service fees to fee income, the rest to the
    lenders (less their fee) or, once advanced, to the advancer. Returns the lenders' parts and fees."""
    payment.fee += part.late_fee + part.service_fee
    if due.advanced_on is not None:
        # the lenders were paid by the guarantor (or the reserve): the borrower repays the advancer
        payment.to_advancer(_advancer(payment.ledger, loan), part.penalty + part.interest + part.principal)
        return [], {}
    parts = lender_parts(
        _paybacks(session, loan, due.period), penalty=part.penalty, interest=part.interest, principal=part.principal
    )
    fees = lender_fees(tenant, loan, parts)
    payment.to_lenders(parts, fees)
    return parts, fees


def _pay(session, tenant, loan: Loan, due: Installment, amount: int, *, by: str, day: dt.date) -> Allocation:
    """One ledger post paying ``amount`` (at most what is owed) of ``due``; the paybacks follow.

    Callers hold the loan's row lock (the pages and the API take it with :func:`~.records.locked_loan`,
    close of day locks each chunk's loans), so the installment's state the key is derived from cannot
    change under them.
    """
    ledger = Ledger(session, tenant.id)
    part = allocate(due, amount)
    whole = part.total == due.owed
    paid_before = due.paid_charges + due.paid_fee + due.paid_interest + due.paid_principal
    key = f"loan:{loan.id}:repay:{due.period}" + ("" if whole and not paid_before else f":from:{paid_before}")
    payment = Payment(
        ledger, loan, Wallet(ledger, loan.borrower_id, loan.currency).available, f"loan:{loan.number}:{due.period}"
    )
    parts, fees = _add_part(session, tenant, loan, payment, due, part)
    legs = payment.legs()
    if legs and ledger.post(legs, key=key, initiator=by).replayed:
        # The same payment from the same state was already posted (another request or job raced this one
        # without the loan's lock): counting it again on the installment would credit money never paid.
        raise LoanError("amount", _("This payment was just made. Reload the page to see the loan as it is."))
    settle(due, part)
    for lender_part in parts:
        lender_part.settle()
    charge_lender_fees(loan, fees)
    if whole:
        INSTALLMENTS.move(due, InstallmentStatus.PAID)
        due.paid_on = day
        for payback in _paybacks(session, loan, due.period):
            if payback.status == PaybackStatus.DUE:
                PAYBACKS.move(payback, PaybackStatus.PAID)
                payback.paid_on = day
    record(
        session,
        loan,
        "repaid" if whole else "repaid_part",
        by,
        period=due.period,
        amount=part.total,
        late_fee=part.late_fee,
        penalty=part.penalty,
        service_fee=part.service_fee,
        interest=part.interest,
        principal=part.principal,
        lender_fees=sum(fees.values()),
        advanced=due.advanced_on is not None,
    )
    return part


def pay_installment(session, tenant, loan: Loan, due: Installment, amount: int, *, by: str, day: dt.date) -> Allocation:
    """Pay ``amount`` (at most what it owes) of the installment ``due`` from the borrower's balance, and settle
    the loan once every installment is paid (close of day's collection). The caller holds the loan's lock."""
    part = _pay(session, tenant, loan, due, amount, by=by, day=day)
    _settle_if_paid(session, loan, day)
    return part


def _settle_if_paid(session, loan: Loan, day: dt.date) -> None:
    if all(i.status == InstallmentStatus.PAID for i in loan.installments):
        LOANS.move(loan, LoanStatus.SETTLED)
        loan.settled_on = day
        record(session, loan, "settled", "system")
        if loan.type_data.get("collateral_kind"):
            loan.type_data = {**loan.type_data, "released_on": day.isoformat()}
            record(session, loan, "collateral_released", "system", collateral=loan.type_data.get("collateral_kind"))


def _check_repaying(loan: Loan) -> Installment:
    if loan.status not in (LoanStatus.REPAYING, LoanStatus.DEFAULTED):
        raise LoanError("loan", _("This loan is not being repaid."))
    due = first_unpaid(loan)
    if due is None:
        raise LoanError("loan", _("Every installment is paid."))
    return due


def repay_next(session, tenant, loan: Loan, *, by: str, on: dt.date | None = None) -> Installment:
    """The borrower pays the rest of the earliest unpaid installment with its overdue charges and service fee.

    Lenders get their shares less the management fee (and the penalty, pro
    rata); an installment already advanced goes back to its advancer instead.
    """
    due = _check_repaying(loan)
    try:
        _pay(session, tenant, loan, due, due.owed, by=by, day=on or tenant.business_date)
    except InsufficientFunds:
        raise LoanError(
            "amount", _("The available balance does not cover installment ${period}.", mapping={"period": due.period})
        ) from None
    _settle_if_paid(session, loan, on or tenant.business_date)
    return due


def repay_installments(session, tenant, loan: Loan, count, *, by: str) -> int:
    """Pay the next ``count`` installments whole (stopping when the loan is settled); what was paid.
    All or nothing: a balance that runs out part-way refuses the lot."""
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 600:
        raise LoanError("installments", _("Give the number of installments to pay, 1 or more."))
    paid = 0
    for _n in range(count):
        if loan.status == LoanStatus.SETTLED:
            break
        due = _check_repaying(loan)
        paid += due.owed
        repay_next(session, tenant, loan, by=by)
    return paid


def repay(session, tenant, loan: Loan, amount_text, *, by: str, on: dt.date | None = None) -> int:
    """部分還款: pay ``amount_text`` towards the loan, earliest installment first, each installment's
    late fee, penalty and service fee before its interest before its principal. Refuses more than the loan owes
    now (early payoff has its own rule). Returns what was paid, in minor units."""
    due = _check_repaying(loan)
    amount = positive_amount(amount_text, loan.currency, "amount").minor
    day = on or tenant.business_date
    owed_now = sum(
        i.owed for i in loan.installments if i.status not in INSTALLMENT_ENDED and (i is due or i.due_date <= day)
    )
    if amount > owed_now:
        raise LoanError(
            "amount",
            _(
                "At most ${owed} is due now; to repay more, pay the loan off.",
                mapping={"owed": str(Money(owed_now, loan.currency))},
            ),
        )
    available = Wallet(Ledger(session, tenant.id), loan.borrower_id, loan.currency).funds().available
    if amount > available:
        raise LoanError("amount", _("Your available balance is not enough."))
    left = amount
    while left:
        due = first_unpaid(loan)
        left -= _pay(session, tenant, loan, due, min(left, due.owed), by=by, day=day).total
    _settle_if_paid(session, loan, day)
    return amount


def _advancer(ledger: Ledger, loan: Loan) -> int:
    """Who advances an overdue installment: the loan's guarantor, else the platform's risk reserve."""
    if loan.type_data.get("guarantor_id"):
        return deposit_account(ledger, int(loan.type_data["guarantor_id"]), loan.currency)
    return ledger.platform("risk_reserve", loan.currency)


def _payoff_part(installment: Installment, charged: bool) -> Allocation:
    """What paying off settles of one installment: all of it when its period is charged (due by the payoff
    date, or the current one), else its principal (and any charges) without interest or service fee."""
    if charged:
        return allocate(installment, installment.owed)
    return Allocation(installment.unpaid_late_fee, installment.unpaid_penalty, 0, 0, installment.unpaid_principal)


def pay_off(session, tenant, loan: Loan, *, by: str, on: dt.date | None = None) -> int:
    """提前還款: all remaining principal at once, with what is due so far — overdue installments whole
    (late fees, penalty, service fees, interest), the current period's interest and service fee — plus the
    tenant's ``prepayment_fee_percent`` of the principal paid before its due date (to the platform). Later
    periods' interest and service fees are not due. An accelerated loan (everything already due) pays what it
    owes, with no prepayment fee; advanced installments go back to their advancer. Returns what was paid."""
    _check_repaying(loan)
    day = on or tenant.business_date
    unpaid = [i for i in loan.installments if i.status not in INSTALLMENT_ENDED]
    current = next((i for i in unpaid if i.due_date > day), None)  # the period running on ``day``
    charged = {i.period for i in unpaid if i is current or i.due_date <= day}
    prepayment_fee = percent_of(
        sum(i.unpaid_principal for i in unpaid if i.due_date > day),
        lending_number(tenant, "prepayment_fee_percent", "0"),
    )
    ledger = Ledger(session, tenant.id)
    payment = Payment(
        ledger, loan, Wallet(ledger, loan.borrower_id, loan.currency).available, f"loan:{loan.number}:payoff"
    )
    pieces, all_parts, all_fees = [], [], {}
    for installment in unpaid:
        part = _payoff_part(installment, installment.period in charged)
        pieces.append((installment, part))
        if installment.advanced_on is not None:
            _add_part(session, tenant, loan, payment, installment, part)
            continue
        payment.fee += part.late_fee + part.service_fee
        all_parts += lender_parts(
            _paybacks(session, loan, installment.period),
            penalty=part.penalty,
            interest=part.interest,
            principal=part.principal,
        )
    all_fees = lender_fees(tenant, loan, all_parts)  # once per bid over every period paid off
    payment.to_lenders(all_parts, all_fees)
    payment.fee += prepayment_fee
    try:
        ledger.post(payment.legs(), key=f"loan:{loan.id}:payoff", initiator=by)
    except InsufficientFunds:
        raise LoanError("amount", _("The available balance does not cover paying the loan off.")) from None
    for installment, part in pieces:
        settle(installment, part)
        if installment.period not in charged:  # not due: the loan ended early
            installment.interest, installment.service_fee = installment.paid_interest, installment.paid_fee
        INSTALLMENTS.move(installment, InstallmentStatus.PAID)
        installment.paid_on = day
    for lender_part in all_parts:
        lender_part.settle()
    charge_lender_fees(loan, all_fees)
    for installment, _part in pieces:
        for payback in _paybacks(session, loan, installment.period):
            if installment.period not in charged:
                payback.interest = payback.paid_interest
            if payback.status == PaybackStatus.DUE:
                PAYBACKS.move(payback, PaybackStatus.PAID)
                payback.paid_on = day
    totals = {
        name: sum(getattr(part, name) for _i, part in pieces)
        for name in ("late_fee", "penalty", "service_fee", "interest", "principal")
    }
    LOANS.move(loan, LoanStatus.SETTLED)
    loan.settled_on = day
    record(session, loan, "paid_off", by, prepayment_fee=prepayment_fee, lender_fees=sum(all_fees.values()), **totals)
    record(session, loan, "settled", "system")
    return sum(totals.values()) + prepayment_fee


def advance(session, tenant, loan: Loan, installment: Installment, day: dt.date) -> bool:
    """墊付: the guarantor (or, where the tenant allows it, the risk reserve) pays the lenders what an overdue
    installment still owes them, less their management fee, which goes to fee income as on any payment; the
    borrower then owes the advancer the installment's principal, interest and penalty."""
    paybacks = _paybacks(session, loan, installment.period)
    ledger = Ledger(session, tenant.id)
    parts = lender_parts(
        paybacks,
        penalty=0,
        interest=sum(p.interest - p.paid_interest for p in paybacks),
        principal=sum(p.principal - p.paid_principal for p in paybacks),
    )
    fees = lender_fees(tenant, loan, parts)
    payment = Payment(
        ledger, loan, _advancer(ledger, loan), f"loan:{loan.number}:{installment.period}", reason="advance"
    )
    payment.to_lenders(parts, fees)
    legs = payment.legs()
    try:
        if legs:
            ledger.post(legs, key=f"loan:{loan.id}:advance:{installment.period}", initiator="close-of-day")
    except InsufficientFunds:
        record(
            session,
            loan,
            "advance_refused",
            "close-of-day",
            period=installment.period,
            why="the advancer's funds are not enough",
        )
        return False
    installment.advanced_on = day
    for part in parts:
        part.settle()
    charge_lender_fees(loan, fees)
    for payback in paybacks:
        PAYBACKS.move(payback, PaybackStatus.PAID)
        payback.paid_on = day
    record(session, loan, "advanced", "close-of-day", period=installment.period, lender_fees=sum(fees.values()))
    return True


def pending_write_off(session, loan: Loan) -> LoanEvent | None:
    """The write-off request waiting for a second person's approval, if any."""
    last = session.scalars(
        sa.select(LoanEvent)
        .where(
            LoanEvent.loan_id == loan.id,
            LoanEvent.event.in_(["write_off_requested", "write_off_declined", "written_off"]),
        )
        .order_by(LoanEvent.id.desc())
    ).first()
    return last if last is not None and last.event == "write_off_requested" else None


def request_write_off(session, loan: Loan, *, reason: str, by: str) -> None:
    """核銷, first step: one staff member asks, with the reason; another approves (:func:`write_off`)."""
    if loan.status != LoanStatus.DEFAULTED:
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
    if loan.status != LoanStatus.DEFAULTED or requested is None:
        raise LoanError("decision", _("No write-off of this loan is waiting for approval."))
    if requested.actor == by:
        raise LoanError("decision", _("Another staff member must approve a write-off you asked for."))
    reason = requested.detail.get("reason", "")
    split = written_off_amounts(loan)
    for installment in loan.installments:
        if installment.status != InstallmentStatus.PAID:
            INSTALLMENTS.move(installment, InstallmentStatus.WRITTEN_OFF)
    # one statement for every lender's share: only rows the table lets become written off (those still due)
    session.execute(
        sa.update(Payback)
        .where(Payback.loan_id == loan.id, Payback.status.in_(sorted(PAYBACKS.sources_of(PaybackStatus.WRITTEN_OFF))))
        .values(status=PaybackStatus.WRITTEN_OFF)
    )
    LOANS.move(loan, LoanStatus.WRITTEN_OFF)
    loan.review_note = reason[:300]
    record(session, loan, "written_off", by, reason=reason, requested_by=requested.actor, **split)


def written_off_amounts(loan: Loan) -> dict:
    """What a write-off leaves unpaid, for the books: principal, interest and overdue charges (late fee and
    penalty interest), in minor units, over the installments not paid."""
    unpaid = [i for i in loan.installments if i.status != InstallmentStatus.PAID]
    return {
        "principal": sum(i.principal - i.paid_principal for i in unpaid),
        "interest": sum(i.interest - i.paid_interest for i in unpaid),
        "charges": sum(i.penalty + i.late_fee - i.paid_charges for i in unpaid),
    }


def overdue_rows(session, tenant, *, limit: int, offset: int = 0):
    """Overdue installments, longest past due first: ``(installment, loan, borrower, days past due)``."""
    rows = session.execute(
        sa.select(Installment, Loan, Member)
        .join(Loan, Loan.id == Installment.loan_id)
        .join(Member, Member.id == Loan.borrower_id)
        .where(Installment.status == InstallmentStatus.OVERDUE)
        .order_by(Installment.due_date, Installment.loan_id, Installment.period)
        .limit(limit)
        .offset(offset)
    ).all()
    return [(i, loan, member, (tenant.business_date - i.due_date).days) for i, loan, member in rows]
