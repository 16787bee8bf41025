"""The tenant: an operator's branded site, its hosts and its enabled plugins."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, SealedJSON, TenantOwned, utcnow

DEFAULT_MAX_RATE_PERCENT = "36"
DEFAULT_ID_TYPES = ("cn_resident", "passport")


class TenantStatus(str, enum.Enum):
    active = "active"
    suspended = "suspended"  # the site answers 503 until resumed
    archived = "archived"  # the site answers 410; every row is kept and the operator can restore it


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    theme: Mapped[str] = mapped_column(sa.String(40), default="default")
    default_locale: Mapped[str] = mapped_column(sa.String(16))
    locales: Mapped[list] = mapped_column(sa.JSON)
    currency: Mapped[str] = mapped_column(sa.String(3))
    timezone: Mapped[str] = mapped_column(sa.String(64))
    business_date: Mapped[dt.date] = mapped_column(sa.Date)
    branding: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    lending: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    vip: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    members: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    funds: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    menus: Mapped[dict | None] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default=TenantStatus.active.value)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    hosts: Mapped[list["TenantHost"]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantHost.host"
    )
    plugins: Mapped[list["TenantPlugin"]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantPlugin.plugin_id"
    )

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.active.value

    @property
    def enabled_plugin_ids(self) -> frozenset[str]:
        return frozenset(p.plugin_id for p in self.plugins if p.enabled)

    def plugin_settings(self, plugin_id: str) -> dict:
        """The tenant's settings for one plugin (defaults applied at manifest time)."""
        for p in self.plugins:
            if p.plugin_id == plugin_id:
                return dict(p.settings or {})
        return {}

    @property
    def max_annual_rate_percent(self) -> Decimal:
        """The highest annual rate a loan or calculator may take here (lending policy)."""
        return Decimal((self.lending or {}).get("max_annual_rate_percent", DEFAULT_MAX_RATE_PERCENT))

    @property
    def id_types(self) -> list[str]:
        """The identity documents members may verify with here (first is the default)."""
        return list((self.members or {}).get("id_types") or DEFAULT_ID_TYPES)

    @property
    def email_sign_up(self) -> bool:
        return bool((self.members or {}).get("email_sign_up", False))

    def brand(self, key: str, default: str = "", locale: str | None = None) -> str:
        """A branding value; a text given per language (``{"en": …, "zh_Hant": …}``) in ``locale``,
        else in the tenant's default language, else in any language it has."""
        value = (self.branding or {}).get(key)
        if isinstance(value, dict):
            value = (
                value.get(locale or "")
                or value.get(self.default_locale)
                or next((text for text in value.values() if text), "")
            )
        return value or default

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class TenantHost(TenantOwned, Base):
    """A host name (``demo.localhost``) serving one tenant; unique across the install."""

    __tablename__ = "tenant_hosts"
    __table_args__ = (sa.UniqueConstraint("host"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(253))
    tenant: Mapped[Tenant] = relationship(back_populates="hosts")


class TenantPlugin(TenantOwned, Base):
    """One plugin enabled (or explicitly disabled) for a tenant, with its settings."""

    __tablename__ = "tenant_plugins"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "plugin_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[str] = mapped_column(sa.String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    settings: Mapped[dict] = mapped_column(SealedJSON, default=dict)  # encrypted at rest: they hold keys
    tenant: Mapped[Tenant] = relationship(back_populates="plugins")


class TenantVersion(TenantOwned, Base):
    """One saved state of a tenant's settings: the whole manifest after a change, who made it and what changed.

    Every apply (``lendstack tenant apply``, the operator console, a back-office
    settings page, the API) adds one; restoring a version applies its manifest
    again through the same path. The manifest is sealed: it holds plugin secrets.
    """

    __tablename__ = "tenant_versions"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]
    actor: Mapped[str] = mapped_column(sa.String(120), default="")
    action: Mapped[str] = mapped_column(sa.String(80), default="")
    changes: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{"path", "before", "after"}], secrets masked
    manifest: Mapped[dict] = mapped_column(SealedJSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
