"""Recharge, withdrawal and adjustment flows, and the handling of gateway callbacks.

Rules that hold whatever a gateway or a browser does:

- money moves only through the ledger, under a key derived from the record
  (``recharge:<id>``, ``withdraw:<id>:freeze|paid|release``, ``adjust:<id>``),
  so a repeated callback or a retried request can never post twice;
- the browser's return page never credits anything: only a verified callback
  (or a cashier, offline) settles a payment;
- a callback is checked against the record it names — unknown reference,
  other amount or currency: rejected and recorded for staff — and the record
  is locked while it is applied, so 100 concurrent deliveries apply once;
- a settled record never changes again: a failure reported after a success is
  recorded and ignored.
"""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from decimal import Decimal

import sqlalchemy as sa
import transaction

from ..db import scope_to_tenant, tm_session, utcnow
from ..domain import DomainError
from ..i18n import _
from ..ledger import InsufficientFunds, Ledger, Transfer, Wallet
from ..ledger.posting import TRANSFERS
from ..loans.standing import net_assets, net_worth_floor
from ..members.models import BankCard, Member
from ..money import InvalidAmount, Money, parse_positive, whole_number
from . import Callback, CallbackRejected, GatewayUnavailable, PaymentRequest, PayoutRequest, gateways
from .models import (
    ADJUSTMENTS,
    PAYMENTS,
    WITHDRAWALS,
    Adjustment,
    AdjustmentStatus,
    CallbackRecord,
    Payment,
    PaymentStatus,
    Withdrawal,
    WithdrawalStatus,
)


class FundsError(DomainError):
    """Input a funds flow refuses; ``field`` names it and ``message`` is a translation string."""


def _reference(prefix: str) -> str:
    return f"{prefix}{utcnow():%y%m%d}{secrets.token_hex(5).upper()}"


def _staff_reason(reason, field: str = "reason", *, required: bool = True) -> str:
    """A reason staff typed: trimmed, required unless said otherwise, refused (never cut) past 300 characters."""
    text = str(reason or "").strip()
    if required and not text:
        raise FundsError(field, _("Give the member a reason."))
    if len(text) > 300:
        raise FundsError(field, _("Use at most ${n} characters.", mapping={"n": 300}))
    return text


def positive_money(text, currency: str, field: str = "amount") -> Money:
    """An amount above zero as a form or the API gives it, parsed by the input contract; refused by field."""
    try:
        return parse_positive(text, currency)
    except InvalidAmount as error:
        raise FundsError(field, error.message) from None


# -- recharge ---------------------------------------------------------------------


def start_recharge(session, tenant, hooks, member: Member, gateway_code: str, amount_text: str, return_url: str):
    """Record a pending recharge and ask the gateway where the member pays; (payment, instruction)."""
    gateway = gateways(hooks).get(gateway_code)
    if gateway is None:
        raise FundsError("gateway", _("Choose a payment method."))
    amount = positive_money(amount_text, tenant.currency)
    low, high = gateway.limits(tenant.currency)
    if not low.minor <= amount.minor <= high.minor:
        raise FundsError(
            "amount", _("Enter an amount from ${low} to ${high}.", mapping={"low": str(low), "high": str(high)})
        )
    fee = gateway.fee(amount)
    if fee.minor >= amount.minor:
        raise FundsError("amount", _("The amount does not cover the fee of ${fee}.", mapping={"fee": str(fee)}))
    payment = Payment(
        tenant_id=tenant.id,
        reference=_reference("R"),
        member_id=member.id,
        gateway=gateway.code,
        amount=amount.minor,
        fee=fee.minor,
        currency=amount.currency,
    )
    session.add(payment)
    session.flush()
    try:
        instruction = gateway.create_payment(
            PaymentRequest(
                payment.reference,
                amount,
                return_url.replace("REFERENCE", payment.reference),
                description=tenant.brand("site_title", tenant.name),
            )
        )
    except GatewayUnavailable:
        raise FundsError("gateway", _("The payment provider cannot be reached now. Try again later.")) from None
    payment.gateway_ref = instruction.gateway_ref[:120]
    return payment, instruction


def query_payment(request, payment: Payment) -> str:
    """Ask the gateway about a pending payment and apply what it says, as a callback would; the verdict."""
    gateway = gateways(request.hooks).get(payment.gateway)
    if gateway is None or not gateway.online or payment.status != PaymentStatus.PENDING:
        raise FundsError("decision", _("This payment cannot be checked with its gateway."))
    try:
        answer = gateway.query_payment(payment.reference, payment.gateway_ref)
    except GatewayUnavailable:
        raise FundsError("decision", _("The payment provider cannot be reached now. Try again later.")) from None
    if answer is None:
        return "pending"
    try:
        verdict, reason = apply_payment_callback(request.dbsession, request.tenant, answer, payment.gateway)
    except CallbackRejected as rejected:
        verdict, reason = "rejected", rejected.reason
    request.dbsession.add(
        CallbackRecord(
            tenant_id=request.tenant.id,
            gateway=payment.gateway,
            kind="query",
            reference=payment.reference,
            verdict=verdict,
            reason=reason[:300],
        )
    )
    return verdict


def declare_offline(payment: Payment, bank_reference: str) -> None:
    """The member says they made the bank transfer (with the bank's reference); a cashier checks."""
    bank_reference = (bank_reference or "").strip()
    if payment.gateway != "offline" or payment.status != PaymentStatus.PENDING:
        raise FundsError("reference", _("This recharge is not waiting for a transfer."))
    if not 4 <= len(bank_reference) <= 120:
        raise FundsError("reference", _("Enter the bank's reference for your transfer."))
    payment.declared_ref = bank_reference
    PAYMENTS.move(payment, PaymentStatus.DECLARED)


def _settle_payment(session, tenant_id: int, payment: Payment, succeeded: bool, gateway_ref: str, by: str) -> None:
    if succeeded:
        Wallet(Ledger(session, tenant_id), payment.member_id, payment.currency).recharge(
            Money(payment.amount, payment.currency),
            fee=Money(payment.fee, payment.currency),
            key=f"recharge:{payment.id}",
            ref=f"payment:{payment.reference}",
            initiator=by,
        )
        PAYMENTS.move(payment, PaymentStatus.SUCCEEDED)
    else:
        PAYMENTS.move(payment, PaymentStatus.FAILED)
    payment.gateway_ref = gateway_ref[:120] or payment.gateway_ref
    payment.settled_at = utcnow()


def review_offline(session, tenant_id: int, payment: Payment, *, approve: bool, reason: str, by: str) -> None:
    """A cashier confirms (credits) or rejects a declared offline recharge."""
    if payment.gateway != "offline" or payment.status not in (PaymentStatus.PENDING, PaymentStatus.DECLARED):
        raise FundsError("decision", _("This recharge is not waiting for review."))
    if approve:
        _settle_payment(session, tenant_id, payment, True, payment.declared_ref, by)
    else:
        note = _staff_reason(reason)
        PAYMENTS.move(payment, PaymentStatus.REJECTED)
        payment.note, payment.settled_at = note, utcnow()
    payment.reviewed_by = by


def _locked_by_id(session, model, record_id: int):
    return session.scalars(sa.select(model).where(model.id == record_id).with_for_update()).first()


def locked_payment(session, payment_id: int) -> Payment | None:
    """The recharge with ``payment_id``, its row locked until the transaction ends (``None``: none), so a
    cashier's decision and a gateway's callback apply one after the other."""
    return _locked_by_id(session, Payment, payment_id)


def locked_withdrawal(session, withdrawal_id: int) -> Withdrawal | None:
    """The withdrawal with ``withdrawal_id``, its row locked until the transaction ends (``None``: none)."""
    return _locked_by_id(session, Withdrawal, withdrawal_id)


def locked_adjustment(session, adjustment_id: int) -> Adjustment | None:
    """The adjustment with ``adjustment_id``, its row locked until the transaction ends (``None``: none)."""
    return _locked_by_id(session, Adjustment, adjustment_id)


def _locked(session, model, tenant_id: int, reference: str):
    return session.scalars(
        sa.select(model).where(model.tenant_id == tenant_id, model.reference == reference).with_for_update()
    ).first()


def apply_payment_callback(session, tenant, callback: Callback, gateway_code: str) -> tuple[str, str]:
    """Apply a verified payment callback; (verdict, reason). Raises CallbackRejected on a mismatch."""
    payment = _locked(session, Payment, tenant.id, callback.reference)
    if payment is None or payment.gateway != gateway_code:
        raise CallbackRejected("unknown payment")
    if (callback.amount.minor, callback.amount.currency) != (payment.amount, payment.currency):
        raise CallbackRejected(
            f"amount mismatch: {callback.amount} for a payment of {Money(payment.amount, payment.currency)}"
        )
    if payment.status == PaymentStatus.SUCCEEDED:
        return (
            ("duplicate", "already credited")
            if callback.succeeded
            else ("ignored", "a failure after the payment succeeded")
        )
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        return "ignored", f"payment is {payment.status}"
    if not callback.succeeded and payment.status == PaymentStatus.FAILED:
        return "duplicate", "already failed"
    _settle_payment(session, tenant.id, payment, callback.succeeded, callback.gateway_ref, f"gateway:{gateway_code}")
    return "applied", "credited" if callback.succeeded else "failed"


def record_rejected_callback(request, gateway: str, kind: str, body: bytes, reason: str) -> None:
    """Keep a rejected callback for staff once the request is over (its own transaction is rolled back).

    It is written from a finished callback, after the request's transaction has
    ended: SQLite has one writer, so a second transaction inside the request
    would wait for the request's own lock.
    """
    tenant_id, address = request.tenant.id, (request.client_addr or "")[:64]

    def write(_request):
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            session = tm_session(request.registry["dbsession_factory"], manager)
            scope_to_tenant(session, tenant_id)
            session.add(
                CallbackRecord(
                    tenant_id=tenant_id,
                    gateway=gateway,
                    kind=kind,
                    verdict="rejected",
                    reason=reason[:300],
                    body=body[:4000].decode("utf-8", "replace"),
                    address=address,
                )
            )

    request.add_finished_callback(write)


def receive_callback(request, gateway_code: str, body: bytes, headers: dict, kind: str = "payment"):
    """Verify and apply one callback for the request's tenant; (http status, verdict, reason).

    The callback URL views and the sandbox gateway's own pay buttons both come here.
    """
    gateway = gateways(request.hooks).get(gateway_code)
    tenant = request.tenant
    try:
        if gateway is None:
            raise CallbackRejected("gateway not enabled")
        if kind == "payment":
            callback = gateway.verify_callback(body, headers)
            verdict, reason = apply_payment_callback(request.dbsession, tenant, callback, gateway_code)
        else:
            callback = gateway.verify_payout_callback(body, headers)
            verdict, reason = apply_payout_callback(request.dbsession, tenant, callback, gateway_code)
    except CallbackRejected as rejected:
        record_rejected_callback(request, gateway_code, kind, body, rejected.reason)
        return 400, "rejected", rejected.reason
    request.dbsession.add(
        CallbackRecord(
            tenant_id=tenant.id,
            gateway=gateway_code,
            kind=kind,
            reference=callback.reference[:40],
            verdict=verdict,
            reason=reason[:300],
            body=body[:4000].decode("utf-8", "replace"),
            address=(request.client_addr or "")[:64],
        )
    )
    return 200, verdict, reason


# -- withdrawal -------------------------------------------------------------------


def withdrawal_rules(tenant) -> dict:
    funds = tenant.funds or {}
    currency = tenant.currency
    return {
        "minimum": Money.parse(str(funds.get("withdrawal_min", "10")), currency),
        "daily_limit": Money.parse(str(funds.get("withdrawal_daily_limit", "50000")), currency),
        "fee_fixed": Money.parse(str(funds.get("withdrawal_fee_fixed", "0")), currency),
        "fee_percent": str(funds.get("withdrawal_fee_percent", "0")),
        "two_person_threshold": Money.parse(str(funds.get("two_person_threshold", "10000")), currency),
        "payout_gateway": funds.get("payout_gateway", ""),
    }


def withdrawal_fee(tenant, amount: Money) -> Money:
    rules = withdrawal_rules(tenant)
    return Money.from_decimal(amount.amount * Decimal(rules["fee_percent"]) / 100, amount.currency) + rules["fee_fixed"]


def payout_gateway(tenant, hooks):
    """The gateway that pays withdrawals out: the tenant's choice, else the first online one, else offline."""
    available = gateways(hooks)
    chosen = withdrawal_rules(tenant)["payout_gateway"]
    if chosen in available:
        return available[chosen]
    online = [g for g in available.values() if g.online]
    return online[0] if online else available.get("offline")


def _card_id(value) -> int:
    """A bank card's id from the form: a whole number in the id column's range, else ValueError."""
    number = whole_number(value)
    if number is None or not 1 <= number < 2**31:
        raise ValueError(value)
    return number


def request_withdrawal(session, tenant, hooks, member: Member, card_id, amount_text: str) -> Withdrawal:
    """Freeze the amount and queue the withdrawal for a cashier."""
    if not member.is_verified:
        raise FundsError("amount", _("Complete real-name verification before withdrawing."))
    if member.withdrawal_frozen:
        raise FundsError("amount", _("Withdrawals are frozen on your account. See your account page."))
    try:
        card = session.scalars(
            sa.select(BankCard).where(BankCard.id == _card_id(card_id), BankCard.member_id == member.id)
        ).first()
    except (TypeError, ValueError):
        card = None
    if card is None:
        raise FundsError("card", _("Choose one of your bank cards."))
    amount = positive_money(amount_text, tenant.currency)
    rules = withdrawal_rules(tenant)
    if amount.minor < rules["minimum"].minor:
        raise FundsError(
            "amount", _("The smallest withdrawal is ${minimum}.", mapping={"minimum": str(rules["minimum"])})
        )
    # The member's row lock is held from summing today's withdrawals to inserting this one: two requests
    # at once would both see room under the daily limit and together pass it.
    session.execute(sa.select(Member.id).where(Member.id == member.id).with_for_update())
    local = zoneinfo.ZoneInfo(tenant.timezone)
    since = dt.datetime.combine(dt.datetime.now(local).date(), dt.time(), local)  # today, the tenant's clock
    today = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Withdrawal.amount), 0)).where(
            Withdrawal.member_id == member.id,
            Withdrawal.created_at >= since,
            Withdrawal.status.not_in([WithdrawalStatus.REJECTED, WithdrawalStatus.CANCELLED, WithdrawalStatus.FAILED]),
        )
    )
    if today + amount.minor > rules["daily_limit"].minor:
        raise FundsError(
            "amount", _("This would pass your daily limit of ${limit}.", mapping={"limit": str(rules["daily_limit"])})
        )
    fee = withdrawal_fee(tenant, amount)
    if fee.minor >= amount.minor:
        raise FundsError("amount", _("The amount does not cover the fee of ${fee}.", mapping={"fee": str(fee)}))
    floor = net_worth_floor(session, member.id)
    if floor and net_assets(session, tenant, member.id) - amount.minor < floor:
        raise FundsError(
            "amount",
            _(
                "Your net-worth loan needs ${floor} of net assets to stay on the site.",
                mapping={"floor": str(Money(floor, tenant.currency))},
            ),
        )
    gateway = payout_gateway(tenant, hooks)
    if gateway is None:
        raise FundsError("amount", _("Withdrawals are not available on this site yet."))
    withdrawal = Withdrawal(
        tenant_id=tenant.id,
        reference=_reference("W"),
        member_id=member.id,
        card_id=card.id,
        gateway=gateway.code,
        amount=amount.minor,
        fee=fee.minor,
        currency=amount.currency,
    )
    session.add(withdrawal)
    session.flush()
    try:
        Wallet(Ledger(session, tenant.id), member.id, amount.currency).freeze(
            amount,
            reason="withdraw_freeze",
            key=f"withdraw:{withdrawal.id}:freeze",
            ref=f"withdrawal:{withdrawal.reference}",
            initiator=f"member:{member.id}",
        )
    except InsufficientFunds:
        raise FundsError("amount", _("Your available balance is not enough.")) from None
    return withdrawal


def _release(session, tenant_id: int, withdrawal: Withdrawal, status: WithdrawalStatus, reason: str, by: str) -> None:
    Wallet(Ledger(session, tenant_id), withdrawal.member_id, withdrawal.currency).unfreeze(
        Money(withdrawal.amount, withdrawal.currency),
        reason="withdraw_unfreeze",
        key=f"withdraw:{withdrawal.id}:release",
        ref=f"withdrawal:{withdrawal.reference}",
        initiator=by,
    )
    WITHDRAWALS.move(withdrawal, status)
    withdrawal.reason, withdrawal.settled_at = reason[:300], utcnow()


def _pay(session, tenant_id: int, withdrawal: Withdrawal, gateway_ref: str, by: str) -> None:
    Wallet(Ledger(session, tenant_id), withdrawal.member_id, withdrawal.currency).withdraw(
        Money(withdrawal.amount, withdrawal.currency),
        fee=Money(withdrawal.fee, withdrawal.currency),
        key=f"withdraw:{withdrawal.id}:paid",
        ref=f"withdrawal:{withdrawal.reference}",
        initiator=by,
    )
    WITHDRAWALS.move(withdrawal, WithdrawalStatus.PAID)
    withdrawal.settled_at = utcnow()
    withdrawal.gateway_ref = gateway_ref[:120] or withdrawal.gateway_ref


def cancel_withdrawal(session, tenant_id: int, member: Member, withdrawal: Withdrawal) -> None:
    if withdrawal.member_id != member.id or withdrawal.status != WithdrawalStatus.REQUESTED:
        raise FundsError("withdrawal", _("This withdrawal can no longer be cancelled."))
    _release(
        session, tenant_id, withdrawal, WithdrawalStatus.CANCELLED, "cancelled by the member", f"member:{member.id}"
    )


def approve_withdrawal(session, tenant, hooks, withdrawal: Withdrawal, *, by: str) -> None:
    """Approve; above the two-person threshold a second, different approver is needed before payout."""
    if withdrawal.status not in (WithdrawalStatus.REQUESTED, WithdrawalStatus.FIRST_APPROVED):
        raise FundsError("decision", _("This withdrawal is not waiting for approval."))
    threshold = withdrawal_rules(tenant)["two_person_threshold"]
    if withdrawal.status == WithdrawalStatus.REQUESTED:
        withdrawal.first_approver = by
        if withdrawal.amount >= threshold.minor:
            WITHDRAWALS.move(withdrawal, WithdrawalStatus.FIRST_APPROVED)
            return
    else:
        if by == withdrawal.first_approver:
            raise FundsError("decision", _("A second cashier must approve this withdrawal."))
        withdrawal.second_approver = by
    WITHDRAWALS.move(withdrawal, WithdrawalStatus.PROCESSING)
    gateway = gateways(hooks).get(withdrawal.gateway)
    if gateway is None:
        raise FundsError("decision", _("The payout gateway is no longer enabled."))
    card = session.get(BankCard, withdrawal.card_id)
    result = gateway.create_payout(
        PayoutRequest(
            withdrawal.reference,
            Money(withdrawal.amount - withdrawal.fee, withdrawal.currency),
            card.bank_name,
            card.holder_name,
            card.number,
        )
    )
    withdrawal.gateway_ref = result.gateway_ref[:120]
    if result.settled:
        if result.succeeded:
            _pay(session, tenant.id, withdrawal, result.gateway_ref, f"gateway:{gateway.code}")
        else:
            _release(
                session,
                tenant.id,
                withdrawal,
                WithdrawalStatus.FAILED,
                result.error or "payout failed",
                f"gateway:{gateway.code}",
            )


def reject_withdrawal(session, tenant_id: int, withdrawal: Withdrawal, *, reason: str, by: str) -> None:
    if withdrawal.status not in (WithdrawalStatus.REQUESTED, WithdrawalStatus.FIRST_APPROVED):
        raise FundsError("decision", _("This withdrawal is not waiting for approval."))
    _release(session, tenant_id, withdrawal, WithdrawalStatus.REJECTED, _staff_reason(reason), by)


def settle_offline_payout(session, tenant_id: int, withdrawal: Withdrawal, *, paid: bool, note: str, by: str) -> None:
    """A cashier records the outcome of a payout made by hand (the offline gateway)."""
    if withdrawal.status != WithdrawalStatus.PROCESSING or withdrawal.gateway != "offline":
        raise FundsError("decision", _("This withdrawal is not waiting for a manual payout."))
    note = _staff_reason(note, "note", required=False)
    if paid:
        _pay(session, tenant_id, withdrawal, note, by)
    else:
        _release(session, tenant_id, withdrawal, WithdrawalStatus.FAILED, note or "payout failed", by)


def apply_payout_callback(session, tenant, callback: Callback, gateway_code: str) -> tuple[str, str]:
    withdrawal = _locked(session, Withdrawal, tenant.id, callback.reference)
    if withdrawal is None or withdrawal.gateway != gateway_code:
        raise CallbackRejected("unknown withdrawal")
    if (callback.amount.minor, callback.amount.currency) != (withdrawal.amount - withdrawal.fee, withdrawal.currency):
        raise CallbackRejected("amount mismatch")
    if withdrawal.status != WithdrawalStatus.PROCESSING:
        return (
            "duplicate" if (withdrawal.status == WithdrawalStatus.PAID) == callback.succeeded else "ignored",
            f"withdrawal is {withdrawal.status}",
        )
    if callback.succeeded:
        _pay(session, tenant.id, withdrawal, callback.gateway_ref, f"gateway:{gateway_code}")
        return "applied", "paid"
    _release(session, tenant.id, withdrawal, WithdrawalStatus.FAILED, "payout failed", f"gateway:{gateway_code}")
    return "applied", "failed"


# -- adjustments (調賬) ------------------------------------------------------------


def request_adjustment(session, tenant, member: Member, amount_text: str, reason: str, *, by: str) -> Adjustment:
    text = str(amount_text or "").strip()
    negative = text.startswith("-")
    amount = positive_money(text.lstrip("-+"), tenant.currency)
    if not (reason or "").strip():
        raise FundsError("reason", _("A reason is required."))
    adjustment = Adjustment(
        tenant_id=tenant.id,
        member_id=member.id,
        amount=-amount.minor if negative else amount.minor,
        currency=amount.currency,
        reason=_staff_reason(reason),
        requested_by=by,
    )
    session.add(adjustment)
    session.flush()
    return adjustment


def decide_adjustment(
    session, tenant_id: int, adjustment: Adjustment, *, approve: bool, by: str, allow_self: bool = False
) -> None:
    """A second person applies or rejects an adjustment; applying posts against the suspense account."""
    if adjustment.status != AdjustmentStatus.PENDING:
        raise FundsError("decision", _("This adjustment was already decided."))
    if by == adjustment.requested_by and not allow_self:
        raise FundsError("decision", _("Another person must approve an adjustment."))
    adjustment.approved_by, adjustment.decided_at = by, utcnow()
    if not approve:
        ADJUSTMENTS.move(adjustment, AdjustmentStatus.REJECTED)
        return
    ledger = Ledger(session, tenant_id)
    wallet = Wallet(ledger, adjustment.member_id, adjustment.currency)
    suspense = ledger.platform("suspense", adjustment.currency)
    amount = Money(abs(adjustment.amount), adjustment.currency)
    legs = [
        Transfer(suspense, wallet.available, amount, "adjustment", f"adjustment:{adjustment.id}")
        if adjustment.amount > 0
        else Transfer(wallet.available, suspense, amount, "adjustment", f"adjustment:{adjustment.id}")
    ]
    try:
        ledger.post(legs, key=f"adjust:{adjustment.id}", initiator=by)
    except InsufficientFunds:
        raise FundsError("amount", _("The member's available balance is not enough.")) from None
    ADJUSTMENTS.move(adjustment, AdjustmentStatus.APPLIED)


# -- reconciliation ---------------------------------------------------------------


def reconcile(session, tenant_id: int, day: dt.date) -> list[dict]:
    """Per gateway, the recharges settled on ``day`` against the ledger's credits for them.

    A mismatch is a succeeded payment without its ledger credit (or with another
    amount), or a ledger credit whose payment is not succeeded.
    """
    start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    end = start + dt.timedelta(days=1)
    payments = session.scalars(
        sa.select(Payment).where(
            Payment.settled_at >= start, Payment.settled_at < end, Payment.status == PaymentStatus.SUCCEEDED
        )
    ).all()
    credited = {
        row.key: row.amount
        for row in session.execute(
            sa.select(TRANSFERS.c.key, TRANSFERS.c.amount).where(
                TRANSFERS.c.tenant_id == tenant_id,
                TRANSFERS.c.reason == "recharge",
                TRANSFERS.c.posted_at >= start,
                TRANSFERS.c.posted_at < end,
            )
        )
    }
    report: dict[str, dict] = {}
    for payment in payments:
        line = report.setdefault(
            payment.gateway, {"gateway": payment.gateway, "count": 0, "amount": 0, "ledger": 0, "mismatches": []}
        )
        line["count"] += 1
        line["amount"] += payment.amount
        key = f"recharge:{payment.id}"
        ledger_amount = credited.pop(key, None)
        line["ledger"] += ledger_amount or 0
        if ledger_amount != payment.amount:
            line["mismatches"].append(f"{payment.reference}: paid {payment.amount}, ledger {ledger_amount}")
    for key, amount in credited.items():
        line = report.setdefault("?", {"gateway": "?", "count": 0, "amount": 0, "ledger": 0, "mismatches": []})
        line["ledger"] += amount
        line["mismatches"].append(f"{key}: ledger credit {amount} without a succeeded payment that day")
    return sorted(report.values(), key=lambda line: line["gateway"])
