"""``/api/v1/admin/applications/{id}/contract`` (the contract's PDF) and ``/api/v1/admin/disbursements`` (a maker
prepares, a different checker approves — with an ``Idempotency-Key``), by the back office's rules."""

from __future__ import annotations

from pyramid.response import Response
from pyramid.view import view_config

from ...api import PREFIX, Problem, once
from ...i18n import _
from ...money import Money
from . import contracts
from .views import act_on_disbursement

API = {"renderer": "json", "openapi": True, "require_csrf": False}


def _not_found():
    return Problem({"id": _("There is no such application.")}, status=404, title="Not Found")


@view_config(route_name="api.credit.contract", request_method="GET", permission="credit.contract", **API)
def contract_pdf(request):
    """The application's contract in force as a PDF (404 before one is drawn up)."""
    application = contracts.find_application(request.dbsession, request.matchdict["id"])
    if application is None:
        raise _not_found()
    contract = contracts.current(request.dbsession, application.id)
    if contract is None:
        raise Problem(
            {"id": _("No contract has been drawn up for this application yet.")}, status=404, title="Not Found"
        )
    data = contracts.read(request.registry.settings_obj, contract.tenant_id, contract.pdf_key)
    if data is None:
        raise Problem({"id": _("The contract's PDF is missing from storage.")}, status=404, title="Not Found")
    response = Response(body=data, content_type="application/pdf")
    response.content_disposition = f'inline; filename="{contract.number}-v{contract.version}.pdf"'
    response.headers.update(
        {"Cache-Control": "no-store", "X-Contract-Number": contract.number, "X-Contract-SHA256": contract.pdf_sha256}
    )
    return response


def disbursement_json(application, done) -> dict:
    return {
        "id": done.id,
        "application_id": application.id,
        "application_status": application.status,
        "status": done.status,
        "value_date": done.value_date.isoformat(),
        "amount": str(Money(application.amount, application.currency)),
        "currency": application.currency,
        "prepared_by": done.prepared_by,
        "approved_by": done.approved_by or None,
        "loan_id": done.loan_id,
    }


def _act(request) -> dict:
    body = request.json_body
    application = contracts.locked_application(request.dbsession, body["application_id"])
    if application is None:
        raise _not_found()
    done = act_on_disbursement(request, application, body["action"], body.get("value_date") or "")
    request.response.status = 201 if body["action"] == "prepare" else 200
    return disbursement_json(application, done)


@view_config(route_name="api.credit.disbursements", request_method="POST", permission="credit.disburse", **API)
def post_disbursement(request):
    """``{"application_id", "action": "prepare"|"approve", "value_date"?}``: the maker prepares (201), a
    different checker approves (200: an own-funds loan is disbursed, a marketplace loan listed)."""
    return once(
        request,
        "credit_disbursement",
        lambda claim_id: _act(request),
        resource=lambda body: f"credit_disbursement:{body['id']}",
    )


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.credit.contract", "/admin/applications/{id}/contract")
    route("api.credit.disbursements", "/admin/disbursements")
    config.scan(".api")
