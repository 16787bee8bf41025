"""An item's versions: its words as each save left them, and what changed between two of them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import sqlalchemy as sa

from .models import ContentItem, ContentVersion

FIELDS = ("title", "summary", "body")


def keep_version(session, item: ContentItem, by: str) -> ContentVersion:
    """Keep ``item``'s words as its next version (saved by ``by``, an actor)."""
    item.version += 1
    version = ContentVersion(
        tenant_id=item.tenant_id,
        item_id=item.id,
        number=item.version,
        title=item.title,
        summary=item.summary,
        body=item.body,
        saved_by=by,
    )
    session.add(version)
    session.flush()
    return version


def versions(session, item: ContentItem) -> list[ContentVersion]:
    """The item's versions, newest first."""
    return session.scalars(
        sa.select(ContentVersion).where(ContentVersion.item_id == item.id).order_by(ContentVersion.number.desc())
    ).all()


def version(session, item: ContentItem, number: int) -> ContentVersion | None:
    return session.scalars(
        sa.select(ContentVersion).where(ContentVersion.item_id == item.id, ContentVersion.number == number)
    ).first()


@dataclass(frozen=True)
class Line:
    """One line of a comparison: ``change`` is ``same``, ``added`` or ``removed``; ``gap`` marks skipped lines."""

    change: str
    text: str
    gap: bool = False


def compare(old: ContentVersion | None, new: ContentVersion, context: int = 3) -> dict[str, list[Line]]:
    """Per field (title, summary, body) the lines that changed from ``old`` to ``new``, with ``context``
    unchanged lines around each change (fields that did not change are left out). No ``old``: all added."""
    result = {}
    for field in FIELDS:
        before = (getattr(old, field) if old is not None else "").splitlines()
        after = getattr(new, field).splitlines()
        if before == after:
            continue
        lines: list[Line] = []
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for n, group in enumerate(matcher.get_grouped_opcodes(context)):
            if n:
                lines.append(Line("same", "…", gap=True))
            for tag, i1, i2, j1, j2 in group:
                if tag == "equal":
                    lines += [Line("same", text) for text in before[i1:i2]]
                    continue
                lines += [Line("removed", text) for text in before[i1:i2]]
                lines += [Line("added", text) for text in after[j1:j2]]
        result[field] = lines
    return result
