"""Notifications: a member hears about what happens to their money.

:func:`notify` is the one entry point. It always writes a site message
(站內信, :class:`~core.members.models.Message` from ``system``) in the member's
language, and — as the member's preferences say — queues an SMS and an email
with the event's template from the template store (:mod:`core.sms_templates`,
so a tenant's override is what is sent). Everything is written in the
caller's transaction: an aborted request tells nobody, and SMS and email
leave only after commit (their queues enqueue delivery then).

Preferences are per channel (SMS, email) and per event group
(:data:`GROUPS`); site messages are always on. What the member never chose
has its default: SMS on for money moving in and out and for their own loans
(repayment reminders always went by SMS), email on for every group when the
member has an address. One-time codes never go through here.

Which facts trigger which event is :mod:`core.notification_triggers`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from pyramid.i18n import make_localizer

from . import jobs, sms_templates
from .db import utcnow
from .i18n import _, catalog_paths
from .mail import queue_mail
from .members.models import Member, Message
from .settings import DEFAULT_CATALOG_DIRS, split_list
from .sms import PER_NUMBER_PER_HOUR, SmsError, SmsMessage, normalize_phone

log = logging.getLogger(__name__)

CHANNELS = ("sms", "email")
GROUPS = ("money", "loans", "investments", "account")
GROUP_LABELS = {
    "money": _("Money in and out: recharges, withdrawals, paybacks received"),
    "loans": _("My loans: funded, disbursed, installments due and overdue"),
    "investments": _("My investments: loans full, disbursed or failed"),
    "account": _("My account: real-name verification"),
}
CHANNEL_LABELS = {"sms": _("SMS"), "email": _("Email")}
DEFAULT_SMS = frozenset({"money", "loans"})
SEEN = "lendstack_notified"  # session.info: (member, event, key) already told in this transaction
SMS_ROOM = 3  # numbers this close to their hourly SMS limit get no notice by SMS: one-time codes come first


@dataclass(frozen=True)
class Event:
    """What a member is told: its group, the template of its text, the subject of its site message."""

    group: str
    template: str
    subject: object
    purpose: str = ""

    def purpose_for(self, code: str) -> str:
        return self.purpose or f"notice.{code}"


EVENTS = {
    "loan_full": Event("investments", "loan_full", _("Loan ${loan} is fully funded")),
    "loan_disbursed": Event("investments", "loan_disbursed", _("Loan ${loan} was disbursed")),
    "loan_failed": Event("investments", "loan_failed", _("Loan ${loan} did not go ahead: your bid was refunded")),
    "payback_received": Event("money", "payback_received", _("Payback received from loan ${loan}")),
    "borrower_loan_funded": Event("loans", "borrower_loan_funded", _("Your loan ${loan} is fully funded")),
    "borrower_loan_disbursed": Event("loans", "loan_funded", _("Your loan ${loan} was disbursed")),
    "installment_due": Event(
        "loans", "repayment_reminder", _("Installment ${period} of loan ${loan} is due soon"), "reminder.before"
    ),
    "installment_overdue": Event(
        "loans", "overdue_notice", _("Installment ${period} of loan ${loan} is overdue"), "reminder.overdue"
    ),
    "recharge_credited": Event("money", "recharge_credited", _("Recharge credited")),
    "withdrawal_paid": Event("money", "withdrawal_paid", _("Withdrawal paid")),
    "withdrawal_refused": Event("money", "withdrawal_refused", _("Withdrawal refused")),
    "verification_approved": Event("account", "verification_approved", _("Real-name verification approved")),
    "verification_refused": Event("account", "verification_refused", _("Real-name verification refused")),
}


# -- preferences ------------------------------------------------------------------


def default_preferences(member: Member) -> dict[str, dict[str, bool]]:
    """What a member who never chose hears by SMS and email."""
    return {
        "sms": {group: group in DEFAULT_SMS for group in GROUPS},
        "email": {group: bool(member.email) for group in GROUPS},
    }


def preferences(member: Member) -> dict[str, dict[str, bool]]:
    """The member's choices per channel and group, defaults filled in."""
    chosen = member.notification_preferences or {}
    found = default_preferences(member)
    for channel in CHANNELS:
        for group, on in (chosen.get(channel) or {}).items():
            if group in GROUPS:
                found[channel][group] = bool(on)
    return found


def set_preferences(member: Member, chosen: dict[str, set[str] | list[str]]) -> None:
    """Keep the groups ``chosen`` for each channel named (every other group of that channel off); channels
    not named keep what they had."""
    unknown = sorted(set(chosen) - set(CHANNELS))
    if unknown:
        raise ValueError(f"unknown channel {unknown[0]!r}")
    kept = dict(member.notification_preferences or {})
    for channel, groups in chosen.items():
        kept[channel] = {group: group in set(groups) for group in GROUPS}
    member.notification_preferences = kept  # a new dict: the JSON column sees the change


# -- telling -----------------------------------------------------------------------


def member_locale(tenant, member: Member) -> str:
    """The member's language where the tenant offers it, else the tenant's default."""
    return member.locale if member.locale in tenant.locales else tenant.default_locale


def localizer_for(locale: str):
    """A localizer for ``locale`` from the catalogues the install's settings name (there may be no request)."""

    dirs = tuple(split_list(jobs.context.settings.get("lendstack.catalog_dirs")) or DEFAULT_CATALOG_DIRS)
    return _localizer(locale, dirs)


@lru_cache(maxsize=32)
def _localizer(locale: str, dirs: tuple[str, ...]):

    return make_localizer(locale, catalog_paths(dirs))


def notify(session, tenant, member_id: int, event: str, params: dict, *, key: str = "") -> Message | None:
    """Tell member ``member_id`` of ``tenant`` that ``event`` happened (see the module docstring).

    ``params`` fill the event's template (``loan``, ``amount`` … as text);
    ``key`` names what happened (a loan, a payment) so one fact tells a member
    once per transaction however many ledger legs or listeners carry it.
    Returns the site message, or ``None`` when the member was already told.
    """
    spec = EVENTS[event]
    seen = session.info.setdefault(SEEN, set())
    if (member_id, event, key) in seen:
        return None
    member = session.get(Member, member_id)
    if member is None or member.tenant_id != tenant.id:
        return None
    seen.add((member_id, event, key))

    localizer = localizer_for(member_locale(tenant, member))
    params = {name: str(value) for name, value in params.items()}
    body = sms_templates.render(session, tenant, spec.template, localizer, params)
    subject = localizer.translate(_(spec.subject, mapping=params))
    message = Message(
        tenant_id=tenant.id,
        member_id=member.id,
        direction="to_member",
        sender="system",
        subject=subject[:200],
        body=body,
    )
    session.add(message)
    chosen = preferences(member)
    if chosen["sms"][spec.group] and member.phone:
        _queue_sms(session, tenant, member, spec, event, localizer, params)
    if chosen["email"][spec.group] and member.email:
        queue_mail(session, tenant, member.email, subject, body, spec.purpose_for(event))
    return message


def _queue_sms(session, tenant, member: Member, spec: Event, event: str, localizer, params: dict) -> None:
    """Queue the SMS unless the number is near its hourly limit (the site message already tells the member)."""

    try:
        phone = normalize_phone(member.phone)
    except SmsError:
        return
    recent = session.scalar(
        sa.select(sa.func.count())
        .select_from(SmsMessage)
        .where(
            SmsMessage.tenant_id == tenant.id,
            SmsMessage.phone == phone,
            SmsMessage.created_at >= utcnow() - dt.timedelta(hours=1),
        )
    )
    if recent >= PER_NUMBER_PER_HOUR - SMS_ROOM:
        log.info("notice %s to member %s not sent by SMS: the number is near its hourly limit", event, member.id)
        return
    try:
        sms_templates.queue(session, tenant, member.phone, spec.template, localizer, params, spec.purpose_for(event))
    except SmsError:
        return
