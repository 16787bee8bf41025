"""Searching text people wrote (forum posts, FAQ, help articles) in any language, Chinese included.

Chinese has no spaces between words, so a word index finds little; a search
here is a substring match of each term the reader typed (terms are separated by
spaces; every term must appear, in any of the columns searched), case-folded
(``ILIKE``) on both engines. On PostgreSQL a ``pg_trgm`` GIN index on a searched
column makes the same query fast; on SQLite it is a scan, fine at a site's size.
"""

from __future__ import annotations

import sqlalchemy as sa

MAX_TERMS = 5
MAX_QUERY_CHARS = 100


def terms(query: str | None) -> list[str]:
    """The terms of a query: at most :data:`MAX_TERMS`, from its first :data:`MAX_QUERY_CHARS` characters."""
    return (query or "")[:MAX_QUERY_CHARS].split()[:MAX_TERMS]


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matching(columns, query: str | None):
    """A WHERE clause: every term of ``query`` appears in one of ``columns``; ``None`` when there is no term."""
    found = terms(query)
    if not found:
        return None
    return sa.and_(*(sa.or_(*(column.ilike(_like(term), escape="\\") for column in columns)) for term in found))
