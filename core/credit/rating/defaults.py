"""The rating models every tenant starts with: one scorecard for individuals, one for companies.

Where the bands come from is written in docs/credit/rating.md. Both score 0 to 100 and share the grade
table of :data:`GRADE_TABLE`. They are made active by the platform (``system``) when a tenant is applied;
a tenant changes them by editing a draft and having a second person activate it.
"""

from __future__ import annotations

import sqlalchemy as sa

from ... import events
from ...db import utcnow
from ...i18n import _
from ..customers.models import CustomerKind
from .models import ModelVersion, RatingModel, VersionStatus
from .scorecard import default_scale

SYSTEM = "system"


def _bands(*rows) -> list[dict]:
    """Numeric bands from ``(low, high, points)`` rows (``None``: open)."""
    return [{"low": low, "high": high, "points": points} for low, high, points in rows]


def _factor(code: str, weight: str, bands: list[dict], missing: int = 0) -> dict:
    return {"code": code, "weight": weight, "missing_points": missing, "bands": bands}


INDIVIDUAL = [
    _factor(
        "debt_to_income",
        "2.5",
        _bands((None, "20", 10), ("20", "36", 8), ("36", "43", 4), ("43", "50", 2), ("50", None, 0)),
    ),
    _factor("overdue_count", "2", _bands(("0", "1", 10), ("1", "2", 5), ("2", "4", 2), ("4", None, 0))),
    _factor("employment_years", "1.5", _bands((None, "1", 2), ("1", "3", 5), ("3", "5", 8), ("5", None, 10))),
    _factor(
        "monthly_income", "1", _bands((None, "3000", 2), ("3000", "8000", 5), ("8000", "20000", 8), ("20000", None, 10))
    ),
    # no liabilities at all gives no ratio: as good as the best band
    _factor(
        "assets_to_liabilities", "1", _bands((None, "1", 0), ("1", "1.5", 4), ("1.5", "3", 7), ("3", None, 10)), 10
    ),
    _factor("has_property", "1", [{"value": "yes", "points": 10}, {"value": "no", "points": 0}]),
    _factor("age", "1", _bands(("18", "25", 4), ("25", "35", 7), ("35", "55", 10), ("55", "65", 6), ("65", None, 3))),
]
"""Individuals: 25 + 20 + 15 + 10 + 10 + 10 + 10 = 100 points at best."""

CORPORATE = [
    _factor("current_ratio", "1.5", _bands((None, "1", 0), ("1", "1.5", 4), ("1.5", "2", 7), ("2", None, 10))),
    _factor("quick_ratio", "1", _bands((None, "0.5", 0), ("0.5", "1", 5), ("1", None, 10))),
    _factor("debt_to_assets", "2", _bands((None, "40", 10), ("40", "60", 7), ("60", "70", 3), ("70", None, 0))),
    _factor("roe", "1.5", _bands((None, "0", 0), ("0", "5", 3), ("5", "10", 6), ("10", "15", 8), ("15", None, 10))),
    _factor("net_margin", "1", _bands((None, "0", 0), ("0", "3", 3), ("3", "8", 6), ("8", "15", 8), ("15", None, 10))),
    _factor("interest_coverage", "1.5", _bands((None, "1.5", 0), ("1.5", "3", 5), ("3", "6", 8), ("6", None, 10))),
    _factor("years_in_business", "1", _bands((None, "2", 0), ("2", "5", 4), ("5", "10", 7), ("10", None, 10))),
    _factor(
        "registered_capital",
        "0.5",
        _bands((None, "1000000", 2), ("1000000", "5000000", 5), ("5000000", "20000000", 8), ("20000000", None, 10)),
    ),
]
"""Companies: 15 + 10 + 20 + 15 + 10 + 15 + 10 + 5 = 100 points at best."""

GRADE_TABLE = [
    {"grade": "AA", "low": "85", "high": "100"},
    {"grade": "A", "low": "75", "high": "85"},
    {"grade": "B", "low": "65", "high": "75"},
    {"grade": "C", "low": "55", "high": "65"},
    {"grade": "D", "low": "45", "high": "55"},
    {"grade": "E", "low": "35", "high": "45"},
    {"grade": "HR", "low": "0", "high": "35"},
]

DEFAULT_MODELS = {
    # code: (kind, name, factors)
    "individual": (CustomerKind.INDIVIDUAL, _("Individual scorecard"), INDIVIDUAL),
    "corporate": (CustomerKind.CORPORATE, _("Corporate scorecard"), CORPORATE),
}


def model_name(model):
    """A model's name to show: a shipped model keeps its translated name until the tenant renames it."""
    shipped = DEFAULT_MODELS.get(model.code)
    return shipped[1] if shipped is not None and model.name == str(shipped[1]) else model.name


def ensure_defaults(session, tenant) -> None:
    """Make the shipped models the tenant lacks, each with an active version 1.

    Cheap when present (one query). Takes the tenant's row lock before writing, so two applies at once
    cannot make a model twice. A model the tenant changed or renamed is left as it is.
    """
    from ...tenancy.models import Tenant

    query = sa.select(RatingModel.code).where(RatingModel.tenant_id == tenant.id, RatingModel.code.in_(DEFAULT_MODELS))
    if len(set(session.scalars(query))) == len(DEFAULT_MODELS):
        return
    session.scalars(sa.select(Tenant.id).where(Tenant.id == tenant.id).with_for_update(key_share=True)).first()
    have = set(session.scalars(query))
    now = utcnow()
    for code, (kind, name, factors) in DEFAULT_MODELS.items():
        if code in have:
            continue
        model = RatingModel(tenant_id=tenant.id, code=code, name=str(name), customer_kind=kind.value)
        session.add(model)
        session.flush()
        session.add(
            ModelVersion(
                tenant_id=tenant.id,
                model_id=model.id,
                number=1,
                status=VersionStatus.ACTIVE.value,
                factors=factors,
                scale=default_scale(),
                grades=GRADE_TABLE,
                edited_by=SYSTEM,
                edited_at=now,
                activated_by=SYSTEM,
                activated_at=now,
            )
        )
    session.flush()


@events.listen("lendstack_tenant_applied")
def _default_models(session, tenant_id, tenant, created):
    """Every applied tenant has the shipped rating models (made once, on the first apply that lacks them)."""
    ensure_defaults(session, tenant)
