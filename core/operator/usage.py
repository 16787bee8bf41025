"""One tenant as the console sees it: its settings, how much it is used, and what can be done to it.

Usage is counted across the install's tables for one tenant — the console's
session has no tenant scope, so every query names ``tenant_id`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from babel.units import format_unit
from pyramid.view import view_config

from ..accounts.models import StaffUser
from ..i18n import region_locale
from ..ledger import MEMBER, LedgerAccount
from ..loans.models import ClosedDay, Loan, LoanStatus
from ..members.models import Member, MemberDocument
from . import STATUS_LABELS, TENANTS, tenant_or_404


@dataclass
class Usage:
    """How much a tenant is used: people, loans by status, members' money, close of day, storage."""

    members: int = 0
    staff: int = 0
    loans: list[tuple[str, int]] = field(default_factory=list)  # (status, count) in the lifecycle's order
    funds: dict[str, int] = field(default_factory=dict)  # currency → minor units (available + frozen)
    last_close: ClosedDay | None = None
    storage_bytes: int = 0


def usage(session, tenant) -> Usage:
    """Count ``tenant``'s members, staff, loans by status, the members' funds held, its last close of day and
    the bytes its uploads take (identity documents, and site files where the install has them)."""

    def count(model, *where):
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(model.tenant_id == tenant.id, *where))

    by_status = dict(
        session.execute(
            sa.select(Loan.status, sa.func.count()).where(Loan.tenant_id == tenant.id).group_by(Loan.status)
        ).all()
    )
    order = [s.value for s in LoanStatus]
    funds = session.execute(
        sa.select(LedgerAccount.currency, sa.func.sum(LedgerAccount.credits_posted - LedgerAccount.debits_posted))
        .where(
            LedgerAccount.tenant_id == tenant.id,
            LedgerAccount.owner_kind == MEMBER,
            LedgerAccount.code.in_(("available", "frozen")),
        )
        .group_by(LedgerAccount.currency)
    ).all()
    last_close = session.scalars(
        sa.select(ClosedDay).where(ClosedDay.tenant_id == tenant.id).order_by(ClosedDay.business_date.desc()).limit(1)
    ).first()
    return Usage(
        members=count(Member),
        staff=count(StaffUser, StaffUser.active),
        loans=sorted(by_status.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)),
        funds={currency: int(total or 0) for currency, total in funds},
        last_close=last_close,
        storage_bytes=_stored_bytes(session, tenant, MemberDocument) + _site_files_bytes(session, tenant),
    )


def _stored_bytes(session, tenant, model) -> int:
    total = session.scalar(sa.select(sa.func.sum(model.size)).where(model.tenant_id == tenant.id))
    return int(total or 0)


def _site_files_bytes(session, tenant) -> int:
    """The bytes of the tenant's site files (logo, favicon), on installs whose schema has them."""
    try:
        from ..uploads import TenantFile
    except ImportError:
        return 0
    if not hasattr(TenantFile, "size"):
        return 0
    return _stored_bytes(session, tenant, TenantFile)


UNITS = (("digital-gigabyte", 1024**3), ("digital-megabyte", 1024**2), ("digital-kilobyte", 1024))


def size_text(size: int, locale: str) -> str:
    """A number of bytes as a reader's locale writes it, to a tenth (half up): 1.5 MB, 12 kB, 300 byte."""
    for unit, scale in UNITS:
        if size >= scale:
            amount = (Decimal(size) / scale).quantize(Decimal("0.1"), ROUND_HALF_UP).normalize()
            return format_unit(amount, unit, length="short", locale=region_locale(locale))
    return format_unit(size, "digital-byte", length="short", locale=region_locale(locale))


def tenant_page(request, tenant, errors: dict | None = None) -> dict:
    """The tenant page's data: its settings, its usage and which status changes the console may make now."""
    plugins = request.registry["plugins"]
    found = usage(request.dbsession, tenant)
    return {
        "tenant": tenant,
        "usage": found,
        "storage": size_text(found.storage_bytes, request.locale_name),
        "plugin_names": sorted(
            plugins.info(i).display_name(request.locale_name)
            for i in tenant.enabled_plugin_ids
            if _installed(plugins, i)
        ),
        "status_labels": STATUS_LABELS,
        "may": {status.value: TENANTS.allows(tenant.status, status) for status in TENANTS.states},
        "errors": errors or {},
        "saved": request.params.get("saved"),
    }


def _installed(plugins, plugin_id: str) -> bool:
    try:
        plugins.info(plugin_id)
    except ValueError:
        return False
    return True


@view_config(route_name="operator.tenant", renderer="operator/tenant.pt", permission="operator")
def tenant_view(request):
    """One tenant: settings, usage, the manifest download, edit, suspend or resume, archive or restore."""
    return tenant_page(request, tenant_or_404(request))
