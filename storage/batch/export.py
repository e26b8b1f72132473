"""The PARS-ready export of a data year: the workspace's rows read as plain rows, written with
the sheets' columns (storage/sheets/workbooks.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, or_, select

from storage import duplicates, members
from storage.batch.store import TEMPLATE, get_plan, update_plan
from storage.errors import ParsError
from storage.models import Activity, BatchPlan, LearnerCount
from storage.pars import rules
from storage.pars.needs import BLOCKED, column_text
from storage.sheets.fill import Filled, fill_template, tsv_bytes
from storage.sheets.headers import (
    AS_OF,
    CLOSE,
    DUPLICATES_SHEET,
    MISSING_SHEET,
    OTHERS,
    PHYSICIANS,
)
from storage.sheets.read import Limits
from storage.sheets.tables import write_table
from storage.sheets.workbooks import export_labels, export_rows, moc_groups, to_bytes

# The third sheet: probable duplicates, each activity with the others it probably repeats.
DUPLICATES_HEADERS = ["Activity ID", "Title", "Start date", "Probably the same as"]

# The Still missing sheet: what each activity lacks, a column per status it holds back.
MISSING_HEADERS = ["Activity ID", "Title", "Status"] + [f"Needed for {s}" for s in BLOCKED]


def data_year_activities(session: Session, team_id: str, year: int) -> list[Any]:
    """Data year Y: activities that started in Y, and enduring materials open during Y.

    Plain rows, not ORM objects: an export reads them once, and 10,000 objects cost a second.
    """
    first, last = date(year, 1, 1), date(year, 12, 31)
    table = Activity.__table__
    query = (
        select(table)
        .where(table.c.team_id == team_id)
        .where(
            or_(
                (table.c.start_date >= first) & (table.c.start_date <= last),
                (table.c.format == rules.ENDURING)
                & (table.c.start_date <= last)
                & (table.c.end_date >= first),
            )
        )
        .order_by(table.c.start_date, table.c.activity_id)
    )
    return list(session.connection().execute(query).all())


def current_counts(session: Session, team_id: str) -> dict[int, dict[str, Any]]:
    """Each activity's current count per learner category, as plain rows."""
    table = LearnerCount.__table__
    rows = session.connection().execute(
        select(table)
        .where(table.c.team_id == team_id)
        .order_by(table.c.as_of, table.c.recorded_at, table.c.id)
    )
    current: dict[int, dict[str, Any]] = {}
    for row in rows:
        current.setdefault(row.activity_pk, {})[row.category] = row
    return current


@dataclass(frozen=True)
class Export:
    data: bytes
    activities: int
    year: int


def export_workbook(*, session: Session, team_id: str, year: int, today: date) -> Export:
    labels, rows = _rows(session, team_id, year, today)
    workbook = Workbook(write_only=True)
    write_table(
        workbook.create_sheet(f"Activities {year}"),
        labels,
        [values for _activity, values, _status, _missing in rows],
    )
    write_table(
        workbook.create_sheet(MISSING_SHEET),
        MISSING_HEADERS,
        [
            [
                activity.activity_id,
                activity.title,
                str(status),
                *(column_text(missing, blocked) for blocked in BLOCKED),
            ]
            for activity, _values, status, missing in rows
            if missing
        ],
    )
    _duplicates_sheet(workbook, [activity for activity, *_rest in rows])
    return Export(to_bytes(workbook), len(rows), year)


def _rows(
    session: Session, team_id: str, year: int, today: date
) -> tuple[list[str], list[tuple[Any, list[Any], rules.Status, list[rules.Need]]]]:
    """The data year's headers and rows of the export, each owner shown by their real name
    when known, with as many numbered MOC groups as an activity has boards."""
    activities = data_year_activities(session, team_id, year)
    owners = {a.owner_user_id for a in activities if a.owner_user_id}
    known = members.names(session=session, team_id=team_id, user_ids=owners)
    groups = moc_groups(activities)
    counts = current_counts(session, team_id)
    return export_labels(groups), export_rows(activities, counts, today, known, groups)


def _duplicates_sheet(workbook: Workbook, activities: Sequence[Any]) -> None:
    """Activities that are probably one entered twice (same title ignoring case, spaces and
    punctuation, same start date): PARS would count each twice. A row per activity, naming
    the others of its group."""
    rows = [
        [
            activity.activity_id,
            activity.title,
            activity.start_date,
            ", ".join(o.activity_id for o in group if o is not activity),
        ]
        for group in duplicates.groups_of(activities)
        for activity in group
    ]
    write_table(workbook.create_sheet(DUPLICATES_SHEET), DUPLICATES_HEADERS, rows)


def export_tsv(*, session: Session, team_id: str, year: int, today: date) -> Export:
    """The export's activities sheet as tab-delimited text (`pars-bot export --tsv`)."""
    labels, rows = _rows(session, team_id, year, today)
    grid = [labels, *(values for _a, values, _s, _m in rows)]
    return Export(tsv_bytes(grid), len(rows), year)


def template_records(
    *, session: Session, team_id: str, year: int, today: date
) -> list[dict[str, Any]]:
    """The data year's activities as the template fill reads them: each stored field by name,
    the current learner counts, their as-of date and the PARS status."""
    counts = current_counts(session, team_id)
    records = []
    for activity in data_year_activities(session, team_id, year):
        mine = counts.get(activity.id, {})
        closed = activity.closed_at is not None
        record = dict(activity._mapping)
        record[PHYSICIANS] = mine["physician"].count if "physician" in mine else None
        record[OTHERS] = mine["other"].count if "other" in mine else None
        record[AS_OF] = max((c.as_of for c in mine.values()), default=None)
        record[CLOSE] = str(rules.derive_status(activity, closed=closed, today=today))
        records.append(record)
    return records


def data_years(session: Session, team_id: str) -> list[int]:
    """The data years that hold at least one activity, the latest first."""
    table = Activity.__table__
    first = sa.extract("year", table.c.start_date)
    # An enduring material belongs to every data year it is open in.
    last = sa.case(
        (table.c.format == rules.ENDURING, sa.extract("year", table.c.end_date)), else_=first
    )
    spans = session.connection().execute(
        select(first, last).where(table.c.team_id == team_id).distinct()
    )
    years = {year for start, end in spans for year in range(int(start), int(end) + 1)}
    return sorted(years, reverse=True)


def fill_year(
    *,
    session: Session,
    team_id: str,
    year: int,
    today: date,
    template: bytes,
    file_name: str,
    limits: Limits | None = None,
) -> Filled:
    """The provider's own template filled with the data year's activities."""
    records = template_records(session=session, team_id=team_id, year=year, today=today)
    return fill_template(template, file_name, records, limits)


def template_shared(*, engine: Engine, team_id: str, plan_id: str) -> list[int]:
    """A shared file found to be a blank template: kept as one (its buttons fill it), and
    the data years it could be filled with, the latest first."""
    update_plan(engine, plan_id, status=TEMPLATE)
    with Session(engine) as session:
        return data_years(session, team_id)


def shared_template(session: Session, *, team_id: str, plan_id: str) -> BatchPlan:
    """The shared template a Fill button names."""
    plan = get_plan(session, team_id=team_id, plan_id=plan_id, rows=False)
    if plan.status != TEMPLATE or not plan.file_id:
        raise ParsError("This button no longer fills anything: share the template again.")
    return plan


def default_year(today: date) -> int:
    """While PARS reporting for last year is under way (to 31 March), last year; else this."""
    return today.year - 1 if today.month <= 3 else today.year
