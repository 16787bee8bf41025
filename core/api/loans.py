"""``/api/v1/loans`` and ``/api/v1/me``: the lifecycle for integrators (bearer tokens, problem details)."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPForbidden
from pyramid.view import view_config
from sqlalchemy.orm import selectinload

from .. import audit, loans
from ..i18n import _
from ..loans.autoinvest import AutoInvestRule, save_rule
from ..loans.models import Bid, Loan, Payback
from ..members import agreements
from ..members.models import Member
from ..money import Money
from ..schedules import repayment_methods
from . import PREFIX, Problem, once, refusals_name

API = {"renderer": "json", "openapi": True, "require_csrf": False}


def _money(minor: int, currency: str) -> str:
    return str(Money(minor, currency))


def loan_json(request, loan: Loan, with_schedule: bool = False) -> dict:
    """A loan as the API shows it, with its annual cost to the borrower (``apr_percent``) and, asked for,
    its installments."""
    body = {
        "id": loan.id,
        "number": loan.number,
        "title": loan.title,
        "loan_type": loan.loan_type,
        "status": loan.status,
        "amount": _money(loan.amount, loan.currency),
        "funded": _money(loan.funded, loan.currency),
        "currency": loan.currency,
        "annual_rate_percent": str(loan.annual_rate_percent),
        "term_months": loan.term_months,
        "repayment_method": loan.repayment_method,
        "deadline": loan.deadline.isoformat() if loan.deadline else None,
        "apr_percent": _apr_percent(request, loan),
    }
    if with_schedule:
        body["installments"] = [_installment_json(i, loan.currency) for i in loan.installments]
    return body


def _apr_percent(request, loan: Loan) -> str | None:
    """The loan's APR in percent with 2 decimals: from its installments once disbursed, before that from
    the schedule its method projects; ``None`` when there is none (or the method is no longer enabled)."""
    schedule = None
    if not loan.installments:
        method = repayment_methods(request.hooks).get(loan.repayment_method)
        if method is None:
            return None
        schedule = loans.schedule_for(request.tenant, method, loan)
    rate = loans.loan_apr(request.tenant, loan, schedule)
    return None if rate is None else f"{rate:.2f}"


def _installment_json(row, currency: str) -> dict:
    """One installment: what it asks (principal, interest, service fee), its overdue charges apart
    (the late fee once, penalty interest as it accrues), and what is owed now."""
    return {
        "period": row.period,
        "due_date": row.due_date.isoformat(),
        "principal": _money(row.principal, currency),
        "interest": _money(row.interest, currency),
        "service_fee": _money(row.service_fee, currency),
        "late_fee": _money(row.late_fee, currency),
        "penalty": _money(row.penalty, currency),
        "owed": _money(row.owed, currency),
        "status": row.status,
    }


def _visible(request, loan_id: int) -> Loan:
    """A public loan of this tenant (or the caller's own application, or any loan for staff); else 404."""
    loan = request.dbsession.scalars(sa.select(Loan).where(Loan.id == loan_id)).first()
    identity = request.identity
    own = (
        identity is not None
        and identity.kind == "member"
        and loan is not None
        and loan.borrower_id == identity.principal_id
    )
    staff = identity is not None and identity.kind == "staff"
    if loan is None or not (loans.is_public(loan) or own or staff):
        raise _no_such_loan()
    return loan


def _no_such_loan() -> Problem:
    return Problem({"id": _("There is no such loan.")}, status=404, title="Not Found")


@view_config(route_name="api.loans", request_method="GET", **API)
def list_loans(request):
    status = request.params.get("status", "bidding")
    if status not in loans.PUBLIC_STATUSES:
        raise Problem(
            {"status": _("Choose bidding, full, repaying, settled or failed.")}, status=400, title="Bad request"
        )
    rows = request.dbsession.scalars(
        loans.public_loans(Loan.status == status)
        .order_by(Loan.id.desc())
        .options(selectinload(Loan.installments))
        .limit(200)
    ).all()
    return {"loans": [loan_json(request, loan) for loan in rows]}


@view_config(route_name="api.loans", request_method="POST", permission="member", **API)
def apply(request):
    loans.require_verified(request.identity.user)
    loan = loans.apply(
        request.dbsession,
        request.tenant,
        request.hooks,
        request.identity.user,
        loans.parse_application(request.tenant, request.json_body),  # typed values from the validated JSON
    )
    request.response.status = 201
    return loan_json(request, loan)


@view_config(route_name="api.loan", request_method="GET", **API)
def get_loan(request):
    return loan_json(request, _visible(request, int(request.matchdict["id"])), with_schedule=True)


@view_config(route_name="api.loan_bids", request_method="POST", permission="member", **API)
def bid(request):
    """A bid, once per the member's Idempotency-Key (the same key on another loan is another request)."""
    return once(request, "bid", lambda claim_id: _place_bid(request, claim_id), resource=lambda b: f"bid:{b['id']}")


def _place_bid(request, claim_id: int) -> dict:
    loan = _visible(request, int(request.matchdict["id"]))
    # the first bid (and the first after a new version) confirms the risk notice for lenders: "accept_risk": true
    member = request.identity.user
    risk = agreements.pending(request.dbsession, request.tenant, member.id, agreements.RISK, request.locale_name)
    refusals_name(request, {"accept_lender_risk": "accept_risk"})
    agreements.required(risk, lambda field: request.json_body.get("accept_risk") is True)
    agreements.record(request.dbsession, member, risk, request.client_addr or "")
    # the bid's own key names the member's Idempotency-Key row: unique however many members share a key
    placed = loans.place_bid(
        request.dbsession,
        request.tenant,
        request.hooks,
        loan.id,
        request.identity.user,
        loans.positive_amount(request.json_body["amount"], request.tenant.currency, "amount"),
        key=f"api:{claim_id}",
    )
    request.response.status = 201
    return {
        "id": placed.id,
        "loan": loan.number,
        "amount": _money(placed.amount, loan.currency),
        "status": placed.status,
    }


@view_config(route_name="api.loan_repayments", request_method="POST", permission="member", **API)
def repay(request):
    """The borrower repays; with an Idempotency-Key a retry pays once and answers the first answer."""
    return once(
        request,
        "repayment",
        lambda _claim_id: _repay(request),
        required=False,
        resource=lambda body: f"loan:{body['loan']['number']}",
    )


def _repay(request) -> dict:
    loan = loans.locked_loan(request.dbsession, int(request.matchdict["id"]))
    if loan is None or loan.borrower_id != request.identity.principal_id:
        raise _no_such_loan()
    body = request.json_body if request.body else {}
    by = f"member:{loan.borrower_id}"
    if body.get("payoff"):
        paid = loans.pay_off(request.dbsession, request.tenant, loan, by=by)
    elif body.get("amount") is not None:
        amount = loans.positive_amount(body["amount"], loan.currency, "amount")
        paid = loans.repay(request.dbsession, request.tenant, loan, amount, by=by)
    else:
        paid = loans.repay_installments(request.dbsession, request.tenant, loan, body.get("installments", 1), by=by)
    return {"amount": _money(paid, loan.currency), "loan": loan_json(request, loan, with_schedule=True)}


@view_config(route_name="api.review", request_method="POST", permission="loan.review", **API)
@view_config(route_name="api.final_review", request_method="POST", permission="loan.review", **API)
@view_config(route_name="api.guarantee", request_method="POST", permission="loan.guarantee", **API)
def review(request):
    """First review, final review (which disburses: ``loan.final_review``), or the guarantor's answer."""
    loan = loans.locked_loan(request.dbsession, int(request.matchdict["id"]))
    if loan is None:
        raise _no_such_loan()
    body = request.json_body
    stage = {"api.final_review": "final-review", "api.guarantee": "guarantee"}.get(request.matched_route.name, "review")
    before = {"status": loan.status}
    if stage == "final-review" and not request.has_permission("loan.final_review"):
        raise HTTPForbidden()
    loans.decide(
        request.dbsession,
        request.tenant,
        request.hooks,
        loan,
        {"final-review": "final"}.get(stage, stage),
        approve=body["decision"] == "approve",
        reason=body.get("reason", ""),
        by=audit.actor_of(request),
    )
    audit.record(request, f"loan.{stage}.{body['decision']}", "loan", loan.number, before, {"status": loan.status})
    return loan_json(request, loan)


@view_config(route_name="api.me_account", request_method="GET", permission="member", **API)
def my_account(request):
    member = request.identity.user
    currency = request.tenant.currency
    standing = loans.position(request.dbsession, request.tenant, member.id)
    return {
        "currency": currency,
        "available": _money(standing.available, currency),
        "frozen": _money(standing.frozen, currency),
        "total": _money(standing.total, currency),  # cash on the platform: available + frozen
        "receivable_principal": _money(standing.receivable_principal, currency),
        "receivable_interest": _money(standing.receivable_interest, currency),
        "total_assets": _money(standing.total_assets, currency),
        "payable_principal": _money(standing.payable_principal, currency),
        "payable_interest": _money(standing.payable_interest, currency),
        "net_assets": _money(standing.net_assets, currency),
        "verified": member.is_verified,
        "vip_points": member.vip_points,
    }


@view_config(route_name="api.me_bids", request_method="GET", permission="member", **API)
def my_bids(request):
    rows = request.dbsession.scalars(
        sa.select(Bid).where(Bid.member_id == request.identity.principal_id).order_by(Bid.id.desc()).limit(200)
    ).all()
    return {
        "bids": [
            {
                "id": b.id,
                "loan": b.loan.number,
                "amount": _money(b.amount, b.loan.currency),
                "status": b.status,
                "auto": b.auto,
            }
            for b in rows
        ]
    }


@view_config(route_name="api.me_paybacks", request_method="GET", permission="member", **API)
def my_paybacks(request):
    rows = request.dbsession.scalars(
        sa.select(Payback)
        .where(Payback.member_id == request.identity.principal_id)
        .order_by(Payback.due_date, Payback.id)
        .limit(500)
    ).all()
    currency = request.tenant.currency
    return {
        "paybacks": [
            {
                "loan_id": p.loan_id,
                "period": p.period,
                "due_date": p.due_date.isoformat(),
                "principal": _money(p.principal, currency),
                "interest": _money(p.interest, currency),
                "status": p.status,
            }
            for p in rows
        ]
    }


@view_config(route_name="api.credit_line", request_method="PUT", permission="loan.credit_line", **API)
def put_credit_line(request):
    member = request.dbsession.scalars(sa.select(Member).where(Member.id == int(request.matchdict["id"]))).first()
    if member is None:
        raise Problem({"id": _("There is no such member.")}, status=404, title="Not Found")
    before = {"credit_line": member.credit_line, "credit_grade": member.credit_grade}
    loans.set_credit_line(member, request.json_body["amount"], request.tenant.currency, request.json_body.get("grade"))
    audit.record(
        request,
        "member.credit_line",
        "member",
        member.id,
        before,
        {"credit_line": member.credit_line, "credit_grade": member.credit_grade},
    )
    return {
        "id": member.id,
        "credit_line": _money(member.credit_line, request.tenant.currency),
        "grade": member.credit_grade,
    }


def _rule_json(rule, currency: str) -> dict:
    if rule is None:
        return {"enabled": False}
    return {
        "enabled": rule.enabled,
        "amount_per_loan": _money(rule.amount_per_loan, currency),
        "min_rate": str(rule.min_rate),
        "max_rate": str(rule.max_rate),
        "min_term": rule.min_term,
        "max_term": rule.max_term,
        "loan_types": list(rule.loan_types),
        "min_grade": rule.min_grade,
        "keep_balance": _money(rule.keep_balance, currency),
    }


@view_config(route_name="api.me_autoinvest", request_method="GET", permission="member", **API)
def get_autoinvest(request):
    rule = request.dbsession.scalars(
        sa.select(AutoInvestRule).where(AutoInvestRule.member_id == request.identity.principal_id)
    ).first()
    return _rule_json(rule, request.tenant.currency)


@view_config(route_name="api.me_autoinvest", request_method="PUT", permission="member", **API)
def put_autoinvest(request):
    body = dict(request.json_body)
    body["enabled"] = "on" if body.get("enabled", True) else "off"
    rule = save_rule(
        request.dbsession, request.tenant, request.identity.user, body, offered_types=loans.loan_types(request.hooks)
    )
    return _rule_json(rule, request.tenant.currency)


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.loans", "/loans")
    route("api.loan", "/loans/{id}")
    route("api.loan_bids", "/loans/{id}/bids")
    route("api.loan_repayments", "/loans/{id}/repayments")
    route("api.review", "/admin/loans/{id}/review")
    route("api.final_review", "/admin/loans/{id}/final-review")
    route("api.me_account", "/me/account")
    route("api.me_bids", "/me/bids")
    route("api.me_paybacks", "/me/paybacks")
    route("api.me_autoinvest", "/me/autoinvest")
    route("api.credit_line", "/admin/members/{id}/credit-line")
    route("api.guarantee", "/admin/loans/{id}/guarantee")
    config.scan(".loans")
