"""The tenant's classification rules: which class days past due and an extension or restructuring call for, and the
provision each class needs. They are ``[lending]`` settings (the manifest, the back office's parameters page and
their versions), with the 2023 rules for financial-asset risk classification in China as the defaults.

A rule gives the class a loan is **at least** in; staff may propose a stricter one at any time, a looser one only
down to what the rules give (:mod:`.proposals`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .models import RiskClass, stricter

DAY_KEYS = {
    # [lending] key: (the class a loan is at least in when more than that many days past due, the default)
    "special_mention_after_days": (RiskClass.SPECIAL_MENTION.value, 0),  # any overdue
    "substandard_after_days": (RiskClass.SUBSTANDARD.value, 90),
    "doubtful_after_days": (RiskClass.DOUBTFUL.value, 270),
    "loss_after_days": (RiskClass.LOSS.value, 360),
}
WATCH_KEY, WATCH_DEFAULT = "watch_months", 6
"""How many months an extended or restructured loan stays at least special mention (its observation period)."""
PROVISION_KEYS = {
    # [lending] key: (class, the default percent of outstanding principal)
    "provision_normal_percent": (RiskClass.NORMAL.value, "0"),
    "provision_special_mention_percent": (RiskClass.SPECIAL_MENTION.value, "2"),
    "provision_substandard_percent": (RiskClass.SUBSTANDARD.value, "25"),
    "provision_doubtful_percent": (RiskClass.DOUBTFUL.value, "50"),
    "provision_loss_percent": (RiskClass.LOSS.value, "100"),
}
KEYS = (*DAY_KEYS, WATCH_KEY, *PROVISION_KEYS)


def day_thresholds(lending: dict) -> list[tuple[str, int]]:
    """(key, days) in order of the class they lead to, each as set or its default."""
    return [(key, int(Decimal(str(lending.get(key, default))))) for key, (_cls, default) in DAY_KEYS.items()]


def thresholds_problem(lending: dict) -> str | None:
    """The key whose days are not more than the milder class's (each class needs more days than the one before)."""
    previous = -1
    for key, days in day_thresholds(lending):
        if days <= previous:
            return key
        previous = days
    return None


@dataclass(frozen=True)
class Rules:
    """The rules as they apply to one tenant."""

    after_days: tuple[tuple[int, str], ...]  # (more than this many days past due, at least this class), mildest first
    watch_months: int
    provision_percent: dict[str, Decimal]

    def rule_class(self, days_past_due: int, watched: bool) -> str:
        """The class the rules give: the strictest one whose days are passed, and special mention while watched."""
        found = RiskClass.NORMAL.value
        for days, cls in self.after_days:
            if days_past_due > days:
                found = cls
        if watched:
            found = stricter(found, RiskClass.SPECIAL_MENTION.value)
        return found

    def provision(self, risk_class: str, outstanding_principal: int) -> int:
        """The provision a loan of ``risk_class`` needs, in minor units: the class's percent of the outstanding
        principal, rounded half up once."""
        exact = Decimal(outstanding_principal) * self.provision_percent[risk_class] / 100
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def watch_until(self, day: dt.date) -> dt.date:
        """The last day of the observation period that starts on ``day``."""
        month = day.month - 1 + self.watch_months
        year, month = day.year + month // 12, month % 12 + 1
        for last in (31, 30, 29, 28):
            try:
                return dt.date(year, month, min(day.day, last))
            except ValueError:
                continue
        raise AssertionError("unreachable")


def rules_for(tenant) -> Rules:
    lending = tenant.lending or {}
    after_days = tuple((days, DAY_KEYS[key][0]) for key, days in day_thresholds(lending))
    percents = {cls: Decimal(str(lending.get(key, default))) for key, (cls, default) in PROVISION_KEYS.items()}
    return Rules(after_days, int(Decimal(str(lending.get(WATCH_KEY, WATCH_DEFAULT)))), percents)
