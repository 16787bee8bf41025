"""Back office: the classification overview (per class, proposals waiting, changes, the migration matrix) and a
loan's classification page (standing, history, proposing), for staff with ``credit.classify``."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import FileResponse
from pyramid.view import view_config

from ... import audit
from ...forms import on_refusal
from ...loans.models import Loan
from ...members.models import Member
from . import services
from .models import CLASS_LABELS, CLASSES, ClassChange, ClassProposal, ClassSnapshot, ProposalStatus, RiskClass
from .rules import rules_for

PERMISSION = "credit.classify"
RECENT = 50


def _loan_or_404(request) -> Loan:
    loan = services.loan_of(request.dbsession, request.tenant.id, request.matchdict["id"])
    if loan is None:
        raise HTTPNotFound()
    return loan


def proposal_facts(proposal: ClassProposal) -> dict:
    return {
        "loan_id": proposal.loan_id,
        "proposed_class": proposal.proposed_class,
        "class_then": proposal.class_then,
        "status": proposal.status,
        "reason": proposal.reason,
        "evidence": proposal.evidence_name or None,
        "note": proposal.decision_note or None,
    }


def _month_ends(session, tenant_id: int) -> list[dt.date]:
    return list(
        session.scalars(
            sa.select(ClassSnapshot.month_end)
            .where(ClassSnapshot.tenant_id == tenant_id)
            .distinct()
            .order_by(ClassSnapshot.month_end.desc())
        )
    )


def _date(text) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return None


def _overview(request, *, error=None) -> dict:
    session, tenant = request.dbsession, request.tenant
    rows = services.portfolio(session, tenant.id)
    rules = rules_for(tenant)
    months = _month_ends(session, tenant.id)
    month_from, month_to = _date(request.GET.get("from")), _date(request.GET.get("to"))
    if month_to not in months:
        month_to = months[0] if months else None
    if month_from not in months:
        month_from = months[1] if len(months) > 1 else None
    loans = {
        loan.id: loan
        for loan in session.scalars(
            sa.select(Loan).where(
                Loan.tenant_id == tenant.id,
                Loan.id.in_(
                    sa.select(ClassProposal.loan_id).where(
                        ClassProposal.tenant_id == tenant.id, ClassProposal.status == ProposalStatus.PENDING.value
                    )
                ),
            )
        )
    }
    changes = session.scalars(
        sa.select(ClassChange)
        .where(ClassChange.tenant_id == tenant.id)
        .order_by(ClassChange.business_date.desc(), ClassChange.id.desc())
        .limit(RECENT)
    ).all()
    numbers = dict(
        session.execute(
            sa.select(Loan.id, Loan.number).where(
                Loan.tenant_id == tenant.id, Loan.id.in_({c.loan_id for c in changes} | set(loans))
            )
        ).all()
    )
    return {
        "rows": rows,
        "total": {k: sum(r[k] for r in rows) for k in ("loans", "outstanding", "provision")},
        "rates": rules.provision_percent,
        "labels": CLASS_LABELS,
        "classes": [c.value for c in CLASSES],
        "pending": services.proposals_of(session, tenant.id, status=ProposalStatus.PENDING.value),
        "loans": loans,
        "numbers": numbers,
        "changes": changes,
        "months": months,
        "month_from": month_from,
        "month_to": month_to,
        "matrix": services.migration_matrix(session, tenant.id, month_from, month_to)
        if month_from and month_to
        else None,
        "me": request.identity.principal_id,
        "currency": tenant.currency,
        "error": error,
    }


@view_config(
    route_name="admin.credit.classification",
    request_method="GET",
    renderer="admin/credit/classification/overview.pt",
    permission=PERMISSION,
)
def overview(request):
    """Per class: loans, principal left, provision; the proposals waiting; recent changes; the migration matrix."""
    return _overview(request)


def _loan_page(request, loan: Loan, *, error=None, form=None) -> dict:
    session, tenant = request.dbsession, request.tenant
    outstanding = loan.status in ("repaying", "defaulted")
    risk = services.shown_standing(session, tenant, loan)
    return {
        "loan": loan,
        "borrower": session.get(Member, loan.borrower_id),
        "risk": risk,
        "outstanding": outstanding,
        "history": services.history(session, tenant.id, loan.id),
        "proposals": services.proposals_of(session, tenant.id, loan_id=loan.id),
        "labels": CLASS_LABELS,
        "classes": [c.value for c in CLASSES],
        "allowed": [
            c.value for c in CLASSES if risk is not None and services.RANK[c.value] >= services.RANK[risk.rule_class]
        ],
        "me": request.identity.principal_id,
        "error": error,
        "form": form or {},
        "normal": RiskClass.NORMAL.value,
    }


@view_config(
    route_name="admin.credit.loan_classification",
    request_method="GET",
    renderer="admin/credit/classification/loan.pt",
    permission=PERMISSION,
)
def loan_page(request):
    """A loan's class: what the rules give, any approved manual class, the provision, every change, proposals."""
    return _loan_page(request, _loan_or_404(request))


@view_config(
    route_name="admin.credit.loan_classification",
    request_method="POST",
    renderer="admin/credit/classification/loan.pt",
    permission=PERMISSION,
)
def propose(request):
    """Propose another class for the loan, with a reason and an evidence file; another person decides."""
    loan = _loan_or_404(request)
    form = {k: request.POST.get(k, "") for k in ("proposed_class", "reason")}
    on_refusal(request, lambda error: _loan_page(request, loan, error=error, form=form))
    propose_recorded(
        request,
        loan,
        proposed_class=form["proposed_class"],
        reason=form["reason"],
        evidence=request.POST.get("evidence"),
    )
    return HTTPSeeOther(request.route_path("admin.credit.loan_classification", id=loan.id))


@view_config(
    route_name="admin.credit.classification_decide",
    request_method="POST",
    renderer="admin/credit/classification/overview.pt",
    permission=PERMISSION,
)
def decide(request):
    """Approve or reject another person's proposal (a rejection says why)."""
    proposal = services.locked_proposal(request.dbsession, request.tenant.id, request.matchdict["id"])
    if proposal is None:
        raise HTTPNotFound()
    on_refusal(request, lambda error: _overview(request, error=error))
    decide_recorded(
        request, proposal, approve=request.POST.get("decision") == "approve", note=request.POST.get("note", "")
    )
    return HTTPSeeOther(request.route_path("admin.credit.classification"))


@view_config(route_name="admin.credit.classification_evidence", permission=PERMISSION)
def evidence(request):
    """A proposal's evidence file (every opening recorded in the audit log)."""
    try:
        proposal_id = int(request.matchdict["id"])
    except ValueError:
        raise HTTPNotFound() from None
    proposal = request.dbsession.scalars(
        sa.select(ClassProposal).where(ClassProposal.tenant_id == request.tenant.id, ClassProposal.id == proposal_id)
    ).first()
    if proposal is None or not proposal.evidence_key:
        raise HTTPNotFound()
    path = services.evidence_path(request.registry.settings_obj, proposal)
    if not path.is_file():
        raise HTTPNotFound()
    audit.record(request, "credit.classification.evidence", "credit_class_proposal", proposal.id, None, None)
    response = FileResponse(str(path), request=request, content_type=proposal.evidence_type)
    response.content_disposition = f"attachment; filename=evidence-{proposal.id}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def propose_recorded(request, loan: Loan, *, proposed_class, reason, evidence=None) -> ClassProposal:
    """The signed-in staff member's proposal, in the audit log (the page and the API both propose through it)."""
    proposal = services.propose(
        request.dbsession,
        request.registry.settings_obj,
        request.tenant,
        loan,
        staff_id=request.identity.principal_id,
        by=audit.actor_of(request),
        proposed_class=proposed_class,
        reason=reason,
        evidence=evidence,
    )
    audit.record(
        request, "credit.classification.propose", "credit_class_proposal", proposal.id, None, proposal_facts(proposal)
    )
    return proposal


def decide_recorded(request, proposal: ClassProposal, *, approve: bool, note) -> None:
    """The signed-in staff member's decision on a proposal, in the audit log (for the page and the API)."""
    before = proposal_facts(proposal)
    services.decide(
        request.dbsession,
        request.tenant,
        proposal,
        staff_id=request.identity.principal_id,
        by=audit.actor_of(request),
        approve=approve,
        note=note,
    )
    action = "approve" if proposal.status == "approved" else "reject"
    audit.record(
        request,
        f"credit.classification.{action}",
        "credit_class_proposal",
        proposal.id,
        before,
        proposal_facts(proposal),
    )
