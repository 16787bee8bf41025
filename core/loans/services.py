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
from sqlalchemy.orm import selectinload

from ..db import checkpoint
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


def ledger_refs(loan: Loan) -> list[str]:
    """The ``ref`` of every ledger transfer a loan causes: bids, disbursement, each period, a payoff."""
    base = f"loan:{loan.number}"
    periods = len(loan.installments) or loan.term_months
    return [base, f"{base}:payoff"] + [f"{base}:{period}" for period in range(1, periods + 1)]


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
    repaid = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Installment.paid_principal), 0)).join(Loan)
                            .where(*active))
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
    receivable = session.execute(sa.select(sa.func.coalesce(sa.func.sum(Payback.principal - Payback.paid_principal), 0),
                                           sa.func.coalesce(sa.func.sum(Payback.interest - Payback.paid_interest), 0))
                                 .where(Payback.member_id == member_id, Payback.status == "due")).one()
    payable = session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(Installment.principal - Installment.paid_principal), 0),
        sa.func.coalesce(sa.func.sum(Installment.interest - Installment.paid_interest + Installment.penalty
                                     + Installment.late_fee - Installment.paid_charges), 0))
                              .join(Loan).where(Loan.borrower_id == member_id,
                                                Installment.status.in_(["due", "overdue"]))).one()
    return Position(funds.available, funds.frozen, *(int(x) for x in (*receivable, *payable)))


def net_assets(session, tenant, member_id: int) -> int:
    return position(session, tenant, member_id).net_assets


def borrower_history(session, member_id: int, *, excluding: int | None = None) -> dict:
    """A borrower's record: their loans by status (``by_status``) and installments overdue now."""
    where = [Loan.borrower_id == member_id] + ([Loan.id != excluding] if excluding is not None else [])
    by_status = dict(session.execute(sa.select(Loan.status, sa.func.count()).where(*where)
                                     .group_by(Loan.status)).all())
    overdue = session.scalar(sa.select(sa.func.count()).select_from(Installment).join(Loan).where(
        Loan.borrower_id == member_id, Installment.status == "overdue")) or 0
    return {"by_status": by_status, "overdue_now": int(overdue)}


def mask_name(name: str) -> str:
    """王小明 → 王**; Alice Smith → A**** S****: enough to recognise, not to identify."""
    name = (name or "").strip()
    if not name:
        return ""
    if " " in name:
        return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())
    return name[0] + "*" * max(len(name) - 1, 1)


def schedule_for(tenant, hooks, loan: Loan):
    """The loan's repayment schedule as its method computes it (before disbursement: a projection)."""
    method = repayment_methods(hooks).get(loan.repayment_method)
    if method is None:
        return None
    start = loan.disbursed_on or loan.deadline or tenant.business_date
    return method.schedule(LoanTerms(Money(loan.amount, loan.currency), loan.annual_rate_percent, loan.term_months,
                                     "month", start, max_rate_percent=Decimal(100)))


@dataclass(frozen=True)
class ExpectedPayback:
    """What a bid would bring its lender, shown before the bid is confirmed."""

    principal: int
    interest: int
    fee: int
    rows: tuple

    @property
    def total(self) -> int:
        return self.principal + self.interest - self.fee


def expected_payback(tenant, hooks, loan: Loan, amount: int) -> ExpectedPayback | None:
    """The lender's share of the projected schedule for a bid of ``amount`` (the rest to others),
    less the tenant's management fee on interest."""
    schedule = schedule_for(tenant, hooks, loan)
    if schedule is None or not 0 < amount <= loan.amount:
        return None
    weights = [amount] if amount == loan.amount else [amount, loan.amount - amount]
    mine = schedule.share(weights)[0]
    percent = _percent(tenant, "lender_fee_percent", "0")
    return ExpectedPayback(mine.total_principal, mine.total_interest,
                           sum(_fee(r.interest, percent) for r in mine.installments), mine.installments)


def borrower_profile(session, tenant, borrower: Member):
    from ..loan_types import BorrowerProfile

    currency = tenant.currency
    return BorrowerProfile(Money(borrower.credit_line, currency),
                           Money(max(borrower.credit_line - credit_used(session, borrower.id), 0), currency),
                           Money(net_assets(session, tenant, borrower.id), currency))


# Credit grades (信用等級), best first: staff grade a member with the credit line; lenders filter on them.
GRADES = ("AA", "A", "B", "C", "D", "E", "HR")


def grade_at_least(grade: str | None, minimum: str | None) -> bool:
    """Whether ``grade`` is ``minimum`` or better (no minimum: any grade, even none)."""
    if not minimum:
        return True
    return grade in GRADES and GRADES.index(grade) <= GRADES.index(minimum)


def set_credit_line(member: Member, amount_text: str, currency: str, grade: str | None = None) -> None:
    """Staff set a verified member's credit line and, when given, credit grade (AA best … HR)."""
    amount = Money.parse(str(amount_text or "").strip(), currency) if str(amount_text or "").strip() else None
    if amount is None or amount.minor < 0:
        raise LoanError("amount", _("Enter an amount such as 100.00."))
    if not member.is_verified:
        raise LoanError("amount", _("A credit line needs a verified member."))
    if grade and grade not in GRADES:
        raise LoanError("grade", _("Choose a credit grade from AA to HR."))
    member.credit_line = amount.minor
    if grade:
        member.credit_grade = grade


# -- application and first review ------------------------------------------------

def _terms(tenant, form: dict) -> tuple[Money, Decimal, int]:
    """An application's amount, annual rate and term in months, parsed (not yet bounded)."""
    amount = _money(form.get("amount"), tenant.currency, "amount")
    try:
        rate = Decimal(str(form.get("annual_rate_percent", "")).strip())
        months = int(str(form.get("term_months", "")).strip())
    except (ArithmeticError, ValueError):
        raise LoanError("annual_rate_percent", _("Enter the rate, the term and the fundraising days as numbers.")) \
            from None
    return amount, rate, months


def _schedule(tenant, method, amount: Money, rate: Decimal, months: int):
    try:
        return method.schedule(LoanTerms(amount, rate, months, "month", tenant.business_date,
                                         max_rate_percent=tenant.max_annual_rate_percent))
    except ScheduleError as error:
        raise LoanError(error.field, error.message) from None


def preview_schedule(tenant, hooks, form: dict):
    """The schedule an application's amount, rate, term and method would have (nothing is saved)."""
    amount, rate, months = _terms(tenant, form)
    method = repayment_methods(hooks).get(form.get("repayment_method", ""))
    if method is None:
        raise LoanError("repayment_method", _("Choose one of the repayment methods offered for this loan type."))
    return _schedule(tenant, method, amount, rate, months)


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
    amount, rate, months = _terms(tenant, form)
    try:
        days = int(str(form.get("fundraising_days", "7")).strip())
    except ValueError:
        raise LoanError("fundraising_days", _("Raise the money in 1 to 60 days.")) from None
    enabled = list(repayment_methods(hooks))
    method_code = form.get("repayment_method", "")
    if method_code not in loan_type.allowed_methods(enabled):
        raise LoanError("repayment_method", _("Choose one of the repayment methods offered for this loan type."))
    _schedule(tenant, repayment_methods(hooks)[method_code], amount, rate, months)
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
        type_data["guarantee"] = "pending"
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


def review(session, tenant, hooks, loan: Loan, *, approve: bool, reason: str, by: str) -> None:
    """First review (初審): publish for bidding until the deadline, or reject with a reason."""
    if loan.status != "submitted":
        raise LoanError("decision", _("This loan is not waiting for a first review."))
    if approve and loan.type_data.get("guarantor_id") and loan.type_data.get("guarantee") != "accepted":
        raise LoanError("decision", _("The guarantor has not accepted this loan yet."))
    if approve:
        loan.status = "bidding"
        loan.deadline = tenant.business_date + dt.timedelta(days=loan.fundraising_days)
        record(session, loan, "reviewed", by, approve=True, reason=reason)
        from .autoinvest import run_for_loan

        run_for_loan(session, tenant, hooks, loan)
        return
    else:
        if not (reason or "").strip():
            raise LoanError("reason", _("Give the borrower a reason."))
        loan.status, loan.review_note = "rejected", reason.strip()[:300]
    record(session, loan, "reviewed", by, approve=approve, reason=reason)


# -- bidding ------------------------------------------------------------------------

def bid_unit(tenant) -> int:
    return Money.parse(str((tenant.lending or {}).get("bid_unit", "50")), tenant.currency).minor


def parse_bid(tenant, loan: Loan, amount_text) -> int:
    """A bid amount checked against the loan: the tenant's unit, what is left, the smallest bid."""
    amount = _money(amount_text, tenant.currency, "amount")
    unit = bid_unit(tenant)
    if amount.minor % unit:
        raise LoanError("amount", _("Bid in multiples of ${unit}.", mapping={"unit": str(Money(unit, tenant.currency))}))
    if amount.minor > loan.remaining:
        raise LoanError("amount", _("Only ${left} is left to fund.", mapping={"left": str(Money(loan.remaining,
                                                                                                loan.currency))}))
    if amount.minor < min(loan.min_bid, loan.remaining):
        raise LoanError("amount", _("The smallest bid is ${minimum}.",
                                    mapping={"minimum": str(Money(loan.min_bid, loan.currency))}))
    return amount.minor


def place_bid(session, tenant, hooks, loan_id: int, lender: Member, amount_text: str, *, key: str,
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
    parse_bid(tenant, loan, amount_text)
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
        _settle_if_instant(session, tenant, hooks, loan)
    return bid


def partial_funding(tenant) -> int | None:
    """The share of a loan (percent) its borrower may accept when not fully funded; ``None``: not allowed."""
    lending = tenant.lending or {}
    if str(lending.get("allow_partial_funding", "false")).lower() not in ("true", "1", "yes", "on"):
        return None
    return int(_percent(tenant, "partial_funding_min_percent", "50"))


def accept_partial(session, tenant, loan: Loan, *, by: str) -> None:
    """The borrower takes what was raised so far (where the tenant allows it): the loan's amount becomes
    the funded amount and it goes to final review. The loan row must be locked by the caller."""
    minimum = partial_funding(tenant)
    if minimum is None:
        raise LoanError("loan", _("This site does not lend less than the amount asked for."))
    if loan.status != "bidding":
        raise LoanError("loan", _("This loan is not open for bids."))
    if loan.funded <= 0 or loan.funded * 100 < loan.amount * minimum:
        raise LoanError("loan", _("To accept it, at least ${percent}% must be raised.",
                                  mapping={"percent": minimum}))
    requested = loan.amount
    loan.type_data = {**loan.type_data, "requested_amount": requested}
    loan.amount, loan.status = loan.funded, "full"
    record(session, loan, "accepted_partial", by, requested=requested, funded=loan.funded)


def _settle_if_instant(session, tenant, hooks, loan: Loan) -> None:
    """秒標: a full instant loan is disbursed and repaid at once, if its borrower can pay the interest."""
    loan_type = loan_types(hooks).get(loan.loan_type)
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

def _split(total: int, weights: list[int]) -> list[int]:
    return split_largest_remainder(total, weights) if total and sum(weights) else [0] * len(weights)


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
        fee = _fee(payback.paid_interest + part_interest, percent) - _fee(payback.paid_interest, percent)
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
    if "paybacks" in loan.__dict__:  # loaded with the loan (close of day loads them per chunk)
        return [p for p in loan.paybacks if p.period == period]
    return session.scalars(sa.select(Payback).where(Payback.loan_id == loan.id, Payback.period == period)
                           .order_by(Payback.id)).all()


def _first_unpaid(loan: Loan) -> Installment | None:
    return next((i for i in loan.installments if i.status not in ("paid", "written_off")), None)


def _pay(session, tenant, loan: Loan, due: Installment, amount: int, *, by: str, day: dt.date) -> Allocation:
    """One ledger post paying ``amount`` (at most what is owed) of ``due``; the paybacks follow."""
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
        ledger.post(legs, key=key, initiator=by)
        fees = part.late_fee
    else:
        shares, fees, parts = _lender_shares(tenant, loan, paybacks, penalty=part.penalty, interest=part.interest,
                                             principal=part.principal)
        fees += part.late_fee
        pay_installment(ledger, borrower_id=loan.borrower_id, shares=shares, key=key, ref=ref, initiator=by,
                        fee=Money(fees, loan.currency))
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
        totals[2] += _fee(payback.paid_interest + interest, percent) - _fee(payback.paid_interest, percent)
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


# -- close of day ---------------------------------------------------------------------

def close_of_day(session, tenant, day: dt.date, *, hooks=None, commit_every: int | None = None) -> dict:
    """Expire fundraising, collect due installments, mark the overdue, then move the business date on.

    Runs for the tenant's current business date only (no date is skipped) and
    once per date: a second run returns the first run's summary. Each step is
    idempotent — money moves under keys derived from the loan, states only move
    forward, penalty interest records the day it accrued for — so a run that
    crashed part-way simply runs again. With ``commit_every`` (jobs and the
    CLI) the work is committed every that many loans, so a run over many
    loans holds no long transaction and a crash keeps what was done.
    """
    done = session.scalars(sa.select(ClosedDay).where(ClosedDay.business_date == day)).first()
    if done is not None:
        return done.summary
    if day != tenant.business_date:
        raise LoanError("date", _("The business date is ${date}; close that day first.",
                                  mapping={"date": tenant.business_date.isoformat()}))
    tenant_id = tenant.id
    summary = {"expired": 0, "repaid": 0, "overdue": 0, "advanced": 0, "accelerated": 0, "collected_part": 0}

    def batches(ids):
        for start in range(0, len(ids), commit_every or len(ids) or 1):
            yield ids[start:start + (commit_every or len(ids))]
            if commit_every:
                checkpoint(session)

    expiring = session.scalars(sa.select(Loan.id).where(Loan.status == "bidding", Loan.deadline <= day)
                               .order_by(Loan.id)).all()
    for ids in batches(expiring):
        for loan in session.scalars(sa.select(Loan).where(Loan.id.in_(ids)).order_by(Loan.id)):
            _refund_all(session, tenant_id, loan, "fundraising expired")
            loan.status = "failed"
            record(session, loan, "expired", "close-of-day")
            summary["expired"] += 1
    terms = _overdue_terms(tenant)
    due = session.scalars(sa.select(Installment.id).where(Installment.status.in_(["due", "overdue"]),
                                                          Installment.due_date <= day)
                          .order_by(Installment.due_date, Installment.loan_id, Installment.period)).all()
    for ids in batches(due):
        rows = session.scalars(sa.select(Installment).where(Installment.id.in_(ids))
                               .options(selectinload(Installment.loan).selectinload(Loan.installments),
                                        selectinload(Installment.loan).selectinload(Loan.paybacks))
                               .order_by(Installment.due_date, Installment.loan_id, Installment.period)).all()
        for installment in rows:
            _close_installment(session, tenant, installment, day, terms, summary)
    tenant = session.get(type(tenant), tenant_id)
    if hooks is not None:
        hooks.lendstack_close_of_day(tenant=tenant, business_date=day)
    session.add(ClosedDay(tenant_id=tenant_id, business_date=day, summary=summary))
    tenant.business_date = day + dt.timedelta(days=1)
    return summary


@dataclass(frozen=True)
class _OverdueTerms:
    penalty_rate: Decimal
    late_fee: int
    advance_after: int
    accelerate_after: int
    collect_partial: bool


def _overdue_terms(tenant) -> _OverdueTerms:
    lending = tenant.lending or {}
    return _OverdueTerms(_percent(tenant, "penalty_rate_percent_per_day", "0.05"),
                         Money.parse(str(lending.get("late_fee", "0")), tenant.currency).minor,
                         int(_percent(tenant, "advance_after_days", "0")),
                         int(_percent(tenant, "accelerate_after_days", "90")),
                         str(lending.get("collect_partial", "true")).lower() in ("true", "1", "yes", "on"))


def _close_installment(session, tenant, installment: Installment, day: dt.date, terms: _OverdueTerms,
                       summary: dict) -> None:
    """Close of day for one installment due by ``day``: collect it, or mark it overdue and apply the rules."""
    loan = installment.loan
    if installment.status in ("paid", "written_off") or loan.status not in ("repaying", "defaulted"):
        return
    if _first_unpaid(loan) is installment:
        available = Wallet(Ledger(session, tenant.id), loan.borrower_id, loan.currency).funds().available
        if available >= installment.owed:
            _pay(session, tenant, loan, installment, installment.owed, by="close-of-day", day=day)
            _settle_if_paid(session, loan, day)
            summary["repaid"] += 1
            return
        if available > 0 and terms.collect_partial:
            _pay(session, tenant, loan, installment, available, by="close-of-day", day=day)
            summary["collected_part"] += 1
    if installment.status == "due":
        installment.status = "overdue"
        installment.late_fee = terms.late_fee
        record(session, loan, "overdue", "close-of-day", period=installment.period, late_fee=terms.late_fee)
        summary["overdue"] += 1
    days_late = (day - installment.due_date).days
    if days_late > 0 and (installment.penalty_through is None or installment.penalty_through < day):
        installment.penalty += _fee(installment.unpaid_payment, terms.penalty_rate)
        installment.penalty_through = day
    if terms.advance_after and days_late >= terms.advance_after and installment.advanced_on is None \
            and advance(session, tenant, loan, installment, day):
        summary["advanced"] += 1
    if loan.status == "repaying" and days_late >= terms.accelerate_after:
        loan.status = "defaulted"
        for later in loan.installments:
            if later.status == "due":
                later.status = "overdue"
        record(session, loan, "accelerated", "close-of-day", days_late=days_late)
        summary["accelerated"] += 1
