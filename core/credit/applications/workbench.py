"""What the approval workbench (貸款審批工作臺) shows beside an application: the customer, their latest rating and
financial ratios, the exposure of the customer and of everyone related to them, and the decisions so far."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ...loans import Loan, outstanding_principal
from . import documents, engine, services

CORPORATE_RATIOS = ("current_ratio", "quick_ratio", "debt_to_assets", "roe", "net_margin", "interest_coverage")


@dataclass(frozen=True)
class ExposureLine:
    customer: object
    outstanding: int  # minor units: principal of the customer's active loans not yet repaid
    related: bool


def exposure(session, tenant_id: int, customer) -> tuple[list[ExposureLine], int]:
    """The outstanding principal of the customer's loans and of every related customer's, with the total.

    Loans are the member's (a customer who is not a member has none yet on the loan side).
    """
    from ..customers.models import Customer
    from ..customers.services import related_customer_ids

    related = sorted(related_customer_ids(session, tenant_id, customer.id))
    others = (
        list(session.scalars(sa.select(Customer).where(Customer.id.in_(related)).order_by(Customer.id)))
        if related
        else []
    )
    lines = []
    for party, is_related in [(customer, False)] + [(c, True) for c in others]:
        owed = outstanding_principal(session, Loan.borrower_id == party.member_id) if party.member_id else 0
        lines.append(ExposureLine(party, owed, is_related))
    return lines, sum(line.outstanding for line in lines)


def ratios(session, customer) -> dict:
    """A company's latest financial ratios by code (C's customer facts), empty for an individual."""
    if customer.kind != "corporate":
        return {}
    from ..customers.facts import FACTS, customer_facts

    facts = customer_facts(session, customer)
    return {code: (FACTS[code], facts.get(code)) for code in CORPORATE_RATIOS if code in FACTS}


def latest_rating(session, tenant_id: int, customer) -> dict | None:
    """The customer's latest approved rating as the page shows it: grade, score, model version, when."""
    from ..rating.services import latest_rating as rating

    found = rating(session, tenant_id, customer.id)
    if found is None:
        return None
    version = getattr(found, "model_version", None)
    return {
        "grade": found.grade,
        "score": found.score,
        "version": getattr(version, "number", version),
        "at": getattr(found, "decided_at", None) or getattr(found, "rated_at", None),
    }


def approval_page(session, tenant, hooks, application, staff=None) -> dict:
    """Everything the approval workbench shows of one application (``staff``: who is looking, for the actions)."""
    customer = services.customer_of(session, tenant.id, application.customer_id)
    progress = services.progress_of(session, application)
    workflow = engine.workflow_of(session, progress)
    lines, total = exposure(session, tenant.id, customer)
    pledged = services.collateral(session, application)
    current = engine.step_of(workflow, progress.step) if workflow and progress.step else None
    why_not = engine.refusal(session, application, progress, workflow, staff, customer) if staff is not None else None
    try:
        preview = services.preview(tenant, hooks, application)
    except services.ApplicationError as error:
        preview, preview_error = None, error.message
    else:
        preview_error = None
    return {
        "application": application,
        "product": services.product_for(session, application),
        "customer": customer,
        "rating": latest_rating(session, tenant.id, customer),
        "ratios": ratios(session, customer),
        "exposure": lines,
        "exposure_total": total,
        "documents": documents.documents(session, application),
        "guarantees": services.guarantees(session, application),
        "collateral": pledged,
        "ltv": services.loan_to_value(application.amount, pledged),
        "decisions": engine.decisions(session, application),
        "progress": progress,
        "workflow": workflow,
        "step": current,
        "overdue": engine.is_overdue(progress),
        "may_act": staff is not None and current is not None and why_not is None,
        "why_not": why_not,
        "return_targets": engine.return_targets(workflow, current) if current else [],
        "preview": preview,
        "preview_error": preview_error,
    }
