"""Lifecycle events for plugins, fired from wherever core changes state.

A session knows the plugin registry (``info["plugins"]``, set on the session
factory by :func:`core.make_config`), so code deep in the ledger or the loan
lifecycle can tell the tenant's plugins what happened without every caller
passing hooks down. Sessions without a registry (bare scripts) fire nothing.

- ``lendstack_transfers_posted``: fired by :meth:`core.ledger.Ledger.post` for
  each batch that moved money (not for a replayed key).
- ``lendstack_loan_status_changed``: each change of ``Loan.status`` is noted as
  it happens and fired just before the transaction commits, when the change
  is complete (dates, notes and schedules set), in the order they happened.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

PENDING = "lendstack_loan_status_changes"
HOOKS = "lendstack_event_hooks"


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


def fire(session: Session, tenant_id: int | None, hook_name: str, **kwargs) -> None:
    hooks = hooks_for(session, tenant_id)
    if hooks is not None:
        getattr(hooks, hook_name)(**kwargs)


def note_status_change(session: Session | None, loan, old: str, new: str) -> None:
    if session is not None and old != new and session.info.get("plugins") is not None:
        session.info.setdefault(PENDING, []).append((loan, old, new))


@event.listens_for(Session, "before_commit")
def _fire_status_changes(session: Session) -> None:
    while session.info.get(PENDING):
        loan, old, new = session.info[PENDING].pop(0)
        fire(session, loan.tenant_id, "lendstack_loan_status_changed", loan=loan, old_status=old, new_status=new)


@event.listens_for(Session, "after_rollback")
def _forget_status_changes(session: Session) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(HOOKS, None)
