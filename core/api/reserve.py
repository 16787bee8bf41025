"""``/api/v1/admin/reserve``: the risk reserve's balance and history, top-up and withdrawal requests.

The same rules as the back-office page (:mod:`core.payments.reserve`): reading
takes ``funds.view``; asking and deciding take ``reserve.manage`` (a money
permission: the token must have been asked for with the TOTP code); the
requester cannot decide their own request.
"""

from __future__ import annotations

from pyramid.view import view_config

from ..admin.reserve import ask, decide
from ..i18n import _
from ..money import Money
from ..payments import reserve
from . import PREFIX, Problem

API = {"renderer": "json", "openapi": True, "require_csrf": False}
RECENT = 20


def _money(minor: int, currency: str) -> str:
    return str(Money(minor, currency))


def request_json(move: reserve.ReserveRequest) -> dict:
    return {
        "id": move.id,
        "direction": move.direction,
        "account": move.account,
        "amount": _money(move.amount, move.currency),
        "currency": move.currency,
        "reason": move.reason,
        "status": move.status,
        "requested_by": move.requested_by,
        "decided_by": move.decided_by or None,
        "created_at": move.created_at.isoformat(timespec="seconds"),
        "decided_at": move.decided_at.isoformat(timespec="seconds") if move.decided_at else None,
    }


def _entry_json(entry, sides: dict, currency: str) -> dict:
    kind, owner, code = sides.get(entry.counter_account_id, ("", 0, ""))
    return {
        "transfer_id": entry.transfer_id,
        "posted_at": entry.posted_at.isoformat(timespec="seconds"),
        "reason": entry.reason,
        "ref": entry.ref,
        "key": entry.key,
        "counter_account": f"{kind}:{code}" if kind == "platform" else f"{kind}:{owner}:{code}",
        "change": _money(entry.change, currency),
        "balance_after": _money(entry.balance_after, currency),
    }


@view_config(route_name="api.reserve", request_method="GET", permission="funds.view", **API)
def get_reserve(request):
    """The balance per currency, the latest movements of one currency (``?before=`` pages on) and the
    latest requests."""
    tenant = request.tenant
    balances = reserve.balances(request.ledger, tenant.currency)
    currency = request.params.get("currency", tenant.currency)
    if currency not in balances:
        raise Problem({"currency": _("The risk reserve holds no such currency.")}, status=400, title="Bad request")
    before = reserve.before_param(request.params["before"]) if "before" in request.params else None
    if "before" in request.params and before is None:
        raise Problem({"before": _("Give a transfer id from an earlier page.")}, status=400, title="Bad request")
    entries, sides = reserve.history(request.ledger, currency, before=before, limit=RECENT + 1)
    return {
        "currency": currency,
        "balances": {code: _money(minor, code) for code, minor in balances.items()},
        "history": [_entry_json(e, sides, currency) for e in entries[:RECENT]],
        "older_before": entries[RECENT - 1].transfer_id if len(entries) > RECENT else None,
        "requests": [request_json(m) for m in reserve.requests(request.dbsession, limit=RECENT)],
    }


@view_config(route_name="api.reserve_requests", request_method="POST", permission="reserve.manage", **API)
def post_request(request):
    """Ask for a top-up or a withdrawal: 201 with the pending request."""
    move = ask(request, request.json_body)
    request.response.status = 201
    return request_json(move)


@view_config(route_name="api.reserve_decision", request_method="POST", permission="reserve.manage", **API)
def post_decision(request):
    """Approve (one ledger post) or reject (nothing moves) another person's request."""
    move = reserve.find_locked(request.dbsession, request.matchdict["id"])
    if move is None:
        raise Problem({"id": _("There is no such request.")}, status=404, title="Not Found")
    held = decide(request, move, request.json_body["decision"])
    return {**request_json(move), "reserve_balance": _money(held, move.currency)}


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.reserve", "/admin/reserve")
    route("api.reserve_requests", "/admin/reserve/requests")
    route("api.reserve_decision", "/admin/reserve/requests/{id}/decision")
    config.scan(".reserve")
