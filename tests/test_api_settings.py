"""The settings API for integrators: ``GET/PATCH /api/v1/admin/settings``, ``GET /api/v1/admin/plugins``,
``PUT /api/v1/admin/plugins/{code}`` — the same validation as the back office's pages, refusals as problem
details naming the field, nothing changed by a refusal, every change versioned and audited."""

import pyotp
import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent
from core.accounts.services import create_staff
from core.payments.models import Payment
from core.payments.services import start_recharge
from core.tenancy.models import TenantVersion
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import PASSWORD

DEMO = "demo.localhost"
SETTINGS = "/api/v1/admin/settings"
PLUGINS = "/api/v1/admin/plugins"


def token(client, db, login, role):
    with db.transaction() as session:
        staff = create_staff(session, tenant_by_slug(session, "demo"), login, PASSWORD, role)
        secret, needs_code = staff.totp_secret, staff.requires_2fa
    body = {"login": login, "password": PASSWORD, "as": "staff"}
    if needs_code:
        body["totp"] = pyotp.TOTP(secret).now()
    answer = client.post_json(DEMO, "/api/v1/auth/token", body, status=200)
    return {"Authorization": f"Bearer {answer.json['token']}"}


@pytest.fixture
def admin(client, db, tenants):
    return token(client, db, "api-settings", "administrator")


def patch(client, body, headers, status=200, locale="en"):
    return client.app.patch_json(
        f"{SETTINGS}?_LOCALE_={locale}", body, headers=headers, extra_environ={"HTTP_HOST": DEMO}, status=status
    )


def put(client, code, body, headers, status=200, locale="en"):
    return client.app.put_json(
        f"{PLUGINS}/{code}?_LOCALE_={locale}", body, headers=headers, extra_environ={"HTTP_HOST": DEMO}, status=status
    )


def snapshot(db):
    """What a refusal must leave as it was: the tenant's settings and plugins, its versions, the audit log."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        return (
            demo.branding,
            demo.lending,
            demo.menus,
            sorted((p.plugin_id, p.enabled, sorted((p.settings or {}).items(), key=str)) for p in demo.plugins),
            session.scalar(sa.select(sa.func.count()).select_from(TenantVersion)),
            session.scalar(
                sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action.like("settings.%"))
            ),
        )


# -- settings ------------------------------------------------------------------------------------------------


def test_the_settings_read_as_the_manifest_holds_them(client, admin):
    answer = client.get(DEMO, SETTINGS, headers=admin, status=200).json
    assert set(answer) == {"branding", "lending", "funds", "vip", "members", "menus"}
    assert answer["branding"]["primary_color"] == "#b3261e"
    assert answer["lending"]["bid_unit"] == "50" and answer["funds"]["payout_gateway"] == "sandbox"
    assert [level["name"] for level in answer["vip"]["levels"]][:2] == ["普通會員", "白銀會員"]
    assert "plugins" not in answer


def test_a_patch_merges_into_the_settings_versions_and_audits_the_change(client, admin, db):
    versions = snapshot(db)[4]
    body = {"branding": {"tagline": {"en": "Lend with care", "zh_Hant": "安心出借"}}, "lending": {"bid_unit": "100"}}
    answer = patch(client, body, admin).json
    assert answer["settings"]["branding"]["tagline"] == {"en": "Lend with care", "zh_Hant": "安心出借"}
    assert answer["settings"]["branding"]["primary_color"] == "#b3261e"  # merged, not replaced
    assert answer["settings"]["lending"]["bid_unit"] == "100" and answer["settings"]["lending"]["lender_fee_percent"]
    changed = {c["path"]: (c["before"], c["after"]) for c in answer["changes"]}
    assert changed["lending.bid_unit"] == ("50", "100")
    assert changed["branding.tagline.en"] == (None, "Lend with care")
    assert snapshot(db)[4] == versions + 1
    with db.transaction() as session:
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "settings.update")).one()
        assert event.after["lending.bid_unit"] == "100" and event.before["lending.bid_unit"] == "50"
    assert client.get(DEMO, SETTINGS, headers=admin).json["lending"]["bid_unit"] == "100"

    removed = patch(client, {"lending": {"bid_unit": None}}, admin).json
    assert "bid_unit" not in removed["settings"]["lending"]
    assert patch(client, {"lending": {"lender_fee_percent": "10"}}, admin).json["changes"] == []  # as it was


@pytest.mark.parametrize(
    "body, field",
    [
        ({"branding": {"primary_color": "#ffff00"}}, "branding.primary_color"),  # white text on it: unreadable
        ({"lending": {"bid_unit": "lots"}}, "lending.bid_unit"),
        ({"lending": {"no_such_key": "1"}}, "lending.no_such_key"),
        ({"menus": {"portal": [{"key": "a", "label": {"en": "A"}, "url": "/a", "parent": "a"}]}}, "menus.portal"),
    ],
)
def test_a_patch_the_pages_would_refuse_is_a_422_naming_the_field_and_changes_nothing(client, admin, db, body, field):
    before = snapshot(db)
    problem = patch(client, body, admin, status=422).json
    assert problem["field"].startswith(field) and problem["errors"][0]["message"]
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "body, field",
    [({"plugins": {"sms.outbox": {}}}, "plugins"), ({"branding": "red"}, "branding"), ({}, "body")],
)
def test_a_patch_outside_the_document_is_a_400(client, admin, db, body, field):
    before = snapshot(db)
    assert patch(client, body, admin, status=400).json["errors"]
    assert snapshot(db) == before


# -- plugins -------------------------------------------------------------------------------------------------


def test_the_plugins_read_in_the_requests_language_with_secrets_masked(client, admin, plugins):
    listed = {p["code"]: p for p in client.get(DEMO, PLUGINS + "?_LOCALE_=zh_Hant", headers=admin).json["plugins"]}
    assert set(listed) == {info.id for info in plugins.infos()}
    credit = listed["loan_types.credit"]
    assert (credit["name"], credit["kind"], credit["enabled"], credit["development_only"]) == (
        "信用標",
        "loan_type",
        True,
        False,
    )
    assert credit["settings"]["max_term_months"] == 36 and credit["settings"]["max_amount"] == "300000"
    assert credit["settings"]["use_credit_line"] is True
    term = next(f for f in credit["schema"] if f["name"] == "max_term_months")
    assert (term["type"], term["minimum"], term["maximum"], term["default"], term["required"]) == (
        "integer",
        "1",
        "360",
        "36",
        False,
    )
    sandbox = listed["payments.sandbox"]
    assert sandbox["development_only"] and sandbox["settings"]["secret"] == "••••cret"
    assert next(f for f in sandbox["schema"] if f["name"] == "secret")["secret"] is True
    assert listed["sms.twilio"]["checkable"] and not listed["payments.offline"]["checkable"]
    english = client.get(DEMO, PLUGINS + "?_LOCALE_=en", headers=admin).json["plugins"]
    assert next(p for p in english if p["code"] == "loan_types.credit")["name"] == "Credit loan"


def test_put_sets_a_plugins_whole_settings_and_keeps_an_omitted_secret(client, admin, db):
    body = {"enabled": True, "settings": {"tolerance_seconds": 120}}
    answer = put(client, "payments.sandbox", body, admin).json
    assert answer["plugin"]["settings"]["tolerance_seconds"] == 120
    assert answer["plugin"]["settings"]["secret"] == "••••cret"
    assert {c["path"] for c in answer["changes"]} == {"plugins.payments.sandbox.tolerance_seconds"}
    with db.transaction() as session:
        kept = tenant_by_slug(session, "demo").plugin_settings("payments.sandbox")
        assert kept["secret"] == "demo-sandbox-signing-secret" and kept["tolerance_seconds"] == "120"
    read_back = {**body, "settings": answer["plugin"]["settings"]}  # the masked secret sent back as read
    assert put(client, "payments.sandbox", read_back, admin).json["changes"] == []
    new = put(client, "payments.sandbox", {"enabled": True, "settings": {"secret": "x" * 20 + "new1"}}, admin).json
    assert [c["after"] for c in new["changes"] if c["path"].endswith(".secret")] == ["••••new1"]
    assert "x" * 20 not in str(new)

    on = put(client, "tools.flat_rate", {"enabled": True, "settings": {"handling_fee_percent": "0.5"}}, admin).json
    assert on["plugin"]["enabled"] and on["plugin"]["settings"]["handling_fee_percent"] == "0.5"
    client.get(DEMO, "/tools/flat_rate", status=200)


@pytest.mark.parametrize(
    "code, body, status, field",
    [
        ("loan_types.credit", {"enabled": True, "settings": {"max_term_months": 999}}, 422, "settings.max_term_months"),
        ("loan_types.credit", {"enabled": True, "settings": {"max_amont": "1"}}, 422, "settings.max_amont"),
        ("payments.stripe", {"enabled": True, "settings": {}}, 422, "settings."),
        ("loan_types.nonesuch", {"enabled": True, "settings": {}}, 404, "code"),
        ("loan_types.credit", {"enabled": "yes", "settings": {}}, 400, "enabled"),
        ("loan_types.credit", {"enabled": True}, 400, "settings"),
    ],
)
def test_a_put_that_cannot_be_used_is_refused_by_its_field_and_changes_nothing(
    client, admin, db, code, body, status, field
):
    before = snapshot(db)
    problem = put(client, code, body, admin, status=status).json
    assert problem["field"].startswith(field)
    assert snapshot(db) == before


def test_the_sandbox_gateway_cannot_be_turned_off_while_a_recharge_is_pending(client, admin, db, plugins):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        person = factories.member(session, demo, "13800138301")
        start_recharge(session, demo, plugins.for_tenant(demo), person, "sandbox", "100.00", "/account")
    before = snapshot(db)
    problem = put(client, "payments.sandbox", {"enabled": False, "settings": {}}, admin, status=422).json
    assert problem["field"] == "enabled" and "still in flight" in problem["detail"]
    assert snapshot(db) == before
    with db.transaction() as session:
        session.scalars(sa.select(Payment)).one().status = "failed"
    off = put(client, "payments.sandbox", {"enabled": False, "settings": {}}, admin).json
    assert off["plugin"]["enabled"] is False


def test_staff_without_settings_manage_get_403_and_change_nothing(client, db, tenants):
    cashier = token(client, db, "api-cashier", "cashier")
    before = snapshot(db)
    client.get(DEMO, SETTINGS, headers=cashier, status=403)
    client.get(DEMO, PLUGINS, headers=cashier, status=403)
    patch(client, {"lending": {"bid_unit": "100"}}, cashier, status=403)
    put(client, "tools.flat_rate", {"enabled": True, "settings": {}}, cashier, status=403)
    client.get(DEMO, SETTINGS, status=401)
    assert snapshot(db) == before
