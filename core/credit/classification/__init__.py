"""The five-level classification of loans (貸款五級分類) and their provisions (see core/credit/__init__.py).

- :mod:`.models`: where each loan stands, its class changes, proposals, month-end snapshots;
- :mod:`.rules`: the tenant's rules (``[lending]`` settings) and the provision each class needs;
- :mod:`.engine`: close of day's classification of every outstanding loan, set-based;
- :mod:`.services`: manual proposals and their four-eyes decision, the portfolio by class, the migration matrix;
- :mod:`.views` (``/admin/credit/classification``, a loan's page), :mod:`.api`.
"""

from __future__ import annotations


def _classify_at_close(session, tenant, day, *, commit_every=None) -> dict:
    """Close of day's step: every outstanding loan classified as of the day's close (summary counts)."""
    from .engine import classify

    return classify(session, tenant, day, commit_every=commit_every)


def includeme(config):
    """Routes, views, labels, and the close-of-day step."""
    from ...loans.closing import day_step
    from .models import CLASS_LABELS, PROPOSAL_STATUS_LABELS

    day_step(_classify_at_close)
    config.add_labels(risk_class=CLASS_LABELS, class_proposal_status=PROPOSAL_STATUS_LABELS)
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("admin.credit.classification", "/admin/credit/classification")
    route("admin.credit.loan_classification", "/admin/credit/loans/{id:\\d{1,9}}/classification")
    route("admin.credit.classification_decide", "/admin/credit/classification/proposals/{id:\\d{1,9}}")
    route("admin.credit.classification_evidence", "/admin/credit/classification/proposals/{id:\\d{1,9}}/evidence")
    config.scan(".views")
    config.include(".api")
