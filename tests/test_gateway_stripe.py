"""The Stripe gateway against a loopback fake of Stripe's API and webhooks."""

import json
import time
from urllib.parse import parse_qs

import httpx
import pytest
import sqlalchemy as sa

from core import register_transport
from core.ledger import Ledger, Wallet, verify
from core.payments.models import Payment
from core.tenancy.services import tenant_by_slug
from plugins.payments.stripe import webhook_signature
from tests.helpers import member_client, submit

ACME = "acme.localhost"
FAKE = "https://stripe.fake"
WHSEC = "whsec_testsecret"


class FakeStripe:
    """Speaks the part of Stripe's API the gateway uses: create a Checkout Session."""

    def __init__(self):
        self.sessions, self.down = [], False

    def __call__(self, environ, start_response):
        if self.down:
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"error": {"message": "down"}}']
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].startswith("/v1/checkout/sessions/"):
            found = next((s for s in self.sessions if s["id"] == environ["PATH_INFO"].rsplit("/", 1)[1]), None)
            start_response("200 OK" if found else "404 Not Found", [("Content-Type", "application/json")])
            return [
                json.dumps(
                    {
                        "id": found["id"],
                        "object": "checkout.session",
                        "status": found.get("status", "open"),
                        "payment_status": found.get("payment_status", "unpaid"),
                        "client_reference_id": found["form"]["client_reference_id"],
                        "amount_total": int(found["form"]["line_items[0][price_data][unit_amount]"]),
                        "currency": found["form"]["line_items[0][price_data][currency]"],
                    }
                ).encode()
                if found
                else b"{}"
            ]
        ok = (
            environ.get("HTTP_AUTHORIZATION") == "Bearer sk_test_acme"
            and environ["PATH_INFO"] == "/v1/checkout/sessions"
            and environ["REQUEST_METHOD"] == "POST"
        )
        if not ok:
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"error": {"message": "bad key"}}']
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        session = {
            "id": f"cs_test_{len(self.sessions) + 1}",
            "form": form,
            "url": f"https://checkout.stripe.test/c/pay/cs_test_{len(self.sessions) + 1}",
        }
        self.sessions.append(session)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"id": session["id"], "url": session["url"], "object": "checkout.session"}).encode()]


@pytest.fixture
def stripe(apply_manifest, tenants):
    import tomllib

    from tenants.manifest import shipped_manifests

    acme = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "acme").read_text())
    acme["plugins"]["payments.stripe"] = {
        "secret_key": "sk_test_acme",
        "webhook_secret": WHSEC,
        "site_url": "http://acme.localhost",
        "api_base": FAKE,
    }
    apply_manifest(acme)
    fake = FakeStripe()
    register_transport(FAKE, httpx.WSGITransport(app=fake))
    yield fake
    register_transport(FAKE, None)


def event(kind, session_id, reference, amount_minor, currency="usd", status="paid"):
    return {
        "id": "evt_1",
        "type": kind,
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "client_reference_id": reference,
                "amount_total": amount_minor,
                "currency": currency,
                "payment_status": status,
            }
        },
    }


def deliver(client, body: dict, secret=WHSEC, timestamp=None):
    raw = json.dumps(body).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    header = f"t={timestamp},v1={webhook_signature(secret, raw, timestamp)}"
    return client.app.post(
        "/callbacks/payments/stripe",
        raw,
        headers={"Host": ACME, "Content-Type": "application/json", "Stripe-Signature": header},
        expect_errors=True,
    )


def test_checkout_session_and_signed_webhook(stripe, wsgi_app, db):
    client, member_id = member_client(wsgi_app, db, "+12025550101", slug="acme", host=ACME, verified=False)
    page = client.get(ACME, "/account/recharge")
    started = submit(client, ACME, page, {"gateway": "stripe", "amount": "25.00"}, status=303)
    assert started.location.startswith("https://checkout.stripe.test/c/pay/cs_test_1")
    sent = stripe.sessions[0]["form"]
    assert sent["line_items[0][price_data][unit_amount]"] == "2500"
    assert sent["line_items[0][price_data][currency]"] == "usd"
    reference = sent["client_reference_id"]
    assert sent["success_url"].startswith("http://acme.localhost/account/recharge/")

    assert (
        deliver(
            client, event("checkout.session.completed", "cs_test_1", reference, 2500), secret="whsec_wrong"
        ).status_int
        == 400
    )
    assert (
        deliver(
            client, event("checkout.session.completed", "cs_test_1", reference, 2500), timestamp=int(time.time()) - 3600
        ).status_int
        == 400
    )
    assert deliver(client, event("checkout.session.completed", "cs_test_1", reference, 9900)).status_int == 400
    ok = deliver(client, event("checkout.session.completed", "cs_test_1", reference, 2500))
    assert ok.status_int == 200 and ok.json["result"] == "applied"
    assert (
        deliver(client, event("checkout.session.completed", "cs_test_1", reference, 2500)).json["result"] == "duplicate"
    )
    assert (
        deliver(client, event("checkout.session.expired", "cs_test_1", reference, 2500, status="unpaid")).json["result"]
        == "ignored"
    )
    with db.transaction() as session:
        acme = tenant_by_slug(session, "acme").id
        assert Wallet(Ledger(session, acme), member_id, "USD").funds().available == 2500
        assert verify(session) == []


def test_stripe_down_is_a_clear_error_and_records_nothing(stripe, wsgi_app, db):
    client, _ = member_client(wsgi_app, db, "+12025550102", slug="acme", host=ACME, verified=False)
    stripe.down = True
    page = client.get(ACME, "/account/recharge")
    refused = submit(client, ACME, page, {"gateway": "stripe", "amount": "25.00"}, status=400)
    assert "cannot be reached" in refused.text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


def test_a_missing_webhook_is_made_good_by_asking_stripe(stripe, wsgi_app, db):
    from tests.helpers import staff_client

    client, member_id = member_client(wsgi_app, db, "+12025550103", slug="acme", host=ACME, verified=False)
    page = client.get(ACME, "/account/recharge")
    submit(client, ACME, page, {"gateway": "stripe", "amount": "40.00"}, status=303)
    cashier = staff_client(wsgi_app, db, "acme-cash", "cashier", slug="acme", host=ACME)
    with db.transaction() as session:
        payment_id = session.scalars(sa.select(Payment.id)).one()
    cashier.get(ACME, "/admin/funds/recharges")
    csrf = (
        __import__("re")
        .search(r'name="csrf_token" value="([^"]+)"', cashier.get(ACME, "/admin/funds/recharges").text)
        .group(1)
    )
    cashier.post(ACME, f"/admin/funds/recharges/{payment_id}/query", {"csrf_token": csrf}, status=303)
    with db.transaction() as session:
        assert session.get(Payment, payment_id).status == "pending"  # still open at Stripe
    stripe.sessions[0].update(status="complete", payment_status="paid")
    cashier.post(ACME, f"/admin/funds/recharges/{payment_id}/query", {"csrf_token": csrf}, status=303)
    with db.transaction() as session:
        assert session.get(Payment, payment_id).status == "succeeded"
        acme = tenant_by_slug(session, "acme").id
        assert Wallet(Ledger(session, acme), member_id, "USD").funds().available == 4000
        assert verify(session) == []
