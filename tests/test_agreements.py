"""Agreements: the terms and privacy policy at sign-up and again after a new version, the risk notice before
the first bid (pages and API), and the loan agreement kept with the loan at disbursement."""

import pytest
import sqlalchemy as sa
import yaml

import tests.factories as make
from core.content import review
from core.content.defaults import ensure_defaults
from core.content.models import ContentItem
from core.content.versions import keep_version
from core.loans.agreement import LoanAgreement
from core.loans.models import Bid, Loan
from core.members.agreements import MemberAgreement
from core.members.models import Member
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests.dev_outbox import OUTBOX
from tests.helpers import PASSWORD, member_client, submit

DEMO = "demo.localhost"
ACME = "acme.localhost"


def publish(db, slug, tenant="demo", body=None):
    """Publish the tenant's built-in page ``slug`` (every language), first with a new ``body`` if given."""
    with db.transaction() as session:
        found = tenant_by_slug(session, tenant)
        ensure_defaults(session, found)
        items = session.scalars(
            sa.select(ContentItem).where(ContentItem.tenant_id == found.id, ContentItem.slug == slug)
        ).all()
        for item in items:
            if item.status == "published":
                review.unpublish(item)
            if body is not None:
                item.body = body
                keep_version(session, item, "test")
            if item.status == "approved":
                item.status = "draft"
            review.submit(item)
            review.approve(item, None)
            review.publish(item)
        return {item.locale: (item.id, item.version) for item in items}


def register(client, phone, ticks, status):
    """Register ``phone`` on a new client (``client``'s app), ticking ``ticks``."""
    from tests.conftest import Client

    OUTBOX.clear()
    client = Client(client.app.app)
    page = client.get(DEMO, "/register")
    page = submit(client, DEMO, page, {"phone": phone}, "send_code", status=200)
    values = {"phone": phone, "code": OUTBOX.code_for(phone), "password": PASSWORD, "confirm": PASSWORD}
    return submit(client, DEMO, page, {**values, **ticks}, "register", status=status)


def test_registration_records_the_terms_and_privacy_ticked(client, db, tenants):
    plain = register(client, "13800138600", {}, 303)  # nothing published: nothing to accept
    terms, privacy = publish(db, "terms"), publish(db, "privacy")
    page = client.get(DEMO, "/register")
    assert 'name="accept_terms"' in page.text and 'href="/pages/privacy"' in page.text
    refused = register(client, "13800138601", {"accept_privacy": True}, 400)
    assert 'id="accept_terms-error"' in refused.text
    with db.transaction() as session:
        assert session.scalars(sa.select(Member).where(Member.phone.contains("138601"))).first() is None
        assert session.scalars(sa.select(MemberAgreement)).all() == []
    register(client, "13800138602", {"accept_terms": True, "accept_privacy": True}, 303)
    with db.transaction() as session:
        rows = session.scalars(sa.select(MemberAgreement).order_by(MemberAgreement.kind)).all()
        assert [(r.kind, r.item_id, r.version, len(r.digest)) for r in rows] == [
            ("privacy", *privacy["zh_Hant"], 64),
            ("terms", *terms["zh_Hant"], 64),
        ]
    assert plain.location.endswith("/account")


@pytest.fixture
def loan_number(db, tenants, wsgi_app):
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        hooks = wsgi_app.registry["plugins"].for_tenant(tenant)
        borrower = make.member(session, tenant, "13800138610", credit_line=10_000_000)
        return make.loan(session, tenant, hooks, borrower).number


def _loan_id(db, number):
    with db.transaction() as session:
        return session.scalars(sa.select(Loan.id).where(Loan.number == number)).one()


def test_the_first_bid_confirms_the_risk_notice_then_not_again(wsgi_app, db, loan_number, client):
    publish(db, "lender-risk")
    lender, lender_id = member_client(wsgi_app, db, "13800138611")
    with db.transaction() as session:
        make.recharge(session, tenant_by_slug(session, "demo"), session.get(Member, lender_id), 500_000, key="r611")
    page = lender.get(DEMO, f"/invest/{loan_number}")
    confirm = submit(lender, DEMO, page, {"amount": "1000"}, status=200)
    assert 'name="accept_lender_risk"' in confirm.text and 'href="/pages/lender-risk"' in confirm.text
    refused = submit(lender, DEMO, confirm, {"confirm": "1"}, status=400)
    assert 'id="accept_lender_risk-error"' in refused.text
    with db.transaction() as session:
        assert session.scalars(sa.select(Bid)).all() == []
    submit(lender, DEMO, refused, {"accept_lender_risk": True}, status=303)
    page = lender.get(DEMO, f"/invest/{loan_number}")
    confirm = submit(lender, DEMO, page, {"amount": "1000"}, status=200)
    assert "accept_lender_risk" not in confirm.text  # accepted once: not asked again
    submit(lender, DEMO, confirm, {"confirm": "1"}, status=303)
    with db.transaction() as session:
        assert len(session.scalars(sa.select(Bid).where(Bid.member_id == lender_id)).all()) == 2
        assert [r.kind for r in session.scalars(sa.select(MemberAgreement))] == ["lender_risk"]
    # the API: a first bid without "accept_risk" is refused by name, nothing frozen
    _, other_id = member_client(wsgi_app, db, "13800138612")
    with db.transaction() as session:
        make.recharge(session, tenant_by_slug(session, "demo"), session.get(Member, other_id), 500_000, key="r612")
    token = client.post_json(DEMO, "/api/v1/auth/token", {"login": "13800138612", "password": PASSWORD}).json
    headers = {"Authorization": "Bearer " + token["token"], "Idempotency-Key": "risk-0001"}
    bids = f"/api/v1/loans/{_loan_id(db, loan_number)}/bids"
    problem = client.post_json(DEMO, bids, {"amount": "1000.00"}, headers=headers, status=422).json
    assert "accept_risk" in str(problem)
    with db.transaction() as session:
        assert session.scalars(sa.select(Bid).where(Bid.member_id == other_id)).all() == []


def _spec_takes_accept_risk() -> bool:
    from pathlib import Path

    import core.api

    spec = yaml.safe_load((Path(core.api.__file__).parent / "openapi.yaml").read_text())
    body = spec["paths"]["/loans/{id}/bids"]["post"]["requestBody"]["content"]["application/json"]
    return "accept_risk" in body["schema"].get("properties", {})


def test_an_api_bid_with_accept_risk_is_recorded(wsgi_app, db, loan_number, client):
    if not _spec_takes_accept_risk():
        pytest.skip("the OpenAPI bid schema does not declare accept_risk yet")
    publish(db, "lender-risk")
    _, lender_id = member_client(wsgi_app, db, "13800138613")
    with db.transaction() as session:
        make.recharge(session, tenant_by_slug(session, "demo"), session.get(Member, lender_id), 500_000, key="r613")
    token = client.post_json(DEMO, "/api/v1/auth/token", {"login": "13800138613", "password": PASSWORD}).json
    headers = {"Authorization": "Bearer " + token["token"]}
    bids = f"/api/v1/loans/{_loan_id(db, loan_number)}/bids"
    body = {"amount": "1000.00", "accept_risk": True}
    client.post_json(DEMO, bids, body, headers={**headers, "Idempotency-Key": "risk-0002"}, status=201)
    client.post_json(DEMO, bids, {"amount": "1000.00"}, headers={**headers, "Idempotency-Key": "risk-0003"}, status=201)
    with db.transaction() as session:
        assert [r.kind for r in session.scalars(sa.select(MemberAgreement))] == ["lender_risk"]


def test_a_new_terms_version_asks_again_at_sign_in(wsgi_app, db, tenants, client):
    publish(db, "terms")
    member, member_id = member_client(wsgi_app, db, "13800138620")  # registered before: asked at sign-in
    sent = member.get(DEMO, "/account", status=303)
    assert sent.location.endswith("/account/agreements?next=%2Faccount")
    token = client.post_json(DEMO, "/api/v1/auth/token", {"login": "13800138620", "password": PASSWORD}).json
    api = {"Authorization": "Bearer " + token["token"]}
    problem = client.get(DEMO, "/api/v1/me", headers=api, status=403).json
    assert "terms" in str(problem)
    page = member.get(DEMO, "/account/agreements?next=/account")
    assert "用戶註冊協議" in page.text and 'name="accept_privacy"' not in page.text
    submit(member, DEMO, page, {}, status=400)  # not ticked
    done = submit(member, DEMO, page, {"accept_terms": True}, status=303)
    assert done.location.endswith("/account")
    member.get(DEMO, "/account", status=200)
    client.get(DEMO, "/api/v1/me", headers=api, status=200)
    publish(db, "terms", body="## 新版條款\n\n第二版。")  # a new version
    member.get(DEMO, "/account", status=303)
    client.get(DEMO, "/api/v1/me", headers=api, status=403)
    page = member.get(DEMO, "/account/agreements")
    assert "第二版" in page.text
    submit(member, DEMO, page, {"accept_terms": True}, status=303)
    member.get(DEMO, "/account", status=200)
    with db.transaction() as session:
        versions = [r.version for r in session.scalars(sa.select(MemberAgreement).order_by(MemberAgreement.id))]
    assert versions == [1, 2]


TEMPLATE = (
    "協議編號：{{loan_number}}\n\n借款人：{borrower_name}\n\n金額 {{amount}}，年利率 {{annual_rate}}，"
    "期限 {term_months} 個月（{{term}}），{{repayment_method}}，放款日 {{disbursed_on}}。\n\n出借人：\n{{lenders}}\n"
    "未知 {{nothing}}"
)


def test_the_loan_agreement_is_kept_at_disbursement(wsgi_app, db, tenants):
    publish(db, "loan-agreement", body=TEMPLATE)
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        hooks = wsgi_app.registry["plugins"].for_tenant(tenant)
        borrower = make.member(session, tenant, "13800138630", credit_line=10_000_000)
        lenders = [
            make.member(session, tenant, p, name=n, balance=1_000_000)
            for p, n in (("13800138631", "李四"), ("13800138632", "張三豐"))
        ]
        loan = make.loan(session, tenant, hooks, borrower, "repaying", lenders=lenders)
        number, disbursed = loan.number, loan.disbursed_on
    with db.transaction() as session:
        kept = session.scalars(sa.select(LoanAgreement)).one()
        text = kept.body
    # 10,000.00 at 12% over 12 months in two equal bids of 5,000.00
    assert f"協議編號：{number}" in text and "借款人：王小明" in text
    assert "¥10,000.00，年利率 12%" in text and "期限 12 個月（12" in text
    assert f"放款日 {disbursed.year}年{disbursed.month}月{disbursed.day}日" in text
    half = Money(10_000_00 // 2, "CNY").format("zh_Hant")  # each lender's equal part, as the site writes money
    assert f"- 李*: {half}" in text and f"- 張**: {half}" in text and "{{nothing}}" in text
    publish(db, "loan-agreement", body="新範本 {{loan_number}}")  # edited and republished later
    with db.transaction() as session:
        assert session.scalars(sa.select(LoanAgreement)).one().body == text  # frozen
    borrower_client, _ = member_client_signed(wsgi_app, "13800138630")
    page = borrower_client.get(DEMO, f"/account/loans/{number}/agreement")
    assert "¥10,000.00" in page.text and "新範本" not in page.text
    lender_client, _ = member_client_signed(wsgi_app, "13800138631")
    assert "¥5,000.00" in lender_client.get(DEMO, f"/account/loans/{number}/agreement").text
    stranger, _ = member_client(wsgi_app, db, "13800138633")
    stranger.get(DEMO, f"/account/loans/{number}/agreement", status=404)
    elsewhere, _ = member_client(wsgi_app, db, "+12025550634", slug="acme", host=ACME, verified=False)
    elsewhere.get(ACME, f"/account/loans/{number}/agreement", status=404)


def member_client_signed(wsgi_app, phone):
    """A client signed in as an existing member of demo."""
    from tests.conftest import Client

    client = Client(wsgi_app)
    page = client.get(DEMO, "/login")
    submit(client, DEMO, page, {"login": phone, "password": PASSWORD}, status=303)
    return client, phone
