"""Master contracts (貸款主合同) through the back office and the API: drawn up from the template as a PDF with its
SHA-256, redrawn as a new version before signing, signed with a scan, immutable after; the lending fund's capital
injection needs a second person; the template page every tenant gets."""

import hashlib
from decimal import Decimal

import pyotp
import pytest
import sqlalchemy as sa

from core.accounts.services import create_staff
from core.credit.applications.models import CreditApplication, CreditProduct
from core.credit.contracts import defaults, fund
from core.credit.contracts.models import Contract
from core.credit.customers.models import Customer
from core.db import scope_to_tenant
from core.ledger import Ledger, Transfer, Wallet, verify
from core.members.services import create_member
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, resident_id, staff_client, submit

HOST = "demo.localhost"


def _png() -> bytes:
    """A real (tiny) PNG: a scan is checked by its bytes, not its name."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()
BORROWER = "陳大文"


def credit_case(
    db,
    *,
    slug="demo",
    funding="own_funds",
    amount=1_200_000,
    status="approved",
    n=1,
    walk_in=False,
    currency="CNY",
):
    """A customer (a verified member with a credit line, or a walk-in), a product and an application of
    ``amount`` minor units at 12% for 12 months, equal installments, inserted as the other areas store them;
    the application's id."""
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        scope_to_tenant(session, tenant.id)
        member_id = None
        if not walk_in:
            borrower = create_member(
                session,
                tenant,
                phone=f"1380000{n:04d}",
                password=PASSWORD,
                legal_name=BORROWER,
                id_number=resident_id(700 + n),
                verified=True,
            )
            borrower.credit_line = 5_000_000
            member_id = borrower.id
        customer = Customer(
            tenant_id=tenant.id,
            number=f"C2701{n:06d}",
            kind="individual",
            name=BORROWER,
            identifier=resident_id(700 + n),
            member_id=member_id,
        )
        product = CreditProduct(
            tenant_id=tenant.id,
            code=f"p{n}",
            names={"zh_Hant": "自營信用貸", "en": "Own-funds credit"},
            customer_kind="individual",
            funding_source=funding,
            loan_type="credit",
            min_amount=100_000,
            max_amount=10_000_000,
            min_term_months=1,
            max_term_months=36,
            min_rate_percent=Decimal("6"),
            max_rate_percent=Decimal("24"),
            repayment_methods=["equal_installment"],
        )
        session.add_all([customer, product])
        session.flush()
        application = CreditApplication(
            tenant_id=tenant.id,
            number=f"A2701{n:06d}",
            customer_id=customer.id,
            product_id=product.id,
            amount=amount,
            currency=currency,
            annual_rate_percent=Decimal("12"),
            term_months=12,
            repayment_method="equal_installment",
            purpose="週轉資金",
            status=status,
        )
        session.add(application)
        session.flush()
        return application.id


def pdf_fonts(data: bytes) -> set[str]:
    """The fonts a PDF embeds (their base font names, read from its compressed object streams)."""
    import re
    import zlib

    names = set()
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            names |= {
                n.decode() for n in re.findall(rb"/BaseFont\s*/([A-Za-z0-9+\-]+)", zlib.decompress(match.group(1)))
            }
        except zlib.error:
            continue
    return names


def english(client):
    """``client`` reading the pages in English (the demo site also offers it), so refusals can be read."""
    client.app.set_cookie("_LOCALE_", "en")
    return client


def staff_token(client, db, login, role, slug="demo", host=HOST):
    """A bearer token for a new staff member of ``role``, asked for with the TOTP code (it may move money)."""
    with db.transaction() as session:
        secret = create_staff(session, tenant_by_slug(session, slug), login, PASSWORD, role).totp_secret
    body = {"login": login, "password": PASSWORD, "as": "staff"}
    if secret:  # a role with a money permission signs in with its second factor
        body["totp"] = pyotp.TOTP(secret).now()
    answer = client.post_json(host, "/api/v1/auth/token", body)
    return {"Authorization": "Bearer " + answer.json["token"]}


def inject(wsgi_app, db, amount="100000.00", slug="demo", host=HOST):
    """Capital injected into the lending fund through its page: one cashier asks, another approves."""
    maker = staff_client(wsgi_app, db, f"fund-maker-{slug}", "cashier", slug=slug, host=host)
    checker = staff_client(wsgi_app, db, f"fund-checker-{slug}", "cashier", slug=slug, host=host)
    page = maker.get(host, "/admin/credit/lending-fund")
    submit(maker, host, page, {"amount": amount, "reason": "股東注資"}, status=303)
    page = checker.get(host, "/admin/credit/lending-fund")
    submit(checker, host, page, {}, action="approve", status=303, action_suffix="")
    return maker, checker


def draw_and_sign(wsgi_app, db, application_id, host=HOST, slug="demo"):
    """The relationship manager draws the contract up and records its signing with a scan."""
    officer = staff_client(wsgi_app, db, f"officer-{application_id}", "relationship_manager", slug=slug, host=host)
    path = f"/admin/credit/applications/{application_id}/contract"
    page = officer.get(host, path)
    submit(officer, host, page, {"locale": "zh_Hant" if slug == "demo" else "en"}, status=303)
    page = officer.get(host, path)
    form = [f for f in page.forms.values() if "scan" in f.fields][0]
    form["scan"] = ("signed.png", PNG, "image/png")
    form.submit(extra_environ={"HTTP_HOST": host}, status=303)
    return officer


def test_contract_is_drawn_up_redrawn_signed_and_then_immutable(client, db, tenants, wsgi_app):
    application_id = credit_case(db)
    officer = english(staff_client(wsgi_app, db, "officer", "relationship_manager"))
    path = f"/admin/credit/applications/{application_id}/contract"
    token = staff_token(client, db, "officer-api", "relationship_manager")
    client.get(HOST, f"/api/v1/admin/applications/{application_id}/contract", headers=token, status=404)

    page = officer.get(HOST, path)
    assert "A2701000001" in page.text
    submit(officer, HOST, page, {"locale": "zh_Hant"}, status=303)
    with db.transaction() as session:
        first = session.scalars(sa.select(Contract)).one()
        assert (first.number[:2], first.version, first.status) == ("HT", 1, "draft")
        assert first.number == "HT2701000001"  # HT + the business date's year and month + six digits
        assert BORROWER in first.body and "12,000.00" in first.body and "12%" in first.body
        assert "自營信用貸" in first.body
        first_sha, first_id = first.pdf_sha256, first.id
    pdf = officer.get(HOST, f"/admin/credit/contracts/{first_id}/pdf")
    assert pdf.body.startswith(b"%PDF") and hashlib.sha256(pdf.body).hexdigest() == first_sha
    assert any("WenQuanYi" in name for name in pdf_fonts(pdf.body))  # the Chinese text is set in the CJK font

    page = officer.get(HOST, path)
    submit(officer, HOST, page, {"locale": "en"}, status=303)
    with db.transaction() as session:
        rows = session.scalars(sa.select(Contract).order_by(Contract.version)).all()
        assert [(c.version, c.status, c.number) for c in rows] == [
            (1, "superseded", "HT2701000001"),
            (2, "draft", "HT2701000001"),
        ]
        assert "Loan contract" in rows[1].body and "Repayment schedule" in rows[1].body
        second_sha = rows[1].pdf_sha256
    answer = client.get(HOST, f"/api/v1/admin/applications/{application_id}/contract", headers=token)
    assert answer.content_type == "application/pdf" and answer.body.startswith(b"%PDF")
    assert hashlib.sha256(answer.body).hexdigest() == second_sha == answer.headers["X-Contract-SHA256"]

    page = officer.get(HOST, path)
    form = [f for f in page.forms.values() if "scan" in f.fields][0]
    form["scan"] = ("signed.txt", b"not an image at all", "image/png")
    refused = form.submit(extra_environ={"HTTP_HOST": HOST}, status=400)
    assert "Upload a JPEG, PNG or PDF file." in refused.text
    form["scan"] = ("signed.png", PNG, "image/png")
    form.submit(extra_environ={"HTTP_HOST": HOST}, status=303)
    with db.transaction() as session:
        signed = session.scalars(sa.select(Contract).where(Contract.version == 2)).one()
        assert signed.status == "signed" and signed.scan_sha256 == hashlib.sha256(PNG).hexdigest()
        assert session.get(CreditApplication, application_id).status == "contracted"
        signed_id = signed.id
    scan = officer.get(HOST, f"/admin/credit/contracts/{signed_id}/scan")
    assert scan.body == PNG

    # signed: drawing it up again is refused and changes nothing
    token_field = _token_from(officer.get(HOST, path))
    refused = officer.post(HOST, path, {"action": "draw", "locale": "en", "csrf_token": token_field}, status=400)
    assert "The contract is signed: it cannot be changed." in refused.text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Contract)) == 2


def _token_from(page):
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_a_contract_needs_an_approved_application_and_stays_in_its_tenant(client, db, tenants, wsgi_app):
    draft = credit_case(db, status="in_review")
    officer = english(staff_client(wsgi_app, db, "officer", "relationship_manager"))
    page = officer.get(HOST, f"/admin/credit/applications/{draft}/contract")
    assert 'name="locale"' not in page.text  # nothing to draw up yet
    refused = officer.post(
        HOST,
        f"/admin/credit/applications/{draft}/contract",
        {"action": "draw", "locale": "zh_Hant", "csrf_token": _token_from(page)},
        status=400,
    )
    assert "A contract is drawn up for an approved application only." in refused.text
    other = credit_case(db, slug="acme", n=2, currency="USD", walk_in=True)
    officer.get(HOST, f"/admin/credit/applications/{other}/contract", status=404)
    token = staff_token(client, db, "officer-api", "relationship_manager")
    client.get(HOST, f"/api/v1/admin/applications/{other}/contract", headers=token, status=404)
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Contract)) == 0


def test_lending_fund_capital_injection_needs_a_second_person(client, db, tenants, wsgi_app):
    maker = english(staff_client(wsgi_app, db, "fund-maker", "cashier"))
    page = maker.get(HOST, "/admin/credit/lending-fund")
    refused = submit(maker, HOST, page, {"amount": "-5", "reason": "注資"}, status=400)
    assert 'role="alert"' in refused.text
    page = maker.get(HOST, "/admin/credit/lending-fund")
    submit(maker, HOST, page, {"amount": "100,000.00", "reason": "股東注資"}, status=303)
    page = maker.get(HOST, "/admin/credit/lending-fund")
    assert 'value="approve"' not in page.text  # the asker is offered no approval of their own request
    with db.transaction() as session:
        scope_to_tenant(session, tenant_by_slug(session, "demo").id)
        injection_id = fund.injections(session)[0].id
    refused = maker.post(
        HOST,
        f"/admin/credit/lending-fund/injections/{injection_id}",
        {"decision": "approve", "csrf_token": _token_from(page)},
        status=400,
    )
    assert "Another person must approve a capital injection." in refused.text
    checker = english(staff_client(wsgi_app, db, "fund-checker", "cashier"))
    page = checker.get(HOST, "/admin/credit/lending-fund")
    submit(checker, HOST, page, {}, action="approve", status=303, action_suffix=f"/injections/{injection_id}")
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        lender = fund.house_lender(session, demo)
        assert Wallet(Ledger(session, demo.id), lender.id, "CNY").funds().available == 10_000_000
        assert lender.phone is None and lender.email is None and lender.login_frozen
        assert verify(session) == []
    page = checker.get(HOST, "/admin/credit/lending-fund")
    assert "100,000.00" in page.text
    # approving again is refused: the money moved once
    refused = checker.post(
        HOST,
        f"/admin/credit/lending-fund/injections/{injection_id}",
        {"decision": "approve", "csrf_token": _token_from(page)},
        status=400,
    )
    assert "This request was already decided." in refused.text
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        assert fund.available(session, demo) == Money.parse("100000.00", "CNY").minor


def test_every_tenant_gets_its_contract_template_page_once(db, tenants):
    from core.content.models import ContentItem

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        defaults.ensure_defaults(session, demo)
        defaults.ensure_defaults(session, demo)
        pages = session.scalars(sa.select(ContentItem).where(ContentItem.template == "loan-contract")).all()
        assert sorted(p.locale for p in pages) == sorted(demo.locales)
        assert all(p.status == "draft" and "{{amount}}" in p.body for p in pages)


@pytest.mark.parametrize(
    "path", ["/admin/credit/contracts", "/admin/credit/disbursements", "/admin/credit/lending-fund"]
)
def test_pages_need_their_permission(db, tenants, wsgi_app, path):
    viewer = staff_client(wsgi_app, db, "service", "customer_service")
    viewer.get(HOST, path, status=403)


def test_a_published_template_page_is_what_contracts_are_drawn_up_from(db, tenants, wsgi_app):
    from core.content.models import ContentItem

    application_id = credit_case(db)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        page = session.scalars(
            sa.select(ContentItem).where(ContentItem.template == "loan-contract", ContentItem.locale == "zh_Hant")
        ).one()
        page.status, page.version = "published", 2
        page.title, page.body = (
            "本行借款合同",
            "# 本行借款合同 {{contract_number}}\n\n借款人 {{borrower_name}} 借款 {{amount}}。",
        )
    officer = staff_client(wsgi_app, db, "officer", "relationship_manager")
    page = officer.get(HOST, f"/admin/credit/applications/{application_id}/contract")
    submit(officer, HOST, page, {"locale": "zh_Hant"}, status=303)
    with db.transaction() as session:
        contract = session.scalars(sa.select(Contract)).one()
        assert (contract.title, contract.template_version) == ("本行借款合同", 2)
        assert contract.body.startswith("# 本行借款合同 HT2701000001") and f"借款人 {BORROWER} 借款" in contract.body


def test_ledger_verify_finds_money_injected_without_an_approved_injection(db, tenants):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        ledger = Ledger(session, demo.id)
        ledger.post(
            [
                Transfer(
                    ledger.platform("gateway_clearing", "CNY"),
                    fund.wallet(session, demo).available,
                    Money(100, "CNY"),
                    "capital_injection",
                    "by hand",
                )
            ],
            key="lending_fund:999",
            initiator="test",
        )
        breaches = verify(session)
        assert [(b.invariant, b.tenant) for b in breaches] == [(9, "demo")]
        assert "without an approved injection" in breaches[0].message
