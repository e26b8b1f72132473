"""Reading many activities at once: pages of lists, and status with missing fields in bulk.

A workspace may hold 100,000 activities; nothing here loads one row per query or decides in
Python what an index can decide in the database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.collector import collector_paused
from storage.models import Activity, LearnerCount
from storage.pars import rules

LIST_VIEWS = ("open", "ready", "closed", "unclosed", "mine", "all")


@dataclass(frozen=True)
class ActivityPage:
    rows: list[tuple[Activity, rules.Status]]
    total: int
    page: int
    pages: int


def list_activities(
    *,
    session: Session,
    team_id: str,
    today: date,
    views: Sequence[str] = ("open",),
    year: int | None = None,
    format_code: str | None = None,
    owner_user_id: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> ActivityPage:
    """Activities of a workspace filtered the way `/pars list` names them, one page at a time.

    `year` keeps activities that ran during that year (for enduring materials spanning years).
    Besides the list views, `running` keeps open activities whose end date has not passed.
    """
    query = select(Activity).where(Activity.team_id == team_id)
    chosen = set(views)
    if "closed" in chosen:
        query = query.where(col(Activity.closed_at).is_not(None))
    elif chosen & {"open", "ready", "unclosed", "running"}:
        query = query.where(col(Activity.closed_at).is_(None))
    if chosen & {"ready", "unclosed"}:
        query = query.where(Activity.end_date < today)
    if "running" in chosen:
        query = query.where(Activity.end_date >= today)
    if "ready" in chosen:
        query = query.where(col(Activity.active_fields_complete).is_(True))
    if "mine" in chosen and owner_user_id:
        query = query.where(Activity.owner_user_id == owner_user_id)
    if year is not None:
        query = query.where(
            Activity.start_date <= date(year, 12, 31), Activity.end_date >= date(year, 1, 1)
        )
    if format_code:
        query = query.where(Activity.format == format_code)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page, pages = _page_bounds(page, per_page, total)
    query = query.order_by(col(Activity.end_date), col(Activity.activity_id))
    chosen_rows = session.exec(query.offset((page - 1) * per_page).limit(per_page)).all()
    rows = [
        (a, rules.derive_status(a, closed=a.closed_at is not None, today=today))
        for a in chosen_rows
    ]
    return ActivityPage(rows, total, page, pages)


def _page_bounds(page: int, per_page: int, total: int) -> tuple[int, int]:
    """The page asked for, kept within the pages there are, and how many there are."""
    pages = max(1, -(-total // per_page))
    return min(max(page, 1), pages), pages


def counts_on_file(
    *, session: Session, team_id: str, activity_pks: Collection[int] | None = None
) -> dict[int, dict[str, date]]:
    """Per activity, each learner category on file with the as-of date of its newest count:
    one grouped query for the whole workspace, or for the activities named."""
    query = (
        select(LearnerCount.activity_pk, LearnerCount.category, func.max(LearnerCount.as_of))
        .where(LearnerCount.team_id == team_id)
        .group_by(col(LearnerCount.activity_pk), col(LearnerCount.category))
    )
    if activity_pks is not None:
        query = query.where(col(LearnerCount.activity_pk).in_(list(activity_pks)))
    found: dict[int, dict[str, date]] = {}
    for pk, category, as_of in session.exec(query).all():
        found.setdefault(pk, {})[category] = as_of
    return found


@dataclass(frozen=True)
class ActivityState:
    """One activity's PARS status and what PARS still needs of it (rules.still_needs)."""

    # A row with the activity's columns as attributes; its `description` only says whether
    # one is filled in ("yes" or None).
    activity: Any
    status: rules.Status
    missing: tuple[rules.Need, ...]


def activity_states(
    *,
    session: Session,
    team_id: str,
    today: date,
    unclosed_only: bool = False,
    owner_user_id: str | None = None,
) -> list[ActivityState]:
    """The status of every activity of a workspace (or of its open ones, or one owner's).

    Rows are read as plain tuples, not ORM objects, and learner counts in one grouped query:
    the status of 100,000 activities takes about a second, not a query each.
    """
    table = Activity.__table__
    query = select(*STATE_COLUMNS).where(table.c.team_id == team_id)
    if unclosed_only:
        query = query.where(table.c.closed_at.is_(None))
    if owner_user_id is not None:
        query = query.where(table.c.owner_user_id == owner_user_id)
    with collector_paused():  # 100,000 rows and states: see storage/collector.py
        rows = session.connection().execute(query).all()
        counted = counts_on_file(session=session, team_id=team_id)
        states = []
        for row in rows:
            status, missing = rules.status_and_needs(
                row,  # type: ignore[arg-type]
                closed=row.closed_at is not None,
                counted=counted.get(row.id, _NONE_COUNTED),
                today=today,
            )
            states.append(ActivityState(row, status, tuple(missing)))
    return states


_NONE_COUNTED: dict[str, date] = {}
_TABLE = Activity.__table__
# What the rules and a reminder read. Not the bookkeeping columns, and of the description only
# whether it is filled in: reading 100,000 long texts to test them for blankness costs seconds.
STATE_COLUMNS = [
    c
    for c in _TABLE.c
    if c.name
    not in {"team_id", "description", "created_at", "created_by", "updated_at", "updated_by"}
] + [
    sa.case(
        (sa.func.coalesce(_TABLE.c.description, "") == "", None), else_=sa.literal("yes")
    ).label("description")
]
