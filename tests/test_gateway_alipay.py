"""The Alipay gateway: RSA2-signed page-pay requests and notifies, as Alipay's documentation describes."""

from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.ledger import Ledger, Wallet, verify
from core.tenancy.services import tenant_by_slug
from plugins.payments.alipay import canonical, rsa2_sign, rsa2_verify
from tests.helpers import member_client, submit

DEMO = "demo.localhost"
APP_ID = "2021000123456789"


def keypair():
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


@pytest.fixture(scope="module")
def keys():
    return {"app": keypair(), "alipay": keypair()}


@pytest.fixture
def alipay(apply_manifest, tenants, keys):
    import tomllib

    from tenants.manifest import shipped_manifests

    demo = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "demo").read_text())
    demo["plugins"]["payments.alipay"] = {
        "app_id": APP_ID,
        "app_private_key": keys["app"][0],
        "alipay_public_key": keys["alipay"][1],
        "site_url": "http://demo.localhost",
    }
    apply_manifest(demo)
    return keys


def notify(client, keys, reference, amount, status="TRADE_SUCCESS", app_id=APP_ID, signer=None):
    """What Alipay's server posts: form fields signed RSA2 with Alipay's private key."""
    params = {
        "notify_time": "2027-01-04 10:00:00",
        "notify_type": "trade_status_sync",
        "notify_id": "n1",
        "app_id": app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2027010422001",
        "out_trade_no": reference,
        "trade_status": status,
        "total_amount": amount,
        "sign_type": "RSA2",
    }
    params["sign"] = rsa2_sign(signer or keys["alipay"][0], canonical(params, skip=("sign", "sign_type")))
    return client.app.post(
        "/callbacks/payments/alipay",
        urlencode(params),
        headers={"Host": DEMO, "Content-Type": "application/x-www-form-urlencoded"},
        expect_errors=True,
    )


def test_page_pay_request_is_signed_and_notifies_are_verified(alipay, wsgi_app, db):
    client, member_id = member_client(wsgi_app, db, "13800138010")
    page = client.get(DEMO, "/account/recharge")
    started = submit(client, DEMO, page, {"gateway": "alipay", "amount": "88.88"}, status=303)
    url = urlparse(started.location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://openapi.alipay.com/gateway.do"
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert params["method"] == "alipay.trade.page.pay" and params["sign_type"] == "RSA2"
    assert rsa2_verify(alipay["app"][1], canonical(params), params["sign"])
    import json

    biz = json.loads(params["biz_content"])
    assert biz["total_amount"] == "88.88" and biz["product_code"] == "FAST_INSTANT_TRADE_PAY"
    reference = biz["out_trade_no"]

    forged = notify(client, alipay, reference, "88.88", signer=alipay["app"][0])  # not Alipay's key
    assert forged.status_int == 400 and forged.text == "fail"
    assert notify(client, alipay, reference, "88.88", app_id="2021000999999999").status_int == 400
    assert notify(client, alipay, reference, "8.88").status_int == 400
    ok = notify(client, alipay, reference, "88.88")
    assert ok.status_int == 200 and ok.text == "success"
    again = notify(client, alipay, reference, "88.88")
    assert again.text == "success"
    assert notify(client, alipay, reference, "88.88", status="TRADE_CLOSED").text == "success"
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        assert Wallet(Ledger(session, demo), member_id, "CNY").funds().available == 8888
        assert verify(session) == []
