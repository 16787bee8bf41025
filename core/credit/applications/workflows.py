"""Approval workflow definitions (貸款審批流程): ordered steps, checked whole, versioned, kept as TOML.

A definition is a ``code``, a ``name`` and its ordered ``steps``; each step has

- ``code`` (unique in the workflow) and ``name``;
- who acts on it: a ``role`` code, an ``org_unit`` (the unit's name; staff in it or in a unit under it), or both
  (then both must hold); the person also needs ``credit.approve``;
- an optional ``condition``: ``amount_over`` (major units), ``grade_below`` (a grade of
  :data:`core.loans.GRADES`; an unrated customer counts as below every grade) and ``customer_kind`` — all the
  parts given must hold, or the step is skipped;
- ``actions`` among ``approve``, ``reject``, ``return``, ``request_documents``; ``return_to``: the earlier steps
  (or ``draft``, the relationship manager) a return may go to — empty: any earlier step or ``draft``;
- ``hours``: the time limit from when the step starts (overdue after it);
- ``approval_limit`` (major units, optional): the largest amount this step's role may give the final approval
  to (when no later step applies to the application) — the approval limit of the step's role.

What is checked (:func:`check_steps`), so a saved definition can always be worked through: at least one step;
codes unique; every ``return_to`` an earlier step; an existing, active role that grants ``credit.approve``, an
existing unit; at least one step without a condition (else an application no condition fits would pass
unreviewed); every step offers ``approve`` (a step without it could never be passed, so no terminal approval
would exist for the applications reaching it); no step whose condition can never hold (``grade_below`` the best
grade, an unknown customer kind, a negative amount).

Editing a version that an application has started with saves the next version instead; an application keeps
the version it was submitted under.
"""

from __future__ import annotations

import re
import tomllib

import sqlalchemy as sa

from ...accounts.models import OrgUnit, Role
from ...domain import DomainError
from ...i18n import _
from ...money import MoneyError, parse_amount
from .models import ApplicationProgress, CreditWorkflow

ACTIONS = ("approve", "reject", "return", "request_documents")
DRAFT_TARGET = "draft"  # a return to the relationship manager
CUSTOMER_KINDS = ("individual", "corporate")
CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
STEP_KEYS = {"code", "name", "role", "org_unit", "condition", "actions", "return_to", "hours", "approval_limit"}
CONDITION_KEYS = {"amount_over", "grade_below", "customer_kind"}


class WorkflowError(DomainError):
    """A workflow definition refused: ``field`` is its path (``steps.2.return_to``); nothing was saved."""


def _grades() -> tuple[str, ...]:
    from ...loans import GRADES

    return tuple(GRADES)


def _text(value, field: str, limit: int, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    bad_type = value is not None and not isinstance(value, str)
    if (required and not text) or len(text) > limit or bad_type or "\x00" in text:
        raise WorkflowError(field, _("Give a text of up to ${n} characters.", mapping={"n": limit}))
    return text


def _money(value, currency: str, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        minor = parse_amount(str(value), currency).minor
    except MoneyError:
        minor = -1
    if minor < 0:
        raise WorkflowError(field, _("Give an amount of zero or more, like 500000.00."))
    return minor


def _condition(raw, currency: str, where: str) -> dict:
    if raw in (None, {}):
        return {}
    if not isinstance(raw, dict) or set(raw) - CONDITION_KEYS:
        raise WorkflowError(where, _("A condition has amount_over, grade_below and customer_kind only."))
    condition = {}
    if raw.get("amount_over") not in (None, ""):
        condition["amount_over"] = _money(raw["amount_over"], currency, f"{where}.amount_over")
    if raw.get("grade_below") not in (None, ""):
        grade = str(raw["grade_below"])
        if grade not in _grades():
            raise WorkflowError(
                f"{where}.grade_below",
                _("Choose one of the grades ${grades}.", mapping={"grades": ", ".join(_grades())}),
            )
        condition["grade_below"] = grade
    if raw.get("customer_kind") not in (None, ""):
        if raw["customer_kind"] not in CUSTOMER_KINDS:
            raise WorkflowError(
                f"{where}.customer_kind",
                _("A customer kind is individual or corporate: this step could never apply otherwise."),
            )
        condition["customer_kind"] = raw["customer_kind"]
    return condition


def _holder(session, tenant_id: int, raw: dict, where: str) -> tuple[str, int | None]:
    role_code = str(raw.get("role") or "").strip()
    unit_name = str(raw.get("org_unit") or "").strip()
    if not role_code and not unit_name:
        raise WorkflowError(f"{where}.role", _("Say which role or organization unit acts on this step."))
    if "\x00" in role_code + unit_name:
        raise WorkflowError(f"{where}.role", _("Say which role or organization unit acts on this step."))
    if role_code:
        role = session.scalars(sa.select(Role).where(Role.tenant_id == tenant_id, Role.code == role_code)).first()
        if role is None or not role.active or "credit.approve" not in (role.permissions or []):
            raise WorkflowError(
                f"{where}.role",
                _(
                    "Choose an active role that may act on credit steps (it grants credit.approve): nobody could act on this step."
                ),
            )
    unit_id = None
    if unit_name:
        units = session.scalars(
            sa.select(OrgUnit.id).where(OrgUnit.tenant_id == tenant_id, OrgUnit.name == unit_name)
        ).all()
        if len(units) != 1:
            raise WorkflowError(f"{where}.org_unit", _("Give the name of exactly one of your organization units."))
        unit_id = units[0]
    return role_code, unit_id


def _step(session, tenant, raw, index: int, earlier: list[str]) -> dict:
    where = f"steps.{index + 1}"
    if not isinstance(raw, dict) or set(raw) - STEP_KEYS:
        raise WorkflowError(
            where, _("A step has only these keys: ${keys}.", mapping={"keys": ", ".join(sorted(STEP_KEYS))})
        )
    code = str(raw.get("code") or "")
    if not CODE.match(code):
        raise WorkflowError(
            f"{where}.code", _("A code is 1–40 lowercase letters, digits or underscores, starting with a letter.")
        )
    if code in earlier or code == DRAFT_TARGET:
        raise WorkflowError(
            f"{where}.code", _("Each step needs its own code: ${code} is used twice.", mapping={"code": code})
        )
    role, unit_id = _holder(session, tenant.id, raw, where)
    actions = raw.get("actions") or ["approve", "reject", "return"]
    if not isinstance(actions, list) or any(a not in ACTIONS for a in actions) or len(set(actions)) != len(actions):
        raise WorkflowError(
            f"{where}.actions", _("Actions are among ${actions}.", mapping={"actions": ", ".join(ACTIONS)})
        )
    if "approve" not in actions:
        raise WorkflowError(
            f"{where}.actions",
            _("Every step must offer approve: an application reaching this step could never be approved."),
        )
    return_to = raw.get("return_to") or []
    if not isinstance(return_to, list) or any(t not in earlier and t != DRAFT_TARGET for t in return_to):
        raise WorkflowError(f"{where}.return_to", _("A step may return only to an earlier step or to draft."))
    hours = raw.get("hours", 24)
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= 8760:
        raise WorkflowError(f"{where}.hours", _("Give a time limit of 1 to 8760 hours."))
    return {
        "code": code,
        "name": _text(raw.get("name"), f"{where}.name", 120),
        "role": role,
        "org_unit_id": unit_id,
        "condition": _condition(raw.get("condition"), tenant.currency, f"{where}.condition"),
        "actions": list(actions),
        "return_to": list(return_to),
        "hours": hours,
        "approval_limit": _money(raw.get("approval_limit"), tenant.currency, f"{where}.approval_limit"),
    }


def check_steps(session, tenant, raw_steps) -> list[dict]:
    """The steps of a definition as stored, each checked (see the module); refused by the path at fault."""
    if not isinstance(raw_steps, list) or not raw_steps:
        raise WorkflowError("steps", _("A workflow needs at least one step."))
    steps: list[dict] = []
    for index, raw in enumerate(raw_steps):
        steps.append(_step(session, tenant, raw, index, [s["code"] for s in steps]))
    if all(step["condition"] for step in steps):
        raise WorkflowError(
            "steps",
            _(
                "At least one step must have no condition: an application no condition fits would be approved unreviewed."
            ),
        )
    return steps


def latest(session, code: str, tenant_id: int | None = None) -> CreditWorkflow | None:
    """The newest version of the workflow ``code`` (of ``tenant_id``, else of the session's tenant)."""
    if not isinstance(code, str) or "\x00" in code:
        return None
    query = sa.select(CreditWorkflow).where(CreditWorkflow.code == code)
    if tenant_id is not None:
        query = query.where(CreditWorkflow.tenant_id == tenant_id)
    return session.scalars(query.order_by(CreditWorkflow.version.desc())).first()


def all_latest(session) -> list[CreditWorkflow]:
    """The newest version of each workflow, by code."""
    newest = (
        sa.select(CreditWorkflow.code, sa.func.max(CreditWorkflow.version).label("v"))
        .group_by(CreditWorkflow.code)
        .subquery()
    )
    return list(
        session.scalars(
            sa.select(CreditWorkflow)
            .join(newest, sa.and_(CreditWorkflow.code == newest.c.code, CreditWorkflow.version == newest.c.v))
            .order_by(CreditWorkflow.code)
        )
    )


def versions(session, code: str) -> list[CreditWorkflow]:
    return list(
        session.scalars(
            sa.select(CreditWorkflow).where(CreditWorkflow.code == code).order_by(CreditWorkflow.version.desc())
        )
    )


def in_use(session, workflow: CreditWorkflow) -> bool:
    """Whether an application has started with this version (then it is never changed)."""
    return session.scalar(sa.select(sa.func.count()).where(ApplicationProgress.workflow_id == workflow.id)) > 0


def save_workflow(session, tenant, code: str, definition: dict, *, actor: str) -> tuple[CreditWorkflow, str]:
    """Check ``definition`` (``name``, ``steps``) and save it as the workflow ``code``.

    Returns the version saved and what happened: ``created`` (a new workflow), ``new_version`` (the newest was in
    use), ``changed`` (the newest, unused, changed in place) or ``unchanged``.
    """
    if not CODE.match(code or ""):
        raise WorkflowError(
            "code", _("A code is 1–40 lowercase letters, digits or underscores, starting with a letter.")
        )
    if not isinstance(definition, dict) or set(definition) - {"name", "steps"}:
        raise WorkflowError("code", _("A workflow has a name and its steps only."))
    name = _text(definition.get("name"), "name", 120)
    steps = check_steps(session, tenant, definition.get("steps"))
    current = latest(session, code, tenant.id)
    if current is not None and current.name == name and current.steps == steps:
        return current, "unchanged"
    if current is None or in_use(session, current):
        saved = CreditWorkflow(
            tenant_id=tenant.id,
            code=code,
            version=(current.version + 1) if current else 1,
            name=name,
            steps=steps,
            created_by=actor,
        )
        session.add(saved)
        session.flush()
        return saved, "created" if current is None else "new_version"
    current.name, current.steps = name, steps
    session.flush()
    return current, "changed"


# -- TOML ---------------------------------------------------------------------------------------------------------


def _major(minor: int | None, currency: str) -> str | None:
    from ...money import Money

    return None if minor is None else str(Money(minor, currency))


def as_definition(session, workflow: CreditWorkflow, currency: str) -> dict:
    """A stored version as the definition one edits or imports (units by name, amounts in major units)."""
    units = dict(session.execute(sa.select(OrgUnit.id, OrgUnit.name)).all())
    steps = []
    for step in workflow.steps:
        raw = {"code": step["code"], "name": step["name"]}
        if step.get("role"):
            raw["role"] = step["role"]
        if step.get("org_unit_id") is not None:
            raw["org_unit"] = units.get(step["org_unit_id"], "")
        condition = dict(step.get("condition") or {})
        if "amount_over" in condition:
            condition["amount_over"] = _major(condition["amount_over"], currency)
        if condition:
            raw["condition"] = condition
        raw["actions"] = list(step["actions"])
        if step.get("return_to"):
            raw["return_to"] = list(step["return_to"])
        raw["hours"] = step["hours"]
        if step.get("approval_limit") is not None:
            raw["approval_limit"] = _major(step["approval_limit"], currency)
        steps.append(raw)
    return {"name": workflow.name, "steps": steps}


def to_toml(session, workflows: list[CreditWorkflow], currency: str) -> str:
    """The workflows' definitions as TOML: one ``[workflows.<code>]`` table each (what :func:`from_toml` reads)."""
    import tomli_w

    data = {"workflows": {w.code: as_definition(session, w, currency) for w in workflows}}
    return tomli_w.dumps(data)


def from_toml(text: str) -> dict[str, dict]:
    """The definitions of a TOML text by code; refused (field ``toml``) when it is not TOML of that shape."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise WorkflowError("toml", _("This is not valid TOML: ${error}", mapping={"error": str(error)})) from None
    workflows = data.get("workflows")
    if set(data) != {"workflows"} or not isinstance(workflows, dict) or not workflows:
        raise WorkflowError("toml", _("Put each workflow in a [workflows.<code>] table, and nothing else."))
    if any(not isinstance(d, dict) for d in workflows.values()):
        raise WorkflowError("toml", _("Put each workflow in a [workflows.<code>] table, and nothing else."))
    return workflows


def import_toml(session, tenant, text: str, *, actor: str) -> list[tuple[CreditWorkflow, str]]:
    """Save every workflow of a TOML text (all or nothing: a refusal names ``workflows.<code>.<path>``)."""
    results = []
    for code, definition in from_toml(text).items():
        try:
            results.append(save_workflow(session, tenant, code, definition, actor=actor))
        except WorkflowError as error:
            raise WorkflowError(f"workflows.{code}.{error.field}", error.message) from None
    return results
