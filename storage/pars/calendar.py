"""The deadline calendar: ACCME's deadline of a data year, the reporting year of a day, and
the countdown days. Pure: dates and instants in, dates and instants out; no database."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

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
    """`YYYY-MM-DD[THH:MM]` in the workspace's time zone; no time means 11:59 pm. A local time
    the clocks skip, or pass twice, is refused: a deadline is one instant, not a guess."""
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
    due = datetime.combine(day, at, zone)
    if (problem := _not_one_instant(due)) is not None:
        raise ParsError(problem)
    return due


def _not_one_instant(local: datetime) -> str | None:
    """Why a local time names no instant or two (a clock change), if it does."""
    first, second = local.replace(fold=0), local.replace(fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    clock = f"{local:%-I:%M %p} on {local:%A %-d %B %Y}"
    zone = str(local.tzinfo)
    apart = abs((first.utcoffset() or timedelta()) - (second.utcoffset() or timedelta()))
    span = "an hour" if apart == timedelta(hours=1) else f"{apart.seconds // 60} minutes"
    # In a gap the wall time read with the offset before the change comes back as another.
    same = first.astimezone(UTC).astimezone(local.tzinfo)
    if same.replace(tzinfo=None) != local.replace(tzinfo=None):
        return (
            f"{clock} does not exist in {zone} (the clocks go forward {span} that day). "
            f"Give `{same:%Y-%m-%dT%H:%M}`, the same instant, or another time."
        )
    return (
        f"{clock} happens twice in {zone}, when the clocks go back: first "
        f"{first:%-I:%M %p %Z}, then {second:%-I:%M %p %Z} {span} later. Give a time that "
        "happens once."
    )


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


@functools.cache
def _iana_zones() -> dict[str, str]:
    """The IANA zone names the tzdata package ships, by lower case. Not the host's own zone
    files: `zoneinfo.available_timezones()` also lists a host's `localtime`, which names that
    host's setting and which another host may not have."""
    names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    # "Factory" is tzdata's placeholder for "no zone set" (its abbreviation is "-00").
    return {name.lower(): name for name in names if name != "Factory"}


def known_zone(name: str) -> ZoneInfo | None:
    """The IANA zone of that name (any case), if there is one."""
    key = _iana_zones().get(name.strip().lower())
    return ZoneInfo(key) if key is not None else None


def suggest_zone(name: str) -> str | None:
    """The zone a near miss meant: a misspelling (America/Chicgo) or a city (New York)."""
    zones = _iana_zones()
    folded = "_".join(name.strip().lower().split())
    cities: dict[str, str] = {}
    for key in sorted(zones):
        cities.setdefault(key.rsplit("/", 1)[-1], zones[key])
    close = difflib.get_close_matches(folded, list(zones), n=1, cutoff=0.8)
    if close:
        return zones[close[0]]
    city = difflib.get_close_matches(folded, list(cities), n=1, cutoff=0.8)
    return cities[city[0]] if city else None


def parse_zone(text: str) -> ZoneInfo:
    zone = known_zone(text)
    if zone is not None:
        return zone
    suggestion = suggest_zone(text)
    hint = f" Did you mean `{suggestion}`?" if suggestion else ""
    raise ParsError(
        f"`{text.strip()}` is not a time zone of the IANA list.{hint} Use a name such as "
        "America/Chicago, America/New_York, America/Denver or America/Los_Angeles."
    )
