"""Auto-invest (自動投標): lenders' standing rules bid for them when a loan opens.

Rules are tried in a fair queue — the rule that bid longest ago (or never)
first — and together never take more than the tenant's
``auto_invest_max_percent`` (default 70) of a loan, so manual lenders always
have a part. Each rule bids at most ``amount_per_loan``, keeps
``keep_balance`` available, and only on loans within its rate and term ranges
and of its loan types, whose borrower's credit grade is at least its ``min_grade``.
Auto bids are ordinary bids marked ``auto``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantOwned, utcnow
from ..i18n import _
from ..ledger import Ledger, Wallet
from ..members.models import Member
from ..money import InvalidAmount, InvalidRate, Money, parse_amount, parse_rate, whole_number
from .bidding import place_bid
from .errors import LoanError
from .models import Loan
from .records import record
from .rules import GRADES, auto_invest_target, bid_unit, grade_at_least

PRESETS = {
    # risk preference presets: (min rate, max rate, max term months, lowest borrower credit grade)
    "high_yield": ("10", "36", 36, ""),
    "high_credit": ("0", "12", 12, "A"),
}


class AutoInvestRule(TenantOwned, Base):
    __tablename__ = "autoinvest_rules"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    enabled: Mapped[bool] = mapped_column(default=True)
    amount_per_loan: Mapped[int] = mapped_column(sa.BigInteger)
    min_rate: Mapped[Decimal]
    max_rate: Mapped[Decimal]
    min_term: Mapped[int] = mapped_column(default=1)
    max_term: Mapped[int] = mapped_column(default=36)
    loan_types: Mapped[list] = mapped_column(sa.JSON, default=list)
    keep_balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    min_grade: Mapped[str | None] = mapped_column(sa.String(2))  # the borrower's credit grade at least this
    last_bid_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def save_rule(session, tenant, member: Member, form: dict, *, offered_types=()) -> AutoInvestRule:
    """Create or change the member's rule from form or JSON values; refuses bad input by field.

    ``offered_types``: the codes of the tenant's loan types; a rule may name
    only those (it names none to take every type). Amounts and rates follow
    the input contract of :mod:`core.money`.
    """
    preset = form.get("preset") or ""
    if preset and preset not in PRESETS:
        raise LoanError("preset", _("Choose one of the presets."))
    low, high, longest, grade = PRESETS.get(
        preset,
        (
            form.get("min_rate") or "0",
            form.get("max_rate") or "36",
            form.get("max_term") or 36,
            form.get("min_grade") or "",
        ),
    )
    if grade and grade not in GRADES:
        raise LoanError("min_grade", _("Choose a credit grade from AA to HR."))
    min_rate, max_rate = _rate("min_rate", low), _rate("max_rate", high)
    min_term, max_term = _term("min_term", form.get("min_term") or 1), _term("max_term", longest)
    if not min_rate <= max_rate or not min_term <= max_term:
        raise LoanError("min_rate", _("Give a rate range and a term range from the lower to the higher."))
    amount = _amount("amount_per_loan", form.get("amount_per_loan"), tenant.currency)
    if amount < bid_unit(tenant):
        raise LoanError(
            "amount_per_loan",
            _("Bid at least ${unit} per loan.", mapping={"unit": str(Money(bid_unit(tenant), tenant.currency))}),
        )
    keep_balance = _amount("keep_balance", form.get("keep_balance") or "0", tenant.currency)
    types = _loan_types(form.get("loan_types"), offered_types)
    rule = session.scalars(sa.select(AutoInvestRule).where(AutoInvestRule.member_id == member.id)).first()
    if rule is None:
        rule = AutoInvestRule(tenant_id=tenant.id, member_id=member.id)
        session.add(rule)
    rule.enabled = str(form.get("enabled", "on")).lower() in ("on", "true", "1", "yes")
    rule.amount_per_loan, rule.keep_balance = amount, keep_balance
    rule.min_rate, rule.max_rate, rule.min_term, rule.max_term = min_rate, max_rate, min_term, max_term
    rule.loan_types = types
    rule.min_grade = grade or None
    session.flush()
    return rule


MAX_RULE_RATE = Decimal(100)  # a rule's rate range lies within 0–100 percent
MAX_RULE_TERM = 600


def _amount(field: str, text, currency: str) -> int:
    try:
        return parse_amount(text, currency, form=True).minor
    except InvalidAmount as invalid:
        raise LoanError(field, invalid.message) from None


def _rate(field: str, text) -> Decimal:
    try:
        return parse_rate(text, maximum=MAX_RULE_RATE)
    except InvalidRate as invalid:
        raise LoanError(field, invalid.message) from None


def _term(field: str, value) -> int:
    months = whole_number(value)
    if months is None or not 1 <= months <= MAX_RULE_TERM:
        raise LoanError(field, _("The term must be between 1 and ${limit} months.", mapping={"limit": MAX_RULE_TERM}))
    return months


def _loan_types(value, offered) -> list[str]:
    """The loan types a rule names, each one the tenant offers (none: every type)."""
    types = [value] if isinstance(value, str) else list(value or [])
    if any(not isinstance(code, str) or code not in offered for code in types):
        raise LoanError("loan_types", _("Choose one of the loan types offered."))
    return list(dict.fromkeys(types))


def run_for_loan(session, tenant, hooks, loan: Loan) -> int:
    """Place the auto bids a newly opened loan gets; how many were placed."""
    cap = loan.amount * int(Decimal(str((tenant.lending or {}).get("auto_invest_max_percent", "70")))) // 100
    unit = bid_unit(tenant)
    rules = session.scalars(
        sa.select(AutoInvestRule)
        .where(AutoInvestRule.enabled.is_(True))
        .order_by(AutoInvestRule.last_bid_at.is_not(None), AutoInvestRule.last_bid_at, AutoInvestRule.id)
    ).all()
    taken, placed = 0, 0
    ledger = Ledger(session, tenant.id)
    borrower = session.get(Member, loan.borrower_id)
    for rule in rules:
        if not auto_invest_target(loan) or rule.member_id == loan.borrower_id:
            continue
        if not (
            rule.min_rate <= loan.annual_rate_percent <= rule.max_rate
            and rule.min_term <= loan.term_months <= rule.max_term
        ):
            continue
        if rule.loan_types and loan.loan_type not in rule.loan_types:
            continue
        if not grade_at_least(borrower.credit_grade, rule.min_grade):
            continue
        lender = session.get(Member, rule.member_id)
        spare = Wallet(ledger, rule.member_id, loan.currency).funds().available - rule.keep_balance
        amount = min(rule.amount_per_loan, spare, loan.remaining, cap - taken)
        if loan.max_bid is not None:
            amount = min(amount, loan.max_bid)
        amount -= amount % unit
        if lender is None or amount < min(loan.min_bid, loan.remaining) or amount <= 0:
            continue
        try:
            place_bid(
                session,
                tenant,
                hooks,
                loan.id,
                lender,
                str(Money(amount, loan.currency)),
                key=f"auto:{rule.id}:{loan.id}",
                auto=True,
            )
        except LoanError:
            continue
        rule.last_bid_at = utcnow()
        taken += amount
        placed += 1
    if placed:
        record(session, loan, "auto_invest", "system", bids=placed, amount=taken)
    return placed
