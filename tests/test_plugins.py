"""The plugin mechanism: discovery, metadata, settings, and calls limited to a tenant's plugins."""

import colander
import pytest

from core import PluginInfo, RepaymentMethod, hookimpl
from core.plugin_registry import PluginError, PluginRegistry
from core.tenancy.services import tenant_by_slug


def test_built_in_plugins_of_every_kind_are_discovered(plugins):
    kinds = {info.id: info.kind for info in plugins.infos()}
    assert kinds["loan_types.credit"] == "loan_type"
    assert kinds["payments.offline"] == "payment"
    assert kinds["sms.outbox"] == "sms"
    for method in ("equal_installment", "equal_principal", "interest_first", "one_time", "quarterly"):
        assert kinds[f"tools.{method}"] == "repayment_method"


def test_manifests_choose_the_calculators_each_tenant_shows(client, tenants):
    assert 'data-code="quarterly"' in client.get("demo.localhost", "/").text
    client.get("demo.localhost", "/tools/quarterly", status=200)
    client.get("acme.localhost", "/tools/quarterly", status=404)


def test_example_third_party_plugin_is_found_through_its_entry_point(plugins):
    info = plugins.info("tools.flat_rate")
    assert info.kind == "repayment_method" and not info.default_enabled


def test_tenant_calls_reach_only_enabled_plugins(db, tenants, plugins):
    with db.transaction() as session:
        demo = plugins.for_tenant(tenant_by_slug(session, "demo"))
        acme = plugins.for_tenant(tenant_by_slug(session, "acme"))
        assert sorted(g.code for g in demo.collect("lendstack_payment_gateways")) == ["offline", "sandbox"]
        assert [g.code for g in acme.collect("lendstack_payment_gateways")] == ["sandbox"]


def test_settings_reach_the_plugin_deserialized(db, tenants, plugins):
    with db.transaction() as session:
        demo = plugins.for_tenant(tenant_by_slug(session, "demo"))
        types = {t.code: t for t in demo.collect("lendstack_loan_types")}
        assert sorted(types) == ["credit", "guaranteed", "instant", "mortgage", "net_worth"]
        credit = types["credit"]
        assert str(credit.settings["max_amount"]) == "300000"
        assert credit.settings["max_term_months"] == 36


def test_enabling_a_plugin_changes_what_that_tenant_shows_and_only_that_tenant(client, tenants, apply_manifest):
    import tomllib

    from tenants.manifest import SHIPPED

    assert "flat_rate" not in client.get("acme.localhost", "/").text
    data = tomllib.loads((SHIPPED / "acme.toml").read_text())
    data["plugins"]["tools.flat_rate"] = {"handling_fee_percent": "0.5"}
    apply_manifest(data)
    assert 'data-code="flat_rate"' in client.get("acme.localhost", "/tools/flat_rate").text
    client.get("demo.localhost", "/tools/flat_rate", status=404)
    assert 'data-code="flat_rate"' not in client.get("demo.localhost", "/").text


def test_per_tenant_callers_follow_changes_to_the_enabled_set(db, tenants, plugins, apply_manifest):
    import tomllib

    from tenants.manifest import SHIPPED

    data = tomllib.loads((SHIPPED / "demo.toml").read_text())
    with db.transaction() as session:
        before = plugins.for_tenant(tenant_by_slug(session, "demo")).collect("lendstack_repayment_methods")
    data["plugins"]["tools.flat_rate"] = {}
    apply_manifest(data)
    with db.transaction() as session:
        after = plugins.for_tenant(tenant_by_slug(session, "demo")).collect("lendstack_repayment_methods")
    before, after = {m.code for m in before}, {m.code for m in after}
    assert "flat_rate" not in before and after == before | {"flat_rate"}


class Doubler:
    """A plugin written inside the test, as an integrator would test theirs."""

    PLUGIN = PluginInfo(id="tools.test_double", kind="repayment_method", name="Test", settings=colander.MappingSchema())

    @hookimpl
    def lendstack_repayment_methods(self, tenant):
        return [Method()]


class Method(RepaymentMethod):
    code = "test_double"
    name = "Test"

    def rows(self, terms):
        return []


def test_a_plugin_registered_in_a_test_is_called_only_where_enabled(db, tenants, plugins, registered, apply_manifest):
    import tomllib

    from tenants.manifest import SHIPPED

    registered(Doubler())
    data = tomllib.loads((SHIPPED / "acme.toml").read_text())
    data["plugins"]["tools.test_double"] = {}
    apply_manifest(data)
    with db.transaction() as session:
        acme = plugins.for_tenant(tenant_by_slug(session, "acme"))
        demo = plugins.for_tenant(tenant_by_slug(session, "demo"))
        assert "test_double" in [m.code for m in acme.collect("lendstack_repayment_methods")]
        assert "test_double" not in [m.code for m in demo.collect("lendstack_repayment_methods")]


def test_a_plugin_without_metadata_is_refused():
    class Anonymous:
        @hookimpl
        def lendstack_repayment_methods(self, tenant):
            return []

    with pytest.raises(PluginError):
        PluginRegistry().register(Anonymous())


def test_a_misspelt_hook_fails_at_registration():
    class Misspelt:
        PLUGIN = PluginInfo(id="x.y", kind="extension", name="x")

        @hookimpl
        def lendstack_repayment_method(self, tenant):
            return []

    with pytest.raises(Exception, match="unknown hook"):
        PluginRegistry().register(Misspelt())


def test_plugin_settings_errors_name_the_field(plugins):
    with pytest.raises(PluginError) as error:
        plugins.info("payments.offline").validate_settings({"bank_name": "x", "account_name": "y"})
    assert error.value.field == "account_number"
    with pytest.raises(PluginError) as error:
        plugins.info("loan_types.credit").validate_settings({"max_amont": "1"})
    assert error.value.field


class Listener:
    """A plugin that listens to the lifecycle events core fires."""

    PLUGIN = PluginInfo(
        id="tools.test_listener", kind="repayment_method", name="Listener", settings=colander.MappingSchema()
    )

    def __init__(self):
        self.statuses, self.reasons = [], []

    @hookimpl
    def lendstack_loan_status_changed(self, tenant, loan, old_status, new_status):
        self.statuses.append((tenant.slug, loan.number, old_status, new_status, loan.deadline is not None))

    @hookimpl
    def lendstack_transfers_posted(self, tenant, transfers):
        self.reasons.append((tenant.slug, [t.reason for t in transfers]))


def test_plugins_hear_of_loan_status_changes_and_posted_transfers(
    db, tenants, plugins, registered, apply_manifest, wsgi_app
):
    import tomllib

    from tenants.manifest import SHIPPED
    from tests import factories
    from tests.helpers import resident_id

    listener = registered(Listener())
    data = tomllib.loads((SHIPPED / "demo.toml").read_text())
    data["plugins"]["tools.test_listener"] = {}
    apply_manifest(data)
    assert wsgi_app.registry["plugins"] is plugins
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        borrower = factories.member(
            session, demo, "13800137001", id_number=resident_id(701), credit_line=1_000_000, balance=100
        )
        loan = factories.loan(
            session,
            demo,
            plugins.for_tenant(demo),
            borrower,
            "bidding",
            title="聽事件的借款",
            amount="1000.00",
            annual_rate_percent="9",
            term_months="3",
        )
        number = loan.number
        assert listener.statuses == []  # told when the transaction commits, with the change complete
    assert listener.statuses == [("demo", number, "submitted", "bidding", True)]
    assert listener.reasons == [("demo", ["recharge"])]
    with db.transaction() as session:  # acme has not enabled the listener
        acme = tenant_by_slug(session, "acme")
        factories.member(session, acme, "+12025550143", verified=False, balance=100)
    assert len(listener.reasons) == 1
