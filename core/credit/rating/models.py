"""Rating models (評估模型), their versions, and ratings (信用等級評估).

A :class:`RatingModel` is a scorecard for one customer kind. Its content — the factors with their bands,
weights and missing-value points, the grade scale and the score → grade table — lives in a
:class:`ModelVersion`: a draft is edited, a second person activates it, and from then on it never changes
(editing makes the next draft). A :class:`Rating` records the version it used and every line of its math.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...db import Base, TenantOwned, utcnow
from ...i18n import _
from ...states import StateMachine
from ..customers.models import Customer


class VersionStatus(StrEnum):
    DRAFT = "draft"  # being edited; never used by a rating
    ACTIVE = "active"  # the model's version in use: immutable
    RETIRED = "retired"  # was active; kept for the ratings that used it


VERSIONS = StateMachine(
    "rating_model_version",
    VersionStatus,
    {VersionStatus.DRAFT: {VersionStatus.ACTIVE}, VersionStatus.ACTIVE: {VersionStatus.RETIRED}},
    initial=VersionStatus.DRAFT,
)

VERSION_STATUS_LABELS = {
    VersionStatus.DRAFT: _("Draft"),
    VersionStatus.ACTIVE: _("Active"),
    VersionStatus.RETIRED: _("Retired"),
}


class RatingStatus(StrEnum):
    PENDING = "pending"  # waits for a person: an override to approve, or a batch result that changes the grade
    APPROVED = "approved"  # its grade is the customer's grade (until a later approved rating)
    REJECTED = "rejected"  # closed without changing the customer's grade
    SUPERSEDED = "superseded"  # closed because a later rating of the customer was made while it waited


RATINGS = StateMachine(
    "credit_rating",
    RatingStatus,
    {RatingStatus.PENDING: {RatingStatus.APPROVED, RatingStatus.REJECTED, RatingStatus.SUPERSEDED}},
    initial=RatingStatus.PENDING,
)

RATING_STATUS_LABELS = {
    RatingStatus.PENDING: _("Waiting for approval"),
    RatingStatus.APPROVED: _("Approved"),
    RatingStatus.REJECTED: _("Rejected"),
    RatingStatus.SUPERSEDED: _("Superseded"),
}


class RatingModel(TenantOwned, Base):
    """A scorecard for individuals or for companies; the kind's model in use is the one activated last."""

    __tablename__ = "credit_rating_models"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"), sa.UniqueConstraint("tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(120))
    customer_kind: Mapped[str] = mapped_column(sa.String(12))  # core.credit.customers.models.CustomerKind
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[ModelVersion]] = relationship(
        back_populates="model", order_by="ModelVersion.number.desc()", lazy="selectin"
    )

    @property
    def active_version(self) -> ModelVersion | None:
        return next((v for v in self.versions if v.status == VersionStatus.ACTIVE), None)

    @property
    def draft(self) -> ModelVersion | None:
        return next((v for v in self.versions if v.status == VersionStatus.DRAFT), None)


class ModelVersion(TenantOwned, Base):
    """One version of a model's content (see :mod:`core.credit.rating.scorecard` for its shape).

    ``factors``: ``[{"code", "weight", "missing_points", "bands": [{"low", "high", "points"} | {"value",
    "points"}]}]`` (decimals as strings, an open end as ``None``); ``scale``: the grades, best first;
    ``grades``: ``[{"grade", "low", "high"}]`` score ranges, ``[low, high)`` and the top row closed.
    """

    __tablename__ = "credit_rating_model_versions"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "model_id", "number"), sa.UniqueConstraint("tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_rating_models.id"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(12), default=VERSIONS.initial.value)  # VersionStatus
    factors: Mapped[list] = mapped_column(sa.JSON)
    scale: Mapped[list] = mapped_column(sa.JSON)
    grades: Mapped[list] = mapped_column(sa.JSON)
    edited_by: Mapped[str] = mapped_column(sa.String(160))  # the actor who last changed it ("system": shipped)
    edited_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    activated_by: Mapped[str | None] = mapped_column(sa.String(160))
    activated_at: Mapped[dt.datetime | None]

    model: Mapped[RatingModel] = relationship(back_populates="versions")


class Rating(TenantOwned, Base):
    """One rating run of a customer: the model version, every factor's line, the score and the grades.

    ``lines``: ``[{"code", "value", "band", "points", "weight", "weighted", "missing"}]`` (decimals as
    strings); ``grade_row``: the grade table's row the score fell in. ``grade`` is set on approval: the
    override grade when one was proposed, else the proposed grade.
    """

    __tablename__ = "credit_ratings"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_credit_ratings_customer", "tenant_id", "customer_id", "id"),
        sa.Index("ix_credit_ratings_status", "tenant_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    model_version_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_rating_model_versions.id"))
    lines: Mapped[list] = mapped_column(sa.JSON)
    grade_row: Mapped[dict] = mapped_column(sa.JSON)
    score: Mapped[Decimal]
    max_score: Mapped[Decimal]
    proposed_grade: Mapped[str] = mapped_column(sa.String(4))
    override_grade: Mapped[str | None] = mapped_column(sa.String(4))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    grade: Mapped[str | None] = mapped_column(sa.String(4))
    status: Mapped[str] = mapped_column(sa.String(12), default=RATINGS.initial.value)  # RatingStatus
    rated_by: Mapped[str] = mapped_column(sa.String(160))
    decided_by: Mapped[str | None] = mapped_column(sa.String(160))
    decision_note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]

    model_version: Mapped[ModelVersion] = relationship(lazy="joined", innerjoin=True)
    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)

    @property
    def rated_at(self) -> dt.datetime:
        """When its grade became the customer's (approved), else when it was run."""
        return self.decided_at or self.created_at
