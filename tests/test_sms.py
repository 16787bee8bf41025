"""SMS: failover between providers, per-number limits, delivery reports, templates."""

import json
import re

import httpx
import pytest
import sqlalchemy as sa

from core import register_transport
from core.sms import PER_NUMBER_PER_HOUR, SmsError, SmsMessage, queue_sms
from core.tenancy.services import tenant_by_slug
from plugins.sms.sandbox_http import signature
from tests.dev_outbox import OUTBOX
from tests.helpers import staff_client, submit

DEMO = "demo.localhost"
ENDPOINT = "https://sms-gateway.fake"
SECRET = "sms-sandbox-secret-123"


class FakeGateway:
    def __init__(self):
        self.received, self.down = [], False

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if self.down or environ.get("HTTP_X_SIGNATURE") != signature(SECRET, body):
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b"{}"]
        self.received.append(json.loads(body))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"id": f"m{len(self.received)}"}).encode()]


@pytest.fixture
def gateway(apply_manifest, tenants):
    import tomllib

    from tenants.manifest import shipped_manifests

    demo = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "demo").read_text())
    demo["plugins"]["sms.sandbox_http"] = {"endpoint": f"{ENDPOINT}/send", "secret": SECRET, "priority": 10}
    apply_manifest(demo)
    fake = FakeGateway()
    register_transport(ENDPOINT, httpx.WSGITransport(app=fake))
    yield fake
    register_transport(ENDPOINT, None)


@pytest.fixture(autouse=True)
def fresh_outbox():
    OUTBOX.clear()


def send(db, phone="13800138000", body="您好"):
    with db.transaction() as session:
        queue_sms(session, tenant_by_slug(session, "demo"), phone, body, "test")


def messages(db):
    with db.transaction() as session:
        return [
            (m.provider, m.status, m.provider_ref)
            for m in session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id))
        ]


def test_a_code_reaches_the_carrier_but_the_sms_log_keeps_it_masked(gateway, db, client):
    page = client.get(DEMO, "/register")
    submit(client, DEMO, page, {"phone": "13600136000"}, "send_code", status=200)
    delivered = gateway.received[-1]["body"]
    code = re.search(r"(?<!\d)\d{6}(?!\d)", delivered).group()
    with db.transaction() as session:
        kept = session.scalars(sa.select(SmsMessage)).one()
        assert kept.status == "sent" and kept.body == delivered.replace(code, "******")
        assert kept.params == {"site": "鼎信網貸", "code": "******"} and kept.sealed is None
    assert OUTBOX.texts_to("13600136000") == []  # a real carrier took it: the development outbox saw nothing


def test_a_code_no_provider_took_is_not_kept_either(db, tenants, client):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        for row in demo.plugins:
            if row.plugin_id == "sms.outbox":
                row.enabled = False
    page = client.get(DEMO, "/register")
    submit(client, DEMO, page, {"phone": "13600136000"}, "send_code", status=200)
    with db.transaction() as session:
        kept = session.scalars(sa.select(SmsMessage)).one()
        assert (kept.status, kept.error, kept.sealed) == ("failed", "no SMS provider is enabled", None)
        assert "******" in kept.body


def test_the_first_provider_carries_the_message_and_the_outbox_is_the_fallback(gateway, db):
    send(db)
    assert gateway.received[0]["to"] == "+8613800138000"
    gateway.down = True
    send(db, body="第二則")
    first, second = messages(db)
    assert first == ("sandbox_http", "sent", "m1")
    assert second[:2] == ("outbox", "sent") and second[2].startswith("outbox-")
    with db.transaction() as session:
        second = session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id.desc())).first()
        assert "sandbox_http" in second.error


def test_delivery_reports_are_signed(gateway, db, client):
    send(db)
    report = json.dumps({"id": "m1", "status": "delivered"}).encode()
    forged = client.app.post(
        "/callbacks/sms/sandbox_http",
        report,
        headers={"Host": DEMO, "Content-Type": "application/json", "X-Signature": "0" * 64},
        expect_errors=True,
    )
    assert forged.status_int == 400
    ok = client.app.post(
        "/callbacks/sms/sandbox_http",
        report,
        headers={"Host": DEMO, "Content-Type": "application/json", "X-Signature": signature(SECRET, report)},
    )
    assert ok.json["result"] == "applied"
    assert messages(db) == [("sandbox_http", "delivered", "m1")]


def test_one_number_gets_a_limited_number_of_messages(db, tenants):
    for _ in range(PER_NUMBER_PER_HOUR):
        send(db, phone="13900139000")
    with pytest.raises(SmsError):
        send(db, phone="13900139000")
    send(db, phone="13700137000")


def test_templates_are_overridden_per_locale_and_used(db, wsgi_app, tenants, client):
    admin = staff_client(wsgi_app, db, "tpl-admin", "administrator")
    page = admin.get(DEMO, "/admin/sms/templates")
    assert "123456" in page.text  # previews with sample values
    form = [
        f
        for f in page.forms.values()
        if f.fields.get("code") and f["code"].value == "verification_code" and f["locale"].value == "zh_Hant"
    ][0]
    form["body"] = "【${site}】驗證碼 ${code}，請勿告知他人。"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    page = admin.get(DEMO, "/admin/sms/templates")
    bad = [
        f
        for f in page.forms.values()
        if f.fields.get("code") and f["code"].value == "verification_code" and f["locale"].value == "zh_Hant"
    ][0]
    bad["body"] = "${nonsense}"
    bad.submit(extra_environ={"HTTP_HOST": DEMO}, status=400)
    register = client.get(DEMO, "/register")
    submit(client, DEMO, register, {"phone": "13600136000"}, "send_code", status=200)
    with db.transaction() as session:
        body = session.scalars(sa.select(SmsMessage.body).order_by(SmsMessage.id.desc())).first()
    assert body == "【鼎信網貸】驗證碼 ******，請勿告知他人。"  # the log keeps the code masked
    assert OUTBOX.texts_to("13600136000")[-1] == f"【鼎信網貸】驗證碼 {OUTBOX.code_for('13600136000')}，請勿告知他人。"
    auditor = staff_client(wsgi_app, db, "tpl-aud", "auditor")
    auditor.get(DEMO, "/admin/sms/templates", status=200)
    auditor.post(DEMO, "/admin/sms/templates", {"code": "verification_code"}, status=403)


# -- Twilio against a loopback fake --------------------------------------------------

TWILIO = "https://twilio.fake"
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-auth-token-0001"
STATUS_URL = "https://acme.example/callbacks/sms/twilio"


class FakeTwilio:
    def __init__(self):
        self.sent = []

    def __call__(self, environ, start_response):
        import base64
        from urllib.parse import parse_qs

        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if (
            environ.get("HTTP_AUTHORIZATION") != expected
            or environ["PATH_INFO"] != f"/2010-04-01/Accounts/{SID}/Messages.json"
        ):
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"code": 20003}']
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        self.sent.append(form)
        start_response("201 Created", [("Content-Type", "application/json")])
        return [json.dumps({"sid": f"SM{len(self.sent):032d}", "status": "queued"}).encode()]


def test_twilio_sends_and_takes_signed_status_callbacks(apply_manifest, tenants, db, client):
    import tomllib
    from urllib.parse import urlencode

    from plugins.sms.twilio import request_signature
    from tenants.manifest import shipped_manifests

    acme = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "acme").read_text())
    acme["plugins"]["sms.twilio"] = {
        "account_sid": SID,
        "auth_token": TOKEN,
        "sender": "+12025550199",
        "status_callback_url": STATUS_URL,
        "api_base": TWILIO,
    }
    apply_manifest(acme)
    fake = FakeTwilio()
    register_transport(TWILIO, httpx.WSGITransport(app=fake))
    try:
        with db.transaction() as session:
            queue_sms(session, tenant_by_slug(session, "acme"), "+12025550143", "Your code is 424242", "test")
        assert fake.sent == [
            {"To": "+12025550143", "From": "+12025550199", "Body": "Your code is 424242", "StatusCallback": STATUS_URL}
        ]
        sid = f"SM{1:032d}"

        def report(status, token=TOKEN):
            params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": SID}
            return client.app.post(
                "/callbacks/sms/twilio",
                urlencode(params),
                headers={
                    "Host": "acme.localhost",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": request_signature(token, STATUS_URL, params),
                },
                expect_errors=True,
            )

        assert report("delivered", token="wrong-token-000000").status_int == 400
        assert report("sent").status_int == 200
        with db.transaction() as session:
            assert session.scalars(sa.select(SmsMessage.status)).one() == "sent"
        assert report("delivered").status_int == 200
        with db.transaction() as session:
            assert session.scalars(sa.select(SmsMessage.status)).one() == "delivered"
    finally:
        register_transport(TWILIO, None)


# -- Aliyun against a loopback fake ---------------------------------------------------

ALIYUN = "https://dysms.fake"


class FakeAliyun:
    """Checks the RPC signature as Aliyun documents it (written here independently of the plugin)."""

    def __init__(self):
        self.sent = []

    def __call__(self, environ, start_response):
        import base64
        import hashlib
        import hmac
        from urllib.parse import parse_qsl, quote

        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode()
        params = dict(parse_qsl(body, keep_blank_values=True))
        given = params.pop("Signature", "")
        pct = lambda v: quote(v, safe="-_.~")  # noqa: E731
        canonical = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(params.items()))
        expected = base64.b64encode(
            hmac.new(b"aliyun-secret-1&", ("POST&%2F&" + pct(canonical)).encode(), hashlib.sha1).digest()
        ).decode()
        start_response("200 OK", [("Content-Type", "application/json")])
        if given != expected:
            return [b'{"Code": "SignatureDoesNotMatch", "Message": "bad signature"}']
        self.sent.append(params)
        return [json.dumps({"Code": "OK", "BizId": f"biz{len(self.sent)}", "Message": "OK"}).encode()]


def test_aliyun_sends_approved_templates_and_leaves_free_text_to_the_next_provider(apply_manifest, tenants, db, client):
    import tomllib

    from tenants.manifest import shipped_manifests
    from tests.helpers import submit as fill

    demo = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "demo").read_text())
    demo["plugins"]["sms.aliyun"] = {
        "access_key_id": "LTAIaliyunkey",
        "access_key_secret": "aliyun-secret-1",
        "sign_name": "鼎信網貸",
        "templates": {"verification_code": "SMS_100001"},
        "api_base": ALIYUN,
    }
    apply_manifest(demo)
    fake = FakeAliyun()
    register_transport(ALIYUN, httpx.WSGITransport(app=fake))
    try:
        page = client.get(DEMO, "/register")
        fill(client, DEMO, page, {"phone": "13500135000"}, "send_code", status=200)
        assert fake.sent[0]["TemplateCode"] == "SMS_100001" and fake.sent[0]["PhoneNumbers"] == "13500135000"
        sent = json.loads(fake.sent[0]["TemplateParam"])
        assert set(sent) == {"site", "code"} and sent["code"].isdigit() and len(sent["code"]) == 6
        with db.transaction() as session:
            kept = session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id)).first()
            assert kept.params["code"] == "******" and sent["code"] not in kept.body and kept.sealed is None
        send(db, phone="13500135001", body="自由文字")
        assert [m[:2] for m in messages(db)] == [("aliyun", "sent"), ("outbox", "sent")]
    finally:
        register_transport(ALIYUN, None)
