"""Rating customers (信用等級評估): running a model's active version, overrides and their approval.

A rating run scores the customer with the version in use for their kind (:func:`model_in_use`) and stores
every line. What happens to its grade:

- the analyst **accepts** the proposed grade: approved at once;
- the analyst **overrides** it with a grade and a reason: pending until a second person with
  ``credit.rate`` (not the analyst) approves it — or rejects it, which **closes** the rating without
  changing the customer's grade (the analyst may run a new rating);
- a **batch** re-rating (``lendstack credit rate --all``) approves a result at once only when its grade is
  the customer's grade already; a result that would change the grade waits for a person.

A new rating of a customer closes their older pending ones (superseded). An approved grade becomes
``Customer.grade``/``rated_at`` and, for a member, ``Member.credit_grade`` — the grade P2P shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from ...db import utcnow
from ...i18n import _
from ...members.models import Member
from ..customers.models import Customer
from . import scorecard
from .models import RATINGS, ModelVersion, Rating, RatingModel, RatingStatus, VersionStatus
from .scorecard import ModelError

CLI = "cli"
MAX_REASON = 500


def person(actor: str | None) -> str:
    """Who an actor is, without the name they had then (``staff:12:Li`` → ``staff:12``): four eyes compare it."""
    return ":".join((actor or "").split(":")[:2])


# -- customers and their facts -------------------------------------------------------------------------------------


def customer_of(session, tenant_id: int, customer_id) -> Customer:
    """The tenant's customer by id, refused (``customer``) when missing, another tenant's, or merged away."""
    text = str(customer_id)
    found = None
    if text.isascii() and text.isdigit() and len(text) < 10:
        found = session.scalars(
            sa.select(Customer).where(Customer.tenant_id == tenant_id, Customer.id == int(text))
        ).first()
    if found is None:
        raise ModelError("customer", _("There is no such customer."))
    return found


def facts_of_kind(kind: str) -> dict:
    """The customer facts a factor of a ``kind`` model may read (code → fact)."""
    from ..customers.facts import FACTS

    return {code: fact for code, fact in FACTS.items() if fact.kind == kind}


def fact_values(session, customer: Customer, factors: list[dict]) -> dict:
    """Each factor's fact value for ``customer`` (``None``: missing, or a fact no longer known)."""
    known = facts_of_kind(customer.kind)
    return {f["code"]: known[f["code"]].value(session, customer) if f["code"] in known else None for f in factors}


# -- scoring -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """A customer scored by a version, before it is stored: the lines, the score and the grade table's row."""

    version: ModelVersion
    lines: list[scorecard.Line]
    score: Decimal
    max_score: Decimal
    row: dict

    @property
    def grade(self) -> str:
        return self.row["grade"]


def model_in_use(session, kind: str) -> ModelVersion | None:
    """The active version that rates customers of ``kind``: of the kind's models, the one activated last."""
    return session.scalars(
        sa.select(ModelVersion)
        .join(RatingModel, RatingModel.id == ModelVersion.model_id)
        .where(RatingModel.customer_kind == kind, ModelVersion.status == VersionStatus.ACTIVE)
        .order_by(ModelVersion.activated_at.desc(), ModelVersion.id.desc())
    ).first()


def score(session, customer: Customer, version: ModelVersion | None = None) -> Scored:
    """Score ``customer`` with ``version`` (default: the one in use for their kind); nothing is stored."""
    version = version or model_in_use(session, customer.kind)
    if version is None:
        raise ModelError("model", _("No rating model is active for this kind of customer."))
    if version.model.customer_kind != customer.kind or version.status != VersionStatus.ACTIVE:
        raise ModelError("model", _("Rate with an active model for this kind of customer."))
    values = fact_values(session, customer, version.factors)
    lines = [scorecard.score_factor(factor, values[factor["code"]]) for factor in version.factors]
    total = sum((line.weighted for line in lines), Decimal(0))
    return Scored(
        version, lines, total, scorecard.max_score(version.factors), scorecard.grade_row(version.grades, total)
    )


def _check_override(version: ModelVersion, grade: str | None, reason: str) -> tuple[str | None, str]:
    grade = (grade or "").strip() or None
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:  # kept with an accepted grade too: never longer than its column
        raise ModelError("reason", _("Use at most ${n} characters.", mapping={"n": MAX_REASON}))
    if grade is None:
        return None, reason
    if grade not in version.scale:
        raise ModelError("override_grade", _("Choose a grade of the model's scale."))
    if not reason:
        raise ModelError("reason", _("Say why the grade should differ from the model's."))
    return grade, reason


def rate(
    session,
    tenant,
    customer: Customer,
    *,
    by: str,
    override_grade: str | None = None,
    reason: str = "",
    accept: bool | None = True,
    version: ModelVersion | None = None,
) -> Rating:
    """Rate ``customer`` and store the rating with every line.

    With ``override_grade`` (and a ``reason``) the rating waits for a second person; otherwise
    ``accept=True`` approves the proposed grade at once, ``accept=False`` leaves it waiting for a person,
    and ``accept=None`` (a batch) approves it only when it is the customer's grade already.
    """
    if customer.merged_into_id is not None:
        raise ModelError("customer", _("This customer was merged into another: rate that one."))
    scored = score(session, customer, version)
    override, reason = _check_override(scored.version, override_grade, reason)
    if override == scored.grade:
        override = None
    _supersede_pending(session, customer)
    rating = Rating(
        tenant_id=tenant.id,
        customer_id=customer.id,
        model_version_id=scored.version.id,
        model_version=scored.version,
        lines=[line.as_json() for line in scored.lines],
        grade_row=dict(scored.row),
        score=scored.score,
        max_score=scored.max_score,
        proposed_grade=scored.grade,
        override_grade=override,
        reason=reason,
        status=RATINGS.initial.value,
        rated_by=by,
        created_at=utcnow(),
    )
    session.add(rating)
    session.flush()
    if accept is None:
        accept = scored.grade == customer.grade
    if override is None and accept:
        _approve(session, rating, customer, by=by)
    return rating


def _supersede_pending(session, customer: Customer) -> None:
    pending = session.scalars(
        sa.select(Rating)
        .where(Rating.customer_id == customer.id, Rating.status == RatingStatus.PENDING)
        .with_for_update(of=Rating)
    ).all()
    for old in pending:
        RATINGS.move(old, RatingStatus.SUPERSEDED)
        old.decided_at = utcnow()


def locked_rating(session, tenant_id: int, rating_id) -> Rating | None:
    """The tenant's rating by id, its row locked (``None`` when there is none)."""
    text = str(rating_id)
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        return None
    return session.scalars(
        sa.select(Rating).where(Rating.tenant_id == tenant_id, Rating.id == int(text)).with_for_update(of=Rating)
    ).first()


def approve(session, rating: Rating, *, by: str) -> Rating:
    """A second person approves a pending rating: its override grade, or the proposed grade of a batch result."""
    if rating.status != RatingStatus.PENDING:
        raise ModelError("status", _("Only a rating waiting for approval can be approved."))
    if person(by) == person(rating.rated_by):
        raise ModelError("status", _("You made this rating: another person approves it."))
    return _approve(session, rating, rating.customer, by=by)


def reject(session, rating: Rating, *, by: str, note: str) -> Rating:
    """Close a pending rating without changing the customer's grade (a reason is required)."""
    note = (note or "").strip()
    if rating.status != RatingStatus.PENDING:
        raise ModelError("status", _("Only a rating waiting for approval can be rejected."))
    if person(by) == person(rating.rated_by):
        raise ModelError("status", _("You made this rating: another person decides on it."))
    if not note:
        raise ModelError("note", _("Say why the rating is rejected."))
    if len(note) > MAX_REASON:
        raise ModelError("note", _("Use at most ${n} characters.", mapping={"n": MAX_REASON}))
    RATINGS.move(rating, RatingStatus.REJECTED)
    rating.decided_by, rating.decision_note, rating.decided_at = by, note, utcnow()
    return rating


def _approve(session, rating: Rating, customer: Customer, *, by: str) -> Rating:
    RATINGS.move(rating, RatingStatus.APPROVED)
    rating.grade = rating.override_grade or rating.proposed_grade
    rating.decided_by, rating.decided_at = by, utcnow()
    customer.grade, customer.rated_at = rating.grade, rating.decided_at
    if customer.member_id is not None:
        member = session.get(Member, customer.member_id)
        if member is not None:
            member.credit_grade = rating.grade
    session.flush()
    return rating


# -- reading -------------------------------------------------------------------------------------------------------


def latest_rating(session, tenant_id: int, customer_id: int) -> Rating | None:
    """The customer's latest approved rating (``grade``, ``score``, ``model_version``, ``rated_at``), or None."""
    return session.scalars(
        sa.select(Rating)
        .where(Rating.tenant_id == tenant_id, Rating.customer_id == customer_id, Rating.status == RatingStatus.APPROVED)
        .order_by(Rating.decided_at.desc(), Rating.id.desc())
    ).first()


def ratings_of(session, tenant_id: int, customer_id: int, limit: int = 100) -> list[Rating]:
    """The customer's ratings, newest first, whatever their status."""
    return session.scalars(
        sa.select(Rating)
        .where(Rating.tenant_id == tenant_id, Rating.customer_id == customer_id)
        .order_by(Rating.id.desc())
        .limit(limit)
    ).all()


def pending_ratings(session, tenant_id: int, limit: int = 200) -> list[Rating]:
    """Ratings waiting for a person, oldest first."""
    return session.scalars(
        sa.select(Rating)
        .where(Rating.tenant_id == tenant_id, Rating.status == RatingStatus.PENDING)
        .order_by(Rating.id)
        .limit(limit)
    ).all()


# -- batch -----------------------------------------------------------------------------------------------------------


def customers_to_rate(session, tenant_id: int) -> list[Customer]:
    """Every customer of the tenant not merged away, in number order."""
    return session.scalars(
        sa.select(Customer)
        .where(Customer.tenant_id == tenant_id, Customer.merged_into_id.is_(None))
        .order_by(Customer.id)
    ).all()


def rerate(session, tenant, customer: Customer, *, by: str = CLI) -> Rating:
    """Re-rate as a batch does: approved at once when the grade stays what it is, else waiting for a person."""
    return rate(session, tenant, customer, by=by, accept=None)
