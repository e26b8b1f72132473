"""The planner as a season: every weekday pass from 1 January to the deadline, exactly who
gets which DM and when, across time zones and the change to daylight saving time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from scheduler.plan import Kind, Reminder, plan
from scheduler.send import render
from storage.pars import rules
from storage.pars.calendar import Deadline, default_deadline, first_weekday_after, is_countdown_day
from storage.reminders import OpenWork, Person, Snapshot

ALICE, BOB, CAROL, DAVE, ERIN = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN"
CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def person(user_id: str, tz: str | None, **kw: object) -> Person:
    values: dict[str, object] = {
        "used_bot": True,
        "reminders": True,
        "reachable": True,
        "checked_at": NOW,
    }
    return Person(user_id, tz, **(values | kw))  # type: ignore[arg-type]


def work(pk: int, owner: str | None, end: date, **kw: object) -> OpenWork:
    values: dict[str, object] = {
        "activity_id": f"A-{pk}",
        "title": f"Activity {pk}",
        "format": "rss",
        "start": end - timedelta(days=90),
        "status": rules.Status.READY_TO_CLOSE,
        "missing": (rules.Need("learners_physician", rules.Status.CLOSED),),
        "snoozed_until": None,
    }
    return OpenWork(pk=pk, owner=owner, end=end, **(values | kw))  # type: ignore[arg-type]


PEOPLE = {
    ALICE: person(ALICE, "America/Chicago"),
    BOB: person(BOB, "America/Los_Angeles"),
    CAROL: person(CAROL, "America/Chicago", reachable=False),  # a guest
    DAVE: person(DAVE, None, reminders=False),  # turned them off
    # Owns activities, never used the bot: no countdown.
    ERIN: person(ERIN, "America/New_York", used_bot=False),
}


def snapshot(**changes: object) -> Snapshot:
    base = Snapshot(
        team_id="T1",
        zone="America/Chicago",
        digest_channel=None,
        deadlines={},
        people=PEOPLE,
        ended=[
            work(1, BOB, date(2025, 12, 16)),
            work(2, ERIN, date(2026, 2, 10)),
            work(3, CAROL, date(2025, 11, 3)),
            work(4, DAVE, date(2025, 11, 3)),
            work(5, None, date(2025, 11, 3)),
        ],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def season(snap: Snapshot, start: date, end: date) -> dict[tuple[str, str], list[date]]:
    """Hourly passes (UTC) through the season, each reminder sent once: who got what, when."""
    sent: set[tuple[str, str, str, str]] = set()
    got: dict[tuple[str, str], list[date]] = defaultdict(list)
    self_first_hour: dict[tuple[str, str, date], int] = {}
    moment = datetime.combine(start, datetime.min.time(), UTC)
    while moment.date() <= end:
        for reminder in plan(snap, moment):
            key = (reminder.kind, reminder.recipient, reminder.subject, reminder.period)
            if key not in sent:
                sent.add(key)
                got[(reminder.kind, reminder.recipient)].append(reminder.local_date)
                self_first_hour[(reminder.kind, reminder.recipient, reminder.local_date)] = (
                    moment.hour
                )
        moment += timedelta(hours=1)
    got["hours"] = self_first_hour  # type: ignore[assignment]
    return got


def weekdays(start: date, end: date, *, only: int | None = None) -> list[date]:
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [d for d in days if d.weekday() < 5 and (only is None or d.weekday() == only)]


def test_default_deadline_moves_a_weekend_to_monday() -> None:
    assert default_deadline(2023) == datetime(2024, 4, 1, 23, 59, tzinfo=CHICAGO)
    assert default_deadline(2025) == datetime(2026, 3, 31, 23, 59, tzinfo=CHICAGO)
    assert default_deadline(2026) == datetime(2027, 3, 31, 23, 59, tzinfo=CHICAGO)
    assert default_deadline(2028).date() == date(2029, 4, 2)  # a Saturday
    # 11:59 pm Central daylight time is 04:59 UTC the next day.
    assert default_deadline(2025).astimezone(UTC) == datetime(2026, 4, 1, 4, 59, tzinfo=UTC)


def test_countdown_days_skip_weekends_to_the_friday_before() -> None:
    deadline = date(2026, 3, 31)
    days = [d for d in weekdays(date(2026, 1, 1), deadline) if is_countdown_day(d, deadline)]
    assert days == [
        date(2026, 1, 30),  # 60 days
        date(2026, 2, 27),  # 30 days fall on Sunday 1 March
        date(2026, 3, 17),
        date(2026, 3, 24),
        date(2026, 3, 27),  # 3 days fall on Saturday 28 March
        date(2026, 3, 30),
        date(2026, 3, 31),
    ]
    assert first_weekday_after(date(2026, 2, 13)) == date(2026, 2, 16)  # Friday -> Monday


def test_a_whole_season_sends_each_person_exactly_their_reminders() -> None:
    got = season(snapshot(), date(2026, 1, 1), date(2026, 4, 3))
    hours = got.pop("hours")
    countdown = [
        date(2026, 1, 30),
        date(2026, 2, 27),
        date(2026, 3, 17),
        date(2026, 3, 24),
        date(2026, 3, 27),
        date(2026, 3, 30),
        date(2026, 3, 31),
    ]
    bob_unclosed = sorted(
        set(weekdays(date(2026, 1, 1), date(2026, 4, 3), only=0))
        | set(weekdays(date(2026, 3, 24), date(2026, 3, 31)))
    )
    erin_unclosed = [date(2026, 2, 11), *weekdays(date(2026, 2, 12), date(2026, 4, 3), only=0)]
    assert dict(got) == {
        (Kind.COUNTDOWN, ALICE): countdown,
        (Kind.COUNTDOWN, BOB): countdown,
        (Kind.UNCLOSED, BOB): bob_unclosed,
        (Kind.UNCLOSED, ERIN): erin_unclosed,
    }
    # 9:00 local: Chicago is UTC-6 in winter and UTC-5 from 8 March; Los Angeles -8 then -7.
    assert hours[(Kind.COUNTDOWN, ALICE, date(2026, 1, 30))] == 15
    assert hours[(Kind.COUNTDOWN, ALICE, date(2026, 3, 17))] == 14
    assert hours[(Kind.UNCLOSED, BOB, date(2026, 3, 2))] == 17
    assert hours[(Kind.UNCLOSED, BOB, date(2026, 3, 9))] == 16
    assert hours[(Kind.UNCLOSED, ERIN, date(2026, 2, 11))] == 14


def test_a_configured_earlier_deadline_moves_the_countdown_and_the_daily_reminders() -> None:
    early = datetime(2026, 3, 17, 23, 59, tzinfo=ZoneInfo("America/Los_Angeles"))
    snap = snapshot(deadlines={2025: Deadline(2025, early, True, "America/Los_Angeles")})
    got = season(snap, date(2026, 1, 1), date(2026, 3, 31))
    got.pop("hours")
    assert got[(Kind.COUNTDOWN, ALICE)] == [
        date(2026, 1, 16),
        date(2026, 2, 13),
        date(2026, 3, 3),
        date(2026, 3, 10),
        date(2026, 3, 13),
        date(2026, 3, 16),
        date(2026, 3, 17),
    ]
    daily = weekdays(date(2026, 3, 10), date(2026, 3, 17))
    assert set(daily) <= set(got[(Kind.UNCLOSED, BOB)])
    assert date(2026, 3, 18) not in got[(Kind.UNCLOSED, BOB)]  # past the deadline: weekly


def test_nothing_is_planned_before_nine_or_at_weekends() -> None:
    snap = snapshot()
    friday_8_59 = datetime(2026, 1, 30, 8, 59, tzinfo=CHICAGO)
    assert [r for r in plan(snap, friday_8_59) if r.recipient == ALICE] == []
    assert [
        r.kind for r in plan(snap, friday_8_59.replace(hour=9, minute=0)) if r.recipient == ALICE
    ] == [Kind.COUNTDOWN]
    # The same reminder is due at any later moment of the day (catch-up), then not the next.
    late = plan(snap, datetime(2026, 1, 30, 22, 0, tzinfo=CHICAGO))
    assert [r.period for r in late if r.recipient == ALICE] == ["2026-01-30"]
    assert plan(snap, datetime(2026, 1, 31, 10, 0, tzinfo=CHICAGO)) == []  # Saturday


def test_snoozed_activities_wait_three_days() -> None:
    snoozed = work(1, BOB, date(2025, 12, 16), snoozed_until=date(2026, 3, 27))
    snap = snapshot(ended=[snoozed])
    got = season(snap, date(2026, 3, 20), date(2026, 4, 3))
    got.pop("hours")
    assert got[(Kind.UNCLOSED, BOB)] == [date(2026, 3, 30), date(2026, 3, 31)]


def test_a_finished_checklist_stops_the_countdown() -> None:
    class Done:
        data_year = 2025
        left: ClassVar[list[object]] = []

    snap = snapshot(checklist=Done(), ended=[])
    assert plan(snap, datetime(2026, 3, 31, 9, 0, tzinfo=CHICAGO)) == []


def test_enduring_materials_are_asked_for_dec31_counts_in_january() -> None:
    em = work(9, ALICE, date(2027, 6, 30), format="enduring", start=date(2025, 3, 1))
    snap = snapshot(ended=[], dec31={2025: [em]})
    got = season(snap, date(2025, 12, 29), date(2026, 2, 6))
    got.pop("hours")
    # 1 January is a holiday: the first weekday from 2 January, then the Mondays of January.
    assert got[(Kind.ENDURING, ALICE)] == [
        date(2026, 1, 2),
        date(2026, 1, 5),
        date(2026, 1, 12),
        date(2026, 1, 19),
        date(2026, 1, 26),
    ]


def test_the_digest_goes_to_the_channel_on_mondays() -> None:
    snap = snapshot(digest_channel="C0DIGEST")
    due = plan(snap, datetime(2026, 2, 2, 9, 0, tzinfo=CHICAGO))
    digest = [r for r in due if r.kind is Kind.DIGEST]
    assert [(r.recipient, r.owners) for r in digest] == [
        ("C0DIGEST", (("", 1), (BOB, 1), (CAROL, 1), (DAVE, 1)))
    ]
    assert not [
        r for r in plan(snap, datetime(2026, 2, 3, 9, tzinfo=CHICAGO)) if r.kind == "digest"
    ]


def test_an_unclosed_reminder_names_the_deadline_of_its_activities_data_year() -> None:
    # Monday 1 February 2027: 2026 is being reported (due 31 March 2027), but an activity
    # that ended in January 2027 belongs to data year 2027, due in March 2028.
    january = work(1, BOB, date(2027, 1, 15))
    older = work(2, BOB, date(2026, 11, 2))
    moment = datetime(2027, 2, 1, 12, 0, tzinfo=CHICAGO)

    def unclosed(*works: OpenWork) -> Reminder:
        (found,) = [r for r in plan(snapshot(ended=list(works)), moment) if r.kind == "unclosed"]
        return found

    alone = unclosed(january)
    assert alone.deadline.data_year == 2027
    lead = render(alone, snapshot()).text
    assert "by Friday, March 31, 2028, 11:59 PM Central" in lead and "(data year 2027)" in lead
    both = render(unclosed(january, older), snapshot()).text
    assert "PARS needs those that ended in 2026 by Wednesday, March 31, 2027" in both
    # Years late: the deadline has passed, and the DM says so instead of a date to meet.
    late = unclosed(work(3, BOB, date(2024, 5, 6)))
    assert late.days_left < 0
    assert "The PARS deadline for 2024 (Monday, March 31, 2025" in render(late, snapshot()).text
    assert "has passed: report it in PARS as soon as you can" in render(late, snapshot()).text
