"""Maintaining rating models (評估模型維護): new models, editing a draft version, four-eyes activation.

Only a draft changes. Saving a model that has no draft makes one, numbered after its newest version, so
an active or retired version — the one ratings recorded — never changes. A second person activates the
draft (not the one who last edited it); the version it replaces is retired.

The edit page writes a factor's bands one per line: ``low, high, points`` for a range of numbers
(``[low, high)``; leave an end empty for an open range) or ``value, points`` for a text value; the grade
table one row per line: ``grade, low, high``; the scale as its grades, best first, apart by spaces.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from ...db import utcnow
from ...i18n import _
from ..customers.models import CustomerKind
from . import scorecard
from .defaults import DEFAULT_MODELS, GRADE_TABLE
from .models import VERSIONS, ModelVersion, RatingModel, VersionStatus
from .scorecard import ModelError, number, shown
from .services import facts_of_kind, person

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_LINES = 60


def all_models(session) -> list[RatingModel]:
    return session.scalars(sa.select(RatingModel).order_by(RatingModel.customer_kind, RatingModel.code)).all()


def model_of(session, tenant_id: int, model_id, *, lock: bool = False) -> RatingModel | None:
    """The tenant's model by id (``None`` when there is none); ``lock``: its row locked."""
    text = str(model_id)
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        return None
    query = sa.select(RatingModel).where(RatingModel.tenant_id == tenant_id, RatingModel.id == int(text))
    return session.scalars(query.with_for_update() if lock else query).first()


def version_of(model: RatingModel, number_text) -> ModelVersion | None:
    return next((v for v in model.versions if str(v.number) == str(number_text)), None)


def create_model(session, tenant, *, code: str, name: str, kind: str, by: str) -> RatingModel:
    """A new model of ``kind``, starting as a draft with the shipped scorecard of its kind to edit."""
    code, name = (code or "").strip(), (name or "").strip()
    if not CODE.match(code):
        raise ModelError("code", _("Use 1 to 40 lower-case letters, digits, - or _, starting with a letter or digit."))
    if session.scalars(sa.select(RatingModel.id).where(RatingModel.code == code)).first() is not None:
        raise ModelError("code", _("Another model has this code."))
    if not 1 <= len(name) <= 120:
        raise ModelError("name", _("Give the model a name of 1 to 120 characters."))
    if kind not in {k.value for k in CustomerKind}:
        raise ModelError("kind", _("Choose individuals or companies."))
    shipped = next(factors for k, _name, factors in DEFAULT_MODELS.values() if k == kind)
    model = RatingModel(tenant_id=tenant.id, code=code, name=name, customer_kind=kind)
    session.add(model)
    session.flush()
    _new_draft(session, model, shipped, scorecard.default_scale(), GRADE_TABLE, by=by)
    return model


def _new_draft(session, model: RatingModel, factors, scale, grades, *, by: str) -> ModelVersion:
    newest = max((v.number for v in model.versions), default=0)
    draft = ModelVersion(
        tenant_id=model.tenant_id,
        model_id=model.id,
        number=newest + 1,
        status=VERSIONS.initial.value,
        factors=factors,
        scale=scale,
        grades=grades,
        edited_by=by,
        edited_at=utcnow(),
    )
    session.add(draft)
    session.flush()
    session.refresh(model, ["versions"])
    return draft


def save_draft(session, model: RatingModel, form: dict, *, by: str) -> ModelVersion:
    """Check the edit page's content and keep it in the model's draft (made when there is none)."""
    name = (form.get("name") or "").strip()
    if not 1 <= len(name) <= 120:
        raise ModelError("name", _("Give the model a name of 1 to 120 characters."))
    factors, scale, grades = content_from_form(form)
    scorecard.check(factors, scale, grades, facts_of_kind(model.customer_kind))
    model.name = name
    draft = model.draft
    if draft is None:
        return _new_draft(session, model, factors, scale, grades, by=by)
    draft.factors, draft.scale, draft.grades = factors, scale, grades
    draft.edited_by, draft.edited_at = by, utcnow()
    return draft


def activate(session, model: RatingModel, version: ModelVersion, *, by: str) -> ModelVersion:
    """A second person puts a draft in use: the model's active version is retired (call with the model locked)."""
    if version.status != VersionStatus.DRAFT:
        raise ModelError("version", _("Only a draft version can be activated."))
    if person(by) == person(version.edited_by):
        raise ModelError("version", _("You edited this version last: another person activates it."))
    scorecard.check(version.factors, version.scale, version.grades, facts_of_kind(model.customer_kind))
    current = model.active_version
    if current is not None:
        VERSIONS.move(current, VersionStatus.RETIRED)
    VERSIONS.move(version, VersionStatus.ACTIVE)
    version.activated_by, version.activated_at = by, utcnow()
    session.flush()
    return version


# -- the edit page's form --------------------------------------------------------------------------------------------


def factor_count(form: dict) -> int:
    """How many factor blocks the form holds (``factor-1-code`` …)."""
    count = 0
    while f"factor-{count + 1}-code" in form and count < scorecard.MAX_FACTORS + 1:
        count += 1
    return count


def content_from_form(form: dict) -> tuple[list[dict], list[str], list[dict]]:
    """The factors, scale and grade table typed on the edit page; a line that cannot be read is refused."""
    factors = []
    for index in range(1, factor_count(form) + 1):
        field = f"factor-{index}"
        code = (form.get(f"{field}-code") or "").strip()
        if not code or form.get(f"{field}-remove"):
            continue
        missing = (form.get(f"{field}-missing_points") or "0").strip()
        if not missing.isascii() or not missing.isdigit() or len(missing) > 4:
            raise ModelError(
                f"{field}-missing_points", _("Points are whole numbers from 0 to ${n}.", mapping={"n": 1000})
            )
        factors.append(
            {
                "code": code,
                "weight": _weight(form.get(f"{field}-weight")),
                "missing_points": int(missing),
                "bands": _bands_from(f"{field}-bands", form.get(f"{field}-bands") or ""),
            }
        )
    scale = (form.get("scale") or "").split()
    return factors, scale, _grades_from(form.get("grades") or "")


def _weight(text) -> str:
    text = (text or "").strip()
    return _canonical(text) if number(text) is not None else text


def _lines(field: str, text: str) -> list[tuple[int, list[str]]]:
    rows = [
        (n, [part.strip() for part in line.split(",")]) for n, line in enumerate(text.splitlines(), 1) if line.strip()
    ]
    if len(rows) > MAX_LINES:
        raise ModelError(field, _("Use at most ${n} lines.", mapping={"n": MAX_LINES}))
    return rows


def _unreadable(field: str, line: int) -> ModelError:
    return ModelError(field, _("Line ${line} cannot be read: see the help under the field.", mapping={"line": line}))


def _points(field: str, line: int, text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise _unreadable(field, line)
    return int(text)


def _bands_from(field: str, text: str) -> list[dict]:
    bands = []
    for line, parts in _lines(field, text):
        if len(parts) == 3:
            low, high = parts[0] or None, parts[1] or None
            if (low is not None and number(low) is None) or (high is not None and number(high) is None):
                raise _unreadable(field, line)
            bands.append({"low": _canonical(low), "high": _canonical(high), "points": _points(field, line, parts[2])})
        elif len(parts) == 2 and parts[0]:
            bands.append({"value": scorecard.text_of(parts[0]), "points": _points(field, line, parts[1])})
        else:
            raise _unreadable(field, line)
    return bands


def _grades_from(text: str) -> list[dict]:
    grades = []
    for line, parts in _lines("grades", text):
        if len(parts) != 3 or not parts[0] or number(parts[1]) is None or number(parts[2]) is None:
            raise _unreadable("grades", line)
        grades.append({"grade": parts[0].upper(), "low": _canonical(parts[1]), "high": _canonical(parts[2])})
    return grades


def _canonical(text: str | None) -> str | None:
    return None if text is None else shown(number(text))


def form_of(model: RatingModel, version: ModelVersion) -> dict:
    """The edit page's fields for ``version``'s content."""
    form = {"name": model.name, "scale": " ".join(version.scale), "grades": grades_text(version.grades)}
    for index, factor in enumerate(version.factors, 1):
        form[f"factor-{index}-code"] = factor["code"]
        form[f"factor-{index}-weight"] = factor["weight"]
        form[f"factor-{index}-missing_points"] = str(factor["missing_points"])
        form[f"factor-{index}-bands"] = bands_text(factor["bands"])
    return form


def bands_text(bands: list[dict]) -> str:
    return "\n".join(
        f"{b['value']}, {b['points']}" if "value" in b else f"{b['low'] or ''}, {b['high'] or ''}, {b['points']}"
        for b in bands
    )


def grades_text(grades: list[dict]) -> str:
    return "\n".join(f"{g['grade']}, {g['low']}, {g['high']}" for g in grades)
