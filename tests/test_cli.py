"""The lendstack command: config convention, exit codes, JSON output."""

import json
import shutil

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli import main
from tenants.manifest import SHIPPED


@pytest.fixture
def ini(tmp_path, settings, engine):
    """An ini file pointing the CLI at the test database."""
    path = tmp_path / "test.ini"
    lines = ["[app:main]", "use = egg:lendstack"]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_missing_config_is_bad_input(tmp_path):
    result = run("tenant", "list", "-c", str(tmp_path / "none.ini"))
    assert result.exit_code == 2
    assert "not found" in result.output


def test_config_from_the_environment(ini):
    result = run("tenant", "list", "--json", env={"LENDSTACK_CONFIG": ini})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []


def test_apply_list_show_suspend_resume(ini):
    result = run("tenant", "apply", "-c", ini, str(SHIPPED / "demo.toml"), str(SHIPPED / "acme.toml"))
    assert result.exit_code == 0, result.output
    assert "created tenant demo" in result.output and "created tenant acme" in result.output
    again = run("tenant", "apply", "-c", ini, str(SHIPPED / "demo.toml"))
    assert "updated tenant demo" in again.output
    listed = json.loads(run("tenant", "list", "-c", ini, "--json").output)
    assert [t["slug"] for t in listed] == ["acme", "demo"]
    shown = json.loads(run("tenant", "show", "demo", "-c", ini, "--json").output)
    assert shown["currency"] == "CNY" and shown["default_locale"] == "zh_Hant"
    assert run("tenant", "suspend", "acme", "-c", ini).exit_code == 0
    assert json.loads(run("tenant", "show", "acme", "-c", ini, "--json").output)["status"] == "suspended"
    assert run("tenant", "resume", "acme", "-c", ini).exit_code == 0
    assert "active" in run("tenant", "show", "acme", "-c", ini).output


def test_a_bad_manifest_applies_nothing_even_beside_a_good_one(ini, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((SHIPPED / "acme.toml").read_text().replace('currency = "USD"', 'currency = "US"'))
    result = run("tenant", "apply", "-c", ini, str(SHIPPED / "demo.toml"), str(bad))
    assert result.exit_code == 2
    assert "bad.toml: currency" in result.output and "nothing was applied" in result.output
    assert json.loads(run("tenant", "list", "-c", ini, "--json").output) == []


def test_unknown_tenant_is_bad_input(ini):
    for command in (
        ["tenant", "show", "ghost"],
        ["tenant", "suspend", "ghost"],
        ["plugins", "list", "--tenant", "ghost"],
    ):
        result = run(*command, "-c", ini)
        assert result.exit_code == 2 and "ghost" in result.output


def test_plugins_list_differs_per_tenant_as_the_manifests_say(ini, tmp_path):
    shutil.copy(SHIPPED / "acme.toml", tmp_path / "acme.toml")
    run("tenant", "apply", "-c", ini, str(SHIPPED / "demo.toml"), str(tmp_path / "acme.toml"))
    every = {p["id"] for p in json.loads(run("plugins", "list", "-c", ini, "--json").output)}
    demo = {p["id"] for p in json.loads(run("plugins", "list", "--tenant", "demo", "-c", ini, "--json").output)}
    acme = {p["id"] for p in json.loads(run("plugins", "list", "--tenant", "acme", "-c", ini, "--json").output)}
    assert "tools.flat_rate" in every
    assert "payments.offline" in demo and "payments.offline" not in acme
    assert demo <= every and acme <= every


def test_db_current_reports_the_latest_revision(ini):
    result = run("db", "current", "-c", ini)
    assert result.exit_code == 0 and "latest:" in result.output


def test_accounts_take_passwords_from_the_environment_never_argv(ini):
    run("tenant", "apply", "-c", ini, str(SHIPPED / "demo.toml"))
    env = {"LENDSTACK_PASSWORD": "a long enough secret"}
    assert run("operator", "create", "--login", "root", "-c", ini, env=env).exit_code == 0
    again = run("operator", "create", "--login", "root", "-c", ini, env=env)
    assert again.exit_code == 2 and "already exists" in again.output
    assert run("operator", "create", "--login", "root", "--if-missing", "-c", ini, env=env).exit_code == 0
    made = run("staff", "create", "--tenant", "demo", "--login", "alice", "--role", "cashier", "-c", ini, env=env)
    assert made.exit_code == 0, made.output
    bad_role = run("staff", "create", "--tenant", "demo", "--login", "bob", "--role", "king", "-c", ini, env=env)
    assert bad_role.exit_code == 2 and "role" in bad_role.output
    weak = run(
        "staff", "create", "--tenant", "demo", "--login", "carol", "-c", ini, env={"LENDSTACK_PASSWORD": "short"}
    )
    assert weak.exit_code == 2 and "password" in weak.output


def test_tools_schedule_prints_the_table_and_refuses_bad_input(ini):
    run("tenant", "apply", "-c", ini, str(SHIPPED / "demo.toml"), str(SHIPPED / "acme.toml"))
    base = [
        "tools",
        "schedule",
        "-c",
        ini,
        "--tenant",
        "demo",
        "--method",
        "equal_installment",
        "--principal",
        "10000",
        "--rate",
        "12",
        "--months",
        "12",
        "--start",
        "2027-01-15",
    ]
    result = run(*base)
    assert result.exit_code == 0, result.output
    assert "888.49" in result.output and "total 10661.86 CNY" in result.output
    data = json.loads(run(*base, "--json").output)
    assert data["installments"][0] == {
        "period": 1,
        "due_date": "2027-02-15",
        "principal": "788.49",
        "interest": "100.00",
        "payment": "888.49",
        "balance": "9211.51",
    }
    bad = run(*base[:-6], "--rate", "50", "--months", "12")
    assert bad.exit_code == 2 and "annual_rate_percent" in bad.output
    off = run(
        "tools",
        "schedule",
        "-c",
        ini,
        "--tenant",
        "acme",
        "--method",
        "quarterly",
        "--principal",
        "1000",
        "--rate",
        "12",
        "--months",
        "12",
    )
    assert off.exit_code == 2 and "not enabled for acme" in off.output


def test_ledger_verify_balance_and_history(ini, db, tenants):
    from core.ledger import Ledger, Wallet
    from core.money import Money
    from core.tenancy.services import tenant_by_slug

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
    with db.transaction(demo) as session:
        wallet = Wallet(Ledger(session, demo), 5, "CNY")
        for n in range(3):
            wallet.recharge(Money(1000 * (n + 1), "CNY"), key=f"r{n}", ref=f"payment:{n}", initiator="gateway")
        available = wallet.available
    result = run("ledger", "verify", "-c", ini)
    assert result.exit_code == 0 and "ledger ok" in result.output
    listing = json.loads(
        run("ledger", "balance", "-c", ini, "--tenant", "demo", "--owner", "member:5", "--json").output
    )
    assert [(a["code"], a["balance"]) for a in listing] == [("available", "60.00")]
    page = run("ledger", "history", "-c", ini, "--tenant", "demo", "--account", str(available), "--limit", "2")
    assert page.exit_code == 0
    assert "60.00" in page.output and "--before" in page.output
    assert run("ledger", "history", "-c", ini, "--tenant", "acme", "--account", str(available)).exit_code == 2
    assert run("ledger", "balance", "-c", ini, "--tenant", "demo", "--owner", "someone").exit_code == 2
    assert run("ledger", "verify", "-c", ini, "--tenant", "nope").exit_code == 2

    with db.transaction() as session:
        session.execute(
            sa.text("UPDATE ledger_accounts SET credits_posted = credits_posted + 7 WHERE id = :id"), {"id": available}
        )
        from core.db import mark_changed

        mark_changed(session)
    broken = run("ledger", "verify", "-c", ini, "--tenant", "demo")
    assert broken.exit_code == 1
    assert f"demo: account {available}: invariant 4" in broken.output


def test_plugin_settings_are_encrypted_at_rest_and_masked_when_shown(ini, db, tenants, engine):
    import sqlalchemy as sa

    with engine.connect() as conn:
        stored = conn.execute(
            sa.text(
                "SELECT settings FROM tenant_plugins WHERE plugin_id = 'payments.sandbox' "
                "AND tenant_id = (SELECT id FROM tenants WHERE slug = 'demo')"
            )
        ).scalar_one()
    assert stored.startswith("fernet:") and "demo-sandbox-signing-secret" not in stored
    shown = json.loads(run("tenant", "show", "demo", "-c", ini, "--json").output)
    assert shown["plugins"]["payments.sandbox"]["settings"]["secret"] == "••••cret"
    assert shown["plugins"]["payments.offline"]["settings"]["bank_name"].startswith("中國工商銀行")
