"""Back office: the risk reserve (風險準備金) — balance, history, top-up and withdrawal requests.

Anyone with ``funds.view`` reads the balance and the history; asking for a
top-up or a withdrawal and deciding another person's request take
``reserve.manage`` (a money permission: two-factor sign-in).
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from .. import audit
from ..forms import on_refusal
from ..i18n import _
from ..payments import reserve
from ..payments.services import FundsError


def _page(request, *, error=None, form=None) -> dict:
    """What the reserve page shows: balances, one page of the chosen currency's history, the requests."""
    ledger, tenant = request.ledger, request.tenant
    balances = reserve.balances(ledger, tenant.currency)
    currency = request.params.get("currency", tenant.currency)
    if currency not in balances:
        currency = tenant.currency
    before = reserve.before_param(request.params.get("before"))
    entries, sides = reserve.history(ledger, currency, before=before, limit=reserve.HISTORY_PAGE + 1)
    can_manage = bool(request.has_permission("reserve.manage"))
    return {
        "balances": balances,
        "currency": currency,
        "entries": entries[: reserve.HISTORY_PAGE],
        "sides": sides,
        "older": entries[reserve.HISTORY_PAGE - 1].transfer_id if len(entries) > reserve.HISTORY_PAGE else None,
        "paged": before is not None,
        "requests": reserve.requests(request.dbsession),
        "labels": reserve.LABELS,
        "counterparts": reserve.COUNTERPARTS,
        "can_manage": can_manage,
        "me": audit.actor_of(request),
        "same_person": reserve.same_person,
        "error": error,
        "form": form or {},
    }


@view_config(route_name="admin.reserve", renderer="admin/reserve.pt", permission="funds.view")
def reserve_page(request):
    return _page(request)


@view_config(
    route_name="admin.reserve_requests", request_method="POST", renderer="admin/reserve.pt", permission="reserve.manage"
)
def reserve_request(request):
    """Ask for a top-up or a withdrawal; a second person decides."""
    form = {k: request.POST.get(k, "") for k in ("direction", "account", "amount", "reason")}
    on_refusal(request, lambda error: _page(request, error=error.message, form=form))
    ask(request, form)
    return HTTPSeeOther(request.route_path("admin.reserve"))


def ask(request, given) -> reserve.ReserveRequest:
    """Record a top-up or withdrawal request (``given``: direction, account, amount, reason) and audit it;
    the back-office form and the API both ask through here."""
    move = reserve.request_move(
        request.dbsession,
        request.tenant,
        direction=given["direction"],
        account=given["account"],
        amount_text=given["amount"],
        reason=given["reason"],
        by=audit.actor_of(request),
    )
    after = {k: getattr(move, k) for k in ("direction", "account", "amount", "currency", "reason")}
    audit.record(request, f"reserve.request_{move.direction}", "reserve_request", move.id, None, after)
    return move


def decide(request, move, decision: str) -> int:
    """Approve or reject ``move`` as the signed-in staff member and audit it; the reserve's balance after."""
    reserve.decide(
        request.dbsession, request.tenant.id, move, approve=decision == "approve", by=audit.actor_of(request)
    )
    held = reserve.balance(request.ledger, move.currency)
    after = {"status": move.status, "amount": move.amount, "currency": move.currency}
    if move.status == reserve.ReserveStatus.applied.value:
        after.update(key=move.key, reserve_balance=held)
    audit.record(request, f"reserve.{decision}", "reserve_request", move.id, {"status": "pending"}, after)
    return held


@view_config(
    route_name="admin.reserve_decide", request_method="POST", renderer="admin/reserve.pt", permission="reserve.manage"
)
def reserve_decide(request):
    """Approve (the money moves, once) or reject (nothing moves) another person's request."""
    move = reserve.find_locked(request.dbsession, request.matchdict["id"])
    if move is None:
        raise HTTPNotFound()
    decision = request.POST.get("decision")
    on_refusal(request, lambda error: _page(request, error=error.message))
    if decision not in ("approve", "reject"):
        raise FundsError("decision", _("Choose approve or reject."))
    decide(request, move, decision)
    return HTTPSeeOther(request.route_path("admin.reserve"))
