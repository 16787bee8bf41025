"""The audit log: every staff and operator action — and a member's own security actions (a password
reset or change) — append-only, searchable in the back office.

``record(request, action, obj, before, after)`` adds a row in the request's
transaction, so an action that fails (and is rolled back) leaves no claim that
it happened. Rows are never updated or deleted by the application.
"""

from __future__ import annotations

import sqlalchemy as sa

from .accounts.models import AuditEvent


def actor_of(request) -> str:
    identity = getattr(request, "identity", None)
    if identity is None:
        return "anonymous"
    return f"{identity.kind}:{identity.principal_id}:{identity.display_name}"


def member_actor(member) -> str:
    """How a member acting on their own account is named (``member:<id>:<name>``), signed in or not yet."""
    return f"member:{member.id}:{member.display_name}"


def record(
    request,
    action: str,
    object_type: str = "",
    object_id="",
    before: dict | None = None,
    after: dict | None = None,
    *,
    actor: str | None = None,
    tenant_id: int | None = None,
) -> AuditEvent:
    tenant = getattr(request, "tenant", None)
    event = AuditEvent(
        tenant_id=tenant_id if tenant_id is not None else (tenant.id if tenant is not None else None),
        actor=actor or actor_of(request),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        address=(request.client_addr or "")[:64],
    )
    request.dbsession.add(event)
    return event


def record_cli(
    session,
    action: str,
    object_type: str = "",
    object_id="",
    before=None,
    after=None,
    *,
    tenant_id: int | None = None,
    actor: str = "cli",
) -> AuditEvent:
    """An action taken from the ``lendstack`` command (an operator at the console)."""
    event = AuditEvent(
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        address="console",
    )
    session.add(event)
    return event


def search(session, tenant_id: int | None, *, text: str = "", page: int = 1, per_page: int = 50):
    """Events newest first, filtered by tenant and by a text in actor, action or object."""
    query = sa.select(AuditEvent)
    if tenant_id is not None:
        query = query.where(AuditEvent.tenant_id == tenant_id)
    if text:
        like = f"%{text.strip()}%"
        query = query.where(
            sa.or_(
                AuditEvent.actor.ilike(like),
                AuditEvent.action.ilike(like),
                AuditEvent.object_type.ilike(like),
                AuditEvent.object_id.ilike(like),
            )
        )
    rows = session.scalars(
        query.order_by(AuditEvent.id.desc()).limit(per_page + 1).offset((max(page, 1) - 1) * per_page)
    ).all()
    return rows[:per_page], len(rows) > per_page
