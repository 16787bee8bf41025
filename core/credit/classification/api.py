"""The classification API, for staff with ``credit.classify``:

- ``GET /api/v1/admin/loans/{id}/classification``: the loan's standing, every change of its class, its proposals;
- ``POST`` the same: propose another class (``proposed_class``, ``reason``); it waits for a second person;
- ``POST /api/v1/admin/classification/proposals/{id}/decision``: that second person approves or rejects it;
- ``GET /api/v1/admin/classification``: the tenant's outstanding loans by class, with their provisions.

Refusals are problem details naming the field; another tenant's loan or proposal is a 404.
"""

from __future__ import annotations

from pyramid.view import view_config

from ...api import PREFIX, Problem, refusals_name
from ...i18n import _
from . import services
from .models import ClassChange, ClassProposal, LoanRisk
from .views import decide_recorded, propose_recorded

API = {"renderer": "json", "openapi": True, "require_csrf": False}
PERMISSION = "credit.classify"


def standing_json(risk: LoanRisk | None) -> dict | None:
    if risk is None:
        return None
    return {
        "class": risk.risk_class,
        "rule_class": risk.rule_class,
        "manual_class": risk.manual_class,
        "days_past_due": risk.days_past_due,
        "outstanding_principal": risk.outstanding_principal,
        "provision_rate_percent": risk.provision_rate,
        "provision": risk.provision,
        "classified_on": risk.classified_on.isoformat(),
        "watch_until": risk.watch_until.isoformat() if risk.watch_until else None,
    }


def change_json(change: ClassChange) -> dict:
    return {
        "business_date": change.business_date.isoformat(),
        "from_class": change.from_class,
        "to_class": change.to_class,
        "source": change.source,
        "days_past_due": change.days_past_due,
        "proposal_id": change.proposal_id,
        "decided_by": change.decided_by or None,
    }


def proposal_json(proposal: ClassProposal) -> dict:
    return {
        "id": proposal.id,
        "loan_id": proposal.loan_id,
        "proposed_class": proposal.proposed_class,
        "class_then": proposal.class_then,
        "reason": proposal.reason,
        "evidence": proposal.evidence_name or None,
        "status": proposal.status,
        "proposed_by": proposal.proposed_by,
        "proposed_at": proposal.created_at.isoformat(),
        "decided_by": proposal.decided_by or None,
        "decided_at": proposal.decided_at.isoformat() if proposal.decided_at else None,
        "note": proposal.decision_note or None,
    }


def _loan(request):
    loan = services.loan_of(request.dbsession, request.tenant.id, request.matchdict["id"])
    if loan is None:
        raise Problem({"id": _("There is no such loan.")}, status=404, title="Not Found")
    return loan


@view_config(route_name="api.credit.loan_classification", request_method="GET", permission=PERMISSION, **API)
def loan_classification(request):
    session, tenant, loan = request.dbsession, request.tenant, _loan(request)
    risk = services.shown_standing(session, tenant, loan)
    return {
        "loan_id": loan.id,
        "currency": loan.currency,
        "standing": standing_json(risk),
        "history": [change_json(c) for c in services.history(session, tenant.id, loan.id)],
        "proposals": [proposal_json(p) for p in services.proposals_of(session, tenant.id, loan_id=loan.id)],
    }


@view_config(route_name="api.credit.loan_classification", request_method="POST", permission=PERMISSION, **API)
def propose(request):
    """Propose another class for the loan: 201 with the proposal, pending a second person's decision."""
    loan, body = _loan(request), request.json_body
    proposal = propose_recorded(request, loan, proposed_class=body.get("proposed_class"), reason=body.get("reason"))
    request.response.status = 201
    return proposal_json(proposal)


@view_config(route_name="api.credit.classification_decision", request_method="POST", permission=PERMISSION, **API)
def decide(request):
    """A second person approves or rejects (with a ``note``) a pending proposal: 200 with the proposal."""
    proposal = services.locked_proposal(request.dbsession, request.tenant.id, request.matchdict["id"])
    if proposal is None:
        raise Problem({"id": _("There is no such proposal.")}, status=404, title="Not Found")
    body = request.json_body
    refusals_name(request, {"status": "decision"})
    decide_recorded(request, proposal, approve=body["decision"] == "approve", note=body.get("note", ""))
    return proposal_json(proposal)


@view_config(route_name="api.credit.classification", request_method="GET", permission=PERMISSION, **API)
def portfolio(request):
    rows = services.portfolio(request.dbsession, request.tenant.id)
    return {
        "currency": request.tenant.currency,
        "classes": rows,
        "total": {k: sum(r[k] for r in rows) for k in ("loans", "outstanding", "provision")},
    }


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.credit.classification", "/admin/classification")
    route("api.credit.loan_classification", "/admin/loans/{id}/classification")
    route("api.credit.classification_decision", "/admin/classification/proposals/{id}/decision")
    config.scan(".api")
