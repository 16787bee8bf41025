"""The FAQ (常見問題): staff write categories and questions per language; visitors read, search and vote.

Every function takes the request's session (scoped to the tenant); a refused
input raises :class:`HelpError` and changes nothing.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from .. import search
from ..domain import DomainError
from ..i18n import _
from ..markup import MAX_CHARS
from .models import FaqCategory, FaqQuestion, FaqVote

MAX_POSITION = 100_000


class HelpError(DomainError):
    """FAQ or message input refused: ``field`` names it, ``message`` says why."""


def _text(form: dict, field: str, limit: int, message) -> str:
    value = str(form.get(field) or "").strip()
    if not value or len(value) > limit:
        raise HelpError(field, message)
    return value


def _position(form: dict) -> int:
    typed = str(form.get("position") or "0").strip()
    if not typed.isascii() or not typed.isdigit() or int(typed) > MAX_POSITION:
        raise HelpError("position", _("Enter a whole number from 0 to ${n}.", mapping={"n": MAX_POSITION}))
    return int(typed)


def save_category(session, tenant, form: dict, category: FaqCategory | None = None) -> FaqCategory:
    """Create or change a category from the back office's form (name, locale, position, published)."""
    name = _text(form, "name", 120, _("Enter a name of up to 120 characters."))
    locale = str(form.get("locale") or "")
    if locale not in tenant.locales:
        raise HelpError("locale", _("This site does not offer that language."))
    position = _position(form)
    if category is None:
        category = FaqCategory(tenant_id=tenant.id)
        session.add(category)
    category.name, category.locale, category.position = name, locale, position
    category.published = bool(form.get("published"))
    session.flush()
    return category


def save_question(session, tenant, form: dict, question: FaqQuestion | None = None) -> FaqQuestion:
    """Create or change a question from the back office's form (category, question, answer, position, published)."""
    category = category_of(session, form.get("category_id"))
    if category is None:
        raise HelpError("category_id", _("Choose a category."))
    text = _text(form, "question", 300, _("Enter a question of up to 300 characters."))
    answer = _text(form, "answer", MAX_CHARS, _("Enter an answer of up to ${n} characters.", mapping={"n": MAX_CHARS}))
    position = _position(form)
    if question is None:
        question = FaqQuestion(tenant_id=tenant.id)
        session.add(question)
    question.category_id, question.question, question.answer = category.id, text, answer
    question.position, question.published = position, bool(form.get("published"))
    session.flush()
    session.refresh(question)
    return question


def category_of(session, category_id) -> FaqCategory | None:
    """The tenant's category by id (as a form or a URL gives it), or ``None``."""
    typed = str(category_id or "")
    if not typed.isascii() or not typed.isdigit() or len(typed) > 9:
        return None
    return session.scalars(sa.select(FaqCategory).where(FaqCategory.id == int(typed))).first()


def question_of(session, question_id, *, published_only: bool = True) -> FaqQuestion | None:
    """The tenant's question by id; a reader sees only published questions of published categories."""
    query = sa.select(FaqQuestion).join(FaqCategory).where(FaqQuestion.id == int(question_id))
    if published_only:
        query = query.where(FaqQuestion.published.is_(True), FaqCategory.published.is_(True))
    return session.scalars(query).first()


def all_categories(session) -> list[FaqCategory]:
    """Every category with every question (the back office), by language then position."""
    return session.scalars(
        sa.select(FaqCategory).order_by(FaqCategory.locale, FaqCategory.position, FaqCategory.id)
    ).all()


def published(session, locale: str) -> list[tuple[FaqCategory, list[FaqQuestion]]]:
    """The published categories of ``locale`` in order, each with its published questions (empty ones left out)."""
    categories = session.scalars(
        sa.select(FaqCategory)
        .where(FaqCategory.locale == locale, FaqCategory.published.is_(True))
        .order_by(FaqCategory.position, FaqCategory.id)
    ).all()
    shown = [(category, [q for q in category.questions if q.published]) for category in categories]
    return [(category, questions) for category, questions in shown if questions]


def find(session, locale: str, query: str | None, limit: int = 50) -> list[FaqQuestion]:
    """Published questions of ``locale`` whose question or answer holds every term of ``query`` (Chinese too).

    Without a term, every published question of the language (in order).
    """
    statement = (
        sa.select(FaqQuestion)
        .join(FaqCategory)
        .where(FaqCategory.locale == locale, FaqCategory.published.is_(True), FaqQuestion.published.is_(True))
        .order_by(FaqCategory.position, FaqCategory.id, FaqQuestion.position, FaqQuestion.id)
        .limit(limit)
    )
    clause = search.matching([FaqQuestion.question, FaqQuestion.answer], query)
    if clause is not None:
        statement = statement.where(clause)
    return session.scalars(statement).all()


def voter_key(token: str) -> str:
    """What is kept of a visitor's vote cookie: its hash (the cookie alone proves nothing to anyone reading rows)."""
    return hashlib.sha256(token.encode()).hexdigest()


def vote(session, question: FaqQuestion, voter: str, helpful: bool) -> bool:
    """Count ``voter``'s answer to "was this helpful" once; ``False`` when they had answered already."""
    exists = session.scalar(sa.select(FaqVote.id).where(FaqVote.question_id == question.id, FaqVote.voter == voter))
    if exists is not None:
        return False
    # The unique (question, voter) constraint is the last word when one visitor's two clicks race.
    session.add(FaqVote(tenant_id=question.tenant_id, question_id=question.id, voter=voter, helpful=helpful))
    session.flush()
    column = FaqQuestion.helpful_yes if helpful else FaqQuestion.helpful_no
    session.execute(sa.update(FaqQuestion).where(FaqQuestion.id == question.id).values({column: column + 1}))
    session.refresh(question)
    return True
