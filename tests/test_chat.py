"""Live help (在線客服): a visitor or member chats with staff on duty; outside office hours the form leaves a
message for the help inbox; chats are bound to their opener and to their site."""

import datetime as dt
import json
import threading
import time
import zoneinfo

import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent
from core.chat import waiting
from core.chat.models import CannedReply, Chat, ChatMessage
from core.help.models import Thread
from tests.conftest import Client
from tests.helpers import member_client, staff_client

DEMO, ACME = "demo.localhost", "acme.localhost"
XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<svg onload=alert(1)>",
    "\"><script>alert(2)</script>",
    "<a href=\"jAvAsCrIpT:alert(3)\">y</a>",
]


def on_duty(wsgi_app, db, login="agent", slug="demo", host=DEMO, role="customer_service"):
    staff = staff_client(wsgi_app, db, login, role, slug=slug, host=host)
    page = staff.get(host, "/admin/chat")
    form = [f for f in page.forms.values() if f.action.endswith("/admin/chat/duty")][0]
    form.submit("on_duty", value="1", extra_environ={"HTTP_HOST": host}, status=303)
    return staff


def open_chat(visitor, host=DEMO, name="林小姐", body="請問如何充值？", status=303):
    page = visitor.get(host, "/chat")
    form = page.forms["chat-start"]
    if "name" in form.fields:
        form["name"] = name
    form["body"] = body
    response = form.submit(extra_environ={"HTTP_HOST": host}, status=status)
    return int(response.location.rsplit("/", 1)[1]) if status == 303 else response


def say(client, host, path, body, status=303):
    page = client.get(host, path)
    form = page.forms["chat-form"]
    form["body"] = body
    return form.submit(extra_environ={"HTTP_HOST": host}, status=status)


def post_button(client, host, page_path, action, status=303):
    page = client.get(host, page_path)
    form = [f for f in page.forms.values() if f.action.split("?")[0].endswith(action)][0]
    return form.submit(extra_environ={"HTTP_HOST": host}, status=status)


def poll(client, host, chat_id, after=0, wait=False, prefix=""):
    query = f"after={after}" + ("&wait=1" if wait else "")
    return client.get(host, f"{prefix}/chat/{chat_id}/messages?{query}").json


def test_a_visitor_chats_with_a_staff_member_on_duty(wsgi_app, db, tenants, client):
    staff = on_duty(wsgi_app, db)
    assert 'href="/chat"' in client.get(ACME, "/").text  # "Live help" in the portal's menu
    chat_id = open_chat(client)
    assert "lendstack_chat" in client.app.cookies
    visitor_page = client.get(DEMO, f"/chat/{chat_id}")
    assert "請問如何充值？" in visitor_page.text
    queue = staff.get(DEMO, "/admin/chat")
    assert "林小姐" in queue.text and f"/admin/chat/{chat_id}" in queue.text

    post_button(staff, DEMO, f"/admin/chat/{chat_id}", f"/admin/chat/{chat_id}/accept")
    say(staff, DEMO, f"/admin/chat/{chat_id}", "您好，請到「我的帳戶」充值。")
    answer = poll(client, DEMO, chat_id, after=1)
    assert [m["author"] for m in answer["messages"]] == ["event", "staff"]
    assert answer["messages"][-1]["text"] == "您好，請到「我的帳戶」充值。"
    assert answer["status"] == "active" and answer["last"] == 3 and answer["retry_ms"] == 0
    say(client, DEMO, f"/chat/{chat_id}", "謝謝！")
    assert poll(staff, DEMO, chat_id, after=3, prefix="/admin")["messages"][0]["text"] == "謝謝！"

    post_button(staff, DEMO, f"/admin/chat/{chat_id}", f"/admin/chat/{chat_id}/close")
    closed = poll(client, DEMO, chat_id, after=4, wait=True)  # a closed chat answers at once
    assert closed["status"] == "closed" and closed["messages"][0]["author"] == "event"
    assert "chat-form" not in client.get(DEMO, f"/chat/{chat_id}").forms  # the transcript stays, read only
    with db.transaction() as session:
        actions = session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert {"chat.duty", "chat.accept", "chat.close"} <= set(actions)
        assert session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 5


def test_one_staff_member_per_chat(wsgi_app, db, tenants, client):
    first = on_duty(wsgi_app, db, "first")
    second = on_duty(wsgi_app, db, "second")
    chat_id = open_chat(client)
    post_button(first, DEMO, f"/admin/chat/{chat_id}", f"/admin/chat/{chat_id}/accept")
    page = second.get(DEMO, f"/admin/chat/{chat_id}")
    assert "chat-form" not in page.forms and "accept" not in " ".join(f.action for f in page.forms.values())
    token = page.forms[0]["csrf_token"].value
    refused = second.post(DEMO, f"/admin/chat/{chat_id}/accept", {"csrf_token": token}, status=400)
    assert "first" in refused.text
    second.post(DEMO, f"/admin/chat/{chat_id}/reply", {"csrf_token": token, "body": "我來"}, status=400)
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 2  # the question, "joined"


def test_a_poll_waits_for_the_reply_and_returns_when_it_arrives(wsgi_app, db, tenants, served, monkeypatch):
    """The poll is held (no message yet) and answers as soon as staff reply, well before its hold runs out."""
    import httpx

    monkeypatch.setattr(waiting, "HOLD_SECONDS", 30)
    staff = on_duty(wsgi_app, db)
    visitor = Client(wsgi_app)
    chat_id = open_chat(visitor)
    post_button(staff, DEMO, f"/admin/chat/{chat_id}", f"/admin/chat/{chat_id}/accept")
    cookies = {"lendstack_chat": visitor.app.cookies["lendstack_chat"]}
    result = {}

    def long_poll():
        started = time.monotonic()
        with httpx.Client(base_url=served, headers={"Host": DEMO}, cookies=cookies, timeout=40) as http:
            result["answer"] = http.get(f"/chat/{chat_id}/messages", params={"after": 2, "wait": 1}).json()
        result["seconds"] = time.monotonic() - started

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.5)  # the poll is waiting now
    assert "answer" not in result
    say(staff, DEMO, f"/admin/chat/{chat_id}", "您好！")
    poller.join(40)
    assert [m["text"] for m in result["answer"]["messages"]] == ["您好！"]
    assert result["seconds"] < 15  # it did not sit out its 30 s hold


def test_outside_office_hours_the_chat_form_leaves_a_message(wsgi_app, db, tenants, client):
    staff = on_duty(wsgi_app, db)
    today = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).weekday()
    other = (today + 3) % 7
    page = staff.get(DEMO, "/admin/chat/settings")
    form = [f for f in page.forms.values() if f"opens{other}" in f.fields][0]
    form[f"opens{other}"], form[f"closes{other}"] = "09:00", "18:00"
    form.submit("action", value="hours", extra_environ={"HTTP_HOST": DEMO}, status=303)
    # a bad time is refused by its day, nothing changes
    form[f"opens{today}"], form[f"closes{today}"] = "18:00", "09:00"
    refused = form.submit("action", value="hours", extra_environ={"HTTP_HOST": DEMO}, status=400)
    assert refused.html.find(id=f"opens{today}")["aria-invalid"] == "true"

    page = client.get(DEMO, "/chat")
    assert "email" in page.forms["chat-start"].fields  # a message form: how to answer
    form = page.forms["chat-start"]
    form["name"], form["body"] = "陳先生", "明天可以提現嗎？"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=400)  # no email or phone: nobody to answer
    form["email"] = "chen@example.com"
    left = form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert left.location.endswith("/chat?left=1")
    with db.transaction() as session:
        thread = session.scalars(sa.select(Thread)).one()
        assert (thread.name, thread.email, thread.origin, thread.subject) == (
            "陳先生",
            "chen@example.com",
            "chat",
            "明天可以提現嗎？",
        )
        assert session.scalar(sa.select(sa.func.count()).select_from(Chat)) == 0
        assert "chat.hours" in session.scalars(sa.select(AuditEvent.action)).all()


def test_with_nobody_on_duty_a_member_leaves_a_message(wsgi_app, db, tenants):
    member, member_id = member_client(wsgi_app, db, "13800138001")
    page = member.get(DEMO, "/chat")
    assert "name" not in page.forms["chat-start"].fields and "email" not in page.forms["chat-start"].fields
    page.forms["chat-start"]["body"] = "我的標什麼時候放款？"
    page.forms["chat-start"].submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        assert session.scalars(sa.select(Thread.member_id)).one() == member_id


def test_a_members_chats_are_on_their_account_and_member_pages(wsgi_app, db, tenants):
    staff = on_duty(wsgi_app, db)
    member, member_id = member_client(wsgi_app, db, "13800138002")
    chat_id = open_chat(member, body="帳戶問題")
    with db.transaction() as session:
        chat = session.get(Chat, chat_id)
        assert chat.member_id == member_id and chat.name == "王**"  # as the header names them
    mine = member.get(DEMO, "/account/chats")
    assert f"/chat/{chat_id}" in mine.text
    listed = staff.get(DEMO, f"/admin/members/{member_id}/chats")
    assert f"/admin/chat/{chat_id}" in listed.text and "王**" in listed.text
    # a member reads their own chat from another browser too (signed in), not only with the cookie
    del member.app.cookies["lendstack_chat"]
    assert "帳戶問題" in member.get(DEMO, f"/chat/{chat_id}").text


def test_canned_replies_per_language_in_the_reply_form(wsgi_app, db, tenants, client):
    staff = on_duty(wsgi_app, db)
    page = staff.get(DEMO, "/admin/chat/settings")
    form = [f for f in page.forms.values() if "reply_body" in f.fields][0]
    form["locale"], form["title"], form["reply_body"] = "zh_Hant", "問候", "您好，很高興為您服務。"
    form.submit("action", value="add_reply", extra_environ={"HTTP_HOST": DEMO}, status=303)
    form["locale"], form["title"], form["reply_body"] = "en", "Hello", "Hello, how can I help?"
    form.submit("action", value="add_reply", extra_environ={"HTTP_HOST": DEMO}, status=303)
    form["title"], form["reply_body"] = "", "no title"
    form.submit("action", value="add_reply", extra_environ={"HTTP_HOST": DEMO}, status=400)

    chat_id = open_chat(client)  # the demo site speaks zh_Hant by default
    post_button(staff, DEMO, f"/admin/chat/{chat_id}", f"/admin/chat/{chat_id}/accept")
    reply_form = staff.get(DEMO, f"/admin/chat/{chat_id}").forms["chat-form"]
    options = [text for _value, _selected, text in reply_form["canned"].options]
    assert any("問候" in o for o in options) and not any("Hello" in o for o in options)
    reply_form["canned"] = reply_form["canned"].options[1][0]
    reply_form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)  # the canned text, the message left empty
    assert poll(client, DEMO, chat_id, after=2)["messages"][0]["text"] == "您好，很高興為您服務。"

    with db.transaction() as session:
        hello = session.scalars(sa.select(CannedReply).where(CannedReply.locale == "en")).one()
    page = staff.get(DEMO, "/admin/chat/settings")
    delete = [f for f in page.forms.values() if f.fields.get("reply") and f["reply"].value == str(hello.id)][0]
    delete.submit("action", value="delete_reply", extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        assert session.scalars(sa.select(CannedReply.title)).all() == ["問候"]


def test_chat_messages_are_shown_as_text(wsgi_app, db, tenants, client):
    staff = on_duty(wsgi_app, db)
    chat_id = open_chat(client, name="<b onmouseover=alert(1)>x</b>", body=XSS[0])
    post_button(staff, DEMO, f"/admin/chat/{chat_id}", f"/admin/chat/{chat_id}/accept")
    for vector in XSS[1:]:
        say(client, DEMO, f"/chat/{chat_id}", vector)
        say(staff, DEMO, f"/admin/chat/{chat_id}", vector)
    pages = [
        client.get(DEMO, f"/chat/{chat_id}"),
        staff.get(DEMO, f"/admin/chat/{chat_id}"),
        staff.get(DEMO, "/admin/chat"),
    ]
    for page in pages:
        soup = page.html
        assert all(script.get("src") for script in soup.find_all("script"))  # only the site's own files
        assert not soup.find_all(["svg", "img"], src="x") and not soup.find_all("svg")
        assert not [tag for tag in soup.find_all(True) if any(name.startswith("on") for name in tag.attrs)]
        assert not [a for a in soup.find_all("a", href=True) if a["href"].strip().lower().startswith("javascript")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0].text
    answer = client.get(DEMO, f"/chat/{chat_id}/messages?after=0")
    assert answer.content_type == "application/json" and answer.headers["X-Content-Type-Options"] == "nosniff"
    assert XSS[0] in [m["text"] for m in answer.json["messages"]]  # the text as written, for textContent


def test_another_visitor_cannot_read_or_write_a_chat(wsgi_app, db, tenants, client):
    on_duty(wsgi_app, db)
    chat_id = open_chat(client)
    stranger = Client(wsgi_app)
    token = stranger.get(DEMO, "/chat").forms["chat-start"]["csrf_token"].value
    stranger.get(DEMO, f"/chat/{chat_id}", status=404)
    stranger.get(DEMO, f"/chat/{chat_id}/messages?after=0&wait=1", status=404)
    stranger.post(DEMO, f"/chat/{chat_id}/say", {"csrf_token": token, "body": "hi"}, status=404)
    stranger.post(DEMO, f"/chat/{chat_id}/close", {"csrf_token": token}, status=404)
    stranger.app.set_cookie("lendstack_chat", "x" * 43)  # a made-up token
    stranger.get(DEMO, f"/chat/{chat_id}", status=404)
    member, _member_id = member_client(wsgi_app, db, "13800138003")
    member.get(DEMO, f"/chat/{chat_id}", status=404)  # a member who did not open it
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 1
        assert session.get(Chat, chat_id).status == "waiting"


def test_another_sites_chat_is_not_found_both_ways(wsgi_app, db, tenants, client):
    demo_staff = on_duty(wsgi_app, db, "demo_agent")
    acme_staff = on_duty(wsgi_app, db, "acme_agent", slug="acme", host=ACME)
    demo_chat = open_chat(client)
    acme_visitor = Client(wsgi_app)
    acme_chat = open_chat(acme_visitor, host=ACME, name="Ann", body="Hello?")
    client.get(ACME, f"/chat/{demo_chat}", status=404)  # the opener's own cookie, on the other site
    acme_visitor.get(DEMO, f"/chat/{acme_chat}", status=404)
    client.get(ACME, f"/chat/{demo_chat}/messages?after=0", status=404)
    for staff, host, chat_id in ((acme_staff, ACME, demo_chat), (demo_staff, DEMO, acme_chat)):
        staff.get(host, f"/admin/chat/{chat_id}", status=404)
        staff.get(host, f"/admin/chat/{chat_id}/messages?after=0", status=404)
        token = staff.get(host, "/admin/chat").forms[0]["csrf_token"].value
        staff.post(host, f"/admin/chat/{chat_id}/accept", {"csrf_token": token}, status=404)
        staff.post(host, f"/admin/chat/{chat_id}/reply", {"csrf_token": token, "body": "x"}, status=404)
        staff.post(host, f"/admin/chat/{chat_id}/close", {"csrf_token": token}, status=404)
        assert "Ann" not in staff.get(host, "/admin/chat").text or host == ACME
    assert "林小姐" not in acme_staff.get(ACME, "/admin/chat").text
    assert "Ann" not in demo_staff.get(DEMO, "/admin/chat").text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 2


def test_staff_without_support_reply_are_refused(wsgi_app, db, tenants, client):
    on_duty(wsgi_app, db)
    chat_id = open_chat(client)
    cashier = staff_client(wsgi_app, db, "cashier", "cashier")
    for path in ("/admin/chat", f"/admin/chat/{chat_id}", "/admin/chat/settings", f"/admin/chat/{chat_id}/messages"):
        cashier.get(DEMO, path, status=403)
    token = cashier.get(DEMO, "/admin").html.find("input", attrs={"name": "csrf_token"})["value"]
    cashier.post(DEMO, f"/admin/chat/{chat_id}/accept", {"csrf_token": token}, status=403)
    cashier.post(DEMO, "/admin/chat/duty", {"csrf_token": token, "on_duty": "1"}, status=403)
    assert "/admin/chat" not in cashier.get(DEMO, "/admin").text  # not in their menu


def test_flooding_is_refused(wsgi_app, db, tenants, client):
    on_duty(wsgi_app, db)
    chat_id = open_chat(client)
    page = client.get(DEMO, f"/chat/{chat_id}")
    token = page.forms["chat-form"]["csrf_token"].value
    for n in range(20):
        client.post(DEMO, f"/chat/{chat_id}/say", {"csrf_token": token, "body": f"訊息 {n}"}, status=303)
    refused = client.post(DEMO, f"/chat/{chat_id}/say", {"csrf_token": token, "body": "再一則"}, status=429)
    assert refused.html.find(id="body-error").text.strip()
    for _n in range(4):  # five chats from one address in ten minutes, then no more
        open_chat(client)
    open_chat(client, status=429)
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Chat)) == 5
        assert "再一則" not in session.scalars(sa.select(ChatMessage.body)).all()


@pytest.mark.parametrize("body", ["", "   ", "長" * 2001])
def test_a_bad_message_is_refused_and_nothing_is_stored(wsgi_app, db, tenants, client, body):
    on_duty(wsgi_app, db)
    refused = open_chat(client, body=body, status=400)
    assert refused.html.find(id="body-error").text.strip()
    chat_id = open_chat(client)
    say(client, DEMO, f"/chat/{chat_id}", body, status=400)
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 1


def test_the_script_posts_and_reads_json(wsgi_app, db, tenants, client):
    on_duty(wsgi_app, db)
    chat_id = open_chat(client)
    token = client.get(DEMO, f"/chat/{chat_id}").forms["chat-form"]["csrf_token"].value
    sent = client.post(
        DEMO,
        f"/chat/{chat_id}/say",
        {"csrf_token": token, "body": "用腳本送出"},
        headers={"Accept": "application/json"},
    )
    assert json.loads(sent.text) == {"seq": 2}


def test_the_chat_pages_are_accessible_and_readable(wsgi_app, db, tenants, client):
    from tests.test_accessibility import problems as access_problems
    from tests.test_readable_backoffice import problems as reading_problems
    from tests.test_readable_backoffice import visible_text

    staff = on_duty(wsgi_app, db)
    member, member_id = member_client(wsgi_app, db, "13800138004")
    chat_id = open_chat(member)
    post_button(staff, DEMO, f"/admin/chat/{chat_id}", f"/admin/chat/{chat_id}/accept")
    portal = [(member, "/chat"), (member, f"/chat/{chat_id}"), (member, "/account/chats"), (client, "/chat")]
    back_office = ["/admin/chat", f"/admin/chat/{chat_id}", "/admin/chat/settings", f"/admin/members/{member_id}/chats"]
    for who, path in portal + [(staff, path) for path in back_office]:
        page = who.get(DEMO, path + "?_LOCALE_=en")
        assert access_problems(page.text) == [], path
    for path in back_office:
        text = visible_text(staff.get(DEMO, path + "?_LOCALE_=en").text)
        assert reading_problems(text, "en") == [], path
