"""The event hooks no other test fires, fired through the doors people use: a manifest applied with the
``lendstack`` command (``lendstack_tenant_applied``) and a sign-up code sent by SMS (``lendstack_sms_delivered``)."""

import tomllib

import colander
import pytest
from click.testing import CliRunner

from cli import main
from core import PluginInfo, hookimpl
from core.plugin_registry import PluginRegistry
from tenants.manifest import SHIPPED
from tests.dev_outbox import OUTBOX
from tests.helpers import submit

LISTENER = "extension.hook_listener"


class Listener:
    """A plugin that only listens: which tenants were applied, which texts left."""

    PLUGIN = PluginInfo(id=LISTENER, kind="extension", name="Hook listener", settings=colander.MappingSchema())

    def __init__(self):
        self.applied, self.delivered = [], []

    @hookimpl
    def lendstack_tenant_applied(self, tenant, created):
        self.applied.append((tenant.slug, created))

    @hookimpl
    def lendstack_sms_delivered(self, tenant, message):
        self.delivered.append((tenant.slug, message))


@pytest.fixture
def restore_jobs():
    """A command builds an app, which points the process's jobs at it: put the test app's back afterwards."""
    from core import jobs

    saved = (jobs.context.settings, jobs.context.session_factory, jobs.context.plugins)
    yield
    jobs.configure(*saved)


@pytest.fixture
def listening_commands(monkeypatch):
    """Every plugin registry a ``lendstack`` command loads from entry points also holds the listener."""
    listener = Listener()
    real = PluginRegistry.load_entry_points

    def load_entry_points(self):
        real(self)
        self.register(listener)

    monkeypatch.setattr(PluginRegistry, "load_entry_points", load_entry_points)
    return listener


@pytest.fixture
def ini(tmp_path, settings, engine, restore_jobs):
    """An ini file pointing the command at the test database."""
    path = tmp_path / "test.ini"
    lines = ["[app:main]", "use = egg:lendstack"] + [f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_the_plugins_a_tenant_enables_hear_its_manifest_applied_first_created_then_updated(
    ini, tmp_path, listening_commands
):
    demo = tmp_path / "demo.toml"
    demo.write_text(
        (SHIPPED / "demo.toml").read_text(encoding="utf-8") + f'\n[plugins."{LISTENER}"]\n', encoding="utf-8"
    )
    acme = str(SHIPPED / "acme.toml")  # acme does not enable the listener: it is not told
    for _ in range(2):
        result = CliRunner().invoke(main, ["tenant", "apply", "-c", ini, str(demo), acme], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert listening_commands.applied == [("demo", True), ("demo", False)]


def test_the_plugins_a_tenant_enables_hear_of_each_text_sent_without_its_code(
    client, db, tenants, registered, apply_manifest
):
    listener = registered(Listener())
    data = tomllib.loads((SHIPPED / "demo.toml").read_text(encoding="utf-8"))
    data["plugins"][LISTENER] = {}
    apply_manifest(data)
    OUTBOX.clear()
    for host in ("demo.localhost", "acme.localhost"):  # acme does not enable the listener
        page = client.get(host, "/register")
        submit(
            client,
            host,
            page,
            {"phone": "13800138123" if host.startswith("demo") else "+12025550123"},
            "send_code",
            status=200,
        )
    assert [(slug, message.phone, message.purpose) for slug, message in listener.delivered] == [
        ("demo", "+8613800138123", "code.register")
    ]
    code = OUTBOX.code_for("+8613800138123")
    assert code and code not in listener.delivered[0][1].body  # plugins get the stored, masked text
