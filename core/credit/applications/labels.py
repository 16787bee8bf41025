"""How the pages name the applications package's stored values (registered with ``config.add_labels``)."""

from __future__ import annotations

from ...i18n import _
from .models import ApplicationStatus

STATUS_LABELS = {
    ApplicationStatus.DRAFT: _("Draft"),
    ApplicationStatus.IN_REVIEW: _("In review"),
    ApplicationStatus.APPROVED: _("Approved"),
    ApplicationStatus.REJECTED: _("Rejected"),
    ApplicationStatus.WITHDRAWN: _("Withdrawn"),
    ApplicationStatus.CONTRACTED: _("Contracted"),
    ApplicationStatus.DISBURSED: _("Disbursed"),
    ApplicationStatus.CANCELLED: _("Cancelled"),
}

ACTION_LABELS = {
    "submit": _("Submitted"),
    "approve": _("Approved"),
    "reject": _("Rejected"),
    "return": _("Returned"),
    "request_documents": _("Asked for documents"),
    "withdraw": _("Withdrawn"),
}

ACTION_BUTTONS = {
    "approve": _("Approve"),
    "reject": _("Reject"),
    "return": _("Return"),
    "request_documents": _("Ask for documents"),
}
