"""Which reminders are due at an instant: a pure function of (snapshot, instant).

Every reminder goes out at 9:00 on a weekday in its recipient's time zone (the Slack profile's,
else the workspace's). A pass at any later moment of that same local day plans it again, so a
bot that was down at 9:00 catches up when it returns; the delivery log keeps it to one send.
Nothing of an earlier day is planned, so nothing arrives days late.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.deliveries import DeliveryKey
from storage.pars import calendar
from storage.pars.calendar import first_weekday_after, is_countdown_day
from storage.reminders import OpenWork, Person, Snapshot

SEND_AT = time(9, 0)
DAILY_FROM = 7  # unclosed activities: daily from this many days before the deadline
MONDAY = 0


class Kind(enum.StrEnum):
    COUNTDOWN = "countdown"
    UNCLOSED = "unclosed"
    ENDURING = "enduring"
    DIGEST = "digest"


@dataclass(frozen=True)
class Reminder:
    kind: Kind
    recipient: str  # a user ID, or a channel ID for the digest
    subject: str
    period: str  # the recipient's local date: one of each kind per recipient per day
    local_date: date
    zone: str
    deadline: calendar.Deadline
    activities: tuple[OpenWork, ...] = ()
    owners: tuple[tuple[str, int], ...] = ()  # digest: unclosed activities per owner

    @property
    def days_left(self) -> int:
        return (self.deadline.day - self.local_date).days

    def key(self, team_id: str) -> DeliveryKey:
        return DeliveryKey(team_id, str(self.kind), self.recipient, self.subject, self.period)


@lru_cache(maxsize=512)
def _zone(name: str | None, fallback: str) -> ZoneInfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(fallback)


def _sending_day(instant: datetime, zone: ZoneInfo) -> date | None:
    """The recipient's local date when it is a weekday at or after 9:00 there, else None."""
    local = instant.astimezone(zone)
    if local.weekday() >= 5 or local.time() < SEND_AT:
        return None
    return local.date()


def _unknown(user_id: str) -> Person:
    # Not yet asked of Slack: the workspace's time zone, and the sender checks them first.
    return Person(user_id, None, False, True, True, None)


class _Planner:
    def __init__(self, snapshot: Snapshot, instant: datetime) -> None:
        self.s, self.instant = snapshot, instant
        self._deadline_days: dict[int, date | None] = {}

    def zone_of(self, person: Person) -> ZoneInfo:
        return _zone(person.tz, self.s.zone)

    def deadline_day(self, year: int) -> date | None:
        """The deadline's date where it was set, or None once the deadline has passed.

        Its date as the provider states it, for everyone: "due today" means the same day to
        a colleague in another zone, though none hears of it once the moment has passed.
        """
        if year not in self._deadline_days:
            due = self.s.deadline(year)
            self._deadline_days[year] = None if self.instant >= due.due_at else due.day
        return self._deadline_days[year]

    def reminder(
        self,
        kind: Kind,
        recipient: str,
        subject: str,
        day: date,
        zone: ZoneInfo,
        year: int,
        **extra: tuple[object, ...],
    ) -> Reminder:
        return Reminder(
            kind,
            recipient,
            subject,
            day.isoformat(),
            day,
            zone.key,
            self.s.deadline(year),
            **extra,  # type: ignore[arg-type]
        )

    # -- each kind ----------------------------------------------------------------------------
    def countdown(self, person: Person) -> Reminder | None:
        zone = self.zone_of(person)
        day = _sending_day(self.instant, zone)
        if day is None:
            return None
        year = calendar.reporting_year(day, self.s.deadlines)
        deadline_day = self.deadline_day(year)
        if deadline_day is None or not is_countdown_day(day, deadline_day):
            return None
        checklist = self.s.checklist
        if checklist is not None and checklist.data_year == year and not checklist.left:
            return None  # everything is done: no need to count down
        return self.reminder(Kind.COUNTDOWN, person.user_id, str(year), day, zone, year)

    def unclosed_due(self, work: OpenWork, day: date) -> bool:
        if work.end >= day or (work.snoozed_until and day <= work.snoozed_until):
            return False
        first = first_weekday_after(work.end)
        if day == first or day.weekday() == MONDAY:
            return day >= first
        deadline_day = self.deadline_day(work.end.year)
        return deadline_day is not None and 0 <= (deadline_day - day).days <= DAILY_FROM

    def unclosed(self, person: Person, works: list[OpenWork]) -> Reminder | None:
        zone = self.zone_of(person)
        day = _sending_day(self.instant, zone)
        if day is None:
            return None
        due = tuple(w for w in works if self.unclosed_due(w, day))
        if not due:
            return None
        # The deadline the DM names is that of the oldest data year among them: in February
        # an activity that ended in January belongs to next year's report, not this one's.
        year = min(w.end.year for w in due)
        return self.reminder(
            Kind.UNCLOSED, person.user_id, "ended", day, zone, year, activities=due
        )

    def enduring(self, person: Person, works: list[OpenWork]) -> Reminder | None:
        zone = self.zone_of(person)
        day = _sending_day(self.instant, zone)
        if day is None or day.month != 1:
            return None
        first = day.replace(day=2)
        first += timedelta(days=(7 - first.weekday()) % 7 if first.weekday() >= 5 else 0)
        if not (day == first or (day > first and day.weekday() == MONDAY)):
            return None
        year = day.year - 1
        due = tuple(
            w
            for w in works
            if w.start <= date(year, 12, 31) and not (w.snoozed_until and day <= w.snoozed_until)
        )
        if not due:
            return None
        return self.reminder(
            Kind.ENDURING, person.user_id, f"dec31-{year}", day, zone, year, activities=due
        )

    def digest(self) -> Reminder | None:
        channel = self.s.digest_channel
        zone = ZoneInfo(self.s.zone)
        day = _sending_day(self.instant, zone)
        if channel is None or day is None or day.weekday() != MONDAY:
            return None
        per_owner: dict[str, int] = defaultdict(int)
        for work in self.s.ended:
            if work.end < day:
                per_owner[work.owner or ""] += 1
        owners = tuple(sorted(per_owner.items(), key=lambda kv: (-kv[1], kv[0])))
        year = calendar.reporting_year(day, self.s.deadlines)
        return self.reminder(Kind.DIGEST, channel, str(year), day, zone, year, owners=owners)


def _by_owner(works: list[OpenWork]) -> dict[str, list[OpenWork]]:
    grouped: dict[str, list[OpenWork]] = defaultdict(list)
    for work in works:
        if work.owner:
            grouped[work.owner].append(work)
    return grouped


def plan(snapshot: Snapshot, instant: datetime) -> list[Reminder]:
    """Every reminder due for the workspace at `instant`, in a stable order."""
    planner = _Planner(snapshot, instant)
    people = snapshot.people

    def wants(user_id: str) -> Person | None:
        person = people.get(user_id) or _unknown(user_id)
        return person if person.reminders and person.reachable else None

    due: list[Reminder | None] = []
    for person in people.values():
        if person.used_bot and wants(person.user_id):
            due.append(planner.countdown(person))
    for owner, works in _by_owner(snapshot.ended).items():
        if person := wants(owner):
            due.append(planner.unclosed(person, works))
    for year_works in snapshot.dec31.values():
        for owner, works in _by_owner(year_works).items():
            if person := wants(owner):
                due.append(planner.enduring(person, works))
    due.append(planner.digest())
    order = list(Kind)
    return sorted(
        (r for r in due if r is not None), key=lambda r: (order.index(r.kind), r.recipient)
    )
