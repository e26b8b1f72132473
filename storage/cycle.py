"""The annual reporting cycle: deadlines, workspace settings, the five-step checklist and
the Program Summary. Dates and instants are always passed in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from storage import program_summary, rules
from storage.db import as_utc, stored_utc
from storage.errors import ParsError
from storage.fields import FieldError, parse_date
from storage.models import (
    Activity,
    ChecklistMark,
    LearnerCount,
    ProgramSummary,
    ReportingDeadline,
    WorkspaceSettings,
)

# ACCME's deadline is 11:59 pm Central Time, wherever the provider is.
ACCME_ZONE = ZoneInfo("America/Chicago")
DEADLINE_TIME = time(23, 59)


# -- deadlines --------------------------------------------------------------------------------


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


def configured_deadlines(*, session: Session, team_id: str) -> dict[int, Deadline]:
    rows = session.exec(select(ReportingDeadline).where(ReportingDeadline.team_id == team_id))
    return {
        r.data_year: Deadline(r.data_year, stored_utc(r.due_at), True, r.timezone, r.set_by)
        for r in rows.all()
    }


def deadline_for(year: int, configured: Mapping[int, Deadline]) -> Deadline:
    return configured.get(year) or Deadline(year, default_deadline(year), False)


def get_deadline(*, session: Session, team_id: str, year: int) -> Deadline:
    return deadline_for(year, configured_deadlines(session=session, team_id=team_id))


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


def set_deadline(
    *,
    session: Session,
    team_id: str,
    user_id: str,
    due_at: datetime,
    year: int | None,
    now: datetime,
) -> Deadline:
    """Set the deadline of a data year (by default the year before the deadline's year)."""
    data_year = year if year is not None else due_at.year - 1
    if due_at.year != data_year + 1:
        raise ParsError(
            f"A deadline for data year {data_year} falls in {data_year + 1}; "
            f"{due_at:%Y-%m-%d} does not."
        )
    row = session.exec(
        select(ReportingDeadline).where(
            ReportingDeadline.team_id == team_id, ReportingDeadline.data_year == data_year
        )
    ).first() or ReportingDeadline(
        team_id=team_id, data_year=data_year, due_at=due_at, timezone="", set_by=user_id, set_at=now
    )
    zone = str(due_at.tzinfo)
    row.due_at, row.timezone, row.set_by, row.set_at = as_utc(due_at), zone, user_id, as_utc(now)
    session.add(row)
    session.flush()
    return Deadline(data_year, due_at, True, zone, user_id)


def reset_deadline(*, session: Session, team_id: str, year: int) -> Deadline:
    session.execute(
        sa.delete(ReportingDeadline).where(
            col(ReportingDeadline.team_id) == team_id, col(ReportingDeadline.data_year) == year
        )
    )
    return Deadline(year, default_deadline(year), False)


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


# -- workspace settings ----------------------------------------------------------------------


def workspace_settings(*, session: Session, team_id: str) -> WorkspaceSettings | None:
    return session.get(WorkspaceSettings, team_id)


def workspace_zone(*, session: Session, team_id: str, default: ZoneInfo) -> ZoneInfo:
    found = workspace_settings(session=session, team_id=team_id)
    return ZoneInfo(found.timezone) if found and found.timezone else default


def parse_zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ParsError(
            f"`{text}` is not a time zone I know. Use a name such as America/Chicago, "
            "America/New_York, America/Denver or America/Los_Angeles."
        ) from None


def update_settings(
    *, session: Session, team_id: str, user_id: str, now: datetime, **changes: str | None
) -> WorkspaceSettings:
    """Change `timezone` and/or `digest_channel` (None clears it)."""
    row = workspace_settings(session=session, team_id=team_id) or WorkspaceSettings(
        team_id=team_id, updated_by=user_id, updated_at=now
    )
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = user_id, as_utc(now)
    session.add(row)
    session.flush()
    return row


# -- the checklist ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    key: str
    number: int
    title: str
    computed: bool


STEPS: tuple[Step, ...] = (
    Step("agreement", 1, "Accept the annual agreement in PARS", False),
    Step(
        "activities", 2, "Enter the activities that started in {year}; close those that ended", True
    ),
    Step("counts", 3, "Cumulative learner counts of enduring materials as of Dec 31, {year}", True),
    Step("summary", 4, "Complete and submit the Program Summary in PARS", False),
    Step("contact", 5, "Review the organization's contact information in PARS", False),
)
STEP_BY_KEY = {s.key: s for s in STEPS}
STEP_ALIASES = {
    "1": "agreement",
    "annual-agreement": "agreement",
    "2": "activities",
    "3": "counts",
    "4": "summary",
    "program-summary": "summary",
    "5": "contact",
    "contacts": "contact",
    "contact-info": "contact",
}
NAMED = 5  # how many open activities a step names


def find_step(word: str) -> Step:
    key = STEP_ALIASES.get(word.lower(), word.lower())
    if key not in STEP_BY_KEY:
        raise ParsError(
            f"`{word}` is not a checklist step. Steps you mark: `agreement`, `summary`, `contact`."
        )
    return STEP_BY_KEY[key]


@dataclass(frozen=True)
class Named:
    activity_id: str
    title: str


@dataclass(frozen=True)
class Checklist:
    data_year: int
    deadline: Deadline
    started: int  # activities that started in the year
    ended: int  # ... that ended in it
    ended_open: int
    open_named: list[Named]
    enduring_due: int  # open enduring materials running on Dec 31
    enduring_missing: int
    enduring_named: list[Named]
    marks: dict[str, ChecklistMark]
    summary: ProgramSummary | None

    def done(self, key: str) -> bool:
        if key == "activities":
            return (self.started + self.ended) > 0 and self.ended_open == 0
        if key == "counts":
            return self.enduring_missing == 0
        return key in self.marks

    @property
    def left(self) -> list[Step]:
        return [s for s in STEPS if not self.done(s.key)]


def mark_step(
    *, session: Session, team_id: str, year: int, step: Step, user_id: str, now: datetime
) -> ChecklistMark:
    if step.computed:
        raise ParsError(
            f"Step {step.number} is worked out from your activities, so it can't be marked by "
            "hand: it is done once they are entered, closed and counted."
        )
    existing = _mark(session, team_id, year, step.key)
    if existing is not None:
        return existing  # done stays done by whoever marked it first
    mark = ChecklistMark(
        team_id=team_id, data_year=year, step=step.key, done_by=user_id, done_at=as_utc(now)
    )
    try:
        with session.begin_nested():
            session.add(mark)
            session.flush()
    except sa.exc.IntegrityError:  # marked by someone else at the same moment
        return _mark(session, team_id, year, step.key) or mark
    return mark


def unmark_step(*, session: Session, team_id: str, year: int, step: Step) -> bool:
    if step.computed:
        raise ParsError(f"Step {step.number} is worked out from your activities; nothing to undo.")
    result = session.execute(
        sa.delete(ChecklistMark).where(
            col(ChecklistMark.team_id) == team_id,
            col(ChecklistMark.data_year) == year,
            col(ChecklistMark.step) == step.key,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _mark(session: Session, team_id: str, year: int, key: str) -> ChecklistMark | None:
    return session.exec(
        select(ChecklistMark).where(
            ChecklistMark.team_id == team_id,
            ChecklistMark.data_year == year,
            ChecklistMark.step == key,
        )
    ).first()


def _named(session: Session, query: sa.Select[tuple[str, str]]) -> list[Named]:
    return [Named(i, t) for i, t in session.execute(query.limit(NAMED)).all()]


def missing_dec31_counts(year: int) -> sa.ColumnElement[bool]:
    """An enduring material lacks a cumulative count as of Dec 31 of `year` in some category."""
    dec31 = date(year, 12, 31)
    # Aliased and correlated to the activity only, so it also works inside queries that
    # join learner_count themselves.
    counts = aliased(LearnerCount)
    has = [
        sa.exists()
        .where(
            counts.activity_pk == col(Activity.id),
            counts.category == category,
            counts.as_of == dec31,
        )
        .correlate(Activity)
        for category in rules.LEARNER_CATEGORIES
    ]
    return sa.not_(sa.and_(*has))


def enduring_on_dec31(team_id: str, year: int) -> list[sa.ColumnElement[bool]]:
    """Open enduring materials of a workspace running on Dec 31 of `year`."""
    dec31 = date(year, 12, 31)
    return [
        col(Activity.team_id) == team_id,
        col(Activity.format) == rules.ENDURING,
        col(Activity.closed_at).is_(None),
        col(Activity.start_date) <= dec31,
        col(Activity.end_date) >= dec31,
    ]


def compute_checklist(*, session: Session, team_id: str, year: int) -> Checklist:
    """The five steps of data year `year`, from a few aggregate queries however many rows."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    in_team = col(Activity.team_id) == team_id
    started = session.exec(
        select(func.count()).where(in_team, col(Activity.start_date).between(first, last))
    ).one()
    ended_in_year = [in_team, col(Activity.end_date).between(first, last)]
    ended, ended_open = session.execute(
        select(
            func.count(),
            func.count(sa.case((col(Activity.closed_at).is_(None), 1))),
        ).where(*ended_in_year)
    ).one()
    ids = select(Activity.activity_id, Activity.title).order_by(
        col(Activity.end_date), col(Activity.activity_id)
    )
    open_named = _named(session, ids.where(*ended_in_year, col(Activity.closed_at).is_(None)))
    enduring = enduring_on_dec31(team_id, year)
    enduring_due, enduring_missing = session.execute(
        select(func.count(), func.count(sa.case((missing_dec31_counts(year), 1)))).where(*enduring)
    ).one()
    enduring_named = _named(session, ids.where(*enduring, missing_dec31_counts(year)))
    marks = {
        m.step: m
        for m in session.exec(
            select(ChecklistMark).where(
                ChecklistMark.team_id == team_id, ChecklistMark.data_year == year
            )
        ).all()
    }
    return Checklist(
        data_year=year,
        deadline=get_deadline(session=session, team_id=team_id, year=year),
        started=started,
        ended=ended,
        ended_open=ended_open,
        open_named=open_named,
        enduring_due=enduring_due,
        enduring_missing=enduring_missing,
        enduring_named=enduring_named,
        marks=marks,
        summary=program_summary.get_summary(session=session, team_id=team_id, year=year),
    )
