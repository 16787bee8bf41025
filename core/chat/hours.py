"""Office hours: weekday opening times in the tenant's time zone, and whether a moment falls inside them."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from ..i18n import _
from .errors import ChatError

CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = range(7)  # 0 = Monday, as datetime.weekday() counts


def parse_day(weekday: int, opens: str, closes: str) -> tuple[str, str] | None:
    """A weekday's hours from the form: ``None`` when both are blank (closed that day), else checked times."""
    opens, closes = (opens or "").strip(), (closes or "").strip()
    if not opens and not closes:
        return None
    field = f"day{weekday}"
    if not CLOCK.match(opens) or not CLOCK.match(closes):
        raise ChatError(field, _("Write the times as hours and minutes, for example 09:00 and 18:00."))
    if closes <= opens:
        raise ChatError(field, _("The closing time must be after the opening time."))
    return opens, closes


def is_open(hours: dict[int, tuple[str, str]], timezone: str, now: dt.datetime) -> bool:
    """Whether ``now`` (aware) falls inside ``hours`` ({weekday: (opens, closes)}) in ``timezone``.

    No hours at all means no office hours: always open.
    """
    if not hours:
        return True
    local = now.astimezone(zoneinfo.ZoneInfo(timezone))
    day = hours.get(local.weekday())
    return day is not None and day[0] <= local.strftime("%H:%M") < day[1]
