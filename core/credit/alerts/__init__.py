"""Loan alerts (貸款業務警示) (see core/credit/__init__.py and docs/credit/alerts.md).

- :mod:`.models`: the tenant's edited alert rules and the alerts raised;
- :mod:`.rules`: each kind's rule, its defaults and checking the rules form;
- :mod:`.engine`: close of day's step raising the day's alerts, set-based;
- :mod:`.digest`: the day's new alerts by email to the staff the rules tell;
- :mod:`.services`: who sees which alerts, their sentences, acknowledging and closing;
- :mod:`.views` (``/admin/credit/alerts``, its rules page), :mod:`.api`.

The step runs after classification's (the credit package includes ``.classification`` first), so the day's class
changes are there to read.
"""

from __future__ import annotations


def _alerts_at_close(session, tenant, day, *, commit_every=None) -> dict:
    """Close of day's step: the day's alerts raised and their digest queued (summary counts)."""
    from .digest import send_digest
    from .engine import raise_alerts

    summary = raise_alerts(session, tenant, day)
    summary["alert_digests"] = send_digest(session, tenant, day)
    return summary


def includeme(config):
    """Routes, views, labels, and the close-of-day step."""
    from ...loans.closing import day_step
    from .models import KIND_LABELS, SEVERITY_LABELS, STATUS_LABELS

    day_step(_alerts_at_close)
    config.add_labels(
        credit_alert_kind=KIND_LABELS, credit_alert_severity=SEVERITY_LABELS, credit_alert_status=STATUS_LABELS
    )
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("admin.credit.alerts", "/admin/credit/alerts")
    route("admin.credit.alert_rules", "/admin/credit/alerts/rules")
    route("admin.credit.alert", "/admin/credit/alerts/{id:\\d{1,9}}")
    config.scan(".views")
    config.include(".api")
