"""留言: visitors and members leave messages, staff answer them in one inbox with the staff↔member messages."""

import re

import sqlalchemy as sa

from core.help.models import Thread
from core.mail import MailMessage
from core.members.models import Member, Message
from core.sms import SmsMessage
from core.throttle import RULES as THROTTLES
from tests.helpers import PASSWORD, member_client, staff_client, submit

DEMO, ACME = "demo.localhost", "acme.localhost"
VISITOR = {"name": "陳大文", "email": "chan@example.com", "subject": "提現問題", "body": "請問提現多久到帳？"}


def threads(db):
    with db.transaction() as session:
        return session.scalars(sa.select(Thread).order_by(Thread.id)).all()


def leave(client, values, host=DEMO, status="*"):
    page = client.get(host, "/help/contact?_LOCALE_=en")
    return submit(client, host, page, values, status=status)


def service(wsgi_app, db, login="service", slug="demo", host=DEMO):
    return staff_client(wsgi_app, db, login, "customer_service", slug=slug, host=host)


def thread_form(page, action):
    return [f for f in page.forms.values() if "action" in f.fields and action in [o for o in _values(f)]][0]


def _values(form):
    return [field.value_if_submitted() for field in form.fields.get("action", [])]


def act(client, thread_id, action, host=DEMO, status=303, **values):
    page = client.get(host, f"/admin/inbox/{thread_id}?_LOCALE_=en")
    form = thread_form(page, action)
    for name, value in values.items():
        form[name] = value
    return form.submit("action", value=action, extra_environ={"HTTP_HOST": host}, status=status)


def test_a_visitors_message_reaches_the_inbox_and_the_reply_goes_by_email(wsgi_app, db, tenants, client):
    assert leave(client, VISITOR).status_int == 303
    (thread,) = threads(db)
    assert (thread.name, thread.email, thread.status, thread.member_id) == ("陳大文", "chan@example.com", "open", None)
    staff = service(wsgi_app, db)
    inbox = staff.get(DEMO, "/admin/inbox?_LOCALE_=en")
    assert "提現問題" in inbox.text and "(visitor)" in inbox.text
    act(staff, thread.id, "reply", body="一般一個工作日內到帳。")
    (thread,) = threads(db)
    assert thread.status == "answered"
    with db.transaction() as session:
        mail = session.scalars(sa.select(MailMessage)).one()
        assert mail.address == "chan@example.com" and "一個工作日內到帳" in mail.body and "提現問題" in mail.subject


def test_a_visitor_must_say_who_they_are_and_refusals_store_nothing(wsgi_app, db, tenants, client):
    refusals = [
        ({"email": ""}, "Give an email address or a mobile number"),
        ({"email": "not-an-address"}, "Enter a valid email"),
        ({"email": "", "phone": "12"}, "Enter a valid mobile number"),
        ({"name": ""}, "Enter your name"),
        ({"body": "長" * 5001}, "5,000"),
        ({"subject": ""}, "Enter a subject"),
    ]
    for change, message in refusals:
        wsgi_app.registry["throttle"].reset()  # refused attempts count towards the address's limit too
        assert message in leave(client, {**VISITOR, **change}, status=400).text
    assert threads(db) == []
    leave(client, {**VISITOR, "email": "", "phone": "13800138000"}, status=303)
    assert threads(db)[0].phone == "+8613800138000"


def test_the_honeypot_drops_a_bots_message_as_if_accepted(db, tenants, client):
    response = leave(client, {**VISITOR, "website": "http://spam.example"})
    assert response.status_int == 303 and response.location.endswith("/help/contact?sent=1")
    assert threads(db) == []
    page = client.get(DEMO, "/help/contact")
    assert 'class="visually-hidden" aria-hidden="true"' in page.text


def test_flooding_is_refused_and_nothing_more_is_stored(db, tenants, client):
    allowed = int(THROTTLES["help.message.address"].split("/")[0])
    for n in range(allowed):
        leave(client, {**VISITOR, "subject": f"問題 {n}"}, status=303)
    refused = leave(client, {**VISITOR, "subject": "one too many"}, status=429)
    assert "Too many attempts" in refused.text
    assert len(threads(db)) == allowed and "one too many" not in {t.subject for t in threads(db)}


def set_contact(db, member_id, *, email, sms_account: bool, email_account: bool):
    with db.transaction() as session:
        member = session.get(Member, member_id)
        member.email = email
        member.notification_preferences = {"sms": {"account": sms_account}, "email": {"account": email_account}}


def test_a_members_message_answered_by_staff_is_in_their_messages_and_told_as_they_chose(wsgi_app, db, tenants):
    member, member_id = member_client(wsgi_app, db, "13800138311")
    set_contact(db, member_id, email="m311@example.com", sms_account=True, email_account=False)
    page = member.get(DEMO, "/help/contact?_LOCALE_=en")
    assert 'name="name"' not in page.text  # a member is known already
    submit(member, DEMO, page, {"subject": "還款日", "body": "可以更改還款日嗎？"}, status=303)
    (thread,) = threads(db)
    assert thread.member_id == member_id and thread.origin == "contact"
    staff = service(wsgi_app, db)
    act(staff, thread.id, "reply", body="目前不能更改，請按計劃還款。")
    with db.transaction() as session:
        sms = session.scalars(sa.select(SmsMessage).where(SmsMessage.purpose == "notice.message_replied")).all()
        mails = session.scalars(sa.select(MailMessage)).all()
    assert len(sms) == 1 and sms[0].phone == "+8613800138311" and "還款日" in sms[0].body
    assert mails == []  # email is off for this group
    messages = member.get(DEMO, "/account/messages")
    assert "目前不能更改，請按計劃還款。" in messages.text and "可以更改還款日嗎？" in messages.text
    # the member writes back in the same conversation: it waits for staff again
    form = [f for f in messages.forms.values() if "thread" in f.fields][0]
    form["body"] = "好的，謝謝。"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    (thread,) = threads(db)
    assert thread.status == "open"
    assert "好的，謝謝。" in staff.get(DEMO, f"/admin/inbox/{thread.id}").text
    # email only, this time
    set_contact(db, member_id, email="m311@example.com", sms_account=False, email_account=True)
    act(staff, thread.id, "reply", body="不客氣。")
    with db.transaction() as session:
        assert (
            session.scalar(
                sa.select(sa.func.count()).select_from(SmsMessage).where(SmsMessage.purpose == "notice.message_replied")
            )
            == 1
        )
        (mail,) = session.scalars(sa.select(MailMessage)).all()
        assert mail.address == "m311@example.com" and "不客氣。" in mail.body


def test_a_thread_staff_start_from_the_members_page_is_in_the_inbox(wsgi_app, db, tenants):
    member, member_id = member_client(wsgi_app, db, "13800138312")
    staff = service(wsgi_app, db)
    page = staff.get(DEMO, f"/admin/members/{member_id}")
    form = [f for f in page.forms.values() if f.action.endswith("/messages")][0]
    form["subject"], form["body"] = "還款提醒", "您的借款將於下週到期。"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    (thread,) = threads(db)
    assert (thread.origin, thread.status, thread.member_id) == ("staff", "answered", member_id)
    assert "還款提醒" in staff.get(DEMO, "/admin/inbox").text
    messages = member.get(DEMO, "/account/messages")
    assert "您的借款將於下週到期。" in messages.text
    form = [f for f in messages.forms.values() if "thread" in f.fields][0]
    form["body"] = "收到"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert threads(db)[0].status == "open"
    page = staff.get(DEMO, f"/admin/members/{member_id}")
    assert "收到" in page.text and f"/admin/inbox/{thread.id}" in page.text


def test_unanswered_first_assign_close_reopen(wsgi_app, db, tenants, client):
    from tests.conftest import Client

    leave(client, {**VISITOR, "subject": "第一個"}, status=303)
    leave(Client(wsgi_app), {**VISITOR, "subject": "第二個"}, status=303)
    first, second = threads(db)
    staff = service(wsgi_app, db)
    other = service(wsgi_app, db, login="service-2")
    act(staff, first.id, "reply", body="已回覆")
    inbox = staff.get(DEMO, "/admin/inbox").text
    assert inbox.index("第二個") < inbox.index("第一個")  # waiting for a reply comes first
    with db.transaction() as session:
        from core.accounts.models import StaffUser

        other_id = session.scalars(sa.select(StaffUser.id).where(StaffUser.login == "service-2")).one()
    act(staff, second.id, "assign", assigned_to=str(other_id))
    assert threads(db)[1].assigned_to == other_id
    mine = other.get(DEMO, f"/admin/inbox?assigned={other_id}").text
    assert "第二個" in mine and "第一個" not in mine
    assert "第一個" in other.get(DEMO, "/admin/inbox?assigned=none").text
    act(staff, second.id, "close")
    assert threads(db)[1].status == "closed"
    assert "第二個" not in staff.get(DEMO, "/admin/inbox").text
    assert "第二個" in staff.get(DEMO, "/admin/inbox?status=closed").text
    refused = staff.post(
        DEMO,
        f"/admin/inbox/{second.id}?_LOCALE_=en",
        {"csrf_token": _csrf(staff, second.id), "action": "reply", "body": "x"},
        status=400,
    )
    assert "reopen it to reply" in refused.text
    act(staff, second.id, "reopen")
    assert threads(db)[1].status == "open"
    with db.transaction() as session:
        from core.accounts.models import AuditEvent

        recorded = set(session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("inbox.%"))))
    assert recorded == {"inbox.reply", "inbox.assign", "inbox.close", "inbox.reopen"}


def _csrf(client, thread_id):
    page = client.get(DEMO, f"/admin/inbox/{thread_id}")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '"><script>alert(1)</script>',
    '<a href="jAvAsCrIpT:alert(1)">x</a>',
    "javascript:alert(1)",
]


def test_xss_in_messages_is_shown_as_text(wsgi_app, db, tenants, client):
    for vector in XSS:
        wsgi_app.registry["throttle"].reset()  # six messages from one address: past its limit otherwise
        leave(client, {**VISITOR, "name": vector[:80], "subject": vector, "body": vector}, status=303)
    staff = service(wsgi_app, db)
    pages = [staff.get(DEMO, "/admin/inbox").text]
    for thread in threads(db):
        act(staff, thread.id, "reply", body=XSS[thread.id % len(XSS)])
        pages.append(staff.get(DEMO, f"/admin/inbox/{thread.id}").text)
    member, _ = member_client(wsgi_app, db, "13800138313")
    page = member.get(DEMO, "/account/messages")
    submit(member, DEMO, page, {"subject": XSS[0], "body": XSS[1]}, status=303)
    pages.append(member.get(DEMO, "/account/messages").text)
    for text in pages:
        assert "<script>alert" not in text and "<img src=x" not in text and "<svg onload" not in text
        assert not re.search(r'(?i)<a[^>]+href="javascript:', text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]


def test_another_tenants_threads_are_not_found_either_way(wsgi_app, db, tenants, client):
    leave(client, VISITOR, status=303)
    leave(client, {**VISITOR, "subject": "acme question"}, host=ACME, status=303)
    demo_thread, acme_thread = threads(db)
    demo_staff, acme_staff = service(wsgi_app, db), service(wsgi_app, db, "acme-service", "acme", ACME)
    acme_staff.get(ACME, f"/admin/inbox/{demo_thread.id}", status=404)
    demo_staff.get(DEMO, f"/admin/inbox/{acme_thread.id}", status=404)
    assert "acme question" not in demo_staff.get(DEMO, "/admin/inbox").text
    assert "提現問題" not in acme_staff.get(ACME, "/admin/inbox").text
    member, _ = member_client(wsgi_app, db, "13800138314")
    page = member.get(DEMO, "/account/messages")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    member.post(
        DEMO, "/account/messages", {"csrf_token": token, "thread": str(acme_thread.id), "body": "x"}, status=404
    )
    member.post(
        DEMO, "/account/messages", {"csrf_token": token, "thread": str(demo_thread.id), "body": "x"}, status=404
    )


def test_staff_without_support_reply_are_refused(wsgi_app, db, tenants, client):
    leave(client, VISITOR, status=303)
    (thread,) = threads(db)
    editor = staff_client(wsgi_app, db, "editor", "content_editor")
    editor.get(DEMO, "/admin/inbox", status=403)
    editor.get(DEMO, f"/admin/inbox/{thread.id}", status=403)


def test_the_api_takes_messages_from_visitors_and_members_and_lists_a_members_threads(wsgi_app, db, tenants, client):
    created = client.post_json(
        DEMO, "/api/v1/messages", {"subject": "API", "text": "你好", "name": "訪客", "phone": "13800138000"}, status=201
    ).json
    assert created["status"] == "open"
    refused = client.post_json(DEMO, "/api/v1/messages", {"subject": "API", "text": "你好", "name": "訪客"}, status=422)
    assert refused.json["field"] == "email"
    assert client.post_json(DEMO, "/api/v1/messages", {"subject": "API", "text": ""}, status="*").status_int in (
        400,
        422,
    )
    client.post_json(DEMO, "/api/v1/messages", {"subject": "x", "text": "y", "extra": 1}, status=400)
    member_client(wsgi_app, db, "13800138315")
    token = client.post_json(DEMO, "/api/v1/auth/token", {"login": "13800138315", "password": PASSWORD}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    mine = client.post_json(
        DEMO, "/api/v1/messages", {"subject": "我的問題", "text": "帳戶問題"}, headers=bearer, status=201
    ).json
    staff = service(wsgi_app, db)
    act(staff, mine["id"], "reply", body="已處理")
    listed = client.get(DEMO, "/api/v1/me/messages", headers=bearer).json["threads"]
    assert [t["subject"] for t in listed] == ["我的問題"]
    assert [(m["from"], m["text"]) for m in listed[0]["messages"]] == [("member", "帳戶問題"), ("staff", "已處理")]
    assert listed[0]["status"] == "answered"
    client.get(DEMO, "/api/v1/me/messages", status=401)
    with db.transaction() as session:
        assert {t.subject: t.member_id is not None for t in session.scalars(sa.select(Thread))} == {
            "API": False,
            "我的問題": True,
        }
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 3
