"""``/api/v1/me/…`` (a member's loans, fund movements, cards, recharges, withdrawals, messages) and staff's
``/api/v1/admin/close-of-day``: the same services as the site's pages and the ``lendstack`` command."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pyramid.view import view_config
from sqlalchemy.orm import selectinload

from .. import loans
from ..help import inbox
from ..ledger import Wallet
from ..loans.models import Loan
from ..members.models import BankCard
from ..money import Money
from ..payments import services as funds
from ..payments.views import recharge_return_path
from . import PREFIX, once, refusals_name
from .loans import loan_json

API = {"renderer": "json", "openapi": True, "require_csrf": False}
PER_PAGE = 20
# the funds services name the card ``card``; the API takes its id as ``card_id``
_FUNDS_FIELDS = {"card": "card_id"}


def _money(minor: int, currency: str) -> str:
    return str(Money(minor, currency))


@view_config(route_name="api.me_loans", request_method="GET", permission="member", **API)
def my_loans(request):
    """The member's own loans as borrower, newest first, in every state (applications too)."""
    rows = request.dbsession.scalars(
        sa.select(Loan)
        .where(Loan.borrower_id == request.identity.principal_id)
        .options(selectinload(Loan.installments))
        .order_by(Loan.id.desc())
        .limit(200)
    ).all()
    return {"loans": [loan_json(request, loan) for loan in rows]}


@view_config(route_name="api.me_movements", request_method="GET", permission="member", **API)
def my_movements(request):
    """One page of the fund-movement record (the account page's), newest first, with running balances."""
    page = int(request.params.get("page") or 1)  # the input layer and the document hold it to 1…10⁹
    currency = request.tenant.currency
    movements, total = Wallet(request.ledger, request.identity.principal_id, currency).movements(
        page=page, per_page=PER_PAGE
    )
    translate = request.localizer.translate
    return {
        "currency": currency,
        "page": page,
        "per_page": PER_PAGE,
        "total": total,
        "pages": max(1, -(-total // PER_PAGE)),
        "movements": [
            {
                "id": m.transfer_id,
                "posted_at": m.posted_at.isoformat(timespec="seconds"),
                "reason": m.reason,
                "label": translate(m.label),
                "ref": m.ref,
                "available_change": _money(m.available_change, currency),
                "frozen_change": _money(m.frozen_change, currency),
                "available_after": _money(m.available_after, currency),
                "frozen_after": _money(m.frozen_after, currency),
            }
            for m in movements
        ],
    }


@view_config(route_name="api.me_cards", request_method="GET", permission="member", **API)
def my_cards(request):
    """The member's bank cards: the ``card_id`` a withdrawal names."""
    rows = request.dbsession.scalars(
        sa.select(BankCard).where(BankCard.member_id == request.identity.principal_id).order_by(BankCard.id)
    ).all()
    return {"cards": [{"id": c.id, "bank_name": c.bank_name, "number": c.masked_number} for c in rows]}


@view_config(route_name="api.me_recharges", request_method="POST", permission="member", **API)
def recharge(request):
    """Start a recharge; the answer holds the gateway's next step (where the member pays)."""
    return once(
        request,
        "recharge",
        lambda _claim_id: _start_recharge(request),
        resource=lambda body: f"payment:{body['reference']}",
    )


def _start_recharge(request) -> dict:
    body = request.json_body
    refusals_name(request, _FUNDS_FIELDS)
    payment, instruction = funds.start_recharge(
        request.dbsession,
        request.tenant,
        request.hooks,
        request.identity.user,
        body["gateway"],
        body["amount"],
        recharge_return_path(request),
    )
    request.response.status = 201
    currency = payment.currency
    return {
        "reference": payment.reference,
        "gateway": payment.gateway,
        "amount": _money(payment.amount, currency),
        "fee": _money(payment.fee, currency),
        "currency": currency,
        "status": payment.status,
        "next": _next_step(request, instruction),
    }


def _next_step(request, instruction) -> dict:
    """The gateway's instruction as JSON: a page to open (``redirect``), a form to post, a QR code's
    content, or lines to show (an offline transfer's bank account); a path on this site made absolute."""
    url = instruction.url
    if url.startswith("/") and not url.startswith("//"):
        url = request.application_url + url
    step = {"kind": instruction.kind}
    if instruction.kind in ("redirect", "form"):
        step["url"] = url
    if instruction.kind == "form":
        step["fields"] = {str(k): str(v) for k, v in instruction.fields.items()}
    if instruction.kind == "qr":
        step["qr_content"] = instruction.qr_content
    if instruction.kind == "instructions":
        translate = request.localizer.translate
        step["lines"] = [{"label": translate(label), "value": str(value)} for label, value in instruction.lines]
    return step


@view_config(route_name="api.me_withdrawals", request_method="POST", permission="member", **API)
def withdraw(request):
    """Ask for a withdrawal to one of the member's cards: the amount is frozen until a cashier pays it out."""
    return once(
        request,
        "withdrawal",
        lambda _claim_id: _request_withdrawal(request),
        resource=lambda body: f"withdrawal:{body['reference']}",
    )


def _request_withdrawal(request) -> dict:
    body = request.json_body
    refusals_name(request, _FUNDS_FIELDS)
    amount = funds.positive_money(body["amount"], request.tenant.currency)
    withdrawal = funds.request_withdrawal(
        request.dbsession, request.tenant, request.hooks, request.identity.user, body["card_id"], amount
    )
    request.response.status = 201
    currency = withdrawal.currency
    return {
        "reference": withdrawal.reference,
        "card_id": withdrawal.card_id,
        "amount": _money(withdrawal.amount, currency),
        "fee": _money(withdrawal.fee, currency),
        "currency": currency,
        "status": withdrawal.status,
    }


@view_config(route_name="api.close_of_day", request_method="POST", permission="loan.close_of_day", **API)
def close_of_day(request):
    """Close the tenant's business date: the code path of ``lendstack jobs close-of-day``, in this request's
    transaction. Closing a date already closed answers that date's summary again."""
    return once(
        request,
        "close_of_day",
        lambda _claim_id: _close(request),
        required=False,
        resource=lambda body: f"closed_day:{body['date']}",
    )


def _close(request) -> dict:
    day = dt.date.fromisoformat(request.json_body["date"])  # the document holds it to YYYY-MM-DD
    tenant = request.tenant
    summary = loans.close_of_day(request.dbsession, tenant, day, hooks=request.hooks, commit_every=None)
    return {
        "date": day.isoformat(),
        "business_date": tenant.business_date.isoformat(),
        "summary": {name: int(count) for name, count in summary.items()},
    }


@view_config(route_name="api.me_messages", request_method="GET", permission="member", **API)
def my_messages(request):
    """The member's conversations with staff (their 站內信 threads), the latest first, each with its messages."""
    member = request.identity.user
    return {
        "threads": [
            {
                "id": thread.id,
                "subject": thread.subject,
                "status": thread.status,
                "created_at": thread.created_at.isoformat(timespec="seconds"),
                "last_message_at": thread.last_message_at.isoformat(timespec="seconds"),
                "messages": [
                    {
                        "id": message.id,
                        "from": "member" if message.direction == "to_staff" else "staff",
                        "text": message.body,
                        "created_at": message.created_at.isoformat(timespec="seconds"),
                        "read": message.read_at is not None,
                    }
                    for message in thread.messages
                ],
            }
            for thread in inbox.member_threads(request.dbsession, member)
        ]
    }


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.me_loans", "/me/loans")
    route("api.me_movements", "/me/movements")
    route("api.me_cards", "/me/cards")
    route("api.me_recharges", "/me/recharges")
    route("api.me_withdrawals", "/me/withdrawals")
    route("api.me_messages", "/me/messages")
    route("api.close_of_day", "/admin/close-of-day")
    config.scan(".me")
