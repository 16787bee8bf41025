"""Domains register the labels pages show; shared layers read them from the registry and import no domain;
modules read typed settings, not the raw ini."""

import ast
import pathlib

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError

from core.db import scope_to_tenant
from core.settings import AppSettings, MailSettings, SettingsError
from core.templating import HELPER_KINDS, LABELS, label
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import PASSWORD, submit

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = [
    "templating.py",
    "i18n.py",
    "themes.py",
    "settings.py",
    "page_cache.py",
    "headers.py",
    "throttle.py",
    "mail.py",
    "db.py",
]
DOMAINS = {
    "accounts",
    "admin",
    "api",
    "content",
    "ledger",
    "loans",
    "members",
    "operator",
    "payments",
    "portal",
    "tenancy",
}
BASE = {"sqlalchemy.url": "sqlite://", "lendstack.secret": "s" * 40}


def imported_modules(path: pathlib.Path) -> set[str]:
    """Every ``core`` module ``path`` imports, at the top or inside a function, as a dotted name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = "core." + (node.module or "") if node.level else node.module or ""
            names |= {module} | {f"{module}.{a.name}" for a in node.names}
    return {n.replace("core..", "core.") for n in names}


@pytest.mark.parametrize("module", SHARED)
def test_shared_layers_import_no_domain(module):
    domains = {n.split(".")[1] for n in imported_modules(ROOT / "core" / module) if n.startswith("core.")}
    assert domains & DOMAINS == set()


def test_every_label_a_template_helper_reads_is_registered_by_its_domain(wsgi_app):
    tables = wsgi_app.registry[LABELS]
    assert set(HELPER_KINDS) <= set(tables)
    assert str(label(wsgi_app.registry, "loan_status", "bidding")) == "Open for bids"
    assert str(label(wsgi_app.registry, "transfer_reason", "recharge")) == "Recharge"
    assert str(label(wsgi_app.registry, "account_code", "escrow")) == "Escrow"
    assert str(label(wsgi_app.registry, "verification", "pending")) == "Waiting for review"
    assert str(label(wsgi_app.registry, "content_kind", "news")) == "News"
    assert label(wsgi_app.registry, "loan_status", "no-such-status") == "no-such-status"  # shown as stored


def test_my_loans_names_each_state_by_the_label_the_loans_domain_registered(client, db, tenants, plugins):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        hooks = plugins.for_tenant(demo)
        borrower = factories.member(session, demo, "13800135000", credit_line=10_000_000)
        lenders = [factories.member(session, demo, f"1380013500{n}", balance=5_000_000) for n in (1, 2)]
        for state in factories.STATES:
            factories.loan(
                session,
                demo,
                hooks,
                borrower,
                state,
                lenders=lenders,
                title=f"借款 {state}",
                amount="1000.00",
                term_months="3",
            )
    submit(
        client,
        "demo.localhost",
        client.get("demo.localhost", "/login"),
        {"login": "13800135000", "password": PASSWORD},
        status=303,
    )
    page = client.get("demo.localhost", "/account/loans?_LOCALE_=en").text
    for shown in ("Waiting for first review", "Open for bids", "Fully funded, in final review", "Repaying", "Settled"):
        assert shown in page
    fund_records = client.get("demo.localhost", "/account/funds?_LOCALE_=en").text
    assert "Loan disbursed" in fund_records  # the ledger's reason label, registered by the ledger


def test_a_plugin_adds_a_label_table_and_a_second_registration_of_a_kind_is_refused():
    config = Configurator(settings={})
    config.include("core.templating")
    config.add_labels(reward_status=lambda: {"earned": "Earned"}, reward_kind="core.content.models:KIND_LABELS")
    config.commit()
    assert label(config.registry, "reward_status", "earned") == "Earned"
    assert str(label(config.registry, "reward_kind", "banner")) == "Banner"
    config.add_labels(reward_status={"earned": "Won"})
    config.add_labels(reward_status={"earned": "Got"})
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_settings_modules_read_are_typed_and_defaulted():
    typed = AppSettings.from_ini(BASE)
    assert typed.page_cache_seconds == 5 and typed.catalog_dirs == ("themes:default/locale",)
    assert typed.max_body_bytes == 16 * 1024 * 1024 and typed.max_json_bytes == 1024 * 1024
    assert not typed.argon2_cheapest and typed.mail == MailSettings()
    assert typed.mail.sender_for("demo") == "no-reply@demo.invalid"
    assert "s" * 40 not in repr(typed)  # the secret never reaches a log line through a repr
    given = AppSettings.from_ini(
        {
            **BASE,
            "lendstack.page_cache_seconds": "0",
            "lendstack.argon2": "cheapest",
            "lendstack.catalog_dirs": "my_theme:locale themes:default/locale",
            "lendstack.mail.smtp_host": "smtp.example.org",
            "lendstack.mail.smtp_port": "587",
            "lendstack.mail.smtp_starttls": "true",
            "lendstack.mail.sender": "a@example.org",
        }
    )
    assert given.page_cache_seconds == 0 and given.argon2_cheapest
    assert given.catalog_dirs == ("my_theme:locale", "themes:default/locale")
    assert given.mail.smtp_host == "smtp.example.org" and given.mail.smtp_port == 587 and given.mail.smtp_starttls
    assert given.mail.sender_for("demo") == "a@example.org"


@pytest.mark.parametrize(
    "key, value",
    [
        ("lendstack.page_cache_seconds", "five"),
        ("lendstack.page_cache_seconds", "-1"),
        ("lendstack.max_body_bytes", "1.5"),
        ("lendstack.mail.smtp_port", "smtp"),
    ],
)
def test_a_bad_number_in_the_ini_stops_the_start_naming_its_key(key, value):
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        AppSettings.from_ini({**BASE, key: value})


def test_the_redis_job_backend_needs_its_url():
    with pytest.raises(SettingsError, match=r"lendstack\.jobs\.redis_url"):
        AppSettings.from_ini({**BASE, "lendstack.jobs.backend": "redis"})
    typed = AppSettings.from_ini(
        {**BASE, "lendstack.jobs.backend": "redis", "lendstack.jobs.redis_url": "redis://127.0.0.1:6379/0"}
    )
    assert typed.jobs_redis_url == "redis://127.0.0.1:6379/0"


def test_the_catalogue_folders_come_from_the_settings():
    from core.i18n import catalog_paths

    (folder,) = catalog_paths(AppSettings.from_ini(BASE).catalog_dirs)
    assert pathlib.Path(folder) == ROOT / "themes" / "default" / "locale"
    assert (pathlib.Path(folder) / "zh_Hant" / "LC_MESSAGES" / "lendstack.po").is_file()
