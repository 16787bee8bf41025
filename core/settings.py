"""Typed app settings, read once from the ini file at start-up.

Modules read ``registry.settings_obj`` (an :class:`AppSettings`), never the raw
ini dictionary: a key is parsed, defaulted and checked here, once, and a bad
value stops the start-up naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .inputs import MAX_BODY_BYTES, MAX_JSON_BYTES


class SettingsError(ValueError):
    pass


ENVIRONMENTS = ("development", "production")
# Secrets printed in the shipped ini files: anyone can read them, so a production install refuses them.
PUBLISHED_SECRETS = frozenset(
    {
        "development-only-secret-change-me-0123456789",
        "replace-with-64-random-characters-from-a-secret-store-000000000",
    }
)


def split_list(value) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return tuple(v for v in str(value or "").replace(",", " ").split() if v)


def _bool(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _whole(settings: dict, key: str, default: int) -> int:
    """A whole number of at least 0 under ``key``; anything else stops the start-up naming the key."""
    value = settings.get(key)
    if value is None or str(value).strip() == "":
        return default
    text = str(value).strip()
    if not text.isdigit():
        raise SettingsError(f"{key} must be a whole number of at least 0, not {text!r}")
    return int(text)


DEFAULT_CATALOG_DIRS = ("themes:default/locale",)
"""The shipped catalogues, as an asset specification (found in an installed wheel as well)."""


@dataclass(frozen=True)
class MailSettings:
    """``lendstack.mail.*``: the SMTP relay email leaves through; no host keeps mail in the outbox log."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    sender: str = ""

    @classmethod
    def from_ini(cls, settings: dict) -> "MailSettings":
        return cls(
            smtp_host=str(settings.get("lendstack.mail.smtp_host") or ""),
            smtp_port=_whole(settings, "lendstack.mail.smtp_port", 25),
            smtp_starttls=_bool(settings.get("lendstack.mail.smtp_starttls", False)),
            smtp_user=str(settings.get("lendstack.mail.smtp_user") or ""),
            smtp_password=str(settings.get("lendstack.mail.smtp_password") or ""),
            sender=str(settings.get("lendstack.mail.sender") or ""),
        )

    def sender_for(self, tenant_slug: str) -> str:
        """The ``From`` address: the configured sender, or a no-reply address of the tenant that cannot receive."""
        return self.sender or f"no-reply@{tenant_slug}.invalid"


@dataclass(frozen=True)
class AppSettings:
    database_url: str
    operator_hosts: tuple[str, ...]
    jobs_backend: str
    secret: str = field(repr=False)
    var_dir: Path
    reload_templates: bool
    environment: str = "development"
    secure_cookies: bool = False
    throttle_url: str = "memory://"
    jobs_sqlite_path: Path = Path("var/jobs.sqlite")
    jobs_redis_url: str = ""
    page_cache_seconds: int = 5
    catalog_dirs: tuple[str, ...] = DEFAULT_CATALOG_DIRS
    argon2_cheapest: bool = False
    max_body_bytes: int = MAX_BODY_BYTES
    max_json_bytes: int = MAX_JSON_BYTES
    mail: MailSettings = field(default_factory=MailSettings)
    access_log: bool = False

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
        redis_url = str(settings.get("lendstack.jobs.redis_url") or "")
        if backend == "redis" and not redis_url:
            raise SettingsError("lendstack.jobs.redis_url is not set (lendstack.jobs.backend = redis)")
        return cls(
            database_url=url,
            operator_hosts=tuple(
                h.lower() for h in split_list(settings.get("lendstack.operator_hosts", "operator.localhost"))
            ),
            jobs_backend=backend,
            secret=secret,
            var_dir=Path(settings.get("lendstack.var_dir", "var")),
            reload_templates=_bool(settings.get("pyramid.reload_templates", False)),
            environment=environment,
            secure_cookies=_bool(settings.get("lendstack.secure_cookies", False)),
            throttle_url=str(settings.get("lendstack.throttle.url") or "memory://"),
            jobs_sqlite_path=Path(settings.get("lendstack.jobs.sqlite_path") or "var/jobs.sqlite"),
            jobs_redis_url=redis_url,
            page_cache_seconds=_whole(settings, "lendstack.page_cache_seconds", 5),
            catalog_dirs=split_list(settings.get("lendstack.catalog_dirs")) or DEFAULT_CATALOG_DIRS,
            # "cheapest": argon2's cheapest profile, for test suites only; anything else keeps the safe default.
            argon2_cheapest=settings.get("lendstack.argon2") == "cheapest",
            max_body_bytes=_whole(settings, "lendstack.max_body_bytes", MAX_BODY_BYTES),
            max_json_bytes=_whole(settings, "lendstack.max_json_bytes", MAX_JSON_BYTES),
            mail=MailSettings.from_ini(settings),
            # One line per request on the ``lendstack.access`` logger (core.access_log).
            access_log=_bool(settings.get("lendstack.access_log", False)),
        )


def _check_production(secret: str, backend: str) -> None:
    """What a production install refuses to start with: a published secret, jobs run in-process."""
    if secret in PUBLISHED_SECRETS:
        raise SettingsError(
            "lendstack.secret is the example from the shipped ini file; "
            "set a random secret of your own (lendstack.environment = production)"
        )
    if backend == "immediate":
        raise SettingsError(
            "lendstack.jobs.backend = immediate is for tests; use redis or sqlite (lendstack.environment = production)"
        )
