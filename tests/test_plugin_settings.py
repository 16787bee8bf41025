"""Plugin settings in the back office (/admin/settings/plugins): each installed plugin by kind in the reader's
language, turned on and off, its settings form drawn from its schema, secrets write-only, a connection check
where the plugin has one, and no plugin turned off while live records still need it."""

import json
import socket
import time

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import core.loans as loans
from core import register_transport
from core.accounts.models import AuditEvent
from core.payments.models import Payment
from core.payments.services import start_recharge
from core.plugin_registry import LocalizedText, PluginError, PluginInfo, check_disable
from core.tenancy.models import TenantVersion
from core.tenancy.services import tenant_by_slug
from plugins.sms.sandbox_http import signature
from tests import factories
from tests.helpers import staff_client, submit

DEMO = "demo.localhost"
PAGE = "/admin/settings/plugins"
SMS_ENDPOINT = "https://sms-check.fake"
SMS_SECRET = "sms-sandbox-secret-123"


@pytest.fixture
def admin(wsgi_app, db, tenants):
    return staff_client(wsgi_app, db, "settings-admin", "administrator")


def stored(db, plugin_id, slug="demo"):
    """(enabled, settings) of one plugin as the tenant keeps them; (None, {}) when it has no row."""
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        row = next((p for p in tenant.plugins if p.plugin_id == plugin_id), None)
        return (row.enabled, dict(row.settings or {})) if row else (None, {})


def audit_rows(db, action="settings.plugin"):
    with db.transaction() as session:
        return [
            (e.before, e.after)
            for e in session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        ]


def version_count(db):
    with db.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(TenantVersion))


def plugin_page(client, plugin_id, locale="en", status=200):
    return client.get(DEMO, f"{PAGE}/{plugin_id}?_LOCALE_={locale}", status=status)


# -- names and descriptions in the reader's language ----------------------------------------------------------


def test_a_plugin_names_itself_in_each_language_and_falls_back_to_english():
    info = PluginInfo(
        id="x.named", kind="extension", name={"en": "Credit loan", "zh_Hant": "信用標"}, description="Plain"
    )
    assert (info.display_name("zh_Hant"), info.display_name("zh_Hans"), info.display_name(None)) == (
        "信用標",
        "Credit loan",
        "Credit loan",
    )
    assert info.name == "Credit loan" and isinstance(info.name, LocalizedText)  # read as text, it is English
    assert info.display_description("zh_Hant") == "Plain"
    with pytest.raises(PluginError):
        PluginInfo(id="x.no_english", kind="extension", name={"zh_Hant": "信用標"})


def test_every_built_in_plugin_speaks_three_languages_and_titles_its_settings(plugins):
    from translationstring import TranslationString

    for info in plugins.infos():
        for text in (info.name, info.description):
            assert isinstance(text, LocalizedText), info.id
            assert set(text.texts) == {"en", "zh_Hant", "zh_Hans"}, info.id
        for node in info.settings.children if info.settings is not None else ():
            assert isinstance(node.title, (TranslationString, dict)), f"{info.id}.{node.name} has no title"


def test_the_list_shows_every_plugin_by_kind_in_the_readers_language(admin, plugins):
    page = admin.get(DEMO, PAGE + "?_LOCALE_=zh_Hant", status=200)
    kinds = [s.attrs["data-kind"] for s in page.html.select("section[data-kind]")]
    assert kinds == ["loan_type", "payment", "sms", "repayment_method"]
    headings = [s.h2.get_text(strip=True) for s in page.html.select("section[data-kind]")]
    assert "loan_type" not in headings and all(headings)  # labels, not codes
    listed = {row.attrs["data-plugin"]: row for row in page.html.select("tr[data-plugin]")}
    assert set(listed) == {info.id for info in plugins.infos()}
    credit = listed["loan_types.credit"].get_text(" ", strip=True)
    assert "信用標" in credit and "無抵押借款" in credit and "Credit loan" not in credit
    assert "已啟用" in credit  # demo enabled it
    assert listed["payments.sandbox"].select(".development-only")
    assert not listed["payments.offline"].select(".development-only")
    assert "未啟用" in listed["payments.stripe"].get_text()
    english = admin.get(DEMO, PAGE + "?_LOCALE_=en").html.select_one('tr[data-plugin="loan_types.credit"]')
    assert "Credit loan" in english.get_text()


# -- the form drawn from the schema ---------------------------------------------------------------------------


def test_the_settings_form_is_drawn_from_the_schema(admin):
    page = plugin_page(admin, "loan_types.credit")
    form = page.html.select_one("form.stacked")
    assert page.html.h1.get_text(strip=True) == "Credit loan"
    minimum = form.select_one('input[name="setting.min_amount"]')
    assert minimum["inputmode"] == "decimal" and minimum["value"] == "1000"
    term = form.select_one('input[name="setting.max_term_months"]')
    assert (term["type"], term["min"], term["max"], term["value"]) == ("number", "1", "360", "36")
    line = form.select_one('input[name="setting.use_credit_line"]')
    assert line["type"] == "checkbox" and line.has_attr("checked")
    methods = form.select('input[name="setting.repayment_methods"]')  # the site's methods, by name
    assert {m["value"] for m in methods} >= {"equal_installment", "one_time"} and not any(
        m.has_attr("checked") for m in methods
    )
    assert "Equal installments" in form.select_one('div[data-setting="repayment_methods"]').get_text()
    text = form.get_text(" ", strip=True)
    assert "Longest term (months)" in text and "From 1 to 360." in text
    assert "An application for a longer term is refused." in text
    assert form.select_one('input[name="enabled"]').has_attr("checked")
    assert not page.html.select('button[formaction$="/check"]')  # a loan type talks to no service

    day_basis = plugin_page(admin, "tools.one_time").html.select_one('select[name="setting.day_basis"]')
    assert [o["value"] for o in day_basis.select("option")] == ["360", "365"]
    assert day_basis.select_one("option[selected]")["value"] == "365"
    chinese = plugin_page(admin, "loan_types.credit", "zh_Hans").html
    assert chinese.h1.get_text(strip=True) == "信用标"
    admin.get(DEMO, f"{PAGE}/loan_types.nonesuch", status=404)


def test_saving_changes_the_manifest_versions_it_and_audits_the_change(admin, db):
    versions = version_count(db)
    page = plugin_page(admin, "loan_types.credit")
    submit(
        admin,
        DEMO,
        page,
        {"setting.max_term_months": "24", "setting.repayment_methods": ["equal_installment", "one_time"]},
        "save",
        status=303,
    )
    enabled, settings = stored(db, "loan_types.credit")
    assert enabled and settings["max_term_months"] == "24" and settings["max_amount"] == "300000"
    assert settings["repayment_methods"] == ["equal_installment", "one_time"]
    assert version_count(db) == versions + 1
    [(before, after)] = audit_rows(db)
    assert before["plugins.loan_types.credit.max_term_months"] == "36"
    assert after["plugins.loan_types.credit.max_term_months"] == "24"
    shown = plugin_page(admin, "loan_types.credit").html
    assert shown.select_one('input[name="setting.max_term_months"]')["value"] == "24"
    ticked = shown.select('input[name="setting.repayment_methods"][checked]')
    assert sorted(m["value"] for m in ticked) == ["equal_installment", "one_time"]

    submit(admin, DEMO, plugin_page(admin, "loan_types.credit"), {}, "save", status=303)  # the same again
    assert len(audit_rows(db)) == 1 and version_count(db) == versions + 1


@pytest.mark.parametrize(
    "values, setting",
    [
        ({"setting.max_term_months": "999"}, "max_term_months"),
        ({"setting.min_amount": "lots"}, "min_amount"),
        ({"setting.max_term_months": "-3"}, "max_term_months"),
    ],
)
def test_a_setting_outside_the_schema_is_refused_by_its_field_and_nothing_changes(admin, db, values, setting):
    before, versions = stored(db, "loan_types.credit"), version_count(db)
    page = submit(admin, DEMO, plugin_page(admin, "loan_types.credit"), values, "save", status=400)
    field = page.html.select_one(f'div[data-setting="{setting}"]')
    assert field.select_one(".error").get_text(strip=True)
    assert field.select_one(f'[name="setting.{setting}"]')["aria-invalid"] == "true"
    assert field.select_one(f'[name="setting.{setting}"]')["value"] == next(iter(values.values()))  # kept as typed
    assert stored(db, "loan_types.credit") == before and version_count(db) == versions and audit_rows(db) == []


def test_a_malformed_mapping_line_is_refused_by_its_field(admin, db):
    body = {"setting.access_key_id": "LTAI5tExample", "setting.access_key_secret": "secret-of-aliyun"}
    body |= {"setting.sign_name": "鼎信", "setting.templates": "verification_code SMS_1"}
    page = submit(admin, DEMO, plugin_page(admin, "sms.aliyun"), body, "save", status=400)
    error = page.html.select_one('div[data-setting="templates"] .error').get_text()
    assert "code = value" in error and stored(db, "sms.aliyun") == (None, {})


# -- secrets: write-only ---------------------------------------------------------------------------------------


def test_a_secret_is_never_shown_and_a_blank_one_keeps_what_is_stored(admin, db):
    secret = "demo-sandbox-signing-secret"
    page = plugin_page(admin, "payments.sandbox")
    assert secret not in page.text and "secret" not in {
        i.get("value") for i in page.html.select('input[name="setting.secret"]')
    }
    assert page.html.select_one('[data-masked="secret"]').get_text(strip=True).count("••••cret") == 1
    assert page.html.select_one('input[name="setting.secret"]')["type"] == "password"

    submit(admin, DEMO, page, {"setting.tolerance_seconds": "120"}, "save", status=303)
    _enabled, settings = stored(db, "payments.sandbox")
    assert settings["secret"] == secret and settings["tolerance_seconds"] == "120"

    page = plugin_page(admin, "payments.sandbox")
    submit(admin, DEMO, page, {"setting.secret": "a-brand-new-sandbox-secret-9876"}, "save", status=303)
    assert stored(db, "payments.sandbox")[1]["secret"] == "a-brand-new-sandbox-secret-9876"
    recorded = json.dumps(audit_rows(db), ensure_ascii=False)
    assert secret not in recorded and "a-brand-new-sandbox-secret-9876" not in recorded
    assert "••••9876" in recorded and "••••cret" in recorded

    refused = submit(
        admin, DEMO, plugin_page(admin, "payments.sandbox"), {"setting.secret": "short"}, "save", status=400
    )
    assert "short" not in {i.get("value") for i in refused.html.select('input[name="setting.secret"]')}
    assert refused.html.select_one('div[data-setting="secret"] .error')
    assert stored(db, "payments.sandbox")[1]["secret"] == "a-brand-new-sandbox-secret-9876"


# -- turning plugins on and off --------------------------------------------------------------------------------


def test_the_list_turns_a_calculator_on_and_off_for_this_site_only(admin, client, db):
    client.get(DEMO, "/tools/flat_rate", status=404)
    page = admin.get(DEMO, PAGE)
    form = next(f for f in page.forms.values() if f.action.endswith("/tools.flat_rate"))
    answer = form.submit("action", value="enable", extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert answer.location.endswith(PAGE + "?saved=1")
    client.get(DEMO, "/tools/flat_rate", status=200)
    client.get("acme.localhost", "/tools/flat_rate", status=404)
    assert stored(db, "tools.flat_rate") == (True, {"handling_fee_percent": "0"})

    page = admin.get(DEMO, PAGE)
    form = next(f for f in page.forms.values() if f.action.endswith("/tools.flat_rate"))
    form.submit("action", value="disable", extra_environ={"HTTP_HOST": DEMO}, status=303)
    client.get(DEMO, "/tools/flat_rate", status=404)
    assert stored(db, "tools.flat_rate")[0] is False


def test_turning_on_a_plugin_that_lacks_a_required_setting_names_the_setting(admin, db):
    page = admin.get(DEMO, PAGE)
    form = next(f for f in page.forms.values() if f.action.endswith("/payments.stripe"))
    refused = form.submit("action", value="enable", extra_environ={"HTTP_HOST": DEMO}, status=400)
    assert refused.html.select_one('div[data-setting] .error')  # the first required setting, by its field
    assert stored(db, "payments.stripe") == (None, {})


def pending_recharge(db, plugins):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        person = factories.member(session, demo, "13800138201")
        start_recharge(session, demo, plugins.for_tenant(demo), person, "sandbox", "100.00", "/account")
        return session.scalars(sa.select(Payment.id)).one()


def test_a_gateway_with_a_pending_recharge_cannot_be_turned_off(admin, db, plugins):
    payment_id = pending_recharge(db, plugins)
    page = plugin_page(admin, "payments.sandbox")
    versions = version_count(db)
    refused = submit(admin, DEMO, page, {"enabled": False}, "save", status=400)
    message = refused.html.select_one("#enabled-error").get_text()
    assert "still in flight" in message
    assert stored(db, "payments.sandbox")[0] is True and version_count(db) == versions and audit_rows(db) == []

    with db.transaction() as session:
        session.get(Payment, payment_id).status = "succeeded"
    submit(admin, DEMO, plugin_page(admin, "payments.sandbox"), {"enabled": False}, "save", status=303)
    assert stored(db, "payments.sandbox")[0] is False


def test_a_loan_type_with_an_open_loan_cannot_be_turned_off_by_any_path(db, plugins, tenants, apply_manifest):
    import tomllib

    from core.tenancy.manifest import ManifestError
    from tenants.manifest import SHIPPED

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        borrower = factories.member(session, demo, "13800138202", credit_line=5_000_000)
        made = factories.loan(session, demo, plugins.for_tenant(demo), borrower, "submitted", loan_type="credit")
        loan_id = made.id
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        assert "still open" in str(check_disable(session, demo, "loan_types.credit"))
        assert check_disable(session, demo, "loan_types.mortgage") is None
        assert "still open" in str(check_disable(session, demo, "tools.equal_installment"))  # its method
    data = tomllib.loads((SHIPPED / "demo.toml").read_text())
    data["plugins"]["loan_types.credit"]["enabled"] = False
    with pytest.raises(ManifestError) as refused:
        apply_manifest(data)
    assert refused.value.field == "plugins.loan_types.credit.enabled"
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        made = session.get(loans.Loan, loan_id)
        loans.review(session, demo, plugins.for_tenant(demo), made, approve=False, reason="不符", by="staff:test")
    apply_manifest(data)
    assert stored(db, "loan_types.credit")[0] is False


# -- test connection -------------------------------------------------------------------------------------------


class FakeSmsEndpoint:
    """Answers HEAD 405 when the signature over an empty body is right, 401 when it is not."""

    def __call__(self, environ, start_response):
        good = environ.get("HTTP_X_SIGNATURE") == signature(SMS_SECRET, b"")
        start_response("405 Method Not Allowed" if good else "401 Unauthorized", [("Content-Type", "text/plain")])
        return [b""]


@pytest.fixture
def sms_endpoint():
    register_transport(SMS_ENDPOINT, httpx.WSGITransport(app=FakeSmsEndpoint()))
    yield
    register_transport(SMS_ENDPOINT, None)


def check(client, plugin_id, values, status=200):
    page = plugin_page(client, plugin_id)
    form = page.html.select_one("form.stacked")
    assert form.select_one('button[formaction$="/check"]')
    fields = {"csrf_token": form.select_one('input[name="csrf_token"]')["value"], **values}
    return client.post(DEMO, f"{PAGE}/{plugin_id}/check?_LOCALE_=en", fields, status=status)


def test_test_connection_tries_the_settings_as_typed_and_saves_nothing(admin, db, sms_endpoint):
    typed = {"setting.endpoint": f"{SMS_ENDPOINT}/send", "setting.secret": SMS_SECRET, "setting.priority": "10"}
    works = check(admin, "sms.sandbox_http", typed)
    assert works.html.select_one('[data-check="ok"]').get_text(" ", strip=True).startswith("Connection works.")
    assert works.html.select_one('input[name="setting.endpoint"]')["value"] == f"{SMS_ENDPOINT}/send"
    assert SMS_SECRET not in works.text
    refused = check(admin, "sms.sandbox_http", {**typed, "setting.secret": "another-secret-of-16"})
    assert "refused the signature" in refused.html.select_one('[data-check="failed"]').get_text()
    bad = check(admin, "sms.sandbox_http", {**typed, "setting.endpoint": "ftp://x"}, status=400)
    assert bad.html.select_one('div[data-setting="endpoint"] .error')
    assert stored(db, "sms.sandbox_http") == (None, {}) and audit_rows(db) == []


def test_a_check_against_a_host_that_never_answers_times_out_quickly(admin):
    from plugins.sms.sandbox_http import CHECK_TIMEOUT

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    try:
        started = time.monotonic()
        typed = {"setting.endpoint": f"http://127.0.0.1:{silent.getsockname()[1]}/send", "setting.secret": SMS_SECRET}
        answer = check(admin, "sms.sandbox_http", typed)
        took = time.monotonic() - started
    finally:
        silent.close()
    message = answer.html.select_one('[data-check="failed"]').get_text(" ", strip=True)
    assert f"did not answer within {CHECK_TIMEOUT} seconds" in message
    assert took < CHECK_TIMEOUT + 5


def _pem_keys():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_alipays_check_reads_the_keys_offline(admin):
    app_key, app_public = _pem_keys()
    _other, alipay_public = _pem_keys()
    typed = {
        "setting.app_id": "2021000000000001",
        "setting.app_private_key": app_key,
        "setting.alipay_public_key": alipay_public,
        "setting.site_url": "https://demo.example",
    }
    assert check(admin, "payments.alipay", typed).html.select_one('[data-check="ok"]')
    mixed_up = check(admin, "payments.alipay", {**typed, "setting.alipay_public_key": app_public})
    assert "application's own" in mixed_up.html.select_one('[data-check="failed"]').get_text()


def test_only_plugins_with_a_check_offer_one(admin):
    assert not plugin_page(admin, "payments.offline").html.select('button[formaction$="/check"]')
    token = plugin_page(admin, "payments.offline").html.select_one('input[name="csrf_token"]')["value"]
    admin.post(DEMO, f"{PAGE}/payments.offline/check", {"csrf_token": token}, status=404)
    admin.get(DEMO, f"{PAGE}/sms.twilio/check", status=404)  # a check is asked for, never linked


# -- who may ---------------------------------------------------------------------------------------------------


def test_staff_without_settings_manage_get_403_on_every_plugin_route(wsgi_app, db, tenants):
    cashier = staff_client(wsgi_app, db, "settings-cashier", "cashier")
    for path in (PAGE, f"{PAGE}/loan_types.credit"):
        cashier.get(DEMO, path, status=403)
    token = cashier.get(DEMO, "/admin").html.select_one('input[name="csrf_token"]')["value"]
    for path in (f"{PAGE}/loan_types.credit", f"{PAGE}/sms.sandbox_http/check"):
        cashier.post(DEMO, path, {"csrf_token": token, "action": "disable"}, status=403)
    assert stored(db, "loan_types.credit")[0] is True
