"""Reading the community: a board's topics (pinned first, then by last reply), a thread, search, a member's posts.

Who sees what: published topics and posts are public; a held one (waiting for
review) only to its author; a hidden one reads "hidden by a moderator" to
everyone but its author. Moderators see everything in the back office.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..search import matching
from .models import Board, Post, PostStatus, Topic

PER_PAGE = 20
PUBLISHED = PostStatus.PUBLISHED.value


@dataclass(frozen=True)
class Page:
    rows: list
    number: int
    has_more: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_number(value) -> int:
    """A page number from the query string (1 for anything that is not a small positive number)."""
    text = str(value or "1")
    return min(int(text), 10_000) if text.isdigit() and int(text) > 0 else 1


def _paged(session, query, number: int, per_page: int = PER_PAGE) -> Page:
    rows = session.scalars(query.limit(per_page + 1).offset((number - 1) * per_page)).all()
    return Page(rows[:per_page], number, len(rows) > per_page)


def listed_to(member_id: int | None):
    """Topics a viewer finds in lists: published ones, and their own held or hidden ones."""
    if member_id is None:
        return Topic.status == PUBLISHED
    return sa.or_(Topic.status == PUBLISHED, Topic.member_id == member_id)


def board_topics(session, board: Board, number: int, member_id: int | None) -> Page:
    query = (
        sa.select(Topic)
        .where(Topic.board_id == board.id, listed_to(member_id))
        .order_by(Topic.pinned.desc(), Topic.last_posted_at.desc(), Topic.id.desc())
    )
    return _paged(session, query, number)


def board_counts(session) -> dict[int, int]:
    """Published topics per board id."""
    rows = session.execute(
        sa.select(Topic.board_id, sa.func.count()).where(Topic.status == PUBLISHED).group_by(Topic.board_id)
    ).all()
    return {board_id: n for board_id, n in rows}


def may_read(topic: Topic, member_id: int | None) -> bool:
    """A held topic is its author's until approved; a hidden one still opens (to say it was hidden)."""
    return topic.status != PostStatus.HELD.value or (member_id is not None and topic.member_id == member_id)


def thread(session, topic: Topic, number: int, member_id: int | None) -> Page:
    """The topic's posts in order; held replies only for their author (hidden ones are shown as hidden)."""
    shown = Post.status != PostStatus.HELD.value
    if member_id is not None:
        shown = sa.or_(shown, Post.member_id == member_id)
    query = sa.select(Post).where(Post.topic_id == topic.id, shown).order_by(Post.id)
    return _paged(session, query, number)


def search(session, query: str | None, number: int) -> Page | None:
    """Published posts of published topics whose topic title or text holds every term of ``query``."""
    where = matching([Topic.title, Post.body], query)
    if where is None:
        return None
    found = (
        sa.select(Post)
        .join(Topic, Topic.id == Post.topic_id)
        .where(where, Post.status == PUBLISHED, Topic.status == PUBLISHED)
        .order_by(Post.id.desc())
    )
    return _paged(session, found, number)


def member_posts(session, member_id: int, number: int) -> Page:
    query = sa.select(Post).where(Post.member_id == member_id).order_by(Post.id.desc())
    return _paged(session, query, number)
