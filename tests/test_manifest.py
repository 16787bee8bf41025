"""Tenant manifests: validation names the file and field; applying is idempotent and all-or-nothing."""

import tomllib

import pytest
import sqlalchemy as sa

from core.tenancy.models import Tenant, TenantHost, TenantPlugin
from tenants.manifest import SHIPPED, ManifestError, apply, load, parse

from .conftest import count


def demo_data():
    return tomllib.loads((SHIPPED / "demo.toml").read_text())


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: d["plugins"].update({"payments.nonexistent": {}}), "plugins.payments.nonexistent"),
        (lambda d: d["plugins"]["payments.offline"].pop("bank_name"), "plugins.payments.offline.bank_name"),
        (
            lambda d: d["plugins"]["loan_types.credit"].update({"max_term_months": 0}),
            "plugins.loan_types.credit.max_term_months",
        ),
        (lambda d: d["plugins"]["loan_types.credit"].update({"colour": "red"}), "plugins.loan_types.credit"),
        (lambda d: d.update({"currency": "XYZ"}), "currency"),
        (lambda d: d.update({"currency": "cny"}), "currency"),
        (lambda d: d.update({"hosts": ["demo.localhost", "demo.localhost"]}), "hosts"),
        (lambda d: d.update({"hosts": ["bad host!"]}), "hosts[0]"),
        (lambda d: d.update({"theme": "nope"}), "theme"),
        (lambda d: d.update({"locales": ["fr"]}), "locales"),
        (lambda d: d.update({"default_locale": "en", "locales": ["zh_Hant"]}), "default_locale"),
        (lambda d: d.update({"timezone": "Mars/Olympus"}), "timezone"),
        (lambda d: d["branding"].update({"primary_color": "red;}"}), "branding.primary_color"),
        (lambda d: d.update({"slug": "Bad Slug"}), "slug"),
        (lambda d: d.update({"colour": "red"}), "colour"),
    ],
)
def test_bad_manifests_name_the_field(plugins, change, field):
    data = demo_data()
    change(data)
    with pytest.raises(ManifestError) as error:
        parse(data, "demo.toml", plugins)
    assert error.value.field.startswith(field)
    assert str(error.value).startswith("demo.toml: ")


def test_bad_toml_names_the_file(plugins, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("slug = \n")
    with pytest.raises(ManifestError, match="broken.toml: file"):
        load(path, plugins)


def test_applying_twice_changes_nothing(db, plugins):
    manifest = parse(demo_data(), "demo.toml", plugins)
    with db.transaction() as session:
        tenant, created = apply(session, manifest)
        assert created
    with db.transaction() as session:
        tenant, created = apply(session, parse(demo_data(), "demo.toml", plugins))
        assert not created
        assert not session.dirty and not session.new
    with db.transaction() as session:
        assert count(session, Tenant) == 1
        assert count(session, TenantHost) == 3


def test_update_replaces_hosts_and_plugins(db, plugins):
    with db.transaction() as session:
        apply(session, parse(demo_data(), "demo.toml", plugins))
    data = demo_data()
    data["hosts"] = ["demo.localhost", "dingxin.localhost"]
    data["plugins"]["payments.offline"] = {"enabled": False}
    data["name"] = "鼎信"
    with db.transaction() as session:
        apply(session, parse(data, "demo.toml", plugins))
    with db.transaction() as session:
        tenant = session.scalars(sa.select(Tenant)).one()
        assert tenant.name == "鼎信"
        assert sorted(h.host for h in tenant.hosts) == ["demo.localhost", "dingxin.localhost"]
        assert "payments.offline" not in tenant.enabled_plugin_ids


def test_a_host_of_another_tenant_is_refused_and_nothing_changes(db, plugins, tenants):
    data = demo_data()
    data["hosts"] = ["demo.localhost", "acme.localhost"]
    data["name"] = "changed"
    with pytest.raises(ManifestError, match="acme.localhost already serves tenant acme"):
        with db.transaction() as session:
            apply(session, parse(data, "demo.toml", plugins))
    with db.transaction() as session:
        assert session.scalars(sa.select(Tenant.name).where(Tenant.slug == "demo")).one() == "鼎信網貸"


def test_the_operator_host_cannot_be_a_tenant_host(db, plugins):
    data = demo_data()
    data["hosts"] = ["operator.localhost"]
    with pytest.raises(ManifestError, match="operator console"):
        with db.transaction() as session:
            apply(session, parse(data, "demo.toml", plugins), ("operator.localhost",))


def test_default_enabled_plugins_are_enabled_when_not_listed(db, plugins):
    data = demo_data()
    del data["plugins"]["sms.outbox"]
    with db.transaction() as session:
        tenant, _ = apply(session, parse(data, "demo.toml", plugins))
        assert "sms.outbox" in tenant.enabled_plugin_ids
        assert "tools.flat_rate" not in tenant.enabled_plugin_ids
        assert count(session, TenantPlugin) >= 4
