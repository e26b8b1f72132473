"""The five-step PARS checklist of a data year: steps 2 and 3 computed from the activities,
steps 1, 4 and 5 marked done by people (who and when)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from storage import program_summary
from storage.db import as_utc
from storage.errors import ParsError
from storage.models import Activity, ChecklistMark, LearnerCount, ProgramSummary
from storage.pars import rules
from storage.pars.calendar import Deadline
from storage.settings import get_deadline


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
    existing = step_mark(session=session, team_id=team_id, year=year, key=step.key)
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
        return step_mark(session=session, team_id=team_id, year=year, key=step.key) or mark
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


def step_mark(*, session: Session, team_id: str, year: int, key: str) -> ChecklistMark | None:
    """Who marked a step of a data year done, and when; None while it is not."""
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
