"""Production defaults: production.ini's settings, what a production install refuses, the sandbox gateway's secret."""

from __future__ import annotations

import json
import re
from pathlib import Path

import plaster
import pytest
from click.testing import CliRunner

from cli import main
from core.settings import AppSettings, SettingsError
from tenants.manifest import SHIPPED

ROOT = Path(__file__).resolve().parents[1]
OWN_SECRET = "a-secret-of-this-install-" + "q" * 40
SANDBOX_ERROR = 'plugins.payments.sandbox.secret'


def ini_settings(name: str, section: str = "app:main") -> dict:
    return dict(plaster.get_loader(str(ROOT / name), protocols=["wsgi"]).get_settings(section))


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def restore_jobs():
    """Building an app points the process's huey at its storage: put the test app's back afterwards."""
    from core import jobs

    saved = (jobs.context.settings, jobs.context.session_factory, jobs.context.plugins)
    yield
    jobs.configure(*saved)


def write_ini(path: Path, app: dict) -> str:
    lines = ["[app:main]", "use = egg:lendstack"]
    lines += [
        f"{key} = {str(value).replace('%', '%%')}"
        for key, value in app.items()
        if key not in ("use", "here", "__file__")
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def production(settings, tmp_path, engine, restore_jobs):
    """production.ini's own settings on the test database, with this install's secret and memory counters."""
    return {
        **ini_settings("production.ini"),
        "sqlalchemy.url": settings["sqlalchemy.url"],
        "lendstack.secret": settings["lendstack.secret"],
        "lendstack.operator_hosts": "operator.localhost",
        "lendstack.jobs.backend": "sqlite",
        "lendstack.jobs.sqlite_path": str(tmp_path / "jobs.sqlite"),
        "lendstack.var_dir": str(tmp_path / "var"),
        "lendstack.throttle.url": "memory://",
        "lendstack.argon2": "cheapest",
    }


def test_production_ini_serves_secure_cookies_shares_its_counters_and_says_it_is_production():
    app = ini_settings("production.ini")
    assert app["lendstack.environment"] == "production"
    assert app["lendstack.secure_cookies"] == "true"
    assert app["lendstack.throttle.url"].startswith("redis://")
    server = ini_settings("production.ini", "server:main")
    assert server["listen"] == "0.0.0.0:6543" and server["threads"] == "8"
    typed = AppSettings.from_ini({**app, "lendstack.secret": OWN_SECRET})
    assert typed.production and typed.secure_cookies and typed.throttle_url == app["lendstack.throttle.url"]
    development = AppSettings.from_ini(ini_settings("development.ini"))
    assert not development.production and not development.secure_cookies
    assert development.throttle_url == "memory://"


def test_a_production_install_refuses_the_example_secret_and_in_process_jobs():
    app = ini_settings("production.ini")
    with pytest.raises(SettingsError, match="lendstack.secret"):
        AppSettings.from_ini(app)  # the secret printed in production.ini itself
    with pytest.raises(SettingsError, match="lendstack.secret"):
        AppSettings.from_ini({**app, "lendstack.secret": ini_settings("development.ini")["lendstack.secret"]})
    with pytest.raises(SettingsError, match="immediate"):
        AppSettings.from_ini({**app, "lendstack.secret": OWN_SECRET, "lendstack.jobs.backend": "immediate"})
    with pytest.raises(SettingsError, match="lendstack.environment"):
        AppSettings.from_ini({**app, "lendstack.secret": OWN_SECRET, "lendstack.environment": "staging"})


def test_the_command_says_what_is_wrong_with_the_ini(production, tmp_path):
    example = ini_settings("production.ini")["lendstack.secret"]
    ini = write_ini(tmp_path / "prod.ini", {**production, "lendstack.secret": example})
    result = run("tenant", "list", "-c", ini)
    assert result.exit_code == 2
    assert "lendstack.secret is the example from the shipped ini file" in result.output


def test_pages_of_a_production_install_send_hsts_and_secure_cookies(production, plugins, tenants):
    from webtest import TestApp

    from core import make_config

    config = make_config(production, plugins)
    try:
        page = TestApp(config.make_wsgi_app()).get("/login", extra_environ={"HTTP_HOST": "demo.localhost"})
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
        cookies = page.headers.getall("Set-Cookie")
        assert cookies and all(re.search(r";\s*secure", c, re.I) for c in cookies), cookies
    finally:
        config.registry["db_engine"].dispose()


def test_web_processes_of_a_production_install_share_their_throttle_counters(production, plugins, redis_url):
    from core import make_config
    from core.throttle import Throttled

    shared = {**production, "lendstack.throttle.url": redis_url}
    first, second = make_config(shared, plugins), make_config(shared, plugins)
    try:
        first.registry["throttle"].reset()
        for _ in range(5):
            first.registry["throttle"].hit("code.phone", "13800138000")
        with pytest.raises(Throttled):  # the sixth code in an hour, asked of another process
            second.registry["throttle"].hit("code.phone", "13800138000")
    finally:
        first.registry["throttle"].reset()
        for config in (first, second):
            config.registry["db_engine"].dispose()


def test_a_production_install_refuses_development_only_plugins(production, tmp_path):
    ini = write_ini(tmp_path / "prod.ini", production)
    refused = run("tenant", "apply", "-c", ini, str(SHIPPED / "demo.toml"), str(SHIPPED / "acme.toml"))
    assert refused.exit_code == 2
    assert (
        "demo.toml: plugins.sms.outbox: a development-only plugin cannot be enabled on a production install"
        in refused.output
        and "nothing was applied" in refused.output
    )
    assert json.loads(run("tenant", "list", "-c", ini, "--json").output) == []
    real = tmp_path / "demo.toml"
    text = (SHIPPED / "demo.toml").read_text(encoding="utf-8")
    without_outbox = text.replace(
        '[plugins."sms.outbox"]\nsender = "鼎信網貸"', '[plugins."sms.outbox"]\nenabled = false'
    )
    real.write_text(without_outbox, encoding="utf-8")
    refused = run("tenant", "apply", "-c", ini, str(real))
    assert (
        "demo.toml: plugins.payments.sandbox: a development-only plugin cannot be enabled on a production install"
        in refused.output
    )
    real.write_text(
        without_outbox.replace('secret = "demo-sandbox-signing-secret"', "enabled = false").replace(
            'payout_gateway = "sandbox"\n', ""
        ),
        encoding="utf-8",
    )
    applied = run("tenant", "apply", "-c", ini, str(real))
    assert applied.exit_code == 0, applied.output
    shown = json.loads(run("tenant", "show", "demo", "-c", ini, "--json").output)
    assert shown["plugins"]["payments.sandbox"]["enabled"] is False
    assert shown["plugins"]["sms.outbox"]["enabled"] is False
    assert "payments.sandbox" not in {
        p["id"] for p in json.loads(run("plugins", "list", "--tenant", "demo", "-c", ini, "--json").output)
    }


@pytest.mark.parametrize(
    "setting, problem",
    [
        ("", "Required"),
        ('secret = "sandbox-demo-secret-0001"', "A published secret"),
        ('secret = "short"', "Too short"),
    ],
)
def test_the_sandbox_gateway_has_no_default_secret(settings, tmp_path, engine, setting, problem):
    ini = write_ini(tmp_path / "dev.ini", settings)
    manifest = tmp_path / "demo.toml"
    text = (SHIPPED / "demo.toml").read_text(encoding="utf-8")
    manifest.write_text(text.replace('secret = "demo-sandbox-signing-secret"', setting), encoding="utf-8")
    result = run("tenant", "apply", "-c", ini, str(manifest))
    assert result.exit_code == 2
    assert f"demo.toml: {SANDBOX_ERROR}: {problem}: the sandbox's own signing secret" in result.output
    assert json.loads(run("tenant", "list", "-c", ini, "--json").output) == []


def test_a_tenant_whose_stored_sandbox_secret_is_the_old_default_is_not_offered_it(client, db, tenants, caplog):
    from core.tenancy.services import tenant_by_slug
    from plugins.payments.sandbox import SandboxGateway, SandboxNotConfigured

    with pytest.raises(SandboxNotConfigured, match="set \\[plugins.\"payments.sandbox\"\\] secret"):
        SandboxGateway({})
    with db.transaction() as session:
        row = next(p for p in tenant_by_slug(session, "demo").plugins if p.plugin_id == "payments.sandbox")
        row.settings = {**row.settings, "secret": "sandbox-demo-secret-0001"}  # what the old default stored
    from tests.helpers import member_client

    member, _ = member_client(client.app.app, db, "13800138111")
    page = member.get("demo.localhost", "/account/recharge")
    assert page.status_int == 200
    assert 'value="offline"' in page.text and 'value="sandbox"' not in page.text
    assert "payments.sandbox: secret: A published secret" in caplog.text
