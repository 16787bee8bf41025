"""Back office: the alert workbench (open alerts first, acknowledge and close with a note) and the rules page, for
staff with ``credit.alert``. A person sees the alerts of the rules that tell one of their roles (an administrator
sees every alert)."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ... import audit
from ...accounts.services import tenant_roles
from ...forms import on_refusal
from ...loans.models import Loan
from . import services
from .models import KIND_LABELS, KINDS, SEVERITIES, SEVERITY_LABELS, STATUS_LABELS, AlertStatus
from .rules import THRESHOLDS, rule_facts, rules_of, save_rules

PERMISSION = "credit.alert"
SETTINGS = ("active", "severity", "threshold", "recipients")


def _choice(value, allowed) -> str | None:
    return value if value in allowed else None


def _page_number(text) -> int:
    try:
        number = int(str(text))
    except ValueError:
        return 1
    return number if 0 < number <= 10_000 else 1


def _filters(request) -> dict:
    return {
        "status": _choice(request.GET.get("status"), {s.value for s in AlertStatus}),
        "severity": _choice(request.GET.get("severity"), {s.value for s in SEVERITIES}),
        "kind": _choice(request.GET.get("kind"), {k.value for k in KINDS}),
    }


def _workbench(request, *, error=None, failed=None) -> dict:
    session, tenant = request.dbsession, request.tenant
    kinds = services.kinds_for(session, tenant.id, request.identity.user)
    filters = _filters(request)
    page = _page_number(request.GET.get("page", 1))
    alerts, total = services.alerts_for(session, tenant.id, kinds, page=page, **filters)
    loan_ids = {a.loan_id for a in alerts if a.loan_id}
    numbers = dict(
        session.execute(sa.select(Loan.id, Loan.number).where(Loan.tenant_id == tenant.id, Loan.id.in_(loan_ids))).all()
    )
    translate, locale = request.localizer.translate, request.locale_name
    return {
        "alerts": [(a, services.sentence(a, translate, locale)) for a in alerts],
        "numbers": numbers,
        "filters": filters,
        "query": {k: v for k, v in filters.items() if v},
        "page": page,
        "pages": max(1, -(-total // services.PER_PAGE)),
        "total": total,
        "kinds": [k.value for k in KINDS if k.value in kinds],
        "kind_labels": KIND_LABELS,
        "severities": [s.value for s in SEVERITIES],
        "severity_labels": SEVERITY_LABELS,
        "statuses": [s.value for s in AlertStatus],
        "status_labels": STATUS_LABELS,
        "error": error,
        "failed": failed,
        "open": AlertStatus.OPEN.value,
        "closed": AlertStatus.CLOSED.value,
    }


@view_config(
    route_name="admin.credit.alerts",
    request_method="GET",
    renderer="admin/credit/alerts/workbench.pt",
    permission=PERMISSION,
)
def workbench(request):
    """The alerts this person sees, open ones first, filtered by status, severity and kind."""
    return _workbench(request)


@view_config(
    route_name="admin.credit.alert",
    request_method="POST",
    renderer="admin/credit/alerts/workbench.pt",
    permission=PERMISSION,
)
def act(request):
    """Acknowledge or close one alert with a note."""
    kinds = services.kinds_for(request.dbsession, request.tenant.id, request.identity.user)
    alert = services.locked_alert(request.dbsession, request.tenant.id, request.matchdict["id"], kinds)
    if alert is None:
        raise HTTPNotFound()
    on_refusal(request, lambda error: _workbench(request, error=error, failed=alert.id))
    before = services.alert_facts(alert)
    action = request.POST.get("action")
    services.act(alert, action, by=audit.actor_of(request), note=request.POST.get("note", ""))
    audit.record(request, f"credit.alert.{action}", "credit_alert", alert.id, before, services.alert_facts(alert))
    return HTTPSeeOther(request.route_path("admin.credit.alerts"))


def _rules_page(request, *, errors=None, form=None) -> dict:
    session, tenant = request.dbsession, request.tenant
    rules = rules_of(session, tenant.id)
    if form is None:
        form = {
            kind: {
                "active": rule.active,
                "severity": rule.severity,
                "threshold": str(rule.threshold) if rule.threshold is not None else "",
                "recipients": list(rule.recipients),
            }
            for kind, rule in rules.items()
        }
    return {
        "rules": rules,
        "form": form,
        "errors": errors or {},
        "kinds": [k.value for k in KINDS],
        "kind_labels": KIND_LABELS,
        "severities": [s.value for s in SEVERITIES],
        "severity_labels": SEVERITY_LABELS,
        "thresholds": THRESHOLDS,
        "roles": sorted(tenant_roles(session, tenant.id).values(), key=lambda r: (not r.builtin, r.code)),
        "saved": request.GET.get("saved"),
    }


@view_config(
    route_name="admin.credit.alert_rules",
    request_method="GET",
    renderer="admin/credit/alerts/rules.pt",
    permission=PERMISSION,
)
def rules_page(request):
    """Each kind's rule: on or off, severity, threshold, the roles it tells (the defaults until edited)."""
    return _rules_page(request)


@view_config(
    route_name="admin.credit.alert_rules",
    request_method="POST",
    renderer="admin/credit/alerts/rules.pt",
    permission=PERMISSION,
)
def save(request):
    """Keep the rules as the form gives them; a refused value is shown by its field and nothing is kept."""
    form = {
        kind.value: {
            "active": request.POST.get(f"{kind.value}.active") == "1",
            "severity": request.POST.get(f"{kind.value}.severity", ""),
            "threshold": request.POST.get(f"{kind.value}.threshold", ""),
            "recipients": request.POST.getall(f"{kind.value}.recipients"),
        }
        for kind in KINDS
    }
    on_refusal(request, lambda error: _rules_page(request, errors={error.field: error.message}, form=form))
    before = {kind: rule_facts(rule) for kind, rule in rules_of(request.dbsession, request.tenant.id).items()}
    changed = save_rules(request.dbsession, request.tenant, form, by=audit.actor_of(request))
    if changed:
        after = rules_of(request.dbsession, request.tenant.id)
        audit.record(
            request,
            "credit.alert.rules",
            "credit_alert_rules",
            "",
            {kind: before[kind] for kind in changed},
            {kind: rule_facts(after[kind]) for kind in changed},
        )
    return HTTPSeeOther(request.route_path("admin.credit.alert_rules", _query={"saved": 1}))
