"""Every shipped demo manifest lets a member recharge, bid and withdraw — through the pages, as a person would."""

import tomllib

import pytest

from core import loans
from core.ledger import Ledger, Wallet, verify
from core.tenancy.services import tenant_by_slug
from tenants.manifest import shipped_manifests
from tests import factories
from tests.helpers import luhn_card, member_client, resident_id, staff_client, submit

# Who signs up on each site: its country's phone numbers and its kind of identity papers.
PEOPLE = {
    "CNY": {
        "member": ("13800138401", "王小明", resident_id(401)),
        "borrower": ("13800138402", "林美玲", resident_id(402)),
    },
    "USD": {"member": ("+12025550181", "Jane Doe", "P1234567"), "borrower": ("+12025550182", "John Roe", "P7654321")},
}


def manifests():
    return [pytest.param(tomllib.loads(path.read_text(encoding="utf-8")), id=path.stem) for path in shipped_manifests()]


def funds(db, slug, member_id):
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        held = Wallet(Ledger(session, tenant.id), member_id, tenant.currency).funds()
        return held.available, held.frozen


def fee_income(db, slug) -> int:
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        ledger = Ledger(session, tenant.id)
        return ledger.balance(ledger.platform("fee_income", tenant.currency)).minor


def local(response, host):
    return response.location.replace(f"http://{host}", "")


def minor(text: str) -> int:
    """Major units as written in a manifest ("2", "0.5") → minor units, worked out here."""
    whole, _, cents = str(text).partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


@pytest.mark.parametrize("manifest", manifests())
def test_a_member_recharges_bids_and_withdraws_on_every_demo_site(manifest, wsgi_app, db, tenants):
    slug, host = manifest["slug"], manifest["hosts"][0]
    phone, name, id_number = PEOPLE[manifest["currency"]]["member"]
    client, member_id = member_client(
        wsgi_app, db, phone, slug=slug, host=host, card=luhn_card(), name=name, id_number=id_number
    )
    with db.transaction() as session:  # a borrower's loan, published for bids
        tenant = tenant_by_slug(session, slug)
        b_phone, b_name, b_id = PEOPLE[manifest["currency"]]["borrower"]
        borrower = factories.member(session, tenant, b_phone, name=b_name, id_number=b_id, credit_line=5_000_00)
        number = factories.loan(
            session, tenant, wsgi_app.registry["plugins"].for_tenant(tenant), borrower, amount="1000.00", min_bid="50"
        ).number

    # recharge 500.00 through the site's gateway: its checkout page, its "pay" button, its signed callback
    page = client.get(host, "/account/recharge")
    form = next(f for f in page.forms.values() if "gateway" in f.fields)
    assert "sandbox" in [option[0] for option in form["gateway"].options]
    started = submit(client, host, page, {"gateway": "sandbox", "amount": "500.00"}, status=303)
    checkout = client.get(host, local(started, host))
    back = submit(client, host, checkout, {}, "pay", status=303)
    client.get(host, local(back, host))
    assert funds(db, slug, member_id) == (500_00, 0)

    # bid 200.00 on the loan: shown, confirmed, frozen
    page = client.get(host, f"/invest/{number}")
    confirm = submit(client, host, page, {"amount": "200.00"}, status=200)
    submit(client, host, confirm, {"confirm": "1"}, status=303)
    assert funds(db, slug, member_id) == (300_00, 200_00)
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        assert session.scalar(loans.public_loans(loans.Loan.number == number)).funded == 200_00

    # withdraw 100.00 to the card; a cashier approves and the site's payout gateway pays it
    page = client.get(host, "/account/withdraw")
    submit(client, host, page, {"amount": "100.00"}, status=303)
    assert funds(db, slug, member_id) == (200_00, 300_00)
    cashier = staff_client(wsgi_app, db, "cashier", "administrator", slug=slug, host=host)
    queue = cashier.get(host, "/admin/funds/withdrawals?status=requested")
    submit(cashier, host, queue, {"reason": ""}, "approve", status=303)
    assert funds(db, slug, member_id) == (200_00, 200_00)  # the bid stays frozen; the 100.00 left
    fee = minor(manifest.get("funds", {}).get("withdrawal_fee_fixed", "0"))
    assert fee_income(db, slug) == fee  # demo: 2.00 of it is the site's fee, 98.00 reached the card
    with db.transaction() as session:
        assert verify(session) == []


@pytest.mark.parametrize("manifest", manifests())
def test_every_demo_manifest_enables_the_sandbox_with_its_own_secret(manifest):
    secrets = {
        tomllib.loads(p.read_text(encoding="utf-8"))["plugins"]["payments.sandbox"]["secret"]
        for p in shipped_manifests()
    }
    assert len(secrets) == len(shipped_manifests())  # no two sites share a signing secret
    assert len(manifest["plugins"]["payments.sandbox"]["secret"]) >= 16
    assert manifest["funds"]["payout_gateway"] == "sandbox"
