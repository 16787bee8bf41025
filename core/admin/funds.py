"""Back office: recharge and withdrawal records (with CSV), review queues, adjustments, reconciliation."""

from __future__ import annotations

import csv
import datetime as dt
import io

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from .. import audit
from ..forms import on_refusal
from ..members.models import Member
from ..members.services import MemberError, clean_phone
from ..money import Money
from ..payments import gateways, services
from ..payments.models import Adjustment, CallbackRecord, Payment, PaymentStatus, Withdrawal, WithdrawalStatus
from ..payments.services import FundsError
from .views import newest_first

STATUSES = {Payment: [s.value for s in PaymentStatus], Withdrawal: [s.value for s in WithdrawalStatus]}
"""The statuses each record's status filter offers, in lifecycle order."""


def _choices(request, model) -> dict[str, list[str]]:
    """What the status and gateway selects offer: every status, and every gateway enabled or ever used."""
    used = request.dbsession.scalars(sa.select(model.gateway).distinct()).all()
    return {"statuses": STATUSES[model], "gateways": sorted(set(used) | set(gateways(request.hooks)))}


def _filtered(request, model):
    query = sa.select(model)
    status, gateway, text = (request.params.get(k, "").strip() for k in ("status", "gateway", "q"))
    if status:
        query = query.where(model.status == status)
    if gateway:
        query = query.where(model.gateway == gateway)
    if text:
        query = query.where(model.reference.like(f"%{text.upper()}%"))
    return query, {"status": status, "gateway": gateway, "q": text}


def _csv(rows, columns, filename):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                getattr(row, c)
                if not c.endswith("amount") and c != "fee"
                else str(Money(getattr(row, c), row.currency))
                for c in columns
            ]
        )
    return Response(
        out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        content_disposition=f'attachment; filename="{filename}"',
    )


RECHARGE_COLUMNS = [
    "reference",
    "member_id",
    "gateway",
    "amount",
    "fee",
    "currency",
    "status",
    "gateway_ref",
    "declared_ref",
    "created_at",
    "settled_at",
]
WITHDRAWAL_COLUMNS = [
    "reference",
    "member_id",
    "gateway",
    "amount",
    "fee",
    "currency",
    "status",
    "first_approver",
    "second_approver",
    "gateway_ref",
    "reason",
    "created_at",
    "settled_at",
]


def _listing(request, model, columns, filename):
    """A page of ``model``'s filtered records (newest first), or all of them as CSV with ``?format=csv``."""
    query, filters = _filtered(request, model)
    if request.params.get("format") == "csv":
        rows = request.dbsession.scalars(query.order_by(model.id.desc()).limit(100_000)).all()
        return _csv(rows, columns, filename), filters
    return newest_first(request, query, model.id), filters


@view_config(route_name="admin.recharges", renderer="admin/recharges.pt", permission="funds.view")
def recharges(request):
    listing, filters = _listing(request, Payment, RECHARGE_COLUMNS, "recharges.csv")
    if not isinstance(listing, dict):
        return listing  # the CSV
    callbacks = request.dbsession.scalars(
        sa.select(CallbackRecord)
        .where(CallbackRecord.verdict == "rejected")
        .order_by(CallbackRecord.id.desc())
        .limit(20)
    ).all()
    return {
        **listing,
        "payments": listing["rows"],
        "filters": filters,
        **_choices(request, Payment),
        "rejected_callbacks": callbacks,
        "can_confirm": bool(request.has_permission("funds.recharge.confirm")),
        "error": None,
    }


@view_config(route_name="admin.recharge_review", request_method="POST", permission="funds.recharge.confirm")
def recharge_review(request):
    payment = services.locked_payment(request.dbsession, int(request.matchdict["id"]))
    if payment is None:
        raise HTTPNotFound()
    before = {"status": payment.status}
    decision = request.POST.get("decision")
    services.review_offline(
        request.dbsession,
        request.tenant.id,
        payment,
        approve=decision == "approve",
        reason=request.POST.get("reason", ""),
        by=audit.actor_of(request),
    )
    audit.record(request, f"recharge.{decision}", "payment", payment.reference, before, {"status": payment.status})
    return HTTPSeeOther(request.route_path("admin.recharges", _query={"status": "declared"}))


@view_config(route_name="admin.recharge_query", request_method="POST", permission="funds.recharge.confirm")
def recharge_query(request):
    """Ask the gateway about a pending recharge whose callback never came."""
    payment = services.locked_payment(request.dbsession, int(request.matchdict["id"]))
    if payment is None:
        raise HTTPNotFound()
    verdict = services.query_payment(request, payment)
    audit.record(
        request, "recharge.query", "payment", payment.reference, None, {"verdict": verdict, "status": payment.status}
    )
    return HTTPSeeOther(request.route_path("admin.recharges", _query={"q": payment.reference}))


@view_config(route_name="admin.withdrawals", renderer="admin/withdrawals.pt", permission="funds.view")
def withdrawals(request):
    listing, filters = _listing(request, Withdrawal, WITHDRAWAL_COLUMNS, "withdrawals.csv")
    if not isinstance(listing, dict):
        return listing  # the CSV
    return {
        **listing,
        "withdrawals": listing["rows"],
        "filters": filters,
        **_choices(request, Withdrawal),
        "can_approve": bool(request.has_permission("funds.withdraw.approve")),
    }


@view_config(route_name="admin.withdrawal_decide", request_method="POST", permission="funds.withdraw.approve")
def withdrawal_decide(request):
    session = request.dbsession
    withdrawal = services.locked_withdrawal(session, int(request.matchdict["id"]))
    if withdrawal is None:
        raise HTTPNotFound()
    before = {"status": withdrawal.status}
    decision, by = request.POST.get("decision"), audit.actor_of(request)
    if decision == "approve":
        services.approve_withdrawal(session, request.tenant, request.hooks, withdrawal, by=by)
    elif decision == "reject":
        services.reject_withdrawal(session, request.tenant.id, withdrawal, reason=request.POST.get("reason", ""), by=by)
    elif decision in ("paid", "failed"):
        services.settle_offline_payout(
            session, request.tenant.id, withdrawal, paid=decision == "paid", note=request.POST.get("reason", ""), by=by
        )
    else:
        raise FundsError("decision", "approve, reject, paid or failed")
    audit.record(
        request, f"withdrawal.{decision}", "withdrawal", withdrawal.reference, before, {"status": withdrawal.status}
    )
    return HTTPSeeOther(request.route_path("admin.withdrawals"))


@view_config(route_name="admin.adjustments", renderer="admin/adjustments.pt", permission="funds.adjust")
def adjustments(request):
    if request.method == "POST":
        on_refusal(request, lambda error: _adjustments_page(request, error.message))
        member = _member_by_id_or_phone(request, request.POST.get("member", "").strip())
        if member is None:
            raise FundsError("member", "no such member (give the member's id or mobile number)")
        adjustment = services.request_adjustment(
            request.dbsession,
            request.tenant,
            member,
            request.POST.get("amount"),
            request.POST.get("reason", ""),
            by=audit.actor_of(request),
        )
        audit.record(
            request,
            "adjustment.request",
            "adjustment",
            adjustment.id,
            None,
            {"member": adjustment.member_id, "amount": adjustment.amount, "reason": adjustment.reason},
        )
        return HTTPSeeOther(request.path)
    return _adjustments_page(request)


def _adjustments_page(request, error=None) -> dict:
    rows = request.dbsession.scalars(sa.select(Adjustment).order_by(Adjustment.id.desc()).limit(100)).all()
    return {"adjustments": rows, "error": error, "me": audit.actor_of(request)}


def _member_by_id_or_phone(request, key: str) -> Member | None:
    """The member staff named by id or mobile number, or ``None``."""
    session = request.dbsession
    if key.isdigit() and len(key) < 9:
        return session.scalars(sa.select(Member).where(Member.id == int(key))).first()
    try:
        phone = clean_phone(request.tenant, key)
    except MemberError:  # not a mobile number: no such member (refused by the caller, on its own field)
        return None
    return session.scalars(sa.select(Member).where(Member.phone == phone)).first()


@view_config(route_name="admin.adjustment_decide", request_method="POST", permission="funds.adjust")
def adjustment_decide(request):
    session = request.dbsession
    adjustment = services.locked_adjustment(session, int(request.matchdict["id"]))
    if adjustment is None:
        raise HTTPNotFound()
    decision = request.POST.get("decision")
    services.decide_adjustment(
        session, request.tenant.id, adjustment, approve=decision == "approve", by=audit.actor_of(request)
    )
    audit.record(
        request,
        f"adjustment.{decision}",
        "adjustment",
        adjustment.id,
        {"status": "pending"},
        {"status": adjustment.status, "amount": adjustment.amount},
    )
    return HTTPSeeOther(request.route_path("admin.adjustments"))


@view_config(route_name="admin.reconciliation", renderer="admin/reconciliation.pt", permission="funds.view")
def reconciliation(request):
    try:
        day = dt.date.fromisoformat(request.params.get("date", ""))
    except ValueError:
        # Settlements are wall-clock records (``settled_at``), grouped by their UTC day: the default is today's
        # UTC day, not the business date, which may lag or lead it (the page's label says which day it is).
        day = dt.datetime.now(dt.timezone.utc).date()
    return {"day": day, "lines": services.reconcile(request.dbsession, request.tenant.id, day)}
