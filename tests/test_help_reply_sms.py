"""The SMS that tells a member staff replied to their message is one of the site's SMS templates: listed on the
templates page with the others, edited per language like them, and sent as the tenant wrote it."""

import sqlalchemy as sa

from core.sms import SmsMessage
from tests.helpers import member_client, staff_client, submit
from tests.test_help_inbox import DEMO, act, service, set_contact, threads


def template_form(page, code, locale):
    return [
        f
        for f in page.forms.values()
        if f.fields.get("code") and f["code"].value == code and f["locale"].value == locale
    ][0]


def replied_sms(db) -> list[SmsMessage]:
    with db.transaction() as session:
        return session.scalars(
            sa.select(SmsMessage).where(SmsMessage.purpose == "notice.message_replied").order_by(SmsMessage.id)
        ).all()


def test_the_reply_sms_is_a_template_the_site_edits_per_language(wsgi_app, db, tenants):
    admin = staff_client(wsgi_app, db, "reply-tpl", "administrator")
    page = admin.get(DEMO, "/admin/sms/templates?_LOCALE_=en")
    assert "message_replied" in page.text and "${subject}" in page.text  # listed, its placeholder named
    form = template_form(page, "message_replied", "zh_Hant")
    form["body"] = "【${site}】客服已回覆「${subject}」，請登入查看站內信。"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)

    member, member_id = member_client(wsgi_app, db, "13800138611")
    set_contact(db, member_id, email="", sms_account=True, email_account=False)
    page = member.get(DEMO, "/help/contact?_LOCALE_=zh_Hant")
    submit(member, DEMO, page, {"subject": "還款日", "body": "可以更改還款日嗎？"}, status=303)
    (thread,) = threads(db)
    act(service(wsgi_app, db), thread.id, "reply", body="目前不能更改。")
    (sms,) = replied_sms(db)
    assert sms.body == "【鼎信網貸】客服已回覆「還款日」，請登入查看站內信。"
    assert sms.template == "message_replied" and sms.params["subject"] == "還款日"


def test_without_an_override_the_reply_sms_reads_in_the_members_language(wsgi_app, db, tenants):
    from core.members.models import Member

    member, member_id = member_client(wsgi_app, db, "13800138612")
    set_contact(db, member_id, email="", sms_account=True, email_account=False)
    with db.transaction() as session:
        session.get(Member, member_id).locale = "en"
    page = member.get(DEMO, "/help/contact?_LOCALE_=en")
    submit(member, DEMO, page, {"subject": "Due date", "body": "Can I move it?"}, status=303)
    (thread,) = threads(db)
    act(service(wsgi_app, db), thread.id, "reply", body="Not at present.")
    (sms,) = replied_sms(db)
    assert sms.body == "鼎信網貸: we replied to your message \u201cDue date\u201d. Read it in your account's messages."
