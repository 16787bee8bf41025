"""The daily digest: after close of day, one email to each staff member holding a role a rule tells, listing the
day's new alerts of those rules. Staff without an email address get none; each alert goes out in one digest only
(close of day run again sends nothing twice). Queued in close of day's transaction, sent after it commits."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ... import notifications
from ...accounts.models import StaffUser
from ...i18n import _
from ...mail import queue_mail
from .models import KIND_LABELS, SEVERITY_LABELS, SEVERITY_RANK, Alert
from .rules import rules_of
from .services import roles_of, sentence

PURPOSE = "credit.alert_digest"
SUBJECT = _("${site}: ${count} new loan alerts of ${date}")
INTRO = _("Close of day of ${date} raised these loan alerts. Open Credit → Loan alerts to acknowledge and close them.")


def send_digest(session, tenant, day: dt.date) -> int:
    """Queue the digest of ``day``'s alerts not digested yet; how many emails were queued."""
    alerts = session.scalars(
        sa.select(Alert)
        .where(Alert.tenant_id == tenant.id, Alert.business_date == day, Alert.digested.is_(False))
        .order_by(Alert.id)
    ).all()
    if not alerts:
        return 0
    alerts = sorted(alerts, key=lambda a: (-SEVERITY_RANK.get(a.severity, 0), a.id))
    rules = rules_of(session, tenant.id)
    staff = session.scalars(
        sa.select(StaffUser)
        .where(StaffUser.tenant_id == tenant.id, StaffUser.active.is_(True), StaffUser.email.is_not(None))
        .order_by(StaffUser.id)
    ).all()
    locale = tenant.default_locale
    localizer = notifications.localizer_for(locale)
    translate = localizer.translate
    site = tenant.brand("site_title", tenant.name)
    sent = 0
    for person in staff:
        if not person.email:
            continue
        held = roles_of(person)
        mine = [a for a in alerts if held & set(rules[a.kind].recipients)]
        if not mine:
            continue
        mapping = {"site": site, "count": len(mine), "date": day.isoformat()}
        lines = [translate(_(INTRO, mapping=mapping)), ""]
        for alert in mine:
            label = f"[{translate(SEVERITY_LABELS[alert.severity])}] {translate(KIND_LABELS[alert.kind])}"
            lines.append(f"- {label}: {sentence(alert, translate, locale)}")
        queue_mail(session, tenant, person.email, translate(_(SUBJECT, mapping=mapping)), "\n".join(lines), PURPOSE)
        sent += 1
    session.execute(
        sa.update(Alert)
        .where(Alert.id.in_([a.id for a in alerts]))
        .values(digested=True)
        .execution_options(synchronize_session=False)
    )
    return sent
