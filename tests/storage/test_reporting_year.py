"""Deadlines, the checklist computed from the activities, the Program Summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from storage import activities as service
from storage import checklist, program_summary, settings
from storage import counts as learner_counts
from storage.errors import ParsError, ValidationFailed
from storage.pars import calendar
from tests.conftest import NOW

T = "T1"
CHICAGO = ZoneInfo("America/Chicago")
LA = ZoneInfo("America/Los_Angeles")
CDT_OFFSET = timedelta(hours=-5)
COMPLETE = {
    "delivery_method": "in-person",
    "city": "Chicago",
    "state": "IL",
    "country": "USA",
    "credits": "1",
    "description": "Cases",
    "providership": "direct",
    "cme_finder": "no",
    "outcome_measures": "knowledge",
    "commercial_support": "no",
}


def add(session: Session, activity_id: str, start: str, end: str, **raw: str) -> None:
    service.create_activity(
        session=session,
        team_id=T,
        actor=service.Actor("U1"),
        raw={
            "activity_id": activity_id,
            "title": f"T {activity_id}",
            "format": "rss",
            "start_date": start,
            "end_date": end,
        }
        | raw,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("year", "due"),
    [
        (2023, datetime(2024, 4, 1, 23, 59)),  # 31 March 2024 is a Sunday
        (2024, datetime(2025, 3, 31, 23, 59)),
        (2025, datetime(2026, 3, 31, 23, 59)),
        (2028, datetime(2029, 4, 2, 23, 59)),  # a Saturday
    ],
)
def test_accme_default_deadline(year: int, due: datetime) -> None:
    assert calendar.default_deadline(year) == due.replace(tzinfo=CHICAGO)


def test_the_deadline_is_central_daylight_time() -> None:
    # Daylight saving time began on 8 March 2026: 11:59 pm is UTC-5, not UTC-6.
    assert calendar.default_deadline(2025).astimezone(UTC) == datetime(
        2026, 4, 1, 4, 59, tzinfo=UTC
    )


def test_a_configured_deadline_is_for_the_year_before_its_own(session: Session) -> None:
    due = calendar.parse_deadline("2026-03-17", LA)
    assert due == datetime(2026, 3, 17, 23, 59, tzinfo=LA)
    saved = settings.set_deadline(
        session=session, team_id=T, user_id="U1", due_at=due, year=None, now=NOW
    )
    assert saved.data_year == 2025
    with_time = calendar.parse_deadline("2026-03-14T17:00", LA)
    settings.set_deadline(
        session=session, team_id=T, user_id="U1", due_at=with_time, year=2025, now=NOW
    )
    session.commit()
    found = settings.get_deadline(session=session, team_id=T, year=2025)
    assert found.configured and found.due_at == with_time and found.day == date(2026, 3, 14)
    assert settings.get_deadline(session=session, team_id="T2", year=2025).configured is False
    assert settings.get_deadline(
        session=session, team_id=T, year=2024
    ).due_at == calendar.default_deadline(2024)
    settings.reset_deadline(session=session, team_id=T, year=2025)
    assert settings.get_deadline(session=session, team_id=T, year=2025).configured is False


@pytest.mark.parametrize("text", ["March 17", "2026-02-30", "2026-03-17T25:00", "17/3/2026"])
def test_unreadable_deadlines_are_refused(text: str) -> None:
    with pytest.raises(ParsError):
        calendar.parse_deadline(text, CHICAGO)


def test_a_deadline_outside_the_following_year_is_refused(session: Session) -> None:
    with pytest.raises(ParsError, match="falls in 2026"):
        settings.set_deadline(
            session=session,
            team_id=T,
            user_id="U1",
            due_at=calendar.parse_deadline("2027-03-01", CHICAGO),
            year=2025,
            now=NOW,
        )


def test_the_year_being_reported_turns_over_after_the_deadline_day() -> None:
    assert calendar.reporting_year(date(2026, 3, 31), {}) == 2025
    assert calendar.reporting_year(date(2026, 4, 1), {}) == 2026
    assert calendar.reporting_year(date(2024, 4, 1), {}) == 2023  # the Monday deadline
    early = {2025: calendar.Deadline(2025, datetime(2026, 3, 17, 23, 59, tzinfo=LA), True, LA.key)}
    assert calendar.reporting_year(date(2026, 3, 18), early) == 2026


def test_the_checklist_is_computed_from_the_activities(session: Session) -> None:
    add(session, "OPEN-1", "2025-01-07", "2025-06-30")
    add(session, "OPEN-2", "2025-02-01", "2025-09-30")
    add(session, "DONE-1", "2025-01-07", "2025-03-30", **COMPLETE)
    add(session, "NEXT-1", "2025-10-01", "2026-06-30")  # started in 2025, still running
    add(session, "OLD-1", "2024-05-01", "2024-12-01")  # another year
    add(session, "EM-1", "2025-03-01", "2027-02-28", format="enduring")
    add(session, "EM-2", "2025-03-01", "2027-02-28", format="enduring")
    add(session, "EM-3", "2026-02-01", "2027-02-28", format="enduring")  # after Dec 31
    learner_counts.record_counts(
        session=session,
        team_id=T,
        actor=service.Actor("U1"),
        activity_id="DONE-1",
        counts={"physician": "10", "other": "2"},
        as_of=None,
        now=NOW,
        today=date(2026, 1, 5),
    )
    service.close_activity(
        session=session,
        team_id=T,
        actor=service.Actor("U1"),
        activity_id="DONE-1",
        now=NOW,
        today=date(2026, 1, 5),
    )
    learner_counts.record_counts(
        session=session,
        team_id=T,
        actor=service.Actor("U1"),
        activity_id="EM-1",
        counts={"physician": "300", "other": "40"},
        as_of=None,
        now=NOW,
        today=date(2026, 1, 5),
    )
    checklist.mark_step(
        session=session,
        team_id=T,
        year=2025,
        step=checklist.find_step("agreement"),
        user_id="U2",
        now=NOW,
    )
    session.commit()
    steps = checklist.compute_checklist(session=session, team_id=T, year=2025)
    assert (steps.started, steps.ended, steps.ended_open) == (6, 3, 2)
    assert [n.activity_id for n in steps.open_named] == ["OPEN-1", "OPEN-2"]
    assert (steps.enduring_due, steps.enduring_missing) == (2, 1)
    assert [n.activity_id for n in steps.enduring_named] == ["EM-2"]
    assert steps.marks["agreement"].done_by == "U2"
    assert [s.key for s in steps.left] == ["activities", "counts", "summary", "contact"]
    assert checklist.compute_checklist(session=session, team_id="T2", year=2025).started == 0


def test_marking_steps_done_and_undoing_them(session: Session) -> None:
    step = checklist.find_step("program-summary")
    assert step.key == "summary"
    first = checklist.mark_step(
        session=session, team_id=T, year=2025, step=step, user_id="U1", now=NOW
    )
    again = checklist.mark_step(
        session=session, team_id=T, year=2025, step=step, user_id="U2", now=NOW
    )
    assert again.done_by == first.done_by == "U1"
    assert checklist.unmark_step(session=session, team_id=T, year=2025, step=step)
    assert not checklist.unmark_step(session=session, team_id=T, year=2025, step=step)
    with pytest.raises(ParsError, match="worked out from your activities"):
        checklist.mark_step(
            session=session,
            team_id=T,
            year=2025,
            step=checklist.find_step("2"),
            user_id="U1",
            now=NOW,
        )
    with pytest.raises(ParsError, match="not a checklist step"):
        checklist.find_step("agrement")


SUMMARY = {
    "period_start": "2025-01-01",
    "period_end": "2025-12-31",
    "advertising_income": "12,500",
    "registration_fees": "$48,000.50",
    "government_grants": "0",
    "private_donations": "2500",
}


def test_the_program_summary_is_kept_per_year(session: Session) -> None:
    saved = program_summary.save_summary(
        session=session, team_id=T, year=2025, raw=SUMMARY, user_id="U1", now=NOW
    )
    assert saved.registration_fees == Decimal("48000.50")
    program_summary.save_summary(
        session=session,
        team_id=T,
        year=2025,
        raw=SUMMARY | {"government_grants": "100"},
        user_id="U2",
        now=NOW,
    )
    session.commit()
    found = program_summary.get_summary(session=session, team_id=T, year=2025)
    assert found is not None and found.government_grants == Decimal("100.00")
    assert found.updated_by == "U2"
    assert program_summary.get_summary(session=session, team_id=T, year=2024) is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"advertising_income": ""}, "advertising_income", "required"),
        ({"registration_fees": "-5"}, "registration_fees", "negative"),
        ({"period_end": "2024-12-31"}, "period_end", "ends before it starts"),
        ({"period_end": "2026-01-01"}, "period_end", "longer than 12 months"),
        ({"period_start": "someday"}, "period_start", "not a date"),
        ({"period_start": "9999-12-31"}, "period_start", "outside the years pars-bot accepts"),
        ({"period_end": "9999-12-31"}, "period_end", "give a date from 2000 to 2031"),
        ({"period_end": "0001-01-01"}, "period_end", "outside the years pars-bot accepts"),
    ],
)
def test_program_summary_problems(
    session: Session, change: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        program_summary.save_summary(
            session=session, team_id=T, year=2025, raw=SUMMARY | change, user_id="U1", now=NOW
        )
    assert [p.field for p in refused.value.problems] == [field]
    assert message in refused.value.problems[0].message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2026-03-08T02:30", "2:30 AM on Sunday 8 March 2026 does not exist in America/Chicago"),
        (
            "2026-03-08T02:00",
            "forward an hour that day). Give `2026-03-08T03:00`, the same instant",
        ),
        ("2026-11-01T01:30", "1:30 AM on Sunday 1 November 2026 happens twice in America/Chicago"),
        ("2026-11-01T01:00", "first 1:00 AM CDT, then 1:00 AM CST an hour later"),
    ],
)
def test_a_deadline_at_a_local_time_that_does_not_exist_or_exists_twice_is_refused(
    text: str, words: str
) -> None:
    with pytest.raises(ParsError) as refused:
        calendar.parse_deadline(text, CHICAGO)
    assert words in refused.value.message


def test_the_hours_around_a_clock_change_are_deadlines_like_any_other() -> None:
    assert calendar.parse_deadline("2026-03-08T03:00", CHICAGO).utcoffset() == CDT_OFFSET
    assert calendar.parse_deadline("2026-03-08T01:59", CHICAGO).tzname() == "CST"
    assert calendar.parse_deadline("2026-11-01T02:00", CHICAGO).tzname() == "CST"
    assert calendar.parse_deadline("2026-11-01T00:59", CHICAGO).tzname() == "CDT"


@pytest.mark.parametrize(
    ("text", "year", "words"),
    [
        (
            "9999-12-31",
            None,
            "deadlines of data years 2000 to 2031; 9999-12-31 would be that of 9998",
        ),
        ("0001-01-01", None, "0001-01-01 would be that of 0"),
        ("2000-03-31", None, "2000-03-31 would be that of 1999"),
    ],
)
def test_a_deadline_of_a_data_year_the_bot_does_not_accept_is_refused(
    session: Session, text: str, year: int | None, words: str
) -> None:
    with pytest.raises(ParsError) as refused:
        settings.set_deadline(
            session=session,
            team_id=T,
            user_id="U1",
            due_at=calendar.parse_deadline(text, CHICAGO),
            year=year,
            now=NOW,
        )
    assert words in refused.value.message
    assert settings.configured_deadlines(session=session, team_id=T) == {}


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("America/Chicago", "America/Chicago"),
        ("america/new_york", "America/New_York"),
        ("UTC", "UTC"),
    ],
)
def test_time_zones_are_iana_names_in_any_case(typed: str, zone: str) -> None:
    assert calendar.parse_zone(typed).key == zone


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("localtime", "`localtime` is not a time zone of the IANA list"),
        ("Factory", "`Factory` is not a time zone of the IANA list"),
        ("America/Chicgo", "Did you mean `America/Chicago`?"),
        ("Chicago", "Did you mean `America/Chicago`?"),
        ("new york", "Did you mean `America/New_York`?"),
        ("Mars/Olympus", "Use a name such as America/Chicago"),
    ],
)
def test_other_time_zones_are_refused_with_a_suggestion_for_a_near_miss(
    typed: str, words: str
) -> None:
    with pytest.raises(ParsError) as refused:
        calendar.parse_zone(typed)
    assert words in refused.value.message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"advertising_income": "12,500\x00"}, "advertising_income"),
        ({"period_start": "2025-01-01\x1b"}, "period_start"),
    ],
)
def test_control_characters_in_the_program_summary_are_refused_naming_the_field(
    session: Session, change: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        program_summary.save_summary(
            session=session, team_id=T, year=2025, raw=SUMMARY | change, user_id="U1", now=NOW
        )
    [problem] = refused.value.problems
    assert problem.field == field
    assert ": holds an invisible control character (U+00" in problem.message
