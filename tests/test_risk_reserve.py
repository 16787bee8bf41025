"""The risk reserve (風險準備金): staff top it up and withdraw from it, one asks and another approves;
advances from it are off unless the tenant turns them on (guarantors' advances are not affected)."""

import datetime as dt
import re

import pyotp
import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent
from core.accounts.services import create_staff
from core.ledger import Ledger, Transfer, Wallet, verify
from core.ledger.posting import TRANSFERS
from core.loans.models import Installment
from core.money import Money
from core.payments.reserve import ReserveRequest
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, staff_client, submit
from tests.test_loans import available, close_through, overdue_setup, people  # noqa: F401 - a fixture

DEMO = "demo.localhost"
ACME = "acme.localhost"
PAGE = "/admin/funds/reserve"


# -- helpers -----------------------------------------------------------------------------


def platform_balance(db, code, slug="demo", currency="CNY"):
    """A platform account's balance in minor units (credits − debits)."""
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug).id
        ledger = Ledger(session, tenant)
        return ledger.balance(ledger.platform(code, currency)).minor


def seed_fee_income(db, minor):
    """Fee income as fees leave it: a member's recharge whose gateway fee goes to the platform."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), 999, "CNY").recharge(
            Money(minor * 2, "CNY"), key=f"seed-fees:{minor}", ref="test", initiator="test", fee=Money(minor, "CNY")
        )


def ask(client, direction, account, amount, reason="測試", status=303, host=DEMO):
    page = client.get(host, PAGE + "?_LOCALE_=en")
    return submit(
        client,
        host,
        page,
        {"direction": direction, "account": account, "amount": amount, "reason": reason},
        status=status,
    )


def requests_in(db):
    with db.transaction() as session:
        return [
            (r.direction, r.account, r.amount, r.status)
            for r in session.scalars(sa.select(ReserveRequest).order_by(ReserveRequest.id))
        ]


def last_request_id(db):
    with db.transaction() as session:
        return session.scalars(sa.select(sa.func.max(ReserveRequest.id))).one()


def decide(client, request_id, decision, status=303):
    page = client.get(DEMO, PAGE + "?_LOCALE_=en")
    return submit(client, DEMO, page, {}, decision, status=status, action_suffix=f"/requests/{request_id}")


def csrf(client, host=DEMO):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(host, PAGE).text).group(1)


def clean_ledger(db):
    with db.transaction() as session:
        assert verify(session) == []


@pytest.fixture
def finance(wsgi_app, db, tenants):
    """Two administrators of the demo tenant: one asks, the other approves."""
    return staff_client(wsgi_app, db, "fin1", "administrator"), staff_client(wsgi_app, db, "fin2", "administrator")


# -- the back-office page ----------------------------------------------------------------------


def test_staff_top_up_and_withdraw_with_a_second_approver(finance, db):
    asker, approver = finance
    seed_fee_income(db, 300_000)  # 3,000.00 of fees earned
    page = asker.get(DEMO, PAGE + "?_LOCALE_=en")
    assert "Risk reserve" in page.text and "CN¥0.00" in page.text

    # 1. 50,000.00 of the platform's own money, paid into its bank account: waits for a second person.
    ask(asker, "deposit", "gateway_clearing", "50,000.00", "平台自有資金注入")
    first = last_request_id(db)
    assert platform_balance(db, "risk_reserve") == 0
    page = asker.get(DEMO, PAGE + "?_LOCALE_=en")
    assert f"/requests/{first}" not in page.text  # no approve button for one's own request
    refused = asker.post(
        DEMO, f"{PAGE}/requests/{first}?_LOCALE_=en", {"decision": "approve", "csrf_token": csrf(asker)}, status=400
    )
    assert "Another person must approve" in refused.text
    assert platform_balance(db, "risk_reserve") == 0
    clearing = platform_balance(db, "gateway_clearing")  # −6,000.00: the member's seeding recharge
    decide(approver, first, "approve")
    assert platform_balance(db, "risk_reserve") == 5_000_000
    assert platform_balance(db, "gateway_clearing") == clearing - 5_000_000  # the bank holds it for the platform

    # 2. 1,200.00 set aside from fee income: 50,000.00 + 1,200.00 = 51,200.00; fees 3,000.00 − 1,200.00.
    ask(asker, "deposit", "fee_income", "1200")
    decide(approver, last_request_id(db), "approve")
    assert platform_balance(db, "risk_reserve") == 5_120_000
    assert platform_balance(db, "fee_income") == 180_000

    # 3. More than the reserve holds is refused when asked for; nothing is recorded.
    refused = ask(asker, "withdrawal", "gateway_clearing", "60000.00", status=400)
    assert "The risk reserve holds only 51200.00" in refused.text
    assert len(requests_in(db)) == 2

    # 4. A rejected withdrawal moves nothing.
    ask(asker, "withdrawal", "gateway_clearing", "20000.00", "轉回自有賬戶")
    rejected = last_request_id(db)
    decide(approver, rejected, "reject")
    assert platform_balance(db, "risk_reserve") == 5_120_000

    # 5. An approved one leaves 51,200.00 − 20,000.00 = 31,200.00; a decided request stays decided.
    ask(asker, "withdrawal", "gateway_clearing", "20000.00", "轉回自有賬戶")
    withdrawn = last_request_id(db)
    decide(approver, withdrawn, "approve")
    assert platform_balance(db, "risk_reserve") == 3_120_000
    assert platform_balance(db, "gateway_clearing") == clearing - 5_000_000 + 2_000_000
    again = approver.post(
        DEMO,
        f"{PAGE}/requests/{withdrawn}?_LOCALE_=en",
        {"decision": "approve", "csrf_token": csrf(approver)},
        status=400,
    )
    assert "already decided" in again.text
    assert platform_balance(db, "risk_reserve") == 3_120_000
    assert requests_in(db) == [
        ("deposit", "gateway_clearing", 5_000_000, "applied"),
        ("deposit", "fee_income", 120_000, "applied"),
        ("withdrawal", "gateway_clearing", 2_000_000, "rejected"),
        ("withdrawal", "gateway_clearing", 2_000_000, "applied"),
    ]

    # The history: every transfer in and out, newest first, with the balance after it.
    page = asker.get(DEMO, PAGE + "?_LOCALE_=en")
    rows = re.findall(r'<td class="num">([^<]*)</td><td class="num">([^<]*)</td>', page.text)
    assert rows == [
        ("-CN¥20,000.00", "CN¥31,200.00"),
        ("CN¥1,200.00", "CN¥51,200.00"),
        ("CN¥50,000.00", "CN¥50,000.00"),
    ]
    assert "Risk reserve withdrawal" in page.text and "Gateway clearing" in page.text

    # One ledger post per approved request, under the request's key; the ledger is clean.
    with db.transaction() as session:
        keys = session.scalars(
            sa.select(TRANSFERS.c.key).where(TRANSFERS.c.reason.like("reserve_%")).order_by(TRANSFERS.c.id)
        ).all()
        assert keys == [f"reserve:{first}", f"reserve:{first + 1}", f"reserve:{withdrawn}"]
        actions = session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("reserve.%")).order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "reserve.request_deposit",
        "reserve.approve",
        "reserve.request_deposit",
        "reserve.approve",
        "reserve.request_withdrawal",
        "reserve.reject",
        "reserve.request_withdrawal",
        "reserve.approve",
    ]
    clean_ledger(db)


def test_a_withdrawal_is_refused_at_approval_if_the_reserve_fell_since(finance, db):
    asker, approver = finance
    ask(asker, "deposit", "gateway_clearing", "1000.00")
    decide(approver, last_request_id(db), "approve")
    ask(asker, "withdrawal", "gateway_clearing", "500.00")
    late = last_request_id(db)
    ask(asker, "withdrawal", "gateway_clearing", "800.00")
    decide(approver, last_request_id(db), "approve")  # 1,000.00 − 800.00 = 200.00 left
    refused = decide(approver, late, "approve", status=400)
    assert "The risk reserve holds only 200.00" in refused.text
    assert platform_balance(db, "risk_reserve") == 20_000
    assert requests_in(db)[1] == ("withdrawal", "gateway_clearing", 50_000, "pending")  # may still be rejected
    decide(approver, late, "reject")
    clean_ledger(db)


def test_a_top_up_from_fee_income_cannot_take_more_than_fee_income_holds(finance, db):
    asker, approver = finance
    seed_fee_income(db, 1_000)  # 10.00
    ask(asker, "deposit", "fee_income", "20.00")
    refused = decide(approver, last_request_id(db), "approve", status=400)
    assert "Fee income holds only 10.00" in refused.text
    assert (platform_balance(db, "risk_reserve"), platform_balance(db, "fee_income")) == (0, 1_000)
    clean_ledger(db)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("amount", "", "Enter an amount such as 100.00."),
        ("amount", "0", "Enter an amount greater than zero."),
        ("amount", "-5", "Enter an amount such as 100.00."),
        ("amount", "1.234", "at most 2 decimals"),
        ("amount", "１００", "Enter an amount such as 100.00."),
        ("direction", "sideways", "Choose a top-up or a withdrawal."),
        ("account", "suspense", "Choose the platform's bank account or fee income."),
        ("reason", " ", "A reason is required."),
        ("reason", "長" * 301, "Give a reason of up to 300 characters."),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(finance, db, field, value, message):
    asker, _ = finance
    form = {
        "direction": "deposit",
        "account": "gateway_clearing",
        "amount": "100.00",
        "reason": "測試",
        field: value,
        "csrf_token": csrf(asker),
    }
    refused = asker.post(DEMO, f"{PAGE}/requests?_LOCALE_=en", form, status=400)
    assert message in refused.text
    assert requests_in(db) == []


def test_bad_decisions_are_refused(finance, db):
    asker, approver = finance
    ask(asker, "deposit", "gateway_clearing", "100.00")
    request_id = last_request_id(db)
    refused = approver.post(
        DEMO,
        f"{PAGE}/requests/{request_id}?_LOCALE_=en",
        {"decision": "maybe", "csrf_token": csrf(approver)},
        status=400,
    )
    assert "Choose approve or reject." in refused.text
    approver.post(
        DEMO,
        f"{PAGE}/requests/99999999999?_LOCALE_=en",
        {"decision": "approve", "csrf_token": csrf(approver)},
        status=404,
    )
    assert requests_in(db) == [("deposit", "gateway_clearing", 10_000, "pending")]


def test_who_may_see_and_who_may_move_the_reserve(wsgi_app, db, tenants):
    cashier = staff_client(wsgi_app, db, "cash1", "cashier")  # funds.view, not reserve.manage
    page = cashier.get(DEMO, PAGE + "?_LOCALE_=en")
    assert "CN¥0.00" in page.text and "Top up or withdraw" not in page.text
    token = csrf(cashier)
    cashier.post(
        DEMO,
        f"{PAGE}/requests",
        {"direction": "deposit", "account": "gateway_clearing", "amount": "100.00", "reason": "x", "csrf_token": token},
        status=403,
    )
    service = staff_client(wsgi_app, db, "cs1", "customer_service")  # no funds.view
    service.get(DEMO, PAGE, status=403)
    assert "/admin/funds/reserve" not in service.get(DEMO, "/admin").text
    admin = staff_client(wsgi_app, db, "fin1", "administrator")
    assert 'href="/admin/funds/reserve"' in admin.get(DEMO, "/admin?_LOCALE_=en").text
    assert requests_in(db) == []


def test_no_tenant_sees_or_decides_anothers_reserve(wsgi_app, db, tenants):
    asker, _ = staff_client(wsgi_app, db, "fin1", "administrator"), None
    ask(asker, "deposit", "gateway_clearing", "100.00")
    demo_request = last_request_id(db)
    other = staff_client(wsgi_app, db, "boss", "administrator", slug="acme", host=ACME)
    page = other.get(ACME, PAGE + "?_LOCALE_=en")
    assert "測試" not in page.text and "$0.00" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    other.post(ACME, f"{PAGE}/requests/{demo_request}", {"decision": "approve", "csrf_token": token}, status=404)
    assert requests_in(db) == [("deposit", "gateway_clearing", 10_000, "pending")]


def test_the_history_is_paged(finance, db):
    asker, _ = finance
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        ledger = Ledger(session, demo)
        for n in range(1, 52):  # 51 movements of 1.00 each, moved in by hand as an operator would
            ledger.post(
                [
                    Transfer(
                        ledger.platform("suspense", "CNY"),
                        ledger.platform("risk_reserve", "CNY"),
                        Money(100, "CNY"),
                        "adjustment",
                        f"seed:{n}",
                    )
                ],
                key=f"seed:{n}",
                initiator="test",
            )
    page = asker.get(DEMO, PAGE + "?_LOCALE_=en")
    balances = re.findall(r'<td class="num">[^<]*</td><td class="num">([^<]*)</td>', page.text)
    assert len(balances) == 50 and balances[0] == "CN¥51.00" and balances[-1] == "CN¥2.00"
    older = page.click("Older", extra_environ={"HTTP_HOST": DEMO})
    assert re.findall(r'<td class="num">[^<]*</td><td class="num">([^<]*)</td>', older.text) == ["CN¥1.00"]
    assert "Older</a>" not in older.text and "Newest</a>" in older.text
    assert asker.get(DEMO, PAGE + "?before=abc").status_int == 200  # a bad page link shows the newest


# -- the migration -----------------------------------------------------------------------------


def test_the_migration_grants_reserve_manage_to_existing_administrators(tmp_path):
    """Rows written as the schema stood at 0023 (plain tables: today's models have columns 0023 lacks)."""
    from core.db import make_engine
    from core.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    upgrade(engine, "0023")
    tenants = sa.table(
        "tenants",
        *(sa.column(c) for c in ("id", "slug", "name", "theme", "default_locale", "currency", "timezone")),
        sa.column("locales", sa.JSON),
        sa.column("branding", sa.JSON),
        sa.column("business_date", sa.Date),
        sa.column("status"),
        sa.column("created_at", sa.DateTime),
        sa.column("updated_at", sa.DateTime),
    )
    roles = sa.table(
        "roles",
        *(sa.column(c) for c in ("id", "tenant_id", "code", "name", "requires_2fa", "builtin")),
        sa.column("permissions", sa.JSON),
    )
    now = dt.datetime(2027, 1, 4, tzinfo=dt.timezone.utc)
    with engine.begin() as conn:
        conn.execute(
            tenants.insert().values(
                slug="old",
                name="Old",
                theme="default",
                default_locale="en",
                locales=["en"],
                currency="USD",
                timezone="UTC",
                branding={},
                business_date=dt.date(2027, 1, 4),
                status="active",
                created_at=now,
                updated_at=now,
            )
        )
        tenant_id = conn.execute(sa.select(tenants.c.id).where(tenants.c.slug == "old")).scalar_one()
        for code, builtin in (("administrator", True), ("cashier", True), ("own_admin", False)):
            conn.execute(
                roles.insert().values(
                    tenant_id=tenant_id,
                    code=code,
                    name=code,
                    permissions=["funds.view"],
                    requires_2fa=False,
                    builtin=builtin,
                )
            )
    upgrade(engine, "0024")
    with engine.connect() as conn:
        found = conn.execute(sa.select(roles.c.code, roles.c.permissions, roles.c.requires_2fa).order_by(roles.c.id))
        rows = [(code, permissions, bool(two_factor)) for code, permissions, two_factor in found]
    engine.dispose()
    assert rows == [
        ("administrator", ["funds.view", "reserve.manage"], True),
        ("cashier", ["funds.view"], False),
        ("own_admin", ["funds.view"], False),
    ]


# -- advances ----------------------------------------------------------------------------------


def fund_reserve_through_the_back_office(wsgi_app, db, amount):
    asker = staff_client(wsgi_app, db, "fin1", "administrator")
    approver = staff_client(wsgi_app, db, "fin2", "administrator")
    ask(asker, "deposit", "gateway_clearing", amount, "風險準備金注資")
    decide(approver, last_request_id(db), "approve")


def test_the_reserve_advances_nothing_unless_the_tenant_turns_advances_on(db, plugins, people, wsgi_app):  # noqa: F811
    # The 2016 interim measures (art. 10) forbid the intermediary guaranteeing principal and interest.
    loan_id, first_id, due = overdue_setup(db, plugins, people, advance_after_days="2")
    fund_reserve_through_the_back_office(wsgi_app, db, "10000.00")
    lender_before = available(db, people["lender1"])[0]
    close_through(db, plugins, due + dt.timedelta(days=3))
    assert available(db, people["lender1"])[0] == lender_before  # nothing advanced
    assert platform_balance(db, "risk_reserve") == 1_000_000
    with db.transaction() as session:
        assert session.get(Installment, first_id).advanced_on is None
    clean_ledger(db)


def test_the_reserve_advances_when_the_tenant_turns_advances_on(db, plugins, people, wsgi_app):  # noqa: F811
    loan_id, first_id, due = overdue_setup(db, plugins, people, advance_after_days="2", reserve_advances="true")
    fund_reserve_through_the_back_office(wsgi_app, db, "10000.00")
    lender_before, fees_before = available(db, people["lender1"])[0], platform_balance(db, "fee_income")
    close_through(db, plugins, due + dt.timedelta(days=2))
    # The installment is 888.49 of principal and interest: the sole lender gets it less the 10% management
    # fee on its 100.00 of interest (888.49 − 10.00 = 878.49), the fee goes to fee income as on any payment.
    assert available(db, people["lender1"])[0] - lender_before == 88_849 - 1_000
    assert platform_balance(db, "fee_income") - fees_before == 1_000
    assert platform_balance(db, "risk_reserve") == 1_000_000 - 88_849
    with db.transaction() as session:
        assert session.get(Installment, first_id).advanced_on == due + dt.timedelta(days=2)
    clean_ledger(db)


# -- the JSON API ------------------------------------------------------------------------------


# The paths and schemas core/api/openapi.yaml gains when core.api.reserve is wired in; until then the
# tests serve them from a copy of the document with these added.
@pytest.fixture
def api_app(wsgi_app):
    return wsgi_app


def token(client, db, login, role, *, second_factor=True):
    with db.transaction() as session:
        secret = create_staff(session, tenant_by_slug(session, "demo"), login, PASSWORD, role).totp_secret
    body = {"login": login, "password": PASSWORD, "as": "staff"}
    if second_factor:
        body["totp"] = pyotp.TOTP(secret).now()
    answer = client.post_json(DEMO, "/api/v1/auth/token", body, status=200)
    return {"Authorization": f"Bearer {answer.json['token']}"}


def test_the_api_asks_approves_and_reads_the_reserve(api_app, db, tenants):
    from tests.conftest import Client

    client = Client(api_app)
    first, second = token(client, db, "api1", "administrator"), token(client, db, "api2", "administrator")
    empty = client.get(DEMO, "/api/v1/admin/reserve", headers=first, status=200).json
    assert empty["balances"] == {"CNY": "0.00"} and empty["history"] == [] and empty["requests"] == []

    body = {"direction": "deposit", "account": "gateway_clearing", "amount": "50000.00", "reason": "平台自有資金注入"}
    asked = client.post_json(DEMO, "/api/v1/admin/reserve/requests", body, headers=first, status=201).json
    assert (asked["status"], asked["amount"], asked["requested_by"]) == (
        "pending",
        "50000.00",
        "staff:%d:api1" % asked_staff_id(db, "api1"),
    )
    path = f"/api/v1/admin/reserve/requests/{asked['id']}/decision"
    own = client.post_json(DEMO, path + "?_LOCALE_=en", {"decision": "approve"}, headers=first, status=422).json
    assert own["field"] == "decision" and "Another person" in own["detail"]
    done = client.post_json(DEMO, path, {"decision": "approve"}, headers=second, status=200).json
    assert (done["status"], done["reserve_balance"]) == ("applied", "50000.00")
    client.post_json(DEMO, path, {"decision": "approve"}, headers=second, status=422)  # already decided
    assert platform_balance(db, "risk_reserve") == 5_000_000

    too_much = {**body, "direction": "withdrawal", "amount": "60000.00"}
    refused = client.post_json(
        DEMO, "/api/v1/admin/reserve/requests?_LOCALE_=en", too_much, headers=first, status=422
    ).json
    assert refused["field"] == "amount" and "50000.00" in refused["detail"]
    for bad, field in (
        ({**body, "direction": "sideways"}, "direction"),
        ({**body, "account": "suspense"}, "account"),
        ({**body, "amount": "-1"}, "amount"),
        ({**body, "extra": 1}, "extra"),
    ):
        assert (
            client.post_json(DEMO, "/api/v1/admin/reserve/requests", bad, headers=first, status=400).json["field"]
            == field
        )
    client.post_json(
        DEMO, "/api/v1/admin/reserve/requests/99999/decision", {"decision": "approve"}, headers=second, status=404
    )

    read = client.get(DEMO, "/api/v1/admin/reserve", headers=first, status=200).json
    assert read["balances"] == {"CNY": "50000.00"}
    assert [(e["change"], e["balance_after"], e["counter_account"], e["reason"]) for e in read["history"]] == [
        ("50000.00", "50000.00", "platform:gateway_clearing", "reserve_deposit")
    ]
    assert read["older_before"] is None and [r["status"] for r in read["requests"]] == ["applied"]
    client.get(DEMO, "/api/v1/admin/reserve?currency=XYZ", headers=first, status=400)
    clean_ledger(db)


def asked_staff_id(db, login):
    from core.accounts.models import StaffUser

    with db.transaction() as session:
        return session.scalars(sa.select(StaffUser.id).where(StaffUser.login == login)).one()


def test_the_api_needs_reserve_manage_and_a_second_factor(api_app, db, tenants):
    from core.accounts.models import StaffUser
    from core.accounts.permissions import ensure_default_roles
    from tests.conftest import Client

    client = Client(api_app)
    body = {"direction": "deposit", "account": "gateway_clearing", "amount": "100.00", "reason": "x"}
    # An administrator whose token passed no second factor (it was issued while a role without money
    # permissions was theirs): every permission but money's.
    no_code = token(client, db, "api3", "content_editor", second_factor=False)
    with db.transaction() as session:
        staff = session.scalars(sa.select(StaffUser).where(StaffUser.login == "api3")).one()
        staff.roles = [ensure_default_roles(session, staff.tenant_id)["administrator"]]
    client.get(DEMO, "/api/v1/admin/reserve", headers=no_code, status=200)  # reading moves no money
    refused = client.post_json(
        DEMO, "/api/v1/admin/reserve/requests?_LOCALE_=en", body, headers=no_code, status=403
    ).json
    assert "second factor" in refused["detail"]
    cashier = token(client, db, "api4", "cashier")
    client.get(DEMO, "/api/v1/admin/reserve", headers=cashier, status=200)
    client.post_json(DEMO, "/api/v1/admin/reserve/requests", body, headers=cashier, status=403)
    client.get(DEMO, "/api/v1/admin/reserve", status=401)
    assert requests_in(db) == []


# -- ledger verify -----------------------------------------------------------------------------


def test_ledger_verify_finds_reserve_money_moved_without_an_approved_request(finance, db, tmp_path, settings):
    from click.testing import CliRunner

    from cli import main

    asker, approver = finance
    ask(asker, "deposit", "gateway_clearing", "100.00")
    decide(approver, last_request_id(db), "approve")
    ini = tmp_path / "test.ini"
    ini.write_text(
        "\n".join(["[app:main]", "use = egg:lendstack", *(f"{k} = {v}" for k, v in settings.items())]) + "\n"
    )
    verified = CliRunner().invoke(main, ["ledger", "verify", "-c", str(ini)], catch_exceptions=False)
    assert verified.exit_code == 0 and "ledger ok" in verified.output
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        ledger = Ledger(session, demo)
        ledger.post(
            [
                Transfer(
                    ledger.platform("suspense", "CNY"),
                    ledger.platform("risk_reserve", "CNY"),
                    Money(700, "CNY"),
                    "reserve_deposit",
                    "by hand",
                )
            ],
            key="reserve:by-hand",
            initiator="test",
        )
    broken = CliRunner().invoke(main, ["ledger", "verify", "-c", str(ini), "--tenant", "demo"], catch_exceptions=False)
    assert broken.exit_code == 1
    assert (
        "demo: ledger: invariant 8: reserve:by-hand: 700 moved in or out of the risk reserve without an "
        "approved request"
    ) in broken.output
