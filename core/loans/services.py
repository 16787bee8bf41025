"""The loan lifecycle over the ledger: apply, review, bid, final review and disbursement, repayment,
expiry and close of day.

Every money movement is one ledger post under a key derived from the loan
(``bid:<id>:freeze``, ``bid:<id>:refund``, ``loan:<id>:disburse``,
``loan:<id>:repay:<period>``), so a retried request or a re-run close of day
never moves money twice. A loan's row is locked while bids are placed, so
however many bids arrive at once it is never over-funded.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from ..i18n import _
from ..ledger import InsufficientFunds, Ledger, Share, Transfer, Wallet, disburse, pay_installment
from ..loan_types import LoanApplication
from ..members.models import Member
from ..money import InvalidAmount, Money, parse_positive, split_largest_remainder
from ..portal.tools import methods as repayment_methods
from ..schedules import LoanTerms, ScheduleError
from .models import Bid, ClosedDay, Installment, Loan, LoanEvent, Payback


class LoanError(ValueError):
    """Input the lifecycle refuses; ``field`` and a translation-string ``message``. Nothing changed."""

    def __init__(self, field: str, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _money(text, currency, field):
    try:
        return parse_positive(text, currency)
    except InvalidAmount as error:
        raise LoanError(field, error.message) from None


def _percent(tenant, key: str, default: str) -> Decimal:
    return Decimal(str((tenant.lending or {}).get(key, default)))


def _fee(minor: int, percent: Decimal) -> int:
    return int((Decimal(minor) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def record(session, loan: Loan, event: str, actor: str, **detail) -> None:
    session.add(LoanEvent(tenant_id=loan.tenant_id, loan_id=loan.id, event=event, actor=actor, detail=detail))


def loan_types(hooks) -> dict:
    return {t.code: t for t in sorted(hooks.collect("lendstack_loan_types"), key=lambda t: t.code)}


# -- the borrower's standing ------------------------------------------------------

ACTIVE = ("submitted", "bidding", "full", "repaying", "defaulted")


def outstanding_principal(session, *where) -> int:
    """Principal of the active loans matching ``where`` not yet repaid."""
    active = (Loan.status.in_(ACTIVE), *where)
    lent = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Loan.amount), 0)).where(*active))
    repaid = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Installment.principal), 0)).join(Loan)
                            .where(*active, Installment.status == "paid"))
    return int(lent) - int(repaid)  # PostgreSQL sums bigints as numeric


def credit_used(session, borrower_id: int) -> int:
    """Credit-line use: principal of the borrower's active credit loans not yet repaid."""
    return outstanding_principal(session, Loan.borrower_id == borrower_id, Loan.loan_type == "credit")


def net_worth_floor(session, member_id: int) -> int:
    """Net assets a member must keep while net-worth loans are outstanding: their unpaid principal."""
    return outstanding_principal(session, Loan.borrower_id == member_id, Loan.loan_type == "net_worth")


@dataclass(frozen=True)
class Position:
    """A member's standing in minor units: cash, what others owe them, what they owe."""

    available: int
    frozen: int
    receivable_principal: int
    receivable_interest: int
    payable_principal: int
    payable_interest: int  # with penalty interest

    @property
    def total(self) -> int:
        return self.available + self.frozen

    @property
    def net_assets(self) -> int:
        """Available + frozen + principal owed to the member − principal the member owes (凈值)."""
        return self.total + self.receivable_principal - self.payable_principal


def position(session, tenant, member_id: int) -> Position:
    funds = Wallet(Ledger(session, tenant.id), member_id, tenant.currency).funds()
    receivable = session.execute(sa.select(sa.func.coalesce(sa.func.sum(Payback.principal), 0),
                                           sa.func.coalesce(sa.func.sum(Payback.interest), 0))
                                 .where(Payback.member_id == member_id, Payback.status == "due")).one()
    payable = session.execute(sa.select(sa.func.coalesce(sa.func.sum(Installment.principal), 0),
                                        sa.func.coalesce(sa.func.sum(Installment.interest + Installment.penalty), 0))
                              .join(Loan).where(Loan.borrower_id == member_id,
                                                Installment.status.in_(["due", "overdue"]))).one()
    return Position(funds.available, funds.frozen, *(int(x) for x in (*receivable, *payable)))


def net_assets(session, tenant, member_id: int) -> int:
    return position(session, tenant, member_id).net_assets


def borrower_profile(session, tenant, borrower: Member):
    from ..loan_types import BorrowerProfile

    currency = tenant.currency
    return BorrowerProfile(Money(borrower.credit_line, currency),
                           Money(max(borrower.credit_line - credit_used(session, borrower.id), 0), currency),
                           Money(net_assets(session, tenant, borrower.id), currency))


def set_credit_line(member: Member, amount_text: str, currency: str) -> None:
    amount = Money.parse(str(amount_text or "").strip(), currency) if str(amount_text or "").strip() else None
    if amount is None or amount.minor < 0:
        raise LoanError("amount", _("Enter an amount such as 100.00."))
    if not member.is_verified:
        raise LoanError("amount", _("A credit line needs a verified member."))
    member.credit_line = amount.minor


# -- application and first review ------------------------------------------------

def apply(session, tenant, hooks, borrower: Member, form: dict, *, by_staff: bool = False) -> Loan:
    """A borrower's application (借款項目申請), checked by core and by the loan type's rules.

    ``by_staff``: staff submit it for the borrower (the only way for a
    ``staff_only`` type such as instant loans).
    """
    if not borrower.is_verified:
        raise LoanError("amount", _("Complete real-name verification before borrowing."))
    types = loan_types(hooks)
    loan_type = types.get(form.get("loan_type", ""))
    if loan_type is None or (loan_type.staff_only and not by_staff):
        raise LoanError("loan_type", _("Choose one of the loan types offered."))
    title = (form.get("title") or "").strip()
    if not 4 <= len(title) <= 120:
        raise LoanError("title", _("Give the loan a title of 4 to 120 characters."))
    amount = _money(form.get("amount"), tenant.currency, "amount")
    try:
        rate = Decimal(str(form.get("annual_rate_percent", "")).strip())
        months = int(str(form.get("term_months", "")).strip())
        days = int(str(form.get("fundraising_days", "7")).strip())
    except (ArithmeticError, ValueError):
        raise LoanError("annual_rate_percent", _("Enter the rate, the term and the fundraising days as numbers.")) \
            from None
    enabled = list(repayment_methods(hooks))
    method_code = form.get("repayment_method", "")
    if method_code not in loan_type.allowed_methods(enabled):
        raise LoanError("repayment_method", _("Choose one of the repayment methods offered for this loan type."))
    method = repayment_methods(hooks)[method_code]
    try:
        method.schedule(LoanTerms(amount, rate, months, "month", tenant.business_date,
                                  max_rate_percent=tenant.max_annual_rate_percent))
    except ScheduleError as error:
        raise LoanError(error.field, error.message) from None
    if not 1 <= days <= 60:
        raise LoanError("fundraising_days", _("Raise the money in 1 to 60 days."))
    min_bid = _money(form.get("min_bid") or "50", tenant.currency, "min_bid")
    max_bid = _money(form["max_bid"], tenant.currency, "max_bid") if form.get("max_bid") else None
    if min_bid.minor > amount.minor or (max_bid is not None and max_bid.minor < min_bid.minor):
        raise LoanError("min_bid", _("The minimum bid must be within the amount and below the maximum bid."))
    violations = loan_type.check_application(LoanApplication(amount, months, method_code, form,
                                                             borrower_profile(session, tenant, borrower)))
    if violations:
        raise LoanError(violations[0].field, violations[0].message)
    count = session.scalar(sa.select(sa.func.count()).select_from(Loan).where(Loan.tenant_id == tenant.id))
    type_data = {k: str(form[k]).strip()[:500] for k in ("collateral_kind", "collateral_description",
                                                        "appraised_value") if form.get(k)} \
        if loan_type.holds_collateral else {}
    if loan_type.needs_guarantor:
        from .guarantors import check as check_guarantor

        type_data["guarantor_id"] = str(check_guarantor(session, tenant, form, amount).id)
    loan = Loan(tenant_id=tenant.id, number=f"L{tenant.business_date:%y%m}{count + 1:05d}", borrower_id=borrower.id,
                type_data=type_data,
                loan_type=loan_type.code, title=title, purpose=(form.get("purpose") or "").strip()[:500],
                amount=amount.minor, currency=amount.currency, annual_rate_percent=rate, term_months=months,
                repayment_method=method_code, min_bid=min_bid.minor,
                max_bid=max_bid.minor if max_bid else None, fundraising_days=days)
    session.add(loan)
    session.flush()
    record(session, loan, "submitted", f"member:{borrower.id}", amount=loan.amount)
    return loan


def review(session, tenant, loan: Loan, *, approve: bool, reason: str, by: str) -> None:
    """First review (初審): publish for bidding until the deadline, or reject with a reason."""
    if loan.status != "submitted":
        raise LoanError("decision", _("This loan is not waiting for a first review."))
    if approve:
        loan.status = "bidding"
        loan.deadline = tenant.business_date + dt.timedelta(days=loan.fundraising_days)
        record(session, loan, "reviewed", by, approve=True, reason=reason)
        from .autoinvest import run_for_loan

        run_for_loan(session, tenant, loan)
        return
    else:
        if not (reason or "").strip():
            raise LoanError("reason", _("Give the borrower a reason."))
        loan.status, loan.review_note = "rejected", reason.strip()[:300]
    record(session, loan, "reviewed", by, approve=approve, reason=reason)


# -- bidding ------------------------------------------------------------------------

def bid_unit(tenant) -> int:
    return Money.parse(str((tenant.lending or {}).get("bid_unit", "50")), tenant.currency).minor


def place_bid(session, tenant, loan_id: int, lender: Member, amount_text: str, *, key: str,
              auto: bool = False) -> Bid:
    """Freeze a lender's bid (融資湊標); the loan row is locked so it is never over-funded."""
    loan = session.scalars(sa.select(Loan).where(Loan.id == loan_id).with_for_update()).first()
    if loan is None:
        raise LoanError("loan", _("There is no such loan."))
    existing = session.scalars(sa.select(Bid).where(Bid.loan_id == loan.id, Bid.key == key)).first()
    amount = _money(amount_text, tenant.currency, "amount")
    if existing is not None:
        if (existing.member_id, existing.amount) != (lender.id, amount.minor):
            raise LoanError("key", _("This Idempotency-Key was used for another bid."))
        return existing
    if loan.status != "bidding":
        raise LoanError("loan", _("This loan is not open for bids."))
    if lender.id == loan.borrower_id:
        raise LoanError("amount", _("You cannot bid on your own loan."))
    if not lender.is_verified:
        raise LoanError("amount", _("Complete real-name verification before investing."))
    if lender.bidding_frozen:
        raise LoanError("amount", _("Bidding is frozen on your account. See your account page."))
    unit = bid_unit(tenant)
    if amount.minor % unit:
        raise LoanError("amount", _("Bid in multiples of ${unit}.", mapping={"unit": str(Money(unit, tenant.currency))}))
    if amount.minor > loan.remaining:
        raise LoanError("amount", _("Only ${left} is left to fund.", mapping={"left": str(Money(loan.remaining,
                                                                                                loan.currency))}))
    if amount.minor < min(loan.min_bid, loan.remaining):
        raise LoanError("amount", _("The smallest bid is ${minimum}.",
                                    mapping={"minimum": str(Money(loan.min_bid, loan.currency))}))
    if loan.max_bid is not None:
        mine = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Bid.amount), 0)).where(
            Bid.loan_id == loan.id, Bid.member_id == lender.id, Bid.status != "refunded"))
        if mine + amount.minor > loan.max_bid:
            raise LoanError("amount", _("One lender may bid at most ${maximum} on this loan.",
                                        mapping={"maximum": str(Money(loan.max_bid, loan.currency))}))
    bid = Bid(tenant_id=tenant.id, loan_id=loan.id, member_id=lender.id, amount=amount.minor, key=key, auto=auto)
    session.add(bid)
    session.flush()
    try:
        Wallet(Ledger(session, tenant.id), lender.id, loan.currency).freeze(
            amount, reason="bid_freeze", key=f"bid:{bid.id}:freeze", ref=f"loan:{loan.number}",
            initiator=f"member:{lender.id}")
    except InsufficientFunds:
        raise LoanError("amount", _("Your available balance is not enough.")) from None
    loan.funded += amount.minor
    record(session, loan, "bid", f"member:{lender.id}", bid=bid.id, amount=amount.minor, auto=auto)
    if loan.funded == loan.amount:
        loan.status = "full"
        record(session, loan, "full", "system")
        _settle_if_instant(session, tenant, loan)
    return bid


def _settle_if_instant(session, tenant, loan: Loan) -> None:
    """秒標: a full instant loan is disbursed and repaid at once, if its borrower can pay the interest."""
    from .. import jobs

    registry = jobs.context.plugins
    hooks = registry.for_tenant(tenant) if registry is not None else None
    loan_type = loan_types(hooks).get(loan.loan_type) if hooks is not None else None
    if loan_type is None or not loan_type.settles_when_full:
        return
    final_review(session, tenant, hooks, loan, approve=True, reason="", by="system")
    try:
        while loan.status == "repaying":
            repay_next(session, tenant, loan, by="system")
    except LoanError:
        record(session, loan, "instant_settlement_waiting", "system",
               why="the borrower cannot pay yet; close of day collects it")


def _refund_all(session, tenant_id: int, loan: Loan, why: str) -> None:
    ledger = Ledger(session, tenant_id)
    for bid in loan.bids:
        if bid.status == "frozen":
            Wallet(ledger, bid.member_id, loan.currency).unfreeze(
                Money(bid.amount, loan.currency), reason="bid_unfreeze", key=f"bid:{bid.id}:refund",
                ref=f"loan:{loan.number}", initiator="system")
            bid.status = "refunded"
    record(session, loan, "refunded", "system", why=why)


# -- final review and disbursement ----------------------------------------------------

def final_review(session, tenant, hooks, loan: Loan, *, approve: bool, reason: str, by: str) -> None:
    """Final review (復審): disburse to the borrower and set every schedule, or refund every bid."""
    if loan.status != "full":
        raise LoanError("decision", _("This loan is not waiting for a final review."))
    if not approve:
        if not (reason or "").strip():
            raise LoanError("reason", _("Give the borrower a reason."))
        _refund_all(session, tenant.id, loan, "final review rejected")
        loan.status, loan.review_note = "rejected", reason.strip()[:300]
        record(session, loan, "final_reviewed", by, approve=False, reason=reason)
        return
    method = repayment_methods(hooks).get(loan.repayment_method)
    if method is None:
        raise LoanError("decision", _("The loan's repayment method is no longer enabled."))
    schedule = method.schedule(LoanTerms(Money(loan.amount, loan.currency), loan.annual_rate_percent,
                                         loan.term_months, "month", tenant.business_date,
                                         max_rate_percent=Decimal(100)))
    bids = [b for b in loan.bids if b.status == "frozen"]
    fee = _fee(loan.amount, _percent(tenant, "borrower_fee_percent", "0"))
    disburse(Ledger(session, tenant.id), lenders=[(b.member_id, Money(b.amount, loan.currency)) for b in bids],
             borrower_id=loan.borrower_id, key=f"loan:{loan.id}:disburse", ref=f"loan:{loan.number}",
             initiator=by, fee=Money(fee, loan.currency))
    for row in schedule.installments:
        session.add(Installment(tenant_id=tenant.id, loan_id=loan.id, period=row.period, due_date=row.due_date,
                                principal=row.principal, interest=row.interest))
    for bid, share in zip(bids, schedule.share([b.amount for b in bids])):
        bid.status = "accepted"
        for row in share.installments:
            session.add(Payback(tenant_id=tenant.id, loan_id=loan.id, bid_id=bid.id, member_id=bid.member_id,
                                period=row.period, due_date=row.due_date, principal=row.principal,
                                interest=row.interest))
    loan.status, loan.disbursed_on = "repaying", tenant.business_date
    record(session, loan, "disbursed", by, amount=loan.amount, fee=fee, periods=len(schedule.installments))


# -- repayment ------------------------------------------------------------------------

def _lender_shares(tenant, loan: Loan, paybacks, penalty: int) -> tuple[list[Share], int]:
    """Each lender's share of an installment less the management fee, the penalty split pro rata."""
    percent = _percent(tenant, "lender_fee_percent", "0")
    weights = [p.principal + p.interest for p in paybacks]
    penalties = split_largest_remainder(penalty, weights) if penalty and sum(weights) else [0] * len(paybacks)
    shares, fees = [], 0
    for payback, extra in zip(paybacks, penalties):
        fee = _fee(payback.interest, percent)
        fees += fee
        shares.append(Share(payback.member_id, Money(payback.principal, loan.currency),
                            Money(payback.interest - fee + extra, loan.currency)))
    return shares, fees


def repay_next(session, tenant, loan: Loan, *, by: str, on: dt.date | None = None) -> Installment:
    """The borrower pays the earliest unpaid installment with its penalty interest.

    Lenders get their shares less the management fee (and the penalty, pro
    rata); an installment the risk reserve already advanced goes back to the
    reserve instead.
    """
    if loan.status not in ("repaying", "defaulted"):
        raise LoanError("loan", _("This loan is not being repaid."))
    due = next((i for i in loan.installments if i.status not in ("paid", "written_off")), None)
    if due is None:
        raise LoanError("loan", _("Every installment is paid."))
    ledger = Ledger(session, tenant.id)
    key, ref = f"loan:{loan.id}:repay:{due.period}", f"loan:{loan.number}:{due.period}"
    paybacks = session.scalars(sa.select(Payback).where(Payback.loan_id == loan.id, Payback.period == due.period)
                               .order_by(Payback.id)).all()
    try:
        if due.advanced_on is not None:
            borrower = Wallet(ledger, loan.borrower_id, loan.currency).available
            legs = [Transfer(borrower, _advancer(ledger, loan), Money(due.owed - due.late_fee, loan.currency),
                             "advance_recovery", ref)]
            if due.late_fee:
                legs.append(Transfer(borrower, ledger.platform("fee_income", loan.currency),
                                     Money(due.late_fee, loan.currency), "fee", ref))
            ledger.post(legs, key=key, initiator=by)
            fees = due.late_fee
        else:
            shares, fees = _lender_shares(tenant, loan, paybacks, due.penalty)
            fees += due.late_fee
            pay_installment(ledger, borrower_id=loan.borrower_id, shares=shares, key=key, ref=ref, initiator=by,
                            fee=Money(fees, loan.currency))
    except InsufficientFunds:
        raise LoanError("amount", _("The available balance does not cover installment ${period}.",
                                    mapping={"period": due.period})) from None
    day = on or tenant.business_date
    due.status, due.paid_on = "paid", day
    for payback in paybacks:
        if payback.status == "due":
            payback.status, payback.paid_on = "paid", day
    record(session, loan, "repaid", by, period=due.period, amount=due.owed, penalty=due.penalty, lender_fees=fees,
           advanced=due.advanced_on is not None)
    if all(i.status == "paid" for i in loan.installments):
        loan.status, loan.settled_on = "settled", day
        record(session, loan, "settled", "system")
        if loan.type_data.get("collateral_kind"):
            loan.type_data = {**loan.type_data, "released_on": day.isoformat()}
            record(session, loan, "collateral_released", "system", collateral=loan.type_data.get("collateral_kind"))
    return due


def _advancer(ledger: Ledger, loan: Loan) -> int:
    """Who advances an overdue installment: the loan's guarantor, else the platform's risk reserve."""
    if loan.type_data.get("guarantor_id"):
        from .guarantors import deposit_account

        return deposit_account(ledger, int(loan.type_data["guarantor_id"]), loan.currency)
    return ledger.platform("risk_reserve", loan.currency)


def pay_off(session, tenant, loan: Loan, *, by: str, on: dt.date | None = None) -> int:
    """提前還款: all remaining principal at once, with the current period's interest and penalty, plus the
    tenant's ``prepayment_fee_percent`` of the remaining principal (to the platform). Later periods'
    interest is not due. Returns what the borrower paid."""
    if loan.status not in ("repaying", "defaulted"):
        raise LoanError("loan", _("This loan is not being repaid."))
    unpaid = [i for i in loan.installments if i.status not in ("paid", "written_off")]
    if not unpaid or any(i.advanced_on is not None for i in unpaid):
        raise LoanError("loan", _("This loan cannot be paid off early now."))
    current, later = unpaid[0], unpaid[1:]
    paybacks = session.scalars(sa.select(Payback).where(Payback.loan_id == loan.id, Payback.status == "due")
                               .order_by(Payback.id)).all()
    by_lender: dict[int, list[int]] = {}
    for payback in paybacks:
        totals = by_lender.setdefault(payback.member_id, [0, 0])
        totals[0] += payback.principal
        if payback.period == current.period:
            totals[1] += payback.interest
    percent = _percent(tenant, "lender_fee_percent", "0")
    shares, fees = [], 0
    penalties = split_largest_remainder(current.penalty, [t[0] + t[1] for t in by_lender.values()]) \
        if current.penalty else [0] * len(by_lender)
    for (member_id, (principal, interest)), penalty in zip(by_lender.items(), penalties):
        fee = _fee(interest, percent)
        fees += fee
        shares.append(Share(member_id, Money(principal, loan.currency), Money(interest - fee + penalty, loan.currency)))
    remaining = sum(i.principal for i in unpaid)
    prepayment_fee = _fee(remaining, _percent(tenant, "prepayment_fee_percent", "0"))
    late_fees = sum(i.late_fee for i in unpaid)
    try:
        pay_installment(Ledger(session, tenant.id), borrower_id=loan.borrower_id, shares=shares,
                        key=f"loan:{loan.id}:payoff", ref=f"loan:{loan.number}:payoff", initiator=by,
                        fee=Money(fees + prepayment_fee + late_fees, loan.currency))
    except InsufficientFunds:
        raise LoanError("amount", _("The available balance does not cover paying the loan off.")) from None
    day = on or tenant.business_date
    for installment in unpaid:
        installment.status, installment.paid_on = "paid", day
    for installment in later:
        installment.interest = 0  # not due: the loan ended early
    for payback in paybacks:
        if payback.period != current.period:
            payback.interest = 0
        payback.status, payback.paid_on = "paid", day
    paid = remaining + current.interest + current.penalty + prepayment_fee + late_fees
    loan.status, loan.settled_on = "settled", day
    record(session, loan, "paid_off", by, principal=remaining, interest=current.interest, penalty=current.penalty,
           prepayment_fee=prepayment_fee)
    record(session, loan, "settled", "system")
    return paid


def advance(session, tenant, loan: Loan, installment: Installment, day: dt.date) -> bool:
    """墊付: the risk reserve pays the lenders an overdue installment; the borrower then owes the reserve."""
    paybacks = session.scalars(sa.select(Payback).where(Payback.loan_id == loan.id,
                                                        Payback.period == installment.period)).all()
    ledger = Ledger(session, tenant.id)
    shares, _fees = _lender_shares(tenant, loan, paybacks, 0)
    reserve = _advancer(ledger, loan)
    legs = [Transfer(reserve, Wallet(ledger, share.member_id, loan.currency).available, share.principal + share.interest,
                     "advance", f"loan:{loan.number}:{installment.period}") for share in shares]
    try:
        ledger.post(legs, key=f"loan:{loan.id}:advance:{installment.period}", initiator="close-of-day")
    except InsufficientFunds:
        record(session, loan, "advance_refused", "close-of-day", period=installment.period,
               why="the advancer's funds are not enough")
        return False
    installment.advanced_on = day
    for payback in paybacks:
        payback.status, payback.paid_on = "paid", day
    record(session, loan, "advanced", "close-of-day", period=installment.period)
    return True


def write_off(session, loan: Loan, *, reason: str, by: str) -> None:
    """核銷: staff close a defaulted loan; what is unpaid stays unpaid (lenders bear it unless advanced)."""
    if loan.status != "defaulted":
        raise LoanError("decision", _("Only a defaulted loan can be written off."))
    if not (reason or "").strip():
        raise LoanError("reason", _("Give a reason for the write-off."))
    for installment in loan.installments:
        if installment.status != "paid":
            installment.status = "written_off"
    session.execute(sa.update(Payback).where(Payback.loan_id == loan.id, Payback.status == "due")
                    .values(status="written_off"))
    loan.status, loan.review_note = "written_off", reason.strip()[:300]
    record(session, loan, "written_off", by, reason=reason)


# -- close of day ---------------------------------------------------------------------

def close_of_day(session, tenant, day: dt.date) -> dict:
    """Expire fundraising, collect due installments, mark the overdue, then move the business date on.

    Runs for the tenant's current business date only (no date is skipped) and
    once per date: a second run returns the first run's summary. Each step is
    idempotent, so a run that crashed part-way can simply run again.
    """
    done = session.scalars(sa.select(ClosedDay).where(ClosedDay.business_date == day)).first()
    if done is not None:
        return done.summary
    if day != tenant.business_date:
        raise LoanError("date", _("The business date is ${date}; close that day first.",
                                  mapping={"date": tenant.business_date.isoformat()}))
    summary = {"expired": 0, "repaid": 0, "overdue": 0}
    for loan in session.scalars(sa.select(Loan).where(Loan.status == "bidding", Loan.deadline <= day)).all():
        _refund_all(session, tenant.id, loan, "fundraising expired")
        loan.status = "failed"
        record(session, loan, "expired", "close-of-day")
        summary["expired"] += 1
    penalty_rate = _percent(tenant, "penalty_rate_percent_per_day", "0.05")
    late_fee = Money.parse(str((tenant.lending or {}).get("late_fee", "0")), tenant.currency).minor
    advance_after = int(_percent(tenant, "advance_after_days", "0"))
    accelerate_after = int(_percent(tenant, "accelerate_after_days", "90"))
    summary.update({"advanced": 0, "accelerated": 0})
    due = session.scalars(sa.select(Installment).where(Installment.status.in_(["due", "overdue"]),
                                                       Installment.due_date <= day)
                          .order_by(Installment.due_date, Installment.loan_id, Installment.period)).all()
    for installment in due:
        loan = installment.loan
        if installment.status in ("paid", "written_off") or loan.status not in ("repaying", "defaulted"):
            continue
        first_unpaid = next(i for i in loan.installments if i.status not in ("paid", "written_off"))
        available = Wallet(Ledger(session, tenant.id), loan.borrower_id, loan.currency).funds().available
        if first_unpaid is installment and available >= installment.owed:
            repay_next(session, tenant, loan, by="close-of-day", on=day)
            summary["repaid"] += 1
            continue
        if installment.status == "due":
            installment.status = "overdue"
            installment.late_fee = late_fee
            record(session, loan, "overdue", "close-of-day", period=installment.period, late_fee=late_fee)
            summary["overdue"] += 1
        days_late = (day - installment.due_date).days
        if days_late > 0:
            installment.penalty += _fee(installment.payment, penalty_rate)
        if advance_after and days_late >= advance_after and installment.advanced_on is None \
                and advance(session, tenant, loan, installment, day):
            summary["advanced"] += 1
        if loan.status == "repaying" and days_late >= accelerate_after:
            loan.status = "defaulted"
            for later in loan.installments:
                if later.status == "due":
                    later.status = "overdue"
            record(session, loan, "accelerated", "close-of-day", days_late=days_late)
            summary["accelerated"] += 1
    session.add(ClosedDay(tenant_id=tenant.id, business_date=day, summary=summary))
    tenant.business_date = day + dt.timedelta(days=1)
    return summary

