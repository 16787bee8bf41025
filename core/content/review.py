"""The review workflow (審核): a writer submits, another person approves or returns, a reviewer publishes.

draft → submitted → approved → published (now) or scheduled (public once its time comes)
submitted → returned (with a comment) → draft again when it is changed; published or scheduled → approved
(unpublished). Four eyes: nobody approves an item they wrote or last changed. Each step is a move of
:data:`~core.content.models.ITEMS`, so a step the table does not allow changes nothing.
"""

from __future__ import annotations

import datetime as dt

from ..db import utcnow
from ..i18n import _
from .models import ITEMS, ContentItem, ItemStatus
from .services import ContentError

ACTIONS = ("submit", "approve", "return", "publish", "unpublish")


def submit(item: ContentItem) -> ItemStatus:
    """The writer asks for review."""
    if item.status == ItemStatus.RETURNED:
        raise ContentError("status", _("Change the item as the reviewer asked, then submit it again."))
    if item.status != ItemStatus.DRAFT:
        raise ContentError("status", _("Only a draft can be submitted for review."))
    return ITEMS.move(item, ItemStatus.SUBMITTED)


def approve(item: ContentItem, reviewer_id: int) -> ItemStatus:
    """Another person approves it: never its author or the last person who changed it."""
    if reviewer_id is not None and reviewer_id in (item.author_id, item.editor_id):
        raise ContentError("status", _("You wrote or changed this item: another reviewer approves it."))
    if item.status != ItemStatus.SUBMITTED:
        raise ContentError("status", _("Only an item awaiting review can be approved."))
    item.review_note = ""
    return ITEMS.move(item, ItemStatus.APPROVED)


def send_back(item: ContentItem, note: str) -> ItemStatus:
    """Return it to the writer with what to change."""
    note = (note or "").strip()
    if not note:
        raise ContentError("note", _("Say what should change before returning it."))
    if len(note) > 500:
        raise ContentError("note", _("Use at most ${n} characters.", mapping={"n": 500}))
    if item.status != ItemStatus.SUBMITTED:
        raise ContentError("status", _("Only an item awaiting review can be returned."))
    item.review_note = note
    return ITEMS.move(item, ItemStatus.RETURNED)


def publish(item: ContentItem, now: dt.datetime | None = None) -> ItemStatus:
    """Publish an approved item now, or schedule it for its publish-at time if that is still to come."""
    now = now or utcnow()
    if item.status != ItemStatus.APPROVED:
        raise ContentError("status", _("Only an approved item can be published."))
    if item.published_at is not None and item.published_at > now:
        return ITEMS.move(item, ItemStatus.SCHEDULED)
    item.published_at = now
    return ITEMS.move(item, ItemStatus.PUBLISHED)


def unpublish(item: ContentItem) -> ItemStatus:
    """Take a published (or scheduled) item off the site; it stays approved and can be published again."""
    if item.status not in (ItemStatus.PUBLISHED, ItemStatus.SCHEDULED):
        raise ContentError("status", _("Only a published or scheduled item can be unpublished."))
    return ITEMS.move(item, ItemStatus.APPROVED)


PERMISSION = {
    "submit": "content.write",
    "approve": "content.review",
    "return": "content.review",
    "publish": "content.review",
    "unpublish": "content.review",
}
"""The permission each step takes."""


def act(item: ContentItem, action: str, *, reviewer_id: int | None, note: str = "", now=None) -> ItemStatus:
    """Take review step ``action`` (one of :data:`ACTIONS`) on ``item``; returns its new status."""
    if action == "submit":
        return submit(item)
    if action == "approve":
        return approve(item, reviewer_id)
    if action == "return":
        return send_back(item, note)
    if action == "publish":
        return publish(item, now)
    if action == "unpublish":
        return unpublish(item)
    raise ContentError("action", _("Choose what to do with the item."))
