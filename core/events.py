"""Lifecycle events for plugins, fired from wherever core changes state.

A session knows the plugin registry (``info["plugins"]``, set on the session
factory by :func:`core.make_config`), so code deep in the ledger or the loan
lifecycle can tell the tenant's plugins what happened without every caller
passing hooks down. Sessions without a registry (bare scripts) tell no plugin (core listeners still hear).

- ``lendstack_transfers_posted``: fired by :meth:`core.ledger.Ledger.post` for
  each batch that moved money (not for a replayed key).
- ``lendstack_loan_status_changed``: each change of ``Loan.status`` is noted as
  it happens and fired just before the transaction commits, when the change
  is complete (dates, notes and schedules set), in the order they happened.

Core listens too: :func:`listen` registers a function of core (notifications,
VIP points) that is called with the session before the tenant's plugins, for
every event, whether or not the session knows a plugin registry; and
:func:`before_commit` registers a step run once the status changes are fired,
just before the transaction commits (where a listener finishes what it
collected). A transaction that aborts runs neither.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

PENDING = "lendstack_loan_status_changes"
HOOKS = "lendstack_event_hooks"
_LISTENERS: dict[str, list] = {}
_STEPS: list = []


def listen(hook_name: str):
    """Decorator: call ``listener(session, tenant_id, **kwargs)`` whenever core fires ``hook_name``."""

    def register(listener):
        if listener not in _LISTENERS.setdefault(hook_name, []):
            _LISTENERS[hook_name].append(listener)
        return listener

    return register


def before_commit(step):
    """Decorator: run ``step(session)`` just before each commit, after the loan status changes are fired."""
    if step not in _STEPS:
        _STEPS.append(step)
    return step


def hooks_for(session: Session, tenant_id: int | None):
    """The tenant's hooks through the session's plugin registry, or ``None``; built once per session and
    business date (a ledger post fires an event, and close of day posts thousands)."""
    registry = session.info.get("plugins")
    if registry is None or tenant_id is None:
        return None
    from .tenancy.models import Tenant

    tenant = session.get(Tenant, tenant_id)  # from the identity map after the first time
    if tenant is None:
        return None
    built = session.info.setdefault(HOOKS, {})
    key = (tenant_id, tenant.business_date)
    if key not in built:
        built[key] = registry.for_tenant(tenant)
    return built[key]


def tell_core(session: Session, tenant_id: int | None, hook_name: str, **kwargs) -> None:
    """Tell core's listeners only (the caller tells the plugins itself, as the manifest loader does)."""
    for listener in _LISTENERS.get(hook_name, ()):
        listener(session, tenant_id, **kwargs)


def fire(session: Session, tenant_id: int | None, hook_name: str, **kwargs) -> None:
    """Tell core's listeners, then the tenant's enabled plugins, that ``hook_name`` happened."""
    tell_core(session, tenant_id, hook_name, **kwargs)
    hooks = hooks_for(session, tenant_id)
    if hooks is not None:
        getattr(hooks, hook_name)(**kwargs)


def note_status_change(session: Session | None, loan, old: str, new: str) -> None:
    if session is not None and old != new:
        session.info.setdefault(PENDING, []).append((loan, old, new))


@event.listens_for(Session, "before_commit")
def _fire_status_changes(session: Session) -> None:
    while session.info.get(PENDING):
        loan, old, new = session.info[PENDING].pop(0)
        fire(session, loan.tenant_id, "lendstack_loan_status_changed", loan=loan, old_status=old, new_status=new)
    for step in _STEPS:
        step(session)


@event.listens_for(Session, "after_rollback")
def _forget_status_changes(session: Session) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(HOOKS, None)
