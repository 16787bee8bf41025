"""Typed app settings, read once from the ini file at start-up."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    pass


def _list(value) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return tuple(v for v in str(value or "").replace(",", " ").split() if v)


def _bool(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class AppSettings:
    database_url: str
    operator_hosts: tuple[str, ...]
    jobs_backend: str
    secret: str
    var_dir: Path
    reload_templates: bool

    @classmethod
    def from_ini(cls, settings: dict) -> "AppSettings":
        url = settings.get("sqlalchemy.url")
        if not url:
            raise SettingsError("sqlalchemy.url is not set")
        secret = settings.get("lendstack.secret", "")
        if len(secret) < 32:
            raise SettingsError("lendstack.secret must be at least 32 characters")
        backend = settings.get("lendstack.jobs.backend", "sqlite")
        if backend not in {"sqlite", "redis", "immediate"}:
            raise SettingsError(f"lendstack.jobs.backend: unknown backend {backend!r}")
        return cls(
            database_url=url,
            operator_hosts=tuple(h.lower() for h in _list(settings.get("lendstack.operator_hosts", "operator.localhost"))),
            jobs_backend=backend,
            secret=secret,
            var_dir=Path(settings.get("lendstack.var_dir", "var")),
            reload_templates=_bool(settings.get("pyramid.reload_templates", False)),
        )
