"""Outgoing SMS: the message record, the provider type, templates, and delivery as a job.

:func:`queue_sms` records a message (at most ``PER_NUMBER_PER_HOUR`` to one
number) and enqueues its delivery after commit; the job hands it to the
tenant's enabled SMS providers (hook ``lendstack_sms_providers``) in order of
``priority`` — when one fails, the next is tried (failover) — and records the
outcome. Providers that report delivery call ``/callbacks/sms/<code>``. Every
message a tenant ever sent is in ``sms_messages``, whichever provider carried it.

One-time values (a verification code) are never stored readably: the row's
``body`` and ``params`` — what the back office's SMS log shows — carry them as
:data:`MASK`; the text a carrier must send is kept in ``sealed`` (encrypted
with the install's secret) only until a provider took it or every one refused.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass

import phonenumbers
import sqlalchemy as sa
from pyramid.response import Response
from sqlalchemy.orm import Mapped, mapped_column

from . import jobs
from .db import Base, SealedJSON, TenantOwned, utcnow
from .domain import DomainError
from .plugin_registry import collect_by_code

PER_NUMBER_PER_HOUR = 10
MASK = "******"  # how a one-time code reads wherever it is stored or shown


class SmsError(DomainError):
    """A number or a message the SMS layer refuses; ``field`` is ``phone`` unless said, ``str()`` the message."""

    def __str__(self) -> str:
        return self.message


class SmsMessage(TenantOwned, Base):
    __tablename__ = "sms_messages"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_sms_messages_tenant_phone", "tenant_id", "phone", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text)
    purpose: Mapped[str] = mapped_column(sa.String(40))
    template: Mapped[str] = mapped_column(sa.String(40), default="")
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    provider: Mapped[str | None] = mapped_column(sa.String(100))
    provider_ref: Mapped[str | None] = mapped_column(sa.String(200))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # {"body", "params"} as the carrier must send them, when they hold a one-time code; encrypted, and
    # cleared as soon as delivery is settled, so no screen, export or database reader ever sees the code.
    sealed: Mapped[dict | None] = mapped_column(SealedJSON)


@dataclass(frozen=True)
class SmsView:
    """What a provider is given: never the ORM row."""

    id: int
    phone: str
    body: str
    purpose: str
    template: str = ""  # the template code the body was rendered from (see core.sms_templates)
    params: dict | None = None  # its parameters, for carriers that send template codes (Aliyun)


@dataclass(frozen=True)
class SmsResult:
    provider_ref: str
    delivered: bool = True
    error: str = ""


@dataclass(frozen=True)
class SmsStatus:
    """A provider's delivery report: which message (its reference) and whether it arrived."""

    provider_ref: str
    delivered: bool
    error: str = ""
    final: bool = True  # False for progress reports (queued, sent …): recorded nowhere


class SmsProvider(abc.ABC):
    """Base of SMS-provider providers; ``code`` and ``name`` identify it.

    ``priority`` (a setting, lower first, default 100) orders a tenant's
    providers for failover.
    """

    code: str = ""
    name: str = ""

    def __init__(self, settings: dict):
        self.settings = settings

    @property
    def priority(self) -> int:
        return int(self.settings.get("priority", 100))

    @abc.abstractmethod
    def send(self, message: SmsView) -> SmsResult:
        """Hand ``message`` to the carrier; raise or return ``delivered=False`` on failure."""

    def verify_status_callback(self, body: bytes, headers: dict) -> SmsStatus:
        """Check and read a delivery report; raise ``ValueError`` when it is not genuine."""
        raise ValueError(f"{self.code} sends no delivery reports")


def normalize_phone(phone: str, region: str = "CN") -> str:
    """E.164 form of ``phone`` (``+8613800138000``), or :class:`SmsError`."""
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        raise SmsError("phone", f"{phone!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise SmsError("phone", f"{phone!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def queue_sms(
    session,
    tenant,
    phone: str,
    body: str,
    purpose: str,
    *,
    template: str = "",
    params: dict | None = None,
    sealed: dict | None = None,
) -> SmsMessage:
    """Record an SMS for ``tenant`` and deliver it in the background after commit.

    ``body`` and ``params`` are what is kept and shown. A message holding a
    one-time code passes them masked and gives the real text and parameters as
    ``sealed`` (``{"body", "params"}``): only the provider receives those.
    """
    phone = normalize_phone(phone)
    hour_ago = utcnow() - dt.timedelta(hours=1)
    recent = session.scalar(
        sa.select(sa.func.count())
        .select_from(SmsMessage)
        .where(SmsMessage.tenant_id == tenant.id, SmsMessage.phone == phone, SmsMessage.created_at >= hour_ago)
    )
    if recent >= PER_NUMBER_PER_HOUR:
        raise SmsError("phone", f"more than {PER_NUMBER_PER_HOUR} messages an hour to {phone}")
    message = SmsMessage(
        tenant_id=tenant.id,
        phone=phone,
        body=body,
        purpose=purpose,
        template=template,
        params=_texts(params),
        sealed=_sealed(sealed),
    )
    session.add(message)
    session.flush()
    jobs.enqueue(session, deliver_sms, tenant.id, message.id)
    return message


def _texts(params: dict | None) -> dict:
    return {k: str(v) for k, v in (params or {}).items()}


def _sealed(sealed: dict | None) -> dict | None:
    if not sealed:
        return None
    return {"body": str(sealed["body"]), "params": _texts(sealed.get("params"))}


def carried(message: SmsMessage) -> SmsView:
    """What a provider is given: the sealed text when the message holds a one-time code."""
    sealed = message.sealed or {}
    return SmsView(
        message.id,
        message.phone,
        sealed.get("body", message.body),
        message.purpose,
        message.template or "",
        dict(sealed.get("params") or message.params or {}),
    )


def shown(message: SmsMessage) -> SmsView:
    """What everyone else is given (plugins told of a delivery): the stored, masked text."""
    return SmsView(
        message.id, message.phone, message.body, message.purpose, message.template or "", dict(message.params or {})
    )


def providers(hooks) -> list[SmsProvider]:
    """The tenant's enabled providers in failover order."""
    # by priority; a stable sort keeps code order among equals
    return sorted(collect_by_code(hooks, "lendstack_sms_providers").values(), key=lambda p: p.priority)


@jobs.huey.task(retries=3, retry_delay=30)
def deliver_sms(tenant_id: int, message_id: int) -> None:
    """Send one queued message, trying the tenant's providers in order until one takes it (a job)."""
    with jobs.task_session(tenant_id) as session:
        tenant = jobs.load_tenant(session, tenant_id)
        message = session.get(SmsMessage, message_id)
        if tenant is None or message is None or message.status in ("sent", "delivered"):
            return
        hooks = jobs.context.plugins.for_tenant(tenant)
        candidates = providers(hooks)
        if not candidates:
            message.status, message.error, message.sealed = "failed", "no SMS provider is enabled", None
            return
        view = carried(message)
        errors = []
        for provider in candidates:
            try:
                result = provider.send(view)
            except Exception as error:  # noqa: BLE001 - a provider's failure moves on to the next one
                result = SmsResult("", delivered=False, error=f"{type(error).__name__}: {error}")
            if result.delivered:
                message.provider, message.provider_ref = provider.code, result.provider_ref[:200]
                message.status, message.sent_at = "sent", utcnow()
                message.error = "; ".join(errors) or None
                message.sealed = None
                hooks.lendstack_sms_delivered(message=shown(message))
                return
            errors.append(f"{provider.code}: {result.error or 'refused'}")
        message.provider, message.status, message.error = candidates[-1].code, "failed", "; ".join(errors)[:2000]
        message.sealed = None  # nobody will send it now: the code it held dies with it


def apply_status(session, provider_code: str, status: SmsStatus) -> bool:
    """Record a provider's delivery report on the message it names; whether one was found."""
    message = session.scalars(
        sa.select(SmsMessage).where(
            SmsMessage.provider == provider_code, SmsMessage.provider_ref == status.provider_ref
        )
    ).first()
    if message is None:
        return False
    if not status.final:
        return True
    message.status = "delivered" if status.delivered else "undelivered"
    if status.error:
        message.error = status.error[:2000]
    return True


def status_callback(request):
    """``POST /callbacks/sms/<provider>``: a provider's delivery report, checked by the provider."""
    code = request.matchdict["provider"]
    provider = next((p for p in providers(request.hooks) if p.code == code), None)
    try:
        if provider is None:
            raise ValueError("provider not enabled")
        status = provider.verify_status_callback(request.body, dict(request.headers))
    except ValueError as error:
        return Response(json_body={"result": "rejected", "reason": str(error)}, status=400)
    found = apply_status(request.dbsession, code, status)
    return Response(json_body={"result": "applied" if found else "unknown"}, status=200 if found else 404)


def _labels() -> dict[str, dict]:
    """The SMS (and email) outbox's label tables: delivery statuses, purposes, template names."""
    from .i18n import _

    return {
        "message_status": {
            "queued": _("Waiting to be sent"),
            "sent": _("Sent"),
            "delivered": _("Delivered"),
            "undelivered": _("Not delivered"),
            "failed": _("Failed"),
            "outbox": _("Kept in the outbox (not sent)"),
        },
        # a purpose names its family then its detail (``code.register``); ``family.*`` labels the rest
        "sms_purpose": {
            "code.register": _("Sign-up code"),
            "code.reset": _("Password reset code"),
            "code.*": _("One-time code"),
            "notice.password": _("Password changed"),
            "reminder.before": _("Installment due soon"),
            "reminder.overdue": _("Installment overdue"),
            "reminder.*": _("Repayment reminder"),
            "notice.loan_full": _("Loan fully funded"),
            "notice.loan_disbursed": _("Loan disbursed"),
            "notice.loan_failed": _("Loan failed, bid refunded"),
            "notice.payback_received": _("Payback received"),
            "notice.borrower_loan_funded": _("Your loan fully funded"),
            "notice.borrower_loan_disbursed": _("Your loan disbursed"),
            "notice.recharge_credited": _("Recharge credited"),
            "notice.withdrawal_paid": _("Withdrawal paid"),
            "notice.withdrawal_refused": _("Withdrawal refused"),
            "notice.verification_approved": _("Real-name verification approved"),
            "notice.verification_refused": _("Real-name verification refused"),
            "notice.*": _("Notice"),
        },
        "sms_template": {
            "verification_code": _("Verification code"),
            "repayment_reminder": _("Installment due soon"),
            "overdue_notice": _("Installment overdue"),
            "loan_funded": _("Your loan disbursed"),
            "payback_received": _("Payback received"),
            "password_changed": _("Password changed"),
            "loan_full": _("Loan fully funded"),
            "loan_disbursed": _("Loan disbursed"),
            "loan_failed": _("Loan failed, bid refunded"),
            "borrower_loan_funded": _("Your loan fully funded"),
            "recharge_credited": _("Recharge credited"),
            "withdrawal_paid": _("Withdrawal paid"),
            "withdrawal_refused": _("Withdrawal refused"),
            "verification_approved": _("Real-name verification approved"),
            "verification_refused": _("Real-name verification refused"),
            "message_replied": _("Reply to a message"),
        },
    }


def includeme(config):
    config.add_labels(**_labels())
    config.add_route("sms.status_callback", "/callbacks/sms/{provider}", host_kind="tenant")
    config.add_view(status_callback, route_name="sms.status_callback", request_method="POST", require_csrf=False)
