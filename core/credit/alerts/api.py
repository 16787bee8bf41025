"""The alerts API, for staff with ``credit.alert`` (each sees the alerts of the rules that tell one of their roles;
an administrator sees all):

- ``GET /api/v1/admin/alerts?status=&severity=&kind=&page=&per_page=``: the alerts, open ones first, a page at a time;
- ``POST /api/v1/admin/alerts/{id}``: ``{"action": "acknowledge" | "close", "note": "…"}``.

Refusals are problem details naming the field; another tenant's alert (or one of a kind the caller does not see) is
a 404.
"""

from __future__ import annotations

from pyramid.view import view_config

from ... import audit
from ...api import PREFIX, Problem
from ...i18n import _
from . import services
from .models import Alert

API = {"renderer": "json", "openapi": True, "require_csrf": False}
PERMISSION = "credit.alert"


def alert_json(request, alert: Alert) -> dict:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "status": alert.status,
        "business_date": alert.business_date.isoformat(),
        "subject": alert.subject,
        "loan_id": alert.loan_id,
        "facts": alert.facts or {},
        "message": services.sentence(alert, request.localizer.translate, request.locale_name),
        "raised_at": alert.raised_at.isoformat(),
        "acknowledged_by": alert.acknowledged_by or None,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledge_note": alert.acknowledge_note or None,
        "closed_by": alert.closed_by or None,
        "closed_at": alert.closed_at.isoformat() if alert.closed_at else None,
        "close_note": alert.close_note or None,
    }


@view_config(route_name="api.credit.alerts", request_method="GET", permission=PERMISSION, **API)
def alerts(request):
    query = request.openapi_validated.parameters.query
    page, per_page = query.get("page", 1), query.get("per_page", services.PER_PAGE)
    session, tenant = request.dbsession, request.tenant
    kinds = services.kinds_for(session, tenant.id, request.identity.user)
    rows, total = services.alerts_for(
        session,
        tenant.id,
        kinds,
        status=query.get("status"),
        severity=query.get("severity"),
        kind=query.get("kind"),
        page=page,
        per_page=per_page,
    )
    return {
        "page": page,
        "per_page": per_page,
        "total": total,
        "alerts": [alert_json(request, a) for a in rows],
    }


@view_config(route_name="api.credit.alert", request_method="POST", permission=PERMISSION, **API)
def act(request):
    """Acknowledge or close an alert with a note: 200 with the alert."""
    session, tenant = request.dbsession, request.tenant
    kinds = services.kinds_for(session, tenant.id, request.identity.user)
    alert = services.locked_alert(session, tenant.id, request.matchdict["id"], kinds)
    if alert is None:
        raise Problem({"id": _("There is no such alert.")}, status=404, title="Not Found")
    body = request.json_body
    before = services.alert_facts(alert)
    services.act(alert, body.get("action"), by=audit.actor_of(request), note=body.get("note", ""))
    audit.record(
        request, f"credit.alert.{body['action']}", "credit_alert", alert.id, before, services.alert_facts(alert)
    )
    return alert_json(request, alert)


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.credit.alerts", "/admin/alerts")
    route("api.credit.alert", "/admin/alerts/{id}")
    config.scan(".api")
