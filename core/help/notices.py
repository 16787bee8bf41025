"""Telling an asker that staff replied.

A member reads the reply in their messages (站內信: the reply is a message of
the thread); they also get an SMS and an email as their notification
preferences (:func:`core.notifications.preferences`) say for the
:data:`GROUP` group. A visitor gets the reply by email when they gave an
address (a visitor's phone number only tells staff whom to call). Everything
is queued in the caller's transaction and leaves after commit.
"""

from __future__ import annotations

import logging

from .. import notifications, sms_templates
from ..i18n import _
from ..mail import queue_mail
from ..members.models import Member
from ..sms import SmsError

log = logging.getLogger(__name__)

GROUP = "account"  # the preference group a reply is told under: "My account"
PURPOSE = "notice.message_replied"
SMS_TEMPLATE = "message_replied"  # core.sms_templates: the tenant may edit its text per language
MAIL_SUBJECT = _("Re: ${subject}")
MAIL_FOOTER = _(
    "You wrote to ${site} about \u201c${subject}\u201d. Reply from your account's messages, or write to us again."
)
VISITOR_FOOTER = _(
    "You wrote to ${site} about \u201c${subject}\u201d. To write again, use the contact page of our site."
)


def tell_reply(session, tenant, thread, body: str) -> None:
    """Tell the thread's asker of staff's reply ``body`` (see the module docstring)."""
    site = tenant.brand("site_title", tenant.name)
    mapping = {"site": site, "subject": thread.subject}
    if thread.member_id is None:
        if thread.email:
            localizer = notifications.localizer_for(
                thread.locale if thread.locale in tenant.locales else tenant.default_locale
            )
            subject = localizer.translate(_(MAIL_SUBJECT, mapping=mapping))
            footer = localizer.translate(_(VISITOR_FOOTER, mapping=mapping))
            queue_mail(session, tenant, thread.email, subject, f"{body}\n\n--\n{footer}", PURPOSE)
        return
    member = session.get(Member, thread.member_id)
    if member is None:
        return
    chosen = notifications.preferences(member)
    localizer = notifications.localizer_for(notifications.member_locale(tenant, member))
    if chosen["sms"][GROUP] and member.phone:
        try:
            sms_templates.queue(
                session, tenant, member.phone, SMS_TEMPLATE, localizer, {"subject": thread.subject}, PURPOSE
            )
        except SmsError:  # a number over its hourly limit: the reply is in the member's messages all the same
            log.info("reply to thread %s not told by SMS: the number is over its hourly limit", thread.id)
    if chosen["email"][GROUP] and member.email:
        subject = localizer.translate(_(MAIL_SUBJECT, mapping=mapping))
        footer = localizer.translate(_(MAIL_FOOTER, mapping=mapping))
        queue_mail(session, tenant, member.email, subject, f"{body}\n\n--\n{footer}", PURPOSE)
