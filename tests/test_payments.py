"""Payments: recharge through the sandbox and offline, callbacks, withdrawals, adjustments."""

import json
import re
import threading

import pytest
import sqlalchemy as sa

from core.ledger import Wallet, verify
from core.ledger.posting import Ledger
from core.payments.models import CallbackRecord, Payment, Withdrawal
from core.tenancy.services import tenant_by_slug
from plugins.payments.sandbox import signature_header
from tests.helpers import luhn_card, member_client, staff_client, submit

DEMO = "demo.localhost"
SECRET = "demo-sandbox-signing-secret"


def funds(db, member_id):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        f = Wallet(Ledger(session, demo.id), member_id, "CNY").funds()
        return f.available, f.frozen


def clean_ledger(db):
    with db.transaction() as session:
        assert verify(session) == []


def recharge(client, amount="100.00", gateway="sandbox"):
    page = client.get(DEMO, "/account/recharge")
    return submit(client, DEMO, page, {"gateway": gateway, "amount": amount}, status=303)


def pay(client, response, outcome="pay"):
    checkout = client.get(DEMO, response.location.replace("http://demo.localhost", ""))
    back = submit(client, DEMO, checkout, {}, outcome, status=303)
    return client.get(DEMO, back.location.replace("http://demo.localhost", ""))


@pytest.fixture
def member(wsgi_app, db, tenants):
    return member_client(wsgi_app, db, "13800138001", card=luhn_card())


def test_sandbox_recharge_credits_once_after_the_signed_callback(member, db):
    client, member_id = member
    started = recharge(client)
    assert "/sandbox-gateway/checkout/R" in started.location
    page = pay(client, started)
    assert "¥100.00" in page.text
    assert funds(db, member_id) == (10000, 0)
    assert "充值" in client.get(DEMO, "/account/funds").text
    clean_ledger(db)


def test_the_fail_button_and_the_return_page_credit_nothing(member, db):
    client, member_id = member
    pay(client, recharge(client), "fail")
    started = recharge(client, "50.00")
    reference = re.search(r"checkout/(R\w+)", started.location).group(1)
    client.get(DEMO, f"/account/recharge/{reference}")  # coming back without paying
    assert funds(db, member_id) == (0, 0)
    with db.transaction() as session:
        assert sorted(p.status for p in session.scalars(sa.select(Payment))) == ["failed", "pending"]


def test_a_tampered_checkout_amount_is_refused(member):
    client, _ = member
    started = recharge(client)
    client.get(
        DEMO, started.location.replace("http://demo.localhost", "").replace("amount=100.00", "amount=1.00"), status=404
    )


def callback(client, body: dict, secret=SECRET, timestamp=None, status="*"):
    raw = json.dumps(body).encode()
    return client.app.post(
        "/callbacks/payments/sandbox",
        raw,
        headers={
            "Host": DEMO,
            "Content-Type": "application/json",
            "Sandbox-Signature": signature_header(secret, raw, timestamp),
        },
        status=status,
    )


def pending(client, amount="100.00"):
    return re.search(r"checkout/(R\w+)", recharge(client, amount).location).group(1)


def test_forged_unknown_and_mismatched_callbacks_are_rejected_and_recorded(member, db):
    client, member_id = member
    reference = pending(client)
    good = {"reference": reference, "status": "succeeded", "amount": "100.00", "currency": "CNY", "id": "x1"}
    assert callback(client, good, secret="not-the-secret-at-all").status_int == 400
    assert callback(client, good, timestamp=1_000_000_000).status_int == 400
    assert callback(client, {**good, "amount": "1000.00"}).status_int == 400
    assert callback(client, {**good, "reference": "R000"}).status_int == 400
    assert funds(db, member_id) == (0, 0)
    with db.transaction() as session:
        reasons = sorted(r.reason.split(":")[0] for r in session.scalars(sa.select(CallbackRecord)))
    assert reasons == ["amount mismatch", "bad signature", "timestamp outside the tolerance", "unknown payment"]
    assert callback(client, good).json["result"] == "applied"
    assert funds(db, member_id) == (10000, 0)


def test_the_same_callback_100_times_credits_once_and_a_late_failure_changes_nothing(member, db, wsgi_app):
    client, member_id = member
    reference = pending(client)
    body = {"reference": reference, "status": "succeeded", "amount": "100.00", "currency": "CNY", "id": "x2"}
    results = []

    def deliver():
        from webtest import TestApp

        raw = json.dumps(body).encode()
        response = TestApp(wsgi_app).post(
            "/callbacks/payments/sandbox",
            raw,
            headers={
                "Host": DEMO,
                "Content-Type": "application/json",
                "Sandbox-Signature": signature_header(SECRET, raw),
            },
            expect_errors=True,
        )
        results.append(response.status_int)

    threads = [threading.Thread(target=deliver) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count(200) == 100
    assert funds(db, member_id) == (10000, 0)
    late = callback(client, {**body, "status": "failed"})
    assert late.json["result"] == "ignored"
    with db.transaction() as session:
        assert session.scalars(sa.select(Payment.status)).one() == "succeeded"
        verdicts = [r.verdict for r in session.scalars(sa.select(CallbackRecord))]
    assert verdicts.count("applied") == 1 and verdicts.count("duplicate") == 99
    clean_ledger(db)


def test_offline_recharge_is_credited_when_a_cashier_confirms(member, db, wsgi_app):
    client, member_id = member
    started = recharge(client, "500.00", gateway="offline")
    status_page = client.get(DEMO, started.location.replace("http://demo.localhost", ""))
    assert "鼎信網貸資金存管專戶" in status_page.text
    submit(client, DEMO, status_page, {"bank_reference": "ICBC20270104001"}, status=303)
    cashier = staff_client(wsgi_app, db, "cash1", "cashier")
    queue = cashier.get(DEMO, "/admin/funds/recharges?status=declared")
    assert "ICBC20270104001" in queue.text
    submit(cashier, DEMO, queue, {"reason": ""}, "approve", status=303)
    assert funds(db, member_id) == (50000, 0)
    # Customer service cannot confirm recharges.
    cs = staff_client(wsgi_app, db, "cs1", "customer_service")
    with db.transaction() as session:
        payment_id = session.scalars(sa.select(Payment.id)).one()
    cs.post(DEMO, f"/admin/funds/recharges/{payment_id}", {"decision": "approve"}, status=403)
    clean_ledger(db)


def test_withdrawal_flow_with_two_person_rule_and_failures(wsgi_app, db, tenants):
    client, member_id = member_client(wsgi_app, db, "13800138002", card=luhn_card())
    adjust = staff_client(wsgi_app, db, "fin1", "administrator")
    # Fund the member through an adjustment, approved by a second person.
    page = adjust.get(DEMO, "/admin/funds/adjustments")
    submit(adjust, DEMO, page, {"member": "13800138002", "amount": "30000.00", "reason": "測試入金"}, status=303)
    second = staff_client(wsgi_app, db, "fin2", "administrator")
    page = second.get(DEMO, "/admin/funds/adjustments")
    with db.transaction() as session:  # ids run on across tests on PostgreSQL: ask which one it is
        from core.payments.models import Adjustment

        adjustment_id = session.scalars(sa.select(Adjustment.id).order_by(Adjustment.id.desc())).first()
    submit(second, DEMO, page, {}, "approve", status=303, action_suffix=f"/{adjustment_id}")
    assert funds(db, member_id) == (3000000, 0)

    page = client.get(DEMO, "/account/withdraw")
    submit(client, DEMO, page, {"amount": "500.00"}, status=303)
    assert funds(db, member_id) == (2950000, 50000)
    queue = adjust.get(DEMO, "/admin/funds/withdrawals")
    submit(adjust, DEMO, queue, {"reason": ""}, "approve", status=303)
    assert funds(db, member_id) == (2950000, 0)  # paid out: 498.00 to the card, 2.00 fee
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        assert Ledger(session, demo).balance(Ledger(session, demo).platform("fee_income", "CNY")).minor == 200

    # Above the threshold (10,000) two different cashiers approve.
    page = client.get(DEMO, "/account/withdraw")
    submit(client, DEMO, page, {"amount": "20000.00"}, status=303)
    queue = adjust.get(DEMO, "/admin/funds/withdrawals?status=requested")
    submit(adjust, DEMO, queue, {"reason": ""}, "approve", status=303)
    queue = adjust.get(DEMO, "/admin/funds/withdrawals?status=first_approved")
    assert submit(adjust, DEMO, queue, {"reason": ""}, "approve", status=400).status_int == 400
    queue = second.get(DEMO, "/admin/funds/withdrawals?status=first_approved")
    submit(second, DEMO, queue, {"reason": ""}, "approve", status=303)
    assert funds(db, member_id) == (950000, 0)

    # A rejection and a cancellation give the money back.
    page = client.get(DEMO, "/account/withdraw")
    submit(client, DEMO, page, {"amount": "100.00"}, status=303)
    queue = adjust.get(DEMO, "/admin/funds/withdrawals?status=requested")
    assert submit(adjust, DEMO, queue, {"reason": ""}, "reject", status=400).status_int == 400
    queue = adjust.get(DEMO, "/admin/funds/withdrawals?status=requested")
    submit(adjust, DEMO, queue, {"reason": "卡號有誤"}, "reject", status=303)
    page = client.get(DEMO, "/account/withdraw")
    submit(client, DEMO, page, {"amount": "100.00"}, status=303)
    page = client.get(DEMO, "/account/withdraw")
    cancel = [f for f in page.forms.values() if "cancel" in f.fields][0]
    cancel.submit("cancel", extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert funds(db, member_id) == (950000, 0)
    assert "卡號有誤" in client.get(DEMO, "/account/withdraw").text

    # Refusals: more than available, below the minimum, over the daily limit.
    for amount, text in (("30000.00", "daily limit"), ("50.00", "smallest"), ("9600.00", "not enough")):
        page = client.get(DEMO, "/account/withdraw?_LOCALE_=en")
        refused = submit(client, DEMO, page, {"amount": amount}, status=400)
        assert text in refused.text, amount
    clean_ledger(db)


def declined_card():
    """A valid card number ending in 0000: the sandbox declines payouts to it."""
    from core.members.identity import luhn_ok

    return next(n for n in (f"622202100{x:03d}0000" for x in range(1000)) if luhn_ok(n))


def test_a_declined_payout_unfreezes(wsgi_app, db, tenants):
    from core.money import Money

    client, member_id = member_client(wsgi_app, db, "13800138003", card=declined_card())
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), member_id, "CNY").recharge(
            Money(100000, "CNY"), key="seed", ref="t", initiator="test"
        )
    page = client.get(DEMO, "/account/withdraw")
    submit(client, DEMO, page, {"amount": "300.00"}, status=303)
    cashier = staff_client(wsgi_app, db, "cash2", "cashier")
    queue = cashier.get(DEMO, "/admin/funds/withdrawals")
    submit(cashier, DEMO, queue, {"reason": ""}, "approve", status=303)
    with db.transaction() as session:
        assert session.scalars(sa.select(Withdrawal.status)).one() == "failed"
    assert funds(db, member_id) == (100000, 0)
    clean_ledger(db)


def test_unverified_members_cannot_withdraw(wsgi_app, db, tenants):
    client, _ = member_client(wsgi_app, db, "13800138004", verified=False)
    page = client.get(DEMO, "/account/withdraw?_LOCALE_=en")
    assert "Bind a bank card" in page.text


def test_cli_adjustment_and_reconciliation(wsgi_app, db, tenants, member, tmp_path, settings):
    from click.testing import CliRunner

    from cli import main

    client, member_id = member
    pay(client, recharge(client))
    ini = tmp_path / "t.ini"
    ini.write_text("[app:main]\nuse = egg:lendstack\n" + "\n".join(f"{k} = {v}" for k, v in settings.items()))
    ok = CliRunner().invoke(
        main,
        [
            "funds",
            "adjust",
            "-c",
            str(ini),
            "--tenant",
            "demo",
            "--member",
            "13800138001",
            "--amount",
            "-20.00",
            "--reason",
            "退回多收",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert funds(db, member_id) == (8000, 0)
    too_much = CliRunner().invoke(
        main,
        [
            "funds",
            "adjust",
            "-c",
            str(ini),
            "--tenant",
            "demo",
            "--member",
            "13800138001",
            "--amount",
            "-200.00",
            "--reason",
            "x",
        ],
    )
    assert too_much.exit_code == 2 and "not enough" in too_much.output
    auditor = staff_client(wsgi_app, db, "aud1", "auditor")
    report = auditor.get(DEMO, "/admin/funds/reconciliation")
    assert "sandbox" in report.text and "¥100.00" in report.text
    csv = auditor.get(DEMO, "/admin/funds/recharges?format=csv")
    assert csv.content_type == "text/csv" and "100.00" in csv.text
    clean_ledger(db)
