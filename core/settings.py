"""Typed app settings, read once from the ini file at start-up."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    pass


ENVIRONMENTS = ("development", "production")
# Secrets printed in the shipped ini files: anyone can read them, so a production install refuses them.
PUBLISHED_SECRETS = frozenset({
    "development-only-secret-change-me-0123456789",
    "replace-with-64-random-characters-from-a-secret-store-000000000",
})


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
    environment: str = "development"
    secure_cookies: bool = False
    throttle_url: str = "memory://"

    @property
    def production(self) -> bool:
        """The install says it is a production one: sandbox plugins may not be enabled."""
        return self.environment == "production"

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
        environment = str(settings.get("lendstack.environment", "development")).strip().lower()
        if environment not in ENVIRONMENTS:
            raise SettingsError(f"lendstack.environment: {environment!r} is not one of {', '.join(ENVIRONMENTS)}")
        if environment == "production":
            _check_production(secret, backend)
        return cls(
            database_url=url,
            operator_hosts=tuple(h.lower() for h in _list(settings.get("lendstack.operator_hosts", "operator.localhost"))),
            jobs_backend=backend,
            secret=secret,
            var_dir=Path(settings.get("lendstack.var_dir", "var")),
            reload_templates=_bool(settings.get("pyramid.reload_templates", False)),
            environment=environment,
            secure_cookies=_bool(settings.get("lendstack.secure_cookies", False)),
            throttle_url=str(settings.get("lendstack.throttle.url") or "memory://"),
        )


def _check_production(secret: str, backend: str) -> None:
    """What a production install refuses to start with: a published secret, jobs run in-process."""
    if secret in PUBLISHED_SECRETS:
        raise SettingsError("lendstack.secret is the example from the shipped ini file; "
                            "set a random secret of your own (lendstack.environment = production)")
    if backend == "immediate":
        raise SettingsError("lendstack.jobs.backend = immediate is for tests; "
                            "use redis or sqlite (lendstack.environment = production)")
