"""``/api/v1/admin/applications``: credit applications for integrators (staff tokens).

- ``GET /admin/applications`` (``status``, ``product``, ``step``, ``overdue``): the status query;
- ``POST /admin/applications``: a draft for a customer (``credit.apply``);
- ``GET /admin/applications/{id}``: one application with its step and decisions;
- ``POST /admin/applications/{id}/actions`` ``{"action", "comment", "to_step", "step"}``: ``submit`` and
  ``withdraw`` (``credit.apply``) or a step's ``approve`` / ``reject`` / ``return`` / ``request_documents``
  (``credit.approve``), by the step engine's rules (:mod:`.engine`); ``step`` names the step decided on, so a
  decision that lost a race is refused rather than applied to the next step.

Another tenant's application is a 404; a refusal is a 422 problem naming the field.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden
from pyramid.view import view_config

from ... import audit
from ...api import PREFIX, Problem
from ...i18n import _
from ...money import Money, whole_number
from . import engine, products, services
from .models import ApplicationStatus

API = {"renderer": "json", "openapi": True, "require_csrf": False}


def _money(minor: int, currency: str) -> str:
    return str(Money(minor, currency))


def application_json(request, application, *, full: bool = False) -> dict:
    session = request.dbsession
    progress = services.progress_of(session, application)
    workflow = engine.workflow_of(session, progress)
    body = {
        "id": application.id,
        "number": application.number,
        "status": application.status,
        "customer_id": application.customer_id,
        "product": services.product_for(session, application).code,
        "amount": _money(application.amount, application.currency),
        "currency": application.currency,
        "annual_rate_percent": str(application.annual_rate_percent),
        "term_months": application.term_months,
        "repayment_method": application.repayment_method,
        "purpose": application.purpose,
        "step": progress.step or None,
        "step_due_at": progress.step_due_at.isoformat() if progress.step_due_at else None,
        "overdue": engine.is_overdue(progress),
        "documents_requested": progress.documents_requested,
        "workflow": {"code": workflow.code, "version": workflow.version} if workflow else None,
        "created_at": application.created_at.isoformat(),
    }
    if full:
        body["decisions"] = [
            {
                "step": d.step or None,
                "action": d.action,
                "to_step": d.to_step or None,
                "comment": d.comment,
                "by": d.actor,
                "at": d.at.isoformat(),
            }
            for d in engine.decisions(session, application)
        ]
    return body


def _require(request, *permissions) -> None:
    if not any(request.has_permission(p) for p in permissions):
        raise HTTPForbidden()


def _no_such_application() -> Problem:
    return Problem({"id": _("There is no such application.")}, status=404, title="Not Found")


def _application(request, *, lock: bool = False):
    application = services.find_application(request.dbsession, request.matchdict["id"], lock=lock)
    if application is None:
        raise _no_such_application()
    return application


@view_config(route_name="api.credit_applications", request_method="GET", permission="staff", **API)
def list_applications(request):
    _require(request, "credit.apply", "credit.approve")
    params = request.params
    status = str(params.get("status", ""))
    product = products.product_of(request.dbsession, params.get("product")) if params.get("product") else None
    if params.get("product") and product is None:
        raise Problem({"product": _("There is no such product.")})
    rows = services.search(
        request.dbsession,
        status=status if status in tuple(ApplicationStatus) else "",
        product_id=product.id if product else None,
        step=services.query_text(params.get("step")),
        overdue=str(params.get("overdue", "")).lower() in ("1", "true"),
    )
    return {"applications": [application_json(request, application) for application, _progress in rows]}


@view_config(route_name="api.credit_applications", request_method="POST", permission="credit.apply", **API)
def create(request):
    body = request.json_body
    customer = services.customer_of(request.dbsession, request.tenant.id, whole_number(body.get("customer_id")) or 0)
    product = products.product_of(request.dbsession, body.get("product"))
    if product is None:
        raise Problem({"product": _("There is no such product.")})
    application = services.create_application(
        request.dbsession,
        request.tenant,
        request.hooks,
        customer=customer,
        product=product,
        form={k: str(v) for k, v in body.items()},
        created_by=request.identity.principal_id,
    )
    audit.record(
        request,
        "credit.application.create",
        "credit_application",
        application.number,
        None,
        {"status": application.status, "amount": application.amount},
    )
    request.response.status = 201
    return application_json(request, application, full=True)


@view_config(route_name="api.credit_application", request_method="GET", permission="staff", **API)
def show(request):
    _require(request, "credit.apply", "credit.approve")
    return application_json(request, _application(request), full=True)


@view_config(route_name="api.credit_application_actions", request_method="POST", permission="staff", **API)
def act(request):
    body = request.json_body
    action = body["action"]
    _require(request, "credit.apply" if action in ("submit", "withdraw") else "credit.approve")
    application = _application(request, lock=True)
    progress = services.progress_of(request.dbsession, application)
    before = {"status": application.status, "step": progress.step}
    engine.act(
        request.dbsession,
        request.tenant,
        application,
        request.identity.user,
        action,
        comment=body.get("comment", ""),
        to_step=body.get("to_step", ""),
        step=body.get("step", ""),
    )
    after = {"status": application.status, "step": progress.step}
    audit.record(request, f"credit.application.{action}", "credit_application", application.number, before, after)
    return application_json(request, application, full=True)


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.credit_applications", "/admin/applications")
    route("api.credit_application", "/admin/applications/{id}")
    route("api.credit_application_actions", "/admin/applications/{id}/actions")
    config.scan(".api")
