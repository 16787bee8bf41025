"""Versions of a tenant's settings: every apply of its manifest is kept, and any version can be applied again.

A version holds the whole manifest as it stood after the change (sealed: it
has plugin secrets), who changed it, how (``tenant.apply``, ``settings.branding``
…) and the changes, readable and with secrets masked. Restoring applies the
version's manifest through :func:`core.tenancy.manifest.change`, so it is
validated, audited and versioned like any other change.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from .models import Tenant, TenantVersion

KEPT_AS_THEY_ARE = ("slug", "business_date", "status")
"""What a restore leaves alone: the tenant's identity, its business date (close of day moves it) and its status
(suspending and archiving are the operator's, not a settings version's)."""


class VersionNotFound(LookupError):
    pass


def record(session, tenant: Tenant, manifest: dict, changes: list[dict], *, actor: str, action: str) -> TenantVersion:
    """Keep the tenant's settings as they now stand as its next version. The caller holds the tenant's row lock
    (:func:`core.tenancy.manifest.lock`, taken by every change), so the next number is never taken twice."""
    last = session.scalar(sa.select(sa.func.max(TenantVersion.number)).where(TenantVersion.tenant_id == tenant.id))
    stored = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in manifest.items()}
    version = TenantVersion(
        tenant_id=tenant.id,
        number=(last or 0) + 1,
        actor=actor[:120],
        action=action[:80],
        changes=changes,
        manifest=stored,
    )
    session.add(version)
    session.flush()
    return version


def versions(session, tenant: Tenant, *, limit: int = 200) -> list[TenantVersion]:
    """The tenant's versions, newest first."""
    return list(
        session.scalars(
            sa.select(TenantVersion)
            .where(TenantVersion.tenant_id == tenant.id)
            .order_by(TenantVersion.number.desc())
            .limit(limit)
        )
    )


def version(session, tenant: Tenant, number: int) -> TenantVersion:
    found = session.scalars(
        sa.select(TenantVersion).where(TenantVersion.tenant_id == tenant.id, TenantVersion.number == number)
    ).one_or_none()
    if found is None:
        raise VersionNotFound(f"no version {number} of tenant {tenant.slug}")
    return found


def restore(
    session, tenant: Tenant, number: int, plugins, *, actor: str, operator_hosts=(), production: bool = False
) -> list[dict]:
    """Apply version ``number`` of the tenant's settings again; the changes it made (none: it was current)."""
    from . import manifest

    stored = version(session, tenant, number).manifest

    def edit(data: dict) -> None:
        kept = {key: data[key] for key in KEPT_AS_THEY_ARE if key in data}
        data.clear()
        data.update(stored)
        data.update(kept)

    return manifest.change(
        session,
        tenant,
        plugins,
        edit,
        actor=actor,
        action=f"settings.restore.{number}",
        operator_hosts=operator_hosts,
        production=production,
    )
