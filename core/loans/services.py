"""The loan lifecycle over the ledger: the borrower's standing, apply, review, bid, final review and
disbursement — and, through :mod:`.repayment` and :mod:`.closing`, repayment and close of day.

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
from ..ledger import InsufficientFunds, Ledger, Transfer, Wallet, disburse
from ..loan_types import LoanApplication
from ..members.models import Member
from ..money import InvalidAmount, InvalidRate, Money, parse_amount, parse_positive, parse_rate, whole_number
from ..numbering import next_number
from ..portal.tools import methods as repayment_methods
from ..schedules import LoanTerms, ScheduleError
from . import cost
from .models import Bid, Installment, Loan, LoanEvent, Payback


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
    payable_interest: int  # with penalty interest, late fees and service fees

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
                                     + Installment.late_fee - Installment.paid_charges
                                     + Installment.service_fee - Installment.paid_fee), 0))
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


def schedule_for(tenant, method, loan: Loan, start: dt.date | None = None):
    """The loan's repayment schedule by its ``method`` from ``start`` (by default the disbursement, else a
    projection from the fundraising deadline). The rate cap was checked when the borrower applied."""
    start = start or loan.disbursed_on or loan.deadline or tenant.business_date
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


def expected_payback(tenant, schedule, loan: Loan, amount: int) -> ExpectedPayback | None:
    """The lender's share of the loan's projected ``schedule`` for a bid of ``amount`` (the rest to others),
    less the tenant's management fee on interest."""
    if schedule is None or not 0 < amount <= loan.amount:
        return None
    weights = [amount] if amount == loan.amount else [amount, loan.amount - amount]
    mine = schedule.share(weights)[0]
    percent = _percent(tenant, "lender_fee_percent", "0")
    # the fee is charged on the interest received so far (cumulative), so over the loan it is this, exactly
    return ExpectedPayback(mine.total_principal, mine.total_interest, _fee(mine.total_interest, percent),
                           mine.installments)


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
    try:
        amount = parse_amount(amount_text, currency, form=True)
    except InvalidAmount as error:
        raise LoanError("amount", error.message) from None
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
        rate = parse_rate(form.get("annual_rate_percent"))
    except InvalidRate as error:
        raise LoanError("annual_rate_percent", error.message) from None
    months = whole_number(form.get("term_months"))
    if months is None:
        raise LoanError("term_months", _("Enter a whole number."))
    return amount, rate, months


def _text(form: dict, field: str, limit: int) -> str:
    """A text field as typed (trimmed), refused — never cut short — past ``limit`` characters."""
    text = str(form.get(field) or "").strip()
    if len(text) > limit:
        raise LoanError(field, _("Use at most ${n} characters.", mapping={"n": limit}))
    return text


def _schedule(tenant, method, amount: Money, rate: Decimal, months: int):
    try:
        return method.schedule(LoanTerms(amount, rate, months, "month", tenant.business_date,
                                         max_rate_percent=tenant.max_annual_rate_percent))
    except ScheduleError as error:
        raise LoanError(error.field, error.message) from None


@dataclass(frozen=True)
class Preview:
    """What an application would cost: its schedule, the fee as the tenant charges it, and the APR."""

    schedule: object
    charges: cost.Charges
    apr: Decimal | None

    @property
    def rows(self):
        """(installment, service fee) per period."""
        return tuple(zip(self.schedule.installments, self.charges.per_period))

    @property
    def total_payment(self) -> int:
        return self.schedule.total_payment + sum(self.charges.per_period) + self.charges.at_start


def _costed(tenant, amount: Money, schedule) -> Preview:
    """The schedule with the tenant's fee and its APR; refused when the APR passes the tenant's cap."""
    charged = cost.charges(tenant, amount.minor, len(schedule.installments))
    apr = cost.apr_percent(tenant.business_date, schedule.installments, charged)
    cap = tenant.max_annual_rate_percent
    if apr is None or apr > cap:
        raise LoanError("annual_rate_percent", _(
            "With the platform's fee the annual cost (APR) would be ${apr}%, above this site's cap of ${cap}%.",
            mapping={"apr": str(apr) if apr is not None else "—", "cap": str(cap)}))
    return Preview(schedule, charged, apr)


def preview_schedule(tenant, hooks, form: dict) -> Preview:
    """The schedule, fee and APR an application's amount, rate, term and method would have (nothing is
    saved); refused like the application when the rate or the APR passes the tenant's cap."""
    amount, rate, months = _terms(tenant, form)
    method = repayment_methods(hooks).get(form.get("repayment_method", ""))
    if method is None:
        raise LoanError("repayment_method", _("Choose one of the repayment methods offered for this loan type."))
    return _costed(tenant, amount, _schedule(tenant, method, amount, rate, months))


def loan_apr(tenant, loan: Loan, schedule=None) -> Decimal | None:
    """A loan's APR: from its installments and the fee it was disbursed with, or — before disbursement —
    from the projected ``schedule`` and the tenant's fee as it stands."""
    if loan.installments:
        rows = sorted(loan.installments, key=lambda i: i.period)
        charged = cost.Charges(loan.fee_mode or cost.DEFAULT_FEE_MODE, loan.borrower_fee,
                               0 if loan.fee_mode == "installments" else loan.borrower_fee,
                               tuple(i.service_fee for i in rows),
                               loan.amount - (loan.borrower_fee if loan.fee_mode == "deducted" else 0))
        return cost.apr_percent(loan.disbursed_on, rows, charged)
    if schedule is None:
        return None
    charged = cost.charges(tenant, loan.amount, len(schedule.installments))
    start = loan.deadline or tenant.business_date  # where schedule_for starts a projection
    return cost.apr_percent(start, schedule.installments, charged)


def apply(session, tenant, hooks, borrower: Member, form: dict, *, by_staff: bool = False) -> Loan:
    """A borrower's application (借款項目申請), checked by core and by the loan type's rules.

    ``by_staff``: staff submit it for the borrower (the only way for a
    ``staff_only`` type such as instant loans).
    """
    # The borrower's row lock is held until the loan is saved: two applications at once would both see
    # room in the credit line (or the net assets) and together pass it.
    session.execute(sa.select(Member.id).where(Member.id == borrower.id).with_for_update())
    if not borrower.is_verified:
        raise LoanError("amount", _("Complete real-name verification before borrowing."))
    types = loan_types(hooks)
    loan_type = types.get(form.get("loan_type", ""))
    if loan_type is None or (loan_type.staff_only and not by_staff):
        raise LoanError("loan_type", _("Choose one of the loan types offered."))
    title = str(form.get("title") or "").strip()
    if not 4 <= len(title) <= 120:
        raise LoanError("title", _("Give the loan a title of 4 to 120 characters."))
    amount, rate, months = _terms(tenant, form)
    days = whole_number(form.get("fundraising_days") or "7")
    if days is None:
        raise LoanError("fundraising_days", _("Raise the money in 1 to 60 days."))
    enabled = list(repayment_methods(hooks))
    method_code = form.get("repayment_method", "")
    if method_code not in loan_type.allowed_methods(enabled):
        raise LoanError("repayment_method", _("Choose one of the repayment methods offered for this loan type."))
    _costed(tenant, amount, _schedule(tenant, repayment_methods(hooks)[method_code], amount, rate, months))
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
    type_data = {k: _text(form, k, 500) for k in ("collateral_kind", "collateral_description",
                                                 "appraised_value") if form.get(k)} \
        if loan_type.holds_collateral else {}
    purpose = _text(form, "purpose", 500)
    if loan_type.needs_guarantor:
        from .guarantors import check as check_guarantor

        type_data["guarantor_id"] = str(check_guarantor(session, tenant, form, amount).id)
        type_data["guarantee"] = "pending"
    number = f"L{tenant.business_date:%y%m}{next_number(session, tenant.id, 'loan'):05d}"  # last: a short lock
    loan = Loan(tenant_id=tenant.id, number=number, borrower_id=borrower.id,
                type_data=type_data,
                loan_type=loan_type.code, title=title, purpose=purpose,
                amount=amount.minor, currency=amount.currency, annual_rate_percent=rate, term_months=months,
                repayment_method=method_code, min_bid=min_bid.minor,
                max_bid=max_bid.minor if max_bid else None, fundraising_days=days)
    session.add(loan)
    session.flush()
    record(session, loan, "submitted", f"member:{borrower.id}", amount=loan.amount)
    return loan


def _rejection(reason) -> str:
    """The reason a borrower is given for a rejection: required, at most 300 characters (never cut)."""
    note = _text({"reason": reason}, "reason", 300)
    if not note:
        raise LoanError("reason", _("Give the borrower a reason."))
    return note


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
        loan.status, loan.review_note = "rejected", _rejection(reason)
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
    from .repayment import repay_next

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
        note = _rejection(reason)
        _refund_all(session, tenant.id, loan, "final review rejected")
        loan.status, loan.review_note = "rejected", note
        record(session, loan, "final_reviewed", by, approve=False, reason=reason)
        return
    method = repayment_methods(hooks).get(loan.repayment_method)
    if method is None:
        raise LoanError("decision", _("The loan's repayment method is no longer enabled."))
    bids = [b for b in loan.bids if b.status == "frozen"]
    frozen = sum(b.amount for b in bids)
    if frozen != loan.amount or loan.funded != loan.amount:
        # The borrower gets exactly what the schedules will pay the lenders back: never more, never less.
        raise LoanError("decision", _("The frozen bids (${frozen}) do not add up to the loan's amount (${amount}); "
                                      "it cannot be disbursed.",
                                      mapping={"frozen": str(Money(frozen, loan.currency)),
                                               "amount": str(Money(loan.amount, loan.currency))}))
    schedule = schedule_for(tenant, method, loan, start=tenant.business_date)
    charged = cost.charges(tenant, loan.amount, len(schedule.installments))
    ledger = Ledger(session, tenant.id)
    borrower = Wallet(ledger, loan.borrower_id, loan.currency)
    if charged.mode == "upfront" and borrower.funds().available < charged.fee:
        raise LoanError("decision", _("The borrower's balance does not cover the fee of ${fee}, paid at "
                                      "disbursement; they must recharge first.",
                                      mapping={"fee": str(Money(charged.fee, loan.currency))}))
    disburse(ledger, lenders=[(b.member_id, Money(b.amount, loan.currency)) for b in bids],
             borrower_id=loan.borrower_id, key=f"loan:{loan.id}:disburse", ref=f"loan:{loan.number}",
             initiator=by, fee=Money(charged.fee if charged.mode == "deducted" else 0, loan.currency))
    if charged.mode == "upfront" and charged.fee:
        # its own payment, from what the borrower held before the loan arrived (checked above)
        ledger.post([Transfer(borrower.available, ledger.platform("fee_income", loan.currency),
                              Money(charged.fee, loan.currency), "fee", f"loan:{loan.number}")],
                    key=f"loan:{loan.id}:fee", initiator=by)
    for row, service_fee in zip(schedule.installments, charged.per_period):
        session.add(Installment(tenant_id=tenant.id, loan_id=loan.id, period=row.period, due_date=row.due_date,
                                principal=row.principal, interest=row.interest, service_fee=service_fee))
    for bid, share in zip(bids, schedule.share([b.amount for b in bids])):
        bid.status = "accepted"
        for row in share.installments:
            session.add(Payback(tenant_id=tenant.id, loan_id=loan.id, bid_id=bid.id, member_id=bid.member_id,
                                period=row.period, due_date=row.due_date, principal=row.principal,
                                interest=row.interest))
    loan.status, loan.disbursed_on = "repaying", tenant.business_date
    loan.borrower_fee, loan.fee_mode = charged.fee, charged.mode
    record(session, loan, "disbursed", by, amount=loan.amount, fee=charged.fee, fee_mode=charged.mode,
           periods=len(schedule.installments))


# The rest of the lifecycle, reachable from here too so callers keep one entry point (PEP 562: loaded on
# first use, so :mod:`.repayment` and :mod:`.closing` may import this module without a cycle).
_ELSEWHERE = {name: "repayment" for name in (
    "Allocation", "allocate", "decline_write_off", "overdue_rows", "pay_off", "pending_write_off", "repay",
    "repay_installments", "repay_next", "request_write_off", "write_off")} | {"close_of_day": "closing"}


def __getattr__(name: str):
    if name in _ELSEWHERE:
        import importlib

        return getattr(importlib.import_module(f"{__package__}.{_ELSEWHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
