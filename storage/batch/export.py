"""The PARS-ready export of a data year: the workspace's rows read as plain rows, written with
the sheets' columns (storage/sheets/workbooks.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, or_, select

from storage.models import Activity, LearnerCount
from storage.pars import rules
from storage.pars.fields import label
from storage.sheets.headers import MISSING_SHEET
from storage.sheets.workbooks import cells, export_rows, header_cells, header_labels, to_bytes


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
    activities = data_year_activities(session, team_id, year)
    rows = export_rows(activities, current_counts(session, team_id), today)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"Activities {year}")
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, header_labels()))
    for _activity, values, _status, _missing in rows:
        sheet.append(cells(sheet, values))
    needs = workbook.create_sheet(MISSING_SHEET)
    needs.freeze_panes = "A2"
    needs.append(header_cells(needs, ["Activity ID", "Title", "Status", "Missing for PARS"]))
    for activity, _values, status, missing in rows:
        if missing:
            needs.append(
                cells(
                    needs,
                    [
                        activity.activity_id,
                        activity.title,
                        str(status),
                        ", ".join(label(m) for m in missing),
                    ],
                )
            )
    return Export(to_bytes(workbook), len(rows), year)


def default_year(today: date) -> int:
    """While PARS reporting for last year is under way (to 31 March), last year; else this."""
    return today.year - 1 if today.month <= 3 else today.year
