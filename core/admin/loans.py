"""Back office: the loan list, first-review and final-review queues, and each loan's full history."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from .. import audit, loans
from ..credit.classification import services as classification
from ..credit.classification.models import CLASS_LABELS, LoanRisk
from ..credit.repayments import services as offline
from ..forms import by_field, on_refusal
from ..i18n import _
from ..ledger import Ledger
from ..loans import guarantors
from ..loans.models import STATUSES, Loan, LoanEvent, Payback
from ..members.models import Member
from ..members.services import MemberError, clean_phone
from ..schedules import repayment_methods
from ..templating import TemplateHelpers
from .views import PAGE_SIZE, newest_first, page_number


def waiting_for_guarantor():
    """Loans in first review whose guarantor has not yet answered: the guarantor's queue, not the reviewer's."""
    return sa.and_(Loan.status == "submitted", Loan.type_data["guarantee"].as_string() == "pending")


QUEUES = {
    "first_review": lambda: sa.and_(
        Loan.status == "submitted", sa.not_(sa.func.coalesce(waiting_for_guarantor(), False))
    ),
    "guarantor": waiting_for_guarantor,
}
"""The back office's work queues over loans (the dashboard links each count to its list)."""


@view_config(route_name="admin.loans", renderer="admin/loans.pt", permission="member.view")
def loan_list(request):
    status, queue = request.params.get("status", ""), request.params.get("queue", "")
    query = sa.select(Loan)
    if queue in QUEUES:
        query, status = query.where(QUEUES[queue]()), ""
    else:
        queue = ""
        if status in STATUSES:
            query = query.where(Loan.status == status)
    listing = newest_first(request, query, Loan.id)
    counts = dict(request.dbsession.execute(sa.select(Loan.status, sa.func.count()).group_by(Loan.status)).all())
    return {
        **listing,
        "loans": listing["rows"],
        "status": status,
        "queue": queue,
        "queues": queue_counts(request.dbsession),
        "statuses": STATUSES,
        "counts": counts,
        "filters": {"status": status, "queue": queue},
    }


def queue_counts(session) -> dict[str, int]:
    """How many loans wait in each of :data:`QUEUES`."""
    return {
        name: session.scalar(sa.select(sa.func.count()).select_from(Loan).where(where()))
        for name, where in QUEUES.items()
    }


def loan_or_404(request) -> Loan:
    loan = request.dbsession.scalars(sa.select(Loan).where(Loan.id == int(request.matchdict["id"]))).first()
    if loan is None:
        raise HTTPNotFound()
    return loan


def _reviewer_facts(request, loan: Loan, borrower: Member) -> dict:
    """What a reviewer weighs: the borrower's credit, their loans so far, the guarantor, the collateral."""
    session = request.dbsession
    record = loans.borrower_history(session, borrower.id, excluding=loan.id)
    guarantor = None
    if loan.type_data.get("guarantor_id"):
        found = session.get(guarantors.Guarantor, int(loan.type_data["guarantor_id"]))
        if found is not None:
            guarantor = {
                "name": found.name,
                "quota": found.quota,
                "left": found.quota - guarantors.quota_used(session, found.id),
                "state": guarantors.guarantee_state(loan),
                "reference": loan.type_data.get("guarantee_reference", ""),
            }
    return {
        "credit_used": loans.credit_used(session, borrower.id),
        "history": record["by_status"],
        "overdue_now": record["overdue_now"],
        "guarantor": guarantor,
        "collateral": {
            k: loan.type_data[k]
            for k in ("collateral_kind", "collateral_description", "appraised_value", "released_on")
            if loan.type_data.get(k)
        },
    }


def _detail(request, loan, error=None, repayment_form=None):
    session = request.dbsession
    borrower = session.get(Member, loan.borrower_id)
    return {
        **_reviewer_facts(request, loan, borrower),
        "loan": loan,
        "error": error,
        "borrower": borrower,
        "events": session.scalars(
            sa.select(LoanEvent).where(LoanEvent.loan_id == loan.id).order_by(LoanEvent.id)
        ).all(),
        "paybacks": session.scalars(
            sa.select(Payback).where(Payback.loan_id == loan.id).order_by(Payback.period, Payback.id)
        ).all(),
        "can_review": bool(request.has_permission("loan.review")),
        "can_final": bool(request.has_permission("loan.final_review")),
        "can_write_off": bool(request.has_permission("loan.write_off")),
        "can_guarantee": bool(request.has_permission("loan.guarantee")),
        "can_classify": bool(request.has_permission("credit.classify")),
        "can_record_repayment": bool(request.has_permission("funds.recharge.confirm")),
        "offline_repayments": offline.of_loan(session, loan.tenant_id, loan.id),
        "repayment_form": repayment_form or {},
        "risk": session.get(LoanRisk, loan.id),
        "class_labels": CLASS_LABELS,
        "write_off_request": loans.pending_write_off(session, loan),
        "movements": request.ledger.with_refs(loans.ledger_refs(loan)),
        "method": repayment_methods(request.hooks).get(loan.repayment_method),
        "lenders": {
            m.id: m
            for m in session.scalars(
                sa.select(Member).where(Member.id.in_({b.member_id for b in loan.bids} | {loan.borrower_id}))
            )
        },
        "me": audit.actor_of(request),
        "event_details": lambda event: audit.changes(
            {}, event.detail or {}, TemplateHelpers(request), kind="loan_status", currency=loan.currency
        ),
    }


@view_config(route_name="admin.loan", renderer="admin/loan.pt", permission="member.view")
def loan_detail(request):
    return _detail(request, loan_or_404(request))


@view_config(route_name="admin.loan_decide", request_method="POST", renderer="admin/loan.pt", permission="loan.review")
def loan_decide(request):
    """First review needs ``loan.review``; final review (which disburses) needs ``loan.final_review``."""
    loan = loans.locked_loan(request.dbsession, int(request.matchdict["id"]))
    if loan is None:
        raise HTTPNotFound()
    stage, decision = request.POST.get("stage"), request.POST.get("decision")
    before = {"status": loan.status}
    on_refusal(request, lambda error: _detail(request, loan, error.message))
    if stage == "guarantee" and not request.has_permission("loan.guarantee"):
        raise HTTPForbidden()
    if stage == "final" and not request.has_permission("loan.final_review"):
        raise HTTPForbidden()
    loans.decide(
        request.dbsession,
        request.tenant,
        request.hooks,
        loan,
        stage if stage in ("guarantee", "final") else "review",
        approve=decision == "approve",
        reason=request.POST.get("reason", ""),
        by=audit.actor_of(request),
    )
    audit.record(
        request, f"loan.{stage or 'first'}_review.{decision}", "loan", loan.number, before, {"status": loan.status}
    )
    return HTTPSeeOther(request.route_path("admin.loan", id=loan.id))


@view_config(
    route_name="admin.loan_write_off", request_method="POST", renderer="admin/loan.pt", permission="loan.write_off"
)
def loan_write_off(request):
    loan = loans.locked_loan(request.dbsession, int(request.matchdict["id"]))
    if loan is None:
        raise HTTPNotFound()
    step, by = request.POST.get("step", "request"), audit.actor_of(request)
    step = step if step in ("approve", "decline") else "request"
    on_refusal(request, lambda error: _detail(request, loan, error.message))
    if step != "decline" and loan.status == "defaulted":  # the loan's class allows it (the tenant's rule)
        classification.check_write_off(request.dbsession, request.tenant, loan)
    if step == "approve":
        loans.write_off(request.dbsession, loan, by=by)
    elif step == "decline":
        loans.decline_write_off(request.dbsession, loan, by=by)
    else:
        loans.request_write_off(request.dbsession, loan, reason=request.POST.get("reason", ""), by=by)
    audit.record(
        request,
        f"loan.write_off.{step}",
        "loan",
        loan.number,
        {"status": "defaulted"},
        {"status": loan.status, "reason": loan.review_note},
    )
    return HTTPSeeOther(request.route_path("admin.loan", id=loan.id))


@view_config(route_name="admin.overdue", renderer="admin/overdue.pt", permission="member.view")
def overdue_list(request):
    """逾期列表: every overdue installment, longest past due first, with what it owes and who advanced it."""
    page = page_number(request)
    rows = loans.overdue_rows(request.dbsession, request.tenant, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return {"rows": rows[:PAGE_SIZE], "page": page, "more": len(rows) > PAGE_SIZE, "filters": {}}


@view_config(route_name="admin.guarantors", renderer="admin/guarantors.pt", permission="loan.review")
def guarantor_list(request):
    """Guarantor institutions with their quota used and deposit; create (loan.review) and fund (funds.adjust)."""
    session = request.dbsession
    if request.method == "POST":
        on_refusal(request, lambda error: _guarantors_page(request, error.message))
        if request.POST.get("fund"):
            if not request.has_permission("funds.adjust"):
                raise HTTPForbidden()
            guarantor = guarantors.find(session, request.POST["fund"])
            if guarantor is None:
                raise HTTPNotFound()
            guarantors.fund(
                session, request.tenant, guarantor, request.POST.get("amount", ""), by=audit.actor_of(request)
            )
            audit.record(
                request, "guarantor.fund", "guarantor", guarantor.id, None, {"amount": request.POST.get("amount", "")}
            )
        else:
            guarantor = guarantors.create(
                session, request.tenant, request.POST.get("name", ""), request.POST.get("quota", "")
            )
            audit.record(
                request,
                "guarantor.create",
                "guarantor",
                guarantor.id,
                None,
                {"name": guarantor.name, "quota": guarantor.quota},
            )
        return HTTPSeeOther(request.path)
    return _guarantors_page(request)


def _guarantors_page(request, error=None) -> dict:
    session = request.dbsession
    ledger = Ledger(session, request.tenant.id)
    rows = [
        {
            "guarantor": g,
            "used": guarantors.quota_used(session, g.id),
            "deposit": ledger.balance(guarantors.deposit_account(ledger, g.id, request.tenant.currency)).minor,
        }
        for g in session.scalars(sa.select(guarantors.Guarantor).order_by(guarantors.Guarantor.name))
    ]
    return {"rows": rows, "error": error, "can_fund": bool(request.has_permission("funds.adjust"))}


@view_config(route_name="admin.loan_new", renderer="admin/loan_new.pt", permission="loan.review")
def loan_new(request):
    """Staff publish a loan for a member — the way instant loans (秒標) are offered as promotions."""
    types = loans.loan_types(request.hooks)
    data = {
        "types": list(types.values()),
        "methods": repayment_methods(request.hooks),
        "errors": {},
        "form": dict(request.POST),
    }
    if request.method != "POST":
        return data
    session = request.dbsession
    key = request.POST.get("borrower", "").strip()
    on_refusal(request, lambda error: by_field(data, error))
    try:
        phone = clean_phone(request.tenant, key)
        borrower = session.scalars(sa.select(Member).where(Member.phone == phone)).first()
    except MemberError:  # not a mobile number: no such member, refused below on the borrower field
        borrower = None
    if borrower is None:
        raise loans.LoanError("borrower", _("There is no such member."))
    application = loans.parse_application(request.tenant, request.POST)
    loan = loans.apply(session, request.tenant, request.hooks, borrower, application, by_staff=True)
    loans.review(session, request.tenant, request.hooks, loan, approve=True, reason="", by=audit.actor_of(request))
    audit.record(request, "loan.publish", "loan", loan.number, None, {"type": loan.loan_type, "amount": loan.amount})
    return HTTPSeeOther(request.route_path("admin.loan", id=loan.id))


@view_config(
    route_name="admin.loan_offline_repayments",
    request_method="POST",
    renderer="admin/loan.pt",
    permission="funds.recharge.confirm",
)
def offline_repayment_record(request):
    """A maker records a bank transfer the borrower made for the loan; another staff member applies it."""
    loan = loans.locked_loan(request.dbsession, int(request.matchdict["id"]))
    if loan is None:
        raise HTTPNotFound()
    form = {k: request.POST.get(k, "") for k in ("amount", "bank_reference", "received_on")}
    on_refusal(
        request, lambda error: _detail(request, loan, error.message, repayment_form={**form, "field": error.field})
    )
    recorded = offline.record(
        request.dbsession,
        request.tenant,
        loan,
        amount_text=form["amount"],
        bank_reference=form["bank_reference"],
        received_on=form["received_on"],
        by=audit.actor_of(request),
    )
    facts = {"amount": recorded.amount, "currency": recorded.currency, "bank_reference": recorded.bank_reference}
    audit.record(request, "loan.offline_repayment.record", "loan", loan.number, None, facts)
    return HTTPSeeOther(request.route_path("admin.loan", id=loan.id))


@view_config(
    route_name="admin.offline_repayment_decide",
    request_method="POST",
    renderer="admin/loan.pt",
    permission="funds.recharge.confirm",
)
def offline_repayment_decide(request):
    """Another staff member applies the recorded transfer to the loan, or rejects it with a note."""
    recorded = offline.locked(request.dbsession, request.tenant.id, request.matchdict["id"])
    if recorded is None:
        raise HTTPNotFound()
    loan = request.dbsession.get(Loan, recorded.loan_id)
    on_refusal(request, lambda error: _detail(request, loan, error.message))
    approve = request.POST.get("decision") == "approve"
    offline.decide(
        request.dbsession,
        request.tenant,
        recorded,
        approve=approve,
        note=request.POST.get("note", ""),
        by=audit.actor_of(request),
    )
    facts = {"amount": recorded.amount, "currency": recorded.currency, "status": recorded.status}
    audit.record(
        request, f"loan.offline_repayment.{'apply' if approve else 'reject'}", "loan", loan.number, None, facts
    )
    return HTTPSeeOther(request.route_path("admin.loan", id=loan.id))
