"""Finding tenants and changing their status."""

from __future__ import annotations

import sqlalchemy as sa

from .models import Tenant, TenantHost, TenantStatus


class TenantNotFound(LookupError):
    pass


def normalize_host(host: str) -> str:
    """``Demo.LocalHost:6543`` → ``demo.localhost`` (ports and case do not name a site)."""
    host = (host or "").strip().lower().rstrip(".")
    if any(ord(c) < 32 or ord(c) == 127 for c in host):
        return ""  # names no site (and PostgreSQL refuses a NUL)
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.split(":")[0]


def tenant_for_host(session, host: str) -> Tenant | None:
    return session.scalars(
        sa.select(Tenant).join(TenantHost).where(TenantHost.host == normalize_host(host))
    ).one_or_none()


def tenant_by_slug(session, slug: str) -> Tenant:
    tenant = session.scalars(sa.select(Tenant).where(Tenant.slug == slug)).one_or_none()
    if tenant is None:
        raise TenantNotFound(f"no tenant {slug!r}")
    return tenant


def all_tenants(session) -> list[Tenant]:
    return list(session.scalars(sa.select(Tenant).order_by(Tenant.slug)))


def set_status(session, slug: str, status: TenantStatus) -> Tenant:
    tenant = tenant_by_slug(session, slug)
    tenant.status = status.value
    return tenant
