"""The deadline calendar: ACCME's deadline of a data year, the reporting year of a day, and
the countdown days. Pure: dates and instants in, dates and instants out; no database."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.errors import ParsError
from storage.pars.fields import FieldError, parse_date

# ACCME's deadline is 11:59 pm Central Time, wherever the provider is.
ACCME_ZONE = ZoneInfo("America/Chicago")


DEADLINE_TIME = time(23, 59)


@dataclass(frozen=True)
class Deadline:
    data_year: int
    due_at: datetime  # aware
    configured: bool
    zone: str = ACCME_ZONE.key  # where it was given: its date there is the deadline's day
    set_by: str | None = None

    def local(self, zone: ZoneInfo) -> datetime:
        return self.due_at.astimezone(zone)

    @property
    def day(self) -> date:
        return self.due_at.astimezone(ZoneInfo(self.zone)).date()


def default_deadline(data_year: int) -> datetime:
    """11:59 pm Central on 31 March of the next year; a weekend moves it to the Monday after."""
    day = date(data_year + 1, 3, 31)
    if day.weekday() >= 5:
        day += timedelta(days=7 - day.weekday())
    return datetime.combine(day, DEADLINE_TIME, ACCME_ZONE)


def deadline_for(year: int, configured: Mapping[int, Deadline]) -> Deadline:
    return configured.get(year) or Deadline(year, default_deadline(year), False)


def reporting_year(today: date, configured: Mapping[int, Deadline]) -> int:
    """The data year being reported on `today`: last year's until its deadline day has passed."""
    last = deadline_for(today.year - 1, configured)
    return today.year - 1 if today <= last.day else today.year


_DEADLINE_TEXT = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})(?:[T ](\d{1,2}):(\d{2}))?")


def parse_deadline(text: str, zone: ZoneInfo) -> datetime:
    """`YYYY-MM-DD[THH:MM]` in the workspace's time zone; no time means 11:59 pm."""
    match = _DEADLINE_TEXT.fullmatch(text.strip())
    if not match:
        raise ParsError(
            f"`{text}` is not a deadline I can read: give YYYY-MM-DD or YYYY-MM-DDTHH:MM, "
            "e.g. `2026-03-17` or `2026-03-17T17:00`."
        )
    try:
        day = parse_date(match.group(1))
        at = time(int(match.group(2)), int(match.group(3))) if match.group(2) else DEADLINE_TIME
    except (FieldError, ValueError) as error:
        raise ParsError(f"`{text}` is not a real date and time ({error}).") from None
    return datetime.combine(day, at, zone)


COUNTDOWN_DAYS = (60, 30, 14, 7, 3, 1, 0)


def weekday_on_or_before(day: date) -> date:
    return day - timedelta(days=max(0, day.weekday() - 4))


def first_weekday_after(day: date) -> date:
    nxt = day + timedelta(days=1)
    return nxt + timedelta(days=(7 - nxt.weekday()) % 7 if nxt.weekday() >= 5 else 0)


def is_countdown_day(day: date, deadline_day: date) -> bool:
    """60, 30, 14, 7, 3 and 1 days before and on the day; a weekend one goes the Friday before."""
    return any(
        weekday_on_or_before(deadline_day - timedelta(days=n)) == day for n in COUNTDOWN_DAYS
    )


def next_countdown_day(today: date, deadline_day: date) -> date | None:
    day = today
    while day <= deadline_day:
        if day.weekday() < 5 and is_countdown_day(day, deadline_day):
            return day
        day += timedelta(days=1)
    return None


def parse_zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ParsError(
            f"`{text}` is not a time zone I know. Use a name such as America/Chicago, "
            "America/New_York, America/Denver or America/Los_Angeles."
        ) from None
