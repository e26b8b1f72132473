"""A file into a stored preview: read, match headers, plan, keep the plan, annotate a copy."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.activities import Actor
from storage.batch.annotate import (
    PackedSheet,
    RowNote,
    annotated_workbook,
    pack_sheets,
    row_note,
    unpacked,
)
from storage.batch.packed import pack_rows
from storage.batch.plan import ERROR, Plan, Tally, plan_rows, problem_text
from storage.batch.store import PREVIEWED, REFUSED, get_plan, update_plan
from storage.collector import collector_paused
from storage.db import stored_utc
from storage.sheets.fill import WORKBOOK_TEMPLATES
from storage.sheets.read import FileRefused, Limits, kind_of, one_copy, read_file
from storage.sheets.rows import BatchRow, ReadRows, sheet_rows

FIRST_ERRORS = 10


@dataclass
class Preview:
    batch_id: str
    file_name: str
    summary: Tally
    first_errors: list[str]
    # Until when Apply takes it (aware, UTC).
    expires_at: datetime
    unknown: list[str] = field(default_factory=list)
    not_used: list[str] = field(default_factory=list)
    # Builds the annotated copy; called after the preview is shown, as it takes longest.
    annotate: Callable[[], bytes] | None = None
    # The first warnings (probable duplicates), each naming its row; nothing refused.
    warnings: list[str] = field(default_factory=list)
    # A workbook with a header row and no activities: a template to fill, not a batch.
    blank_template: bool = False

    @property
    def changes_anything(self) -> bool:
        return self.summary.changes_anything


def plan_notes(plan: Plan) -> list[str]:
    """What the preview says in sum: the as-of dates counts will get, the cells read as blank."""
    notes = []
    dates = Counter(r.as_of for r in plan.rows if r.counts and r.action != ERROR and r.as_of)
    if dates:
        each = [f"{day} ({n:,} row{'' if n == 1 else 's'})" for day, n in sorted(dates.items())]
        notes.append("Learner counts will be recorded as of " + ", ".join(each) + ".")
    blanks = sum(len(r.notes) for r in plan.rows)
    if blanks:
        notes.append(
            f"{blanks:,} cell{'' if blanks == 1 else 's'} such as N/A or TBD read as blank, so "
            "the stored value stays: the checked copy says which."
        )
    return notes


_ROW_FIELDS = [f.name for f in fields(BatchRow)]


def kept_row(row: BatchRow) -> dict[str, Any]:
    """A row as the plan keeps it (BatchRow.dump's form) without copying its dicts and lists,
    as dataclasses.asdict does: 100 MB for a file of 100,000 rows, only to be written out."""
    return {name: getattr(row, name) for name in _ROW_FIELDS}


def annotated_name(file_name: str) -> str:
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    return f"{stem} - checked by pars-bot.xlsx"


def preview_file(
    *,
    engine: Engine,
    plan_id: str,
    team_id: str,
    actor: Actor,
    data: bytes,
    file_name: str,
    today: date,
    limits: Limits | None = None,
    progress: Callable[[str], None] | None = None,
) -> Preview:
    """Read and check a file; keep its rows and preview on the plan row `plan_id`.

    A file that cannot be used raises FileRefused (its message is for the user) and the plan
    is marked refused.
    """
    with Session(engine) as session:
        try:
            checked = check_file(
                session=session,
                team_id=team_id,
                actor=actor,
                data=data,
                file_name=file_name,
                today=today,
                limits=limits,
                progress=progress,
            )
        except FileRefused:
            update_plan(engine, plan_id, status=REFUSED)
            raise
        kept = get_plan(session, team_id=team_id, plan_id=plan_id, rows=False)
        expires_at = stored_utc(kept.expires_at)
    read, plan, cells = checked.read, checked.plan, checked.cells
    del checked
    summary = plan.summary()
    notes = [*read.not_used, *plan_notes(plan)]
    shown_errors, shown_warnings, mark = first_errors(plan), first_warnings(plan), plan.data_mark
    # What the annotated copy needs of the plan, and of the rows read their layout: both are
    # let go of before the rows are stored (100,000 rows: the plan is 150 MB); the cells are
    # kept compressed (check_file), not read again from the file.
    layouts, (outcomes, copy_notes) = read.layouts, take_outcomes(plan)
    del plan
    preview = Preview(
        batch_id=plan_id,
        file_name=file_name,
        summary=summary,
        first_errors=shown_errors,
        expires_at=expires_at,
        unknown=read.unknown,
        not_used=notes,
        annotate=lambda: annotated_workbook(unpacked(cells), layouts, copy_notes),
        blank_template=not read.rows and kind_of(file_name) in WORKBOOK_TEMPLATES,
        warnings=shown_warnings,
    )
    packed = pack_rows(kept_row(r) for r in read.rows)
    # No activity on two rows: each row's outcome is its own (see apply.rows_to_check).
    unique_ids = len({r.activity_id.strip().lower() for r in read.rows}) == len(read.rows)
    # The rows, once packed, are let go of before the plan is stored: the summary's text and
    # the database's copies of it take their memory rather than more (a file at the limits
    # peaked there, 35 MB higher).
    unknown = read.unknown
    del read
    update_plan(
        engine,
        plan_id,
        status=PREVIEWED,
        packed_rows=packed,
        summary={
            **summary.dump(),
            "rows": outcomes,
            "first_errors": preview.first_errors,
            "first_warnings": preview.warnings,
            "unique_ids": unique_ids,
            "unknown": unknown,
            "not_used": notes,
        },
        content_sha256=hashlib.sha256(data).hexdigest(),
        data_mark=mark,
    )
    return preview


def take_outcomes(plan: Plan) -> tuple[list[list[Any]], dict[tuple[str, int], RowNote]]:
    """Each row's outcome as the plan keeps it (apply.OUTCOME's fields, a list: 100,000 rows
    in error took 25 MB more as dicts), and its note for the annotated copy, taking
    the rows out of `plan` as it goes: what these take then fills what each row's plan leaves
    rather than adding to it (100,000 rows in error: some 40 MB less at the import's peak)."""
    outcomes: list[list[Any]] = []
    notes: dict[tuple[str, int], RowNote] = {}
    once = one_copy()
    rows = plan.rows
    rows.reverse()
    while rows:
        r = rows.pop()
        outcomes.append([r.sheet, r.row, r.action, r.counts, r.close])
        notes[(r.sheet, r.row)] = row_note(r, once)
    return outcomes, notes


@dataclass
class Checked:
    read: ReadRows
    plan: Plan
    # The cells of the data sheets, for the annotated copy (annotate.pack_sheets).
    cells: dict[int, PackedSheet] = field(default_factory=dict)


def check_file(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    data: bytes,
    file_name: str,
    today: date,
    limits: Limits | None = None,
    progress: Callable[[str], None] | None = None,
) -> Checked:
    """Read a file and plan its rows; nothing is written. Raises FileRefused."""
    with collector_paused():  # the rows read stay alive for the plan: see collector.py
        sheets = read_file(data, file_name, limits)
        read = sheet_rows(sheets, file_name)
        # The cells are let go of once read into rows, but for the annotated copy's, kept
        # compressed: reading the file again would cost python-calamine's whole sheet again.
        cells = pack_sheets(sheets, read.layouts)
        del sheets
    if progress is not None and len(read.rows) > 2000:
        progress(f"Read {len(read.rows):,} rows of {file_name}; checking them…")
    with collector_paused():

        def checked(done: int, total: int) -> None:
            if progress is not None:
                progress(f"Checked {done:,} of {total:,} rows of {file_name}…")

        plan = plan_rows(
            session=session,
            team_id=team_id,
            actor=actor,
            rows=read.rows,
            today=today,
            progress=checked,
        )
    return Checked(read, plan, cells)


def first_errors(plan: Plan, limit: int = FIRST_ERRORS) -> list[str]:
    out: list[str] = []
    for row in plan.errors:
        for message in row.messages():
            if len(out) == limit:
                return out
            out.append(problem_text(row, message))
    return out


def first_warnings(plan: Plan, limit: int = FIRST_ERRORS) -> list[str]:
    """The first warnings of the rows that would go ahead, each naming its row."""
    out = [
        problem_text(row, warning)
        for row in plan.rows
        if row.action != ERROR
        for warning in row.warnings
    ]
    return out[:limit]
