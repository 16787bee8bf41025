"""Boards and the community settings of a tenant: made with their defaults when the tenant's settings are
applied (:func:`ensure_defaults`), edited by moderators."""

from __future__ import annotations

import re

import sqlalchemy as sa

from .. import events
from ..domain import DomainError
from ..i18n import _
from .models import SENSITIVE_ACTIONS, Board, CommunitySettings

DEFAULT_BOARDS = (
    (
        "announcements",
        True,
        {"zh_Hant": "官方公告", "zh_Hans": "官方公告", "en": "Announcements"},
        {"zh_Hant": "平台的最新消息", "zh_Hans": "平台的最新消息", "en": "News from the platform"},
    ),
    (
        "investing",
        False,
        {"zh_Hant": "投資交流", "zh_Hans": "投资交流", "en": "Investing"},
        {"zh_Hant": "出借經驗與心得", "zh_Hans": "出借经验与心得", "en": "Lenders share what they learnt"},
    ),
    (
        "borrowing",
        False,
        {"zh_Hant": "借款交流", "zh_Hans": "借款交流", "en": "Borrowing"},
        {"zh_Hant": "借款與還款的問題", "zh_Hans": "借款与还款的问题", "en": "Questions about borrowing and repaying"},
    ),
    (
        "feedback",
        False,
        {"zh_Hant": "意見建議", "zh_Hans": "意见建议", "en": "Suggestions"},
        {"zh_Hant": "告訴我們如何改進", "zh_Hans": "告诉我们如何改进", "en": "Tell us what to improve"},
    ),
)
"""The boards a tenant starts with: (slug, staff only, names, descriptions)."""

MAX_WORDS_CHARS = 5000
MAX_POINTS = 1000
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class CommunityError(DomainError):
    """Community input refused: ``field`` names it, ``message`` says why; nothing changed."""


def boards(session, tenant) -> list[Board]:
    """The tenant's boards in their order (a site starts with :data:`DEFAULT_BOARDS`, :func:`ensure_defaults`)."""
    in_order = sa.select(Board).where(Board.tenant_id == tenant.id).order_by(Board.position, Board.id)
    found = session.scalars(in_order).all()
    if found:
        return found
    ensure_defaults(session, tenant)  # a site made before the community: once, under its row lock
    return session.scalars(in_order).all()


def _lock_tenant(session, tenant) -> None:
    """Take the tenant's row lock, so two first visits cannot both make the defaults (the second waits, then
    finds them made). NO KEY UPDATE: rows that merely refer to the tenant are not held up."""
    from ..tenancy.models import Tenant

    session.scalars(sa.select(Tenant.id).where(Tenant.id == tenant.id).with_for_update(key_share=True)).first()


def ensure_defaults(session, tenant) -> None:
    """Give the tenant the default boards when it has no board at all, and its settings row when it has none.

    Idempotent and cheap when both are there (two queries, no lock); run each time the tenant's settings are
    applied, so the community's pages only read.
    """
    has_board = sa.select(Board.id).where(Board.tenant_id == tenant.id).limit(1)
    has_settings = sa.select(CommunitySettings.id).where(CommunitySettings.tenant_id == tenant.id)
    if session.scalars(has_board).first() is not None and session.scalars(has_settings).first() is not None:
        return
    _lock_tenant(session, tenant)
    if session.scalars(has_board).first() is None:
        for position, (slug, staff_only, names, descriptions) in enumerate(DEFAULT_BOARDS):
            session.add(
                Board(
                    tenant_id=tenant.id,
                    slug=slug,
                    staff_only=staff_only,
                    names=dict(names),
                    descriptions=dict(descriptions),
                    position=position * 10,
                )
            )
    if session.scalars(has_settings).first() is None:
        session.add(
            CommunitySettings(
                tenant_id=tenant.id,
                verified_only=True,
                points_per_topic=0,
                points_per_reply=0,
                sensitive_words="",
                sensitive_action="hold",
            )
        )
    session.flush()


@events.listen("lendstack_tenant_applied")
def _default_community(session, tenant_id, tenant, created):
    """A site starts with the default boards and community settings (and one made before gets them)."""
    ensure_defaults(session, tenant)


def whole(value) -> int:
    """A small whole number from a form (-1 for anything else)."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else -1


def find_board(session, board_id) -> Board:
    """The tenant's board with this id (from a form), or a refusal on ``board``."""
    board = session.scalars(sa.select(Board).where(Board.id == whole(board_id))).first()
    if board is None:
        raise CommunityError("board", _("Choose a board."))
    return board


def save_board(session, tenant, form: dict, board: Board | None = None) -> Board:
    """Create or change a board from the moderators' form (``name_<locale>``, ``description_<locale>``)."""
    slug = str(form.get("slug") or (board.slug if board else "")).strip().lower()
    if not SLUG.match(slug):
        raise CommunityError("slug", _("Use lower-case letters, digits and hyphens (at most 40)."))
    taken = session.scalars(sa.select(Board).where(Board.slug == slug)).first()
    if taken is not None and taken is not board:
        raise CommunityError("slug", _("Another board has this short name."))
    names, descriptions = {}, {}
    for locale in tenant.locales:
        name = str(form.get(f"name_{locale}") or "").strip()
        description = str(form.get(f"description_{locale}") or "").strip()
        if len(name) > 60:
            raise CommunityError(f"name_{locale}", _("Use at most ${n} characters.", mapping={"n": 60}))
        if len(description) > 300:
            raise CommunityError(f"description_{locale}", _("Use at most ${n} characters.", mapping={"n": 300}))
        if name:
            names[locale] = name
        if description:
            descriptions[locale] = description
    if tenant.default_locale not in names:
        raise CommunityError(f"name_{tenant.default_locale}", _("Name the board in the site's default language."))
    try:
        position = int(str(form.get("position") or "0").strip())
    except ValueError:
        raise CommunityError("position", _("Give the position as a whole number.")) from None
    if not 0 <= position <= 10_000:
        raise CommunityError("position", _("Give the position as a whole number."))
    if board is None:
        board = Board(tenant_id=tenant.id)
        session.add(board)
    board.slug, board.names, board.descriptions, board.position = slug, names, descriptions, position
    board.staff_only = str(form.get("staff_only", "")).lower() in ("on", "1", "true", "yes")
    session.flush()
    return board


def settings_of(session, tenant) -> CommunitySettings:
    """The tenant's community settings (made with the defaults by :func:`ensure_defaults`)."""
    query = sa.select(CommunitySettings).where(CommunitySettings.tenant_id == tenant.id)
    found = session.scalars(query).first()
    if found is None:
        ensure_defaults(session, tenant)  # a site made before the community: once, under its row lock
        found = session.scalars(query).one()
    return found


def _points(form: dict, field: str) -> int:
    text = str(form.get(field) or "0").strip()
    if not text.isdigit() or int(text) > MAX_POINTS:
        raise CommunityError(field, _("Give a whole number of points from 0 to ${n}.", mapping={"n": MAX_POINTS}))
    return int(text)


def save_settings(session, tenant, form: dict) -> CommunitySettings:
    settings = settings_of(session, tenant)
    words = str(form.get("sensitive_words") or "").replace("\r\n", "\n")
    if len(words) > MAX_WORDS_CHARS:
        raise CommunityError("sensitive_words", _("Use at most ${n} characters.", mapping={"n": MAX_WORDS_CHARS}))
    action = form.get("sensitive_action") or "hold"
    if action not in SENSITIVE_ACTIONS:
        raise CommunityError("sensitive_action", _("Choose what happens to a post with a sensitive word."))
    settings.points_per_topic = _points(form, "points_per_topic")
    settings.points_per_reply = _points(form, "points_per_reply")
    settings.verified_only = str(form.get("verified_only", "")).lower() in ("on", "1", "true", "yes")
    settings.sensitive_words = "\n".join(w.strip() for w in words.split("\n") if w.strip())
    settings.sensitive_action = action
    session.flush()
    return settings
