"""Who signs in: operators (whole install), staff (one tenant) with roles, and their sessions.

Members (borrowers and lenders) live in :mod:`core.members`; the sign-in
sessions and API tokens here serve all three kinds.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, TenantOwned, utcnow

staff_roles = sa.Table(
    "staff_roles",
    Base.metadata,
    sa.Column("staff_id", sa.ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role_id", sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


staff_groups = sa.Table(
    "staff_group_members",
    Base.metadata,
    sa.Column("staff_id", sa.ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("group_id", sa.ForeignKey("staff_groups.id", ondelete="CASCADE"), primary_key=True),
)
group_roles = sa.Table(
    "staff_group_roles",
    Base.metadata,
    sa.Column("group_id", sa.ForeignKey("staff_groups.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role_id", sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Operator(Base):
    """Runs the install: signs in on the operator-console host only."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(sa.String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_last_step: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def display_name(self) -> str:
        return self.login

    @property
    def requires_2fa(self) -> bool:
        """Operators run every tenant: their sign-in always asks for a second factor."""
        return True


class Role(TenantOwned, Base):
    """A named set of permissions in one tenant; ``requires_2fa`` for roles that move money."""

    __tablename__ = "roles"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(120))
    permissions: Mapped[list] = mapped_column(sa.JSON, default=list)
    requires_2fa: Mapped[bool] = mapped_column(default=False)
    builtin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)  # a deactivated role grants nothing and is offered to no one


class StaffGroup(TenantOwned, Base):
    """A user group: its roles apply to every staff user in it."""

    __tablename__ = "staff_groups"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    roles: Mapped[list[Role]] = relationship(secondary=group_roles, order_by=Role.code)


class OrgUnit(TenantOwned, Base):
    """A unit of the tenant's organization (組織機構): a tree by ``parent_id``."""

    __tablename__ = "org_units"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"))
    name: Mapped[str] = mapped_column(sa.String(120))


class StaffUser(TenantOwned, Base):
    """Runs one tenant's back office; never sees another tenant."""

    __tablename__ = "staff_users"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "login"), sa.UniqueConstraint("tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(sa.String(80))
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_last_step: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    org_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    email: Mapped[str | None] = mapped_column(sa.String(254))  # where work mail (the daily alert digest) goes
    roles: Mapped[list[Role]] = relationship(secondary=staff_roles, order_by=Role.code)
    groups: Mapped[list[StaffGroup]] = relationship(secondary=staff_groups, order_by=StaffGroup.name)
    org_unit: Mapped[OrgUnit | None] = relationship()

    @property
    def all_roles(self) -> list[Role]:
        """Active roles held directly and through groups (a deactivated role grants nothing)."""
        seen = {role.id: role for role in self.roles if role.active}
        for group in self.groups:
            for role in group.roles:
                if role.active:
                    seen.setdefault(role.id, role)
        return sorted(seen.values(), key=lambda role: role.code)

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(p for role in self.all_roles for p in role.permissions)

    @property
    def requires_2fa(self) -> bool:
        return any(role.requires_2fa for role in self.all_roles)


class AuthSession(Base):
    """A server-side sign-in session: the cookie holds a random token, this row its hash.

    Revocable (sign out, "sign out everywhere", staff deactivation or a change
    of their roles), with an idle and an absolute expiry. ``kind`` is
    ``member``, ``staff`` or ``operator``; ``tenant_id`` is empty for
    operators. ``second_factor_at`` says when the sign-in passed a TOTP code:
    without it the session never moves money, whatever its roles become.
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (sa.Index("ix_auth_sessions_principal", "kind", "principal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    principal_id: Mapped[int]
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    via: Mapped[str] = mapped_column(sa.String(8), default="cookie")  # cookie | token (API)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    second_factor_at: Mapped[dt.datetime | None]
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")


class AuditEvent(Base):
    """One staff or operator action, append-only: who, where, what, before → after."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(sa.String(120))
    action: Mapped[str] = mapped_column(sa.String(80))
    object_type: Mapped[str] = mapped_column(sa.String(40), default="")
    object_id: Mapped[str] = mapped_column(sa.String(80), default="")
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
