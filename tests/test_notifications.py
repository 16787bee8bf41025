"""Notifications: a member hears of their money and loans in their inbox (always) and by SMS or email (as they
chose on /account/notifications); VIP points are awarded by the tenant's [vip] rule.

Everything is driven through the doors people use: the JSON API, the sandbox checkout, the back office and
the account pages. Amounts are worked out here by hand.
"""

import time

import pyotp
import sqlalchemy as sa

from core.accounts.models import StaffUser
from core.ledger import Ledger, Wallet
from core.members.models import Member, Message, PointsEntry
from core.money import Money
from core.sms import SmsMessage
from core.tenancy.services import tenant_by_slug
from tests.helpers import (
    PASSWORD,
    luhn_card,
    member_client,
    resident_id,
    staff_client,
    submit,
)

DEMO = "demo.localhost"


def token(client, login):
    return {
        "Authorization": "Bearer "
        + client.post_json(DEMO, "/api/v1/auth/token", {"login": login, "password": PASSWORD}).json["token"]
    }


def staff_token(wsgi_app, db, client, login, role):
    staff_client(wsgi_app, db, login, role)
    with db.transaction() as session:
        secret = session.scalars(sa.select(StaffUser.totp_secret).where(StaffUser.login == login)).one()
    # the web sign-in used this step's code; a code is accepted once, so take the next step's
    code = pyotp.TOTP(secret).at(int(time.time()) + 30)
    body = {"login": login, "password": PASSWORD, "as": "staff", "totp": code}
    return {"Authorization": "Bearer " + client.post_json(DEMO, "/api/v1/auth/token", body).json["token"]}


def seed(db, member_id, minor, key):
    """Money put in directly (a seed, not a gateway's recharge: nobody is told of it)."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), member_id, "CNY").recharge(
            Money(minor, "CNY"), key=key, ref="seed", initiator="test"
        )


def inbox(db, member_id):
    """(subject, body) of the member's system notices, oldest first."""
    with db.transaction() as session:
        return [
            (m.subject, m.body)
            for m in session.scalars(
                sa.select(Message)
                .where(Message.member_id == member_id, Message.sender == "system")
                .order_by(Message.id)
            )
        ]


def texts(db, phone, purpose):
    with db.transaction() as session:
        return session.scalars(
            sa.select(SmsMessage.body).where(SmsMessage.phone == "+86" + phone, SmsMessage.purpose == purpose)
        ).all()


def choose(client, ticked):
    """Tick exactly ``ticked`` (``sms.money`` …) on the preferences page and save."""
    page = client.get(DEMO, "/account/notifications")
    csrf = next(f for f in page.forms.values() if "notify" in f.fields)["csrf_token"].value
    return client.post(
        DEMO, "/account/notifications", [("csrf_token", csrf)] + [("notify", t) for t in ticked], status="*"
    )


def test_lenders_and_borrower_hear_of_their_loan_from_full_to_payback(wsgi_app, db, tenants, client):
    _borrower_web, borrower_id = member_client(wsgi_app, db, "13800138600", credit_line=1_000_000)
    a_web, a_id = member_client(wsgi_app, db, "13800138601")
    b_web, b_id = member_client(wsgi_app, db, "13800138602")
    # A opts in to SMS about investments; B turns every SMS off.
    assert choose(a_web, ["sms.money", "sms.investments"]).status_int == 303
    assert choose(b_web, []).status_int == 303
    page = b_web.get(DEMO, "/account/notifications?_LOCALE_=en")
    assert "checked" not in page.text and "Notifications" in page.text
    seed(db, a_id, 500_000, "seed-a")
    seed(db, b_id, 500_000, "seed-b")
    assert inbox(db, a_id) == []  # money seeded directly is not a recharge anybody is told of

    staff = staff_token(wsgi_app, db, client, "risk-notify", "risk_officer")
    borrower, a, b = token(client, "13800138600"), token(client, "13800138601"), token(client, "13800138602")
    loan = client.post_json(
        DEMO,
        "/api/v1/loans",
        {
            "loan_type": "credit",
            "title": "週轉借款",
            "amount": "5000.00",
            "annual_rate_percent": "10",
            "term_months": 6,
            "repayment_method": "equal_installment",
            "min_bid": "100",
        },
        headers=borrower,
        status=201,
    ).json
    client.post_json(DEMO, f"/api/v1/admin/loans/{loan['id']}/review", {"decision": "approve"}, headers=staff)
    bids = f"/api/v1/loans/{loan['id']}/bids"
    client.post_json(DEMO, bids, {"amount": "3050.00"}, headers={**a, "Idempotency-Key": "bid-a-0001"}, status=201)
    # a refused bid (more than what remains) tells nobody
    client.post_json(DEMO, bids, {"amount": "2000.00"}, headers={**b, "Idempotency-Key": "bid-b-0001"}, status=422)
    assert inbox(db, a_id) == [] and inbox(db, b_id) == [] and inbox(db, borrower_id) == []
    client.post_json(DEMO, bids, {"amount": "1950.00"}, headers={**b, "Idempotency-Key": "bid-b-0002"}, status=201)
    number = client.get(DEMO, f"/api/v1/loans/{loan['id']}").json["number"]

    # Full: each bidder once (in zh_Hant, the member's language), by SMS only where they opted in.
    assert inbox(db, a_id) == [
        (f"借款 {number} 已滿標", f"鼎信網貸：您投資 CN¥3,050.00 的借款 {number} 已滿標，等待復審。")
    ]
    assert inbox(db, b_id) == [
        (f"借款 {number} 已滿標", f"鼎信網貸：您投資 CN¥1,950.00 的借款 {number} 已滿標，等待復審。")
    ]
    assert len(texts(db, "13800138601", "notice.loan_full")) == 1
    assert texts(db, "13800138602", "notice.loan_full") == []
    assert inbox(db, borrower_id) == [
        (f"您的借款 {number} 已滿標", f"鼎信網貸：您 CN¥5,000.00 的借款 {number} 已滿標，等待復審。")
    ]
    assert len(texts(db, "13800138600", "notice.borrower_loan_funded")) == 1  # "my loans": SMS on by default

    # Final review: lenders told of the disbursement, the borrower of the money paid to them.
    client.post_json(DEMO, f"/api/v1/admin/loans/{loan['id']}/final-review", {"decision": "approve"}, headers=staff)
    assert inbox(db, a_id)[-1][0] == f"借款 {number} 已放款" and "CN¥3,050.00" in inbox(db, a_id)[-1][1]
    assert inbox(db, b_id)[-1][0] == f"借款 {number} 已放款" and "CN¥1,950.00" in inbox(db, b_id)[-1][1]
    assert inbox(db, borrower_id)[-1][0] == f"您的借款 {number} 已放款"

    # VIP points by the demo's rule: 1 point per 100.00 invested, per lender and loan, rounded down.
    with db.transaction() as session:
        assert session.get(Member, a_id).vip_points == 30  # 3,050.00 → 30
        assert session.get(Member, b_id).vip_points == 19  # 1,950.00 → 19
        assert session.scalar(sa.select(sa.func.count()).select_from(PointsEntry)) == 2
    points = a_web.get(DEMO, "/account/points?_LOCALE_=en").text
    assert "Invested in a loan that was disbursed" in points and "+30" in points
    assert "You earn 1 point(s) for every 100 you invest" in points

    # A repayment: each lender hears of the payback once, however many legs paid them.
    client.post_json(DEMO, f"/api/v1/loans/{loan['id']}/repayments", {}, headers=borrower)
    for member_id in (a_id, b_id):
        paybacks = [m for m in inbox(db, member_id) if m[0] == f"收到借款 {number} 的回款"]
        assert len(paybacks) == 1 and paybacks[0][1].startswith(f"鼎信網貸：您已收到借款 {number} 的回款 CN¥")
    assert len(texts(db, "13800138601", "notice.payback_received")) == 1
    assert texts(db, "13800138602", "notice.payback_received") == []

    # The inbox page shows the notices in the member's language.
    page = a_web.get(DEMO, "/account/messages")
    assert f"借款 {number} 已滿標" in page.text and f"收到借款 {number} 的回款" in page.text


def test_a_failed_loan_tells_its_bidders_of_the_refund(wsgi_app, db, tenants, client):
    _, _borrower_id = member_client(wsgi_app, db, "13800138610", credit_line=1_000_000)
    _lender_web, lender_id = member_client(wsgi_app, db, "13800138611")
    seed(db, lender_id, 500_000, "seed-l")
    staff = staff_token(wsgi_app, db, client, "risk-fail", "risk_officer")
    borrower, lender = token(client, "13800138610"), token(client, "13800138611")
    loan = client.post_json(
        DEMO,
        "/api/v1/loans",
        {
            "loan_type": "credit",
            "title": "週轉借款",
            "amount": "1000.00",
            "annual_rate_percent": "10",
            "term_months": 6,
            "repayment_method": "equal_installment",
            "min_bid": "100",
        },
        headers=borrower,
        status=201,
    ).json
    client.post_json(DEMO, f"/api/v1/admin/loans/{loan['id']}/review", {"decision": "approve"}, headers=staff)
    client.post_json(
        DEMO,
        f"/api/v1/loans/{loan['id']}/bids",
        {"amount": "1000.00"},
        headers={**lender, "Idempotency-Key": "bid-fail-01"},
        status=201,
    )
    client.post_json(
        DEMO,
        f"/api/v1/admin/loans/{loan['id']}/final-review",
        {"decision": "reject", "reason": "資料不符"},
        headers=staff,
    )
    number = client.get(DEMO, "/api/v1/me/loans", headers=borrower).json["loans"][0]["number"]
    assert inbox(db, lender_id)[-1] == (
        f"借款 {number} 未成立：您的投標已退回",
        f"鼎信網貸：借款 {number} 未成立；您投標的 CN¥1,000.00 已退回可用餘額。",
    )


def follow(client, url):
    """The sandbox checkout's Pay button, as a browser would press it."""
    checkout = client.get(DEMO, url.replace("http://demo.localhost", ""))
    back = submit(client, DEMO, checkout, {}, "pay", status=303)
    return client.get(DEMO, back.location.replace("http://demo.localhost", ""))


def test_recharge_and_withdrawals_paid_refused_or_cancelled(wsgi_app, db, tenants, client):
    web, member_id = member_client(wsgi_app, db, "13800138620", card=luhn_card())
    headers = token(client, "13800138620")
    started = client.post_json(
        DEMO,
        "/api/v1/me/recharges",
        {"gateway": "sandbox", "amount": "1000.00"},
        headers={**headers, "Idempotency-Key": "recharge-n-01"},
        status=201,
    ).json
    follow(web, started["next"]["url"])
    assert inbox(db, member_id) == [("充值已到帳", "鼎信網貸：您充值的 CN¥1,000.00 已存入可用餘額。")]
    assert len(texts(db, "13800138620", "notice.recharge_credited")) == 1  # money: SMS on by default

    cashier = staff_client(wsgi_app, db, "cash-n", "cashier")
    page = web.get(DEMO, "/account/withdraw")
    submit(web, DEMO, page, {"amount": "500.00"}, status=303)
    queue = cashier.get(DEMO, "/admin/funds/withdrawals")
    submit(cashier, DEMO, queue, {"reason": ""}, "approve", status=303)
    # 500.00 less the demo's fixed 2.00 fee reaches the card
    assert inbox(db, member_id)[-1] == ("提現已支付", "鼎信網貸：您提現的 CN¥498.00 已支付至您的銀行卡。")

    page = web.get(DEMO, "/account/withdraw")
    submit(web, DEMO, page, {"amount": "100.00"}, status=303)
    queue = cashier.get(DEMO, "/admin/funds/withdrawals?status=requested")
    submit(cashier, DEMO, queue, {"reason": ""}, "reject", status=400)  # refused: no reason, nobody told
    assert len(inbox(db, member_id)) == 2
    queue = cashier.get(DEMO, "/admin/funds/withdrawals?status=requested")
    submit(cashier, DEMO, queue, {"reason": "卡號有誤"}, "reject", status=303)
    assert inbox(db, member_id)[-1] == (
        "提現被拒絕",
        "鼎信網貸：您提現 CN¥100.00 的申請被拒絕（卡號有誤）；款項已退回可用餘額。",
    )

    page = web.get(DEMO, "/account/withdraw")
    submit(web, DEMO, page, {"amount": "100.00"}, status=303)
    page = web.get(DEMO, "/account/withdraw")
    cancel = next(f for f in page.forms.values() if "cancel" in f.fields)
    cancel.submit("cancel", extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert len(inbox(db, member_id)) == 3  # the member cancelled it: nothing to tell


def decide(staff, member_id, decision, reason="", status=303):
    """Press approve or reject on the member's verification in the back office."""
    page = staff.get(DEMO, f"/admin/members/{member_id}")
    form = next(f for f in page.forms.values() if f.action.endswith("/verification"))
    if "reason" in form.fields:
        form["reason"] = reason
    return form.submit("decision", value=decision, extra_environ={"HTTP_HOST": DEMO}, status=status)


def test_verification_decisions_are_told(wsgi_app, db, tenants, client):
    risk = staff_client(wsgi_app, db, "risk-v", "risk_officer")
    people = {}
    for n, phone in enumerate(("13800138630", "13800138631")):
        web, member_id = member_client(wsgi_app, db, phone, verified=False)
        page = web.get(DEMO, "/account/verification")
        submit(web, DEMO, page, {"legal_name": "王小明", "id_number": resident_id(630 + n)}, status=303)
        people[phone] = member_id
    with db.transaction() as session:
        session.get(Member, people["13800138631"]).locale = "en"
    decide(risk, people["13800138630"], "approve")
    decide(risk, people["13800138631"], "reject", "", status=400)  # no reason: refused, nobody told
    assert inbox(db, people["13800138631"]) == []
    decide(risk, people["13800138631"], "reject", "證件照片不清楚")
    assert ("實名認證已通過", "鼎信網貸：您的實名認證已通過。") in inbox(db, people["13800138630"])
    assert inbox(db, people["13800138631"]) == [
        (
            "Real-name verification refused",
            "鼎信網貸: your real-name verification was refused: 證件照片不清楚. Correct it and submit again.",
        )
    ]


def test_the_preferences_page_refuses_what_it_does_not_offer(wsgi_app, db, tenants, client):
    web, member_id = member_client(wsgi_app, db, "13800138640")
    page = web.get(DEMO, "/account/notifications?_LOCALE_=en")
    assert "Site messages" in page.text and 'href="/account/notifications"' in page.text  # in the account nav
    refused = choose(web, ["sms.money", "fax.money"])
    assert refused.status_int == 400 and "Choose only among the notices listed." in refused.text
    with db.transaction() as session:
        assert session.get(Member, member_id).notification_preferences is None
    assert choose(web, ["sms.loans"]).status_int == 303
    with db.transaction() as session:
        # no email address: the email channel keeps its default
        assert session.get(Member, member_id).notification_preferences == {
            "sms": {"money": False, "loans": True, "investments": False, "account": False}
        }
