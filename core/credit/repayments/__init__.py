"""Repayment management (還款管理) from the back office: offline repayments recorded by a maker and applied by a
checker (:mod:`.services`). The loan page (``core/admin/loans.py``) shows and takes them."""

from __future__ import annotations


def includeme(config):
    from .models import OFFLINE_STATUS_LABELS

    config.add_labels(offline_repayment_status=OFFLINE_STATUS_LABELS)
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("admin.loan_offline_repayments", "/admin/loans/{id:\\d{1,9}}/offline-repayments")
    route("admin.offline_repayment_decide", "/admin/offline-repayments/{id:\\d{1,9}}")
