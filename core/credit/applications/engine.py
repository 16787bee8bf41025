"""The step engine: an application's way through the version of the workflow it was submitted under.

Actions: ``submit`` (a draft, by staff with ``credit.apply``: every document type the product requires is
attached; it goes to the first step whose condition holds), ``approve`` (to the next step whose condition holds;
on the last one the application is approved), ``reject``, ``return`` (to a named earlier step, or to ``draft`` —
its relationship manager), ``request_documents`` (it stays on the step, marked as waiting for documents until
one is attached) and ``withdraw`` (a draft or an application in review, by staff with ``credit.apply``).

Rules core enforces, whatever the page or the API sends:

- only staff with ``credit.approve`` holding the step's role (or in its unit, or a unit under it) act on it;
- four eyes: whoever acted on one step of an application acts on no other step of it (they may act again on the
  same step after a return); the person who created the application and the customer's relationship manager
  act on no step of it;
- a comment is required to reject, return or request documents;
- the step's ``approval_limit`` caps the amount its role may give the final approval to (when no later step
  applies; in the standard workflow the committee takes larger amounts);
- the application's row is locked first (``SELECT … FOR UPDATE``) and the step named by the caller must still
  be the current one: of two people acting on one step at once, exactly one wins; the other is told the step
  was decided.

Every action is a :class:`~.models.CreditDecision` row (who, step, action, comment, when); status changes go
through :data:`~.models.APPLICATIONS`.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ...db import utcnow
from ...i18n import _
from .models import (
    APPLICATIONS,
    ApplicationDocument,
    ApplicationStatus,
    CreditApplication,
    CreditDecision,
    CreditWorkflow,
)
from .services import ApplicationError, customer_of, product_for, progress_of
from .workflows import DRAFT_TARGET, latest

STEP_ACTIONS = ("approve", "reject", "return", "request_documents")
ALL_ACTIONS = ("submit", *STEP_ACTIONS, "withdraw")
NEEDS_COMMENT = ("reject", "return", "request_documents")


def _grades() -> tuple[str, ...]:
    from ...loans import GRADES

    return tuple(GRADES)


def applies(step: dict, application: CreditApplication, customer) -> bool:
    """Whether ``step``'s condition holds for the application (every part given must hold)."""
    condition = step.get("condition") or {}
    if "amount_over" in condition and not application.amount > condition["amount_over"]:
        return False
    if "customer_kind" in condition and customer.kind != condition["customer_kind"]:
        return False
    if "grade_below" in condition:
        grades = _grades()
        grade = customer.grade
        # an unrated customer (or a grade of the tenant's own scale) counts as below every grade
        if grade in grades and grades.index(grade) <= grades.index(condition["grade_below"]):
            return False
    return True


def step_of(workflow: CreditWorkflow, code: str) -> dict | None:
    return next((s for s in workflow.steps if s["code"] == code), None)


def _next_step(workflow, after: str | None, application, customer) -> dict | None:
    codes = [s["code"] for s in workflow.steps]
    start = codes.index(after) + 1 if after else 0
    return next((s for s in workflow.steps[start:] if applies(s, application, customer)), None)


def _enter(progress, step: dict | None, now: dt.datetime) -> None:
    progress.step = step["code"] if step else ""
    progress.step_started_at = now if step else None
    progress.step_due_at = now + dt.timedelta(hours=step["hours"]) if step else None
    progress.documents_requested = False


def workflow_of(session, progress) -> CreditWorkflow | None:
    return session.get(CreditWorkflow, progress.workflow_id) if progress.workflow_id else None


def _record(
    session, application, step: str, action: str, staff, comment: str = "", to_step: str = ""
) -> CreditDecision:
    decision = CreditDecision(
        tenant_id=application.tenant_id,
        application_id=application.id,
        step=step,
        action=action,
        to_step=to_step,
        comment=comment,
        staff_id=getattr(staff, "id", None),
        actor=f"staff:{staff.id}:{staff.display_name or staff.login}" if staff is not None else "",
    )
    session.add(decision)
    return decision


def decisions(session, application) -> list[CreditDecision]:
    return list(
        session.scalars(
            sa.select(CreditDecision).where(CreditDecision.application_id == application.id).order_by(CreditDecision.id)
        )
    )


def holds_step(session, staff, step: dict) -> bool:
    """Whether ``staff`` may act on ``step`` by role and unit (with ``credit.approve``)."""
    if "credit.approve" not in staff.permissions:
        return False
    if step.get("role") and step["role"] not in {r.code for r in staff.all_roles}:
        return False
    if step.get("org_unit_id") is not None:
        from ...accounts.models import OrgUnit
        from ...accounts.organisation import descendants

        unit = session.get(OrgUnit, step["org_unit_id"])
        if unit is None or staff.org_unit_id not in {unit.id} | descendants(session, unit):
            return False
    return True


def refusal(session, application, progress, workflow, staff, customer) -> object | None:
    """Why ``staff`` may not act on the application's current step (a message), or ``None`` when they may."""
    if application.status != ApplicationStatus.IN_REVIEW or workflow is None:
        return _("This application is not waiting for a decision.")
    step = step_of(workflow, progress.step)
    if step is None or not holds_step(session, staff, step):
        return _("You cannot act on this step: it belongs to another role or unit.")
    if staff.id in (application.created_by, customer.relationship_manager_id):
        return _("You prepared this application or manage this customer: another person decides it.")
    acted_elsewhere = session.scalar(
        sa.select(sa.func.count()).where(
            CreditDecision.application_id == application.id,
            CreditDecision.staff_id == staff.id,
            CreditDecision.step != step["code"],
            CreditDecision.action.in_(STEP_ACTIONS),
        )
    )
    if acted_elsewhere:
        return _("You have acted on another step of this application: four eyes need another person here.")
    return None


def submit(session, tenant, application, staff, comment: str = "") -> CreditDecision:
    """A draft goes to the first step of its workflow that applies (the version it keeps from now on)."""
    if application.status != ApplicationStatus.DRAFT:
        raise ApplicationError("action", _("Only a draft can be submitted."))
    product = product_for(session, application)
    if not product.active:
        raise ApplicationError("product", _("This product is no longer offered."))
    attached = set(
        session.scalars(
            sa.select(ApplicationDocument.doc_type).where(ApplicationDocument.application_id == application.id)
        )
    )
    missing = [d for d in product.required_documents or [] if d not in attached]
    if missing:
        raise ApplicationError("documents", _("Attach every document this product requires before submitting."))
    progress = progress_of(session, application)
    workflow = workflow_of(session, progress) or latest(session, product.workflow_code, tenant.id)
    if workflow is None:
        raise ApplicationError("action", _("This product has no approval workflow: choose one on the product first."))
    customer = customer_of(session, tenant.id, application.customer_id)
    now = utcnow()
    progress.workflow_id = workflow.id
    progress.submitted_at = now
    first = _next_step(workflow, None, application, customer)
    decision = _record(session, application, "", "submit", staff, comment, first["code"] if first else "")
    APPLICATIONS.move(application, ApplicationStatus.IN_REVIEW)
    _enter(progress, first, now)
    session.flush()
    return decision


def act(
    session, tenant, application, staff, action: str, *, comment: str = "", to_step: str = "", step: str = ""
) -> CreditDecision | None:
    """Do ``action`` on ``application`` as ``staff`` (see the module); ``step``: the step the person decided on
    (refused when the application has moved on). The caller has locked the application's row."""
    comment = (comment or "").strip()
    if action not in ALL_ACTIONS:
        raise ApplicationError(
            "action", _("Choose one of the actions: ${actions}.", mapping={"actions": ", ".join(ALL_ACTIONS)})
        )
    if len(comment) > 1000 or "\x00" in comment:
        raise ApplicationError("comment", _("Use at most ${n} characters.", mapping={"n": 1000}))
    if action == "submit":
        return submit(session, tenant, application, staff, comment)
    if action == "withdraw":
        return withdraw(session, application, staff, comment)
    progress = progress_of(session, application)
    if step and (application.status != ApplicationStatus.IN_REVIEW or progress.step != step):
        raise ApplicationError("step", _("This step was decided already: the application has moved on."))
    workflow = workflow_of(session, progress)
    customer = customer_of(session, tenant.id, application.customer_id)
    why = refusal(session, application, progress, workflow, staff, customer)
    if why is not None:
        raise ApplicationError("action", why)
    current = step_of(workflow, progress.step)
    if action not in current["actions"]:
        raise ApplicationError("action", _("This step does not offer that action."))
    if action in NEEDS_COMMENT and not comment:
        raise ApplicationError(
            "comment", _("Say why in a comment: it is required to reject, return or ask for documents.")
        )
    handler = {"approve": _approve, "reject": _reject, "return": _return, "request_documents": _request_documents}[
        action
    ]
    return handler(session, application, progress, workflow, current, staff, customer, comment, to_step)


def _approve(session, application, progress, workflow, current, staff, customer, comment, to_step):
    following = _next_step(workflow, current["code"], application, customer)
    limit = current.get("approval_limit")
    if following is None and limit is not None and application.amount > limit:
        from ...money import Money

        raise ApplicationError(
            "action",
            _(
                "The amount is above this step's approval limit of ${limit}.",
                mapping={"limit": str(Money(limit, application.currency))},
            ),
        )
    if progress.documents_requested:
        raise ApplicationError("action", _("Documents were asked for: wait until they are attached."))
    decision = _record(
        session, application, current["code"], "approve", staff, comment, following["code"] if following else ""
    )
    now = utcnow()
    _enter(progress, following, now)
    if following is None:
        APPLICATIONS.move(application, ApplicationStatus.APPROVED)
        progress.decided_at = now
    session.flush()
    return decision


def _reject(session, application, progress, workflow, current, staff, customer, comment, to_step):
    decision = _record(session, application, current["code"], "reject", staff, comment)
    APPLICATIONS.move(application, ApplicationStatus.REJECTED)
    _enter(progress, None, utcnow())
    progress.decided_at = utcnow()
    session.flush()
    return decision


def return_targets(workflow, current: dict) -> list[str]:
    """Where a return from ``current`` may go: its ``return_to``, else ``draft`` and every earlier step."""
    codes = [s["code"] for s in workflow.steps]
    earlier = codes[: codes.index(current["code"])]
    return list(current.get("return_to") or [DRAFT_TARGET, *earlier])


def _return(session, application, progress, workflow, current, staff, customer, comment, to_step):
    to_step = (to_step or "").strip()
    if to_step not in return_targets(workflow, current):
        raise ApplicationError("to_step", _("Return it to draft or to an earlier step this step may return to."))
    decision = _record(session, application, current["code"], "return", staff, comment, to_step)
    if to_step == DRAFT_TARGET:
        APPLICATIONS.move(application, ApplicationStatus.DRAFT)
        _enter(progress, None, utcnow())
    else:
        _enter(progress, step_of(workflow, to_step), utcnow())
    session.flush()
    return decision


def _request_documents(session, application, progress, workflow, current, staff, customer, comment, to_step):
    decision = _record(session, application, current["code"], "request_documents", staff, comment)
    progress.documents_requested = True
    session.flush()
    return decision


def withdraw(session, application, staff, comment: str) -> CreditDecision:
    """A draft or an application in review is withdrawn (staff with ``credit.apply``)."""
    if application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.IN_REVIEW):
        raise ApplicationError("action", _("Only a draft or an application in review can be withdrawn."))
    progress = progress_of(session, application)
    decision = _record(session, application, progress.step, "withdraw", staff, comment)
    APPLICATIONS.move(application, ApplicationStatus.WITHDRAWN)
    _enter(progress, None, utcnow())
    progress.decided_at = utcnow()
    session.flush()
    return decision


def documents_arrived(session, application) -> None:
    """A document was attached: a step waiting for documents may decide again."""
    progress_of(session, application).documents_requested = False


def is_overdue(progress, now: dt.datetime | None = None) -> bool:
    return progress.step_due_at is not None and progress.step_due_at < (now or utcnow())


def queue(session, tenant, staff) -> list[tuple]:
    """The applications in review whose current step ``staff`` may act on now: ``(application, progress, step)``,
    oldest step first (my workbench, 我的工作臺)."""
    from .models import ApplicationProgress

    rows = session.execute(
        sa.select(CreditApplication, ApplicationProgress)
        .join(ApplicationProgress, ApplicationProgress.application_id == CreditApplication.id)
        .where(CreditApplication.status == ApplicationStatus.IN_REVIEW)
        .order_by(ApplicationProgress.step_started_at, CreditApplication.id)
    ).all()
    mine, workflows = [], {}
    for application, progress in rows:
        workflow = workflows.get(progress.workflow_id) or workflows.setdefault(
            progress.workflow_id, workflow_of(session, progress)
        )
        customer = customer_of(session, tenant.id, application.customer_id)
        if refusal(session, application, progress, workflow, staff, customer) is None:
            mine.append((application, progress, step_of(workflow, progress.step)))
    return mine
