"""What the rating pages show instead of codes: kinds of customer, facts, who acted."""

from __future__ import annotations

from ...i18n import _
from ..customers.models import CustomerKind

KIND_LABELS = {CustomerKind.INDIVIDUAL.value: _("Individuals"), CustomerKind.CORPORATE.value: _("Companies")}

ACTORS = {"cli": _("Console"), "system": _("The platform")}

TEXT_BANDS = {"yes": _("Yes"), "no": _("No")}


def band_label(band: str):
    """A band as the math shows it: a yes/no fact's band and a marital status by their names, else as written."""
    from ..customers import MARITAL_LABELS

    return TEXT_BANDS.get(band) or MARITAL_LABELS.get(band) or band


def actor_name(actor: str | None):
    """An actor recorded as ``staff:12:Li`` by their name; the console and the platform by a label."""
    if not actor:
        return ""
    if actor in ACTORS:
        return ACTORS[actor]
    parts = actor.split(":", 2)
    return parts[2] if len(parts) == 3 else actor


def _facts(kind: str | None = None) -> dict:
    from ..customers.facts import FACTS

    return {code: fact for code, fact in FACTS.items() if kind is None or fact.kind == kind}


def fact_label(code: str):
    """The fact's name (translatable), or its code when the fact is no longer known."""
    fact = _facts().get(code)
    return fact.label if fact is not None else code


def fact_choices(kind: str) -> list[tuple[str, object]]:
    """``(code, label)`` of every fact a factor of a ``kind`` model may read, in code order."""
    return [(code, fact.label) for code, fact in sorted(_facts(kind).items())]
