"""SMS templates per tenant and locale, with the platform's defaults.

Every message the platform sends by SMS has a template code. The default text
of each is a translation string (so it exists in every shipped locale); a
tenant may override any code in any of its locales from the back office.
Placeholders are ``${name}``; unknown placeholders stay as they are.

A one-time code (``${code}``) is a secret of the member it is sent to: the
message log keeps the text and parameters with the code masked (see
:func:`render_masked`), and only the carrier gets the real text.
"""

from __future__ import annotations

import datetime as dt
from string import Template

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, TenantOwned, utcnow
from .domain import DomainError
from .i18n import _

DEFAULTS = {
    "verification_code": _("${site}: your verification code is ${code}. It expires in 10 minutes."),
    "repayment_reminder": _("${site}: installment ${period} of your loan ${loan}, ${amount}, is due on ${due_date}."),
    "overdue_notice": _(
        "${site}: installment ${period} of your loan ${loan} is ${days} days overdue. "
        "Please repay ${amount} to stop penalty interest."
    ),
    "loan_funded": _("${site}: your loan ${loan} is fully funded; ${amount} was paid to your account."),
    "payback_received": _("${site}: you received ${amount} from loan ${loan}."),
    "password_changed": _(
        "${site}: the password of your account was just changed. If you did not do this, reset it now and contact us."
    ),
    # notifications (core.notifications): what a member hears of their money and loans
    "loan_full": _(
        "${site}: loan ${loan}, in which you invested ${amount}, is fully funded and waits for its final review."
    ),
    "loan_disbursed": _(
        "${site}: loan ${loan} was disbursed; your ${amount} is invested and paybacks follow its schedule."
    ),
    "loan_failed": _(
        "${site}: loan ${loan} did not go ahead; your bid of ${amount} was refunded to your available balance."
    ),
    "borrower_loan_funded": _(
        "${site}: your loan ${loan} of ${amount} is fully funded and waits for its final review."
    ),
    "recharge_credited": _("${site}: your recharge of ${amount} was credited to your available balance."),
    "withdrawal_paid": _("${site}: your withdrawal of ${amount} was paid to your bank card."),
    "withdrawal_refused": _(
        "${site}: your withdrawal of ${amount} was refused (${reason}); the money is back in your available balance."
    ),
    "verification_approved": _("${site}: your real-name verification was approved."),
    "verification_refused": _(
        "${site}: your real-name verification was refused: ${reason}. Correct it and submit again."
    ),
    # the help centre (core.help.notices): staff answered a member's message
    "message_replied": _(
        "${site}: we replied to your message \u201c${subject}\u201d. Read it in your account's messages."
    ),
}
ONE_TIME = frozenset({"code"})  # parameters that are one-time secrets: never stored or shown readably
SAMPLE = {
    "site": "Lendstack",
    "code": "123456",
    "period": "3",
    "loan": "L1024",
    "amount": "888.49",
    "due_date": "2027-02-15",
    "days": "5",
    "reason": "…",
    "subject": "…",
}


class SmsTemplate(TenantOwned, Base):
    __tablename__ = "sms_templates"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    locale: Mapped[str] = mapped_column(sa.String(16))
    body: Mapped[str] = mapped_column(sa.String(500))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TemplateError(DomainError):
    """An SMS template override refused; ``field`` names it and ``message`` is a translation string."""


def queue(session, tenant, phone: str, code: str, localizer, params: dict, purpose: str):
    """Render template ``code`` and queue it, keeping the code and parameters for template-based carriers.

    One-time parameters (:data:`ONE_TIME`) are kept masked; the carrier alone gets them (sealed).
    """
    from .sms import queue_sms

    full = {"site": tenant.brand("site_title", tenant.name), **params}
    body, sealed_body = render_masked(session, tenant, code, localizer, params)
    sealed = {"body": sealed_body, "params": full} if sealed_body is not None else None
    return queue_sms(session, tenant, phone, body, purpose, template=code, params=masked(full), sealed=sealed)


def masked(params: dict) -> dict:
    """``params`` with every one-time value replaced by the mask."""
    from .sms import MASK

    return {name: MASK if name in ONE_TIME else value for name, value in params.items()}


def render_masked(session, tenant, code: str, localizer, params: dict) -> tuple[str, str | None]:
    """The text to keep (one-time values masked) and, when there are any, the text to deliver."""
    shown = render(session, tenant, code, localizer, masked(params))
    if ONE_TIME.isdisjoint(params):
        return shown, None
    return shown, render(session, tenant, code, localizer, params)


def override(session, tenant_id: int, code: str, locale: str) -> SmsTemplate | None:
    return session.scalars(
        sa.select(SmsTemplate).where(
            SmsTemplate.tenant_id == tenant_id, SmsTemplate.code == code, SmsTemplate.locale == locale
        )
    ).first()


def render(session, tenant, code: str, localizer, params: dict) -> str:
    """The text of ``code`` in ``localizer``'s locale for ``tenant``, ``params`` filled in."""
    if code not in DEFAULTS:
        raise TemplateError("code", f"unknown template {code!r}")
    params = {"site": tenant.brand("site_title", tenant.name), **params}
    custom = override(session, tenant.id, code, localizer.locale_name)
    if custom is not None:
        return Template(custom.body).safe_substitute(params)
    return localizer.translate(_(DEFAULTS[code], mapping=params))


def save(session, tenant, code: str, locale: str, body: str) -> SmsTemplate | None:
    """Set (or, with an empty body, remove) a tenant's override of one template in one locale."""
    if code not in DEFAULTS:
        raise TemplateError("code", _("Unknown template."))
    if locale not in tenant.locales:
        raise TemplateError("locale", _("This site does not offer that language."))
    body = (body or "").strip()
    current = override(session, tenant.id, code, locale)
    if not body:
        if current is not None:
            session.delete(current)
        return None
    if len(body) > 500:
        raise TemplateError("body", _("A message has at most 500 characters."))
    try:
        Template(body).substitute({name: "x" for name in SAMPLE})
    except (KeyError, ValueError):
        raise TemplateError("body", _("Use only the placeholders listed for this template.")) from None
    if current is None:
        current = SmsTemplate(tenant_id=tenant.id, code=code, locale=locale, body=body)
        session.add(current)
    else:
        current.body = body
    return current
