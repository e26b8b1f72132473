"""Filling the provider's own blank template: template bytes and activity records in, the
filled file and what happened out. Nothing here reads the database.

The template's header row says where each value goes, found by the importer's own header
matcher, so a filled template read back by the importer changes nothing. The sheets filled
are the ones the importer reads: the first sheet with a header row, and later sheets with
learner-count columns. A column with a drop-down list gets the list's own entry for the
value (template_values.py says which entry fits); a value that fits none is written as the
bot has it, highlighted, and reported. Only cell values change (storage/sheets/package.py).

A tab-delimited template (.txt, .tsv) is a header row naming the columns, as a layout of
PARS's tab-delimited upload lists them: it is filled as text, one line per activity.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from storage.sheets.headers import Columns, Slot
from storage.sheets.lists import column_lists
from storage.sheets.package import CellValue, Package
from storage.sheets.read import FileRefused, Limits, Sheet, kind_of, read_file
from storage.sheets.rows import ReadRows, SheetLayout, sheet_rows
from storage.sheets.template_values import Column, Record, cell_value, column_for
from storage.sheets.workbooks import FORMULA_STARTS, printable

WORKBOOK_TEMPLATES = {"xlsx", "xlsm"}
TEXT_TEMPLATES = {"txt", "tsv"}


@dataclass(frozen=True)
class Misfit:
    activity_id: str
    column: str
    value: str  # as written
    entries: tuple[str, ...]  # what the list offers
    several: bool = False  # entries of the list, more than one in a cell that takes one


@dataclass
class FillReport:
    sheet: str
    activities: int
    empty_columns: list[str] = field(default_factory=list)  # the bot has no such field
    misfits: list[Misfit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Filled:
    data: bytes  # the filled workbook, or the filled text of a tab-delimited template
    is_text: bool
    report: FillReport
    grid: list[list[Any]]  # the first sheet filled, from its header row on (for --tsv)


@dataclass(frozen=True)
class _Planned:
    column: int  # 0-based
    header: str
    source: Column
    index: int  # the entry of a numbered group


def fill_template(
    template: bytes, file_name: str, records: Sequence[Record], limits: Limits | None = None
) -> Filled:
    """Fill the template with one row per record. Raises FileRefused when it can't."""
    kind = kind_of(file_name)
    if kind not in WORKBOOK_TEMPLATES | TEXT_TEMPLATES:
        raise FileRefused(
            f"{file_name} is not a template the bot can fill: give the Excel template as you "
            "downloaded it (.xlsx or .xlsm), or a tab-delimited .txt whose first line names "
            "the columns."
        )
    sheets = read_file(template, file_name, limits)
    read = sheet_rows(sheets, file_name)
    _check_blank(read, file_name)
    if kind in TEXT_TEMPLATES:
        layout = read.layouts[0]
        return _fill_text(layout, sheets[layout.index].rows[layout.columns.header_row], records)
    package = Package(template, file_name)
    report: FillReport | None = None
    grid: list[list[Any]] = []
    for layout in read.layouts:
        try:
            sheet_report, sheet_grid = _fill_sheet(package, sheets, layout, records)
        except (SyntaxError, ValueError, KeyError, StopIteration):  # XML errors included
            raise FileRefused(
                f"Sheet {layout.name!r} of {file_name} could not be filled: a part of the "
                "workbook is damaged or of a kind the bot does not know. Open it in Excel, "
                "save it as Excel Workbook (.xlsx) and try again."
            ) from None
        if report is None:
            report, grid = sheet_report, sheet_grid
        else:
            report.misfits += sheet_report.misfits
            report.notes += sheet_report.notes
            report.empty_columns += [
                c for c in sheet_report.empty_columns if c not in report.empty_columns
            ]
    assert report is not None
    return Filled(package.data(), False, report, grid)


def _check_blank(read: ReadRows, file_name: str) -> None:
    if not read.rows:
        return
    first, last = read.rows[0].row, read.rows[-1].row
    where = f"row {first}" if first == last else f"rows {first} to {last}"
    raise FileRefused(
        f"{file_name} already holds activities ({where} of sheet {read.rows[0].sheet!r}). "
        "Give the blank template as downloaded from PARS: the bot fills it from its header row "
        "down."
    )


def _planned(columns: Columns) -> list[_Planned]:
    found: dict[int, str | Slot] = {**columns.targets, **columns.groups}
    planned = []
    for col in sorted(found):
        entry = column_for(found[col])
        if entry is not None:
            planned.append(_Planned(col, columns.headers[col], entry[0], entry[1]))
    return planned


def empty_columns(header: Sequence[str], planned: Sequence[_Planned]) -> list[str]:
    """The headers of the columns nothing fills, each once (a repeated block's: with how many)."""
    filled = {p.column for p in planned}
    left = Counter(text for col, text in enumerate(header) if text and col not in filled)
    return [text if times == 1 else f"{text} (×{times})" for text, times in left.items()]


def _fill_sheet(
    package: Package, sheets: Sequence[Sheet], layout: SheetLayout, records: Sequence[Record]
) -> tuple[FillReport, list[list[Any]]]:
    columns = layout.columns
    source = sheets[layout.index]
    header_row = columns.header_row + 1
    header = list(source.rows[columns.header_row])
    planned = _planned(columns)
    info = package.sheet(layout.name)
    lists = column_lists(
        package,
        sheets,
        info,
        first_row=header_row + 1,
        columns=[p.column for p in planned],
        headers=columns.headers,
    )
    report = FillReport(layout.name, len(records), empty_columns(header, planned))
    report.notes += lists.notes
    rows: dict[int, dict[int, CellValue]] = {}
    highlight: set[tuple[int, int]] = set()
    grid: list[list[Any]] = [header]
    for offset, record in enumerate(records):
        number = header_row + 1 + offset
        values: dict[int, CellValue] = {}
        line: list[Any] = [None] * len(header)
        for plan in planned:
            value, fitted, several = _cell_for(plan, record, lists.entries.get(plan.column))
            values[plan.column + 1] = value
            if plan.column < len(line):
                line[plan.column] = value
            if not fitted:
                highlight.add((number, plan.column + 1))
                report.misfits.append(
                    Misfit(
                        str(record.get("activity_id", "")),
                        plan.header,
                        _as_text(value),
                        tuple(lists.entries[plan.column]),
                        several,
                    )
                )
        rows[number] = values
        grid.append(line)
    # Below the rows written, a worked example the importer skips is emptied: PARS would
    # take it for an activity.
    for index in range(columns.header_row + 1, len(source.rows)):
        number = index + 1
        cells = source.rows[index]
        if number not in rows and any(p.column < len(cells) and cells[p.column] for p in planned):
            rows[number] = {p.column + 1: None for p in planned}
    written = package.write_rows(info, rows, header_row=header_row, highlight=highlight)
    if written.kept_formulas:
        cells = ", ".join(written.kept_formulas[:5])
        report.notes.append(
            f"Cells with formulas in the template were left as they are ({cells}"
            f"{', …' if len(written.kept_formulas) > 5 else ''})."
        )
    return report, grid


def _cell_for(plan: _Planned, record: Record, entries: list[str] | None) -> tuple[Any, bool, bool]:
    """The value a cell gets; whether it fits the column's list (True without one); whether
    it is several of the list's entries in one cell."""
    shown = cell_value(plan.source, record, plan.index)
    if isinstance(shown, str):
        shown = printable(shown)
    if shown is None or not entries:
        return shown, True, False
    source, index = plan.source, plan.index
    entry = next((e for e in entries if source.fits(e, record, index)), None)
    if entry is not None:
        # A number or a date stays one; the list's wording is for text.
        return (shown if isinstance(shown, date | Decimal | int) else entry), True, False
    stored = source.value(record, index)
    if source.field and isinstance(stored, list) and len(stored) > 1:
        # Several values in one cell: each in the list's words, though the cell's list
        # takes one entry.
        picked = [
            next((e for e in entries if source.fits(e, {**record, source.field: [v]}, index)), None)
            for v in stored
        ]
        if all(picked):
            return "; ".join(p for p in picked if p), False, True
    return shown, False, False


def _as_text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else str(value)


def _fill_text(layout: SheetLayout, header: list[str], records: Sequence[Record]) -> Filled:
    planned = _planned(layout.columns)
    grid: list[list[Any]] = [header]
    for record in records:
        line: list[Any] = [None] * len(header)
        for plan in planned:
            value = cell_value(plan.source, record, plan.index)
            line[plan.column] = printable(value) if isinstance(value, str) else value
        grid.append(line)
    report = FillReport(layout.name, len(records), empty_columns(header, planned))
    return Filled(tsv_bytes(grid), True, report, grid)


def tsv_bytes(grid: Sequence[Sequence[Any]]) -> bytes:
    """Rows as tab-delimited text the way Excel saves it ("Text (Tab delimited)"), which is
    what PARS's tab-delimited upload gets from providers: tabs between cells, dates
    MM/DD/YYYY, blank cells empty, a value holding a tab, a line break or a double quote in
    double quotes; UTF-8, lines ending CRLF."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, dialect="excel-tab").writerows([_tsv_cell(v) for v in row] for row in grid)
    return buffer.getvalue().encode("utf-8")


def _tsv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%m/%d/%Y}"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    text = str(value)
    # Text a spreadsheet would read as a formula (an owner's name is theirs to set in Slack):
    # written as Excel writes such text, after an apostrophe. Numbers are never text here.
    return "'" + text if isinstance(value, str) and text[:1] in _GUARDED_STARTS else text


# As the .xlsx cells guard them (workbooks.text_cell), and a tab or carriage return, which a
# spreadsheet skips before reading the rest as a formula; and an apostrophe, so that text
# which begins with one reads back as it was (read.py takes exactly one off).
_GUARDED_STARTS = (*FORMULA_STARTS, "\t", "\r", "'")


def report_lines(report: FillReport, *, most: int | None = None) -> list[str]:
    """What a fill did, in plain words: the columns left empty, the values no list took
    (grouped by column and value, `most` groups at most), and anything else worth saying."""
    lines = []
    if report.empty_columns:
        lines.append(
            "Columns left empty (pars-bot has no such field): " + ", ".join(report.empty_columns)
        )
    groups: dict[tuple[str, str], list[Misfit]] = {}
    for misfit in report.misfits:
        groups.setdefault((misfit.column, misfit.value), []).append(misfit)
    if groups:
        lines.append(
            "Values that fit no entry of their column's drop-down list (written as pars-bot "
            "has them, highlighted):"
        )
    shown = list(groups.items())[:most] if most is not None else list(groups.items())
    for (column, value), misfits in shown:
        ids = [m.activity_id for m in misfits]
        named = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        entries = list(misfits[0].entries)
        offered = ", ".join(entries[:8]) + (", …" if len(entries) > 8 else "")
        if misfits[0].several:
            lines.append(
                f'{column}: "{_short(value)}" ({named}): entries of the list, but several in a '
                "cell that takes one"
            )
        else:
            lines.append(f'{column}: "{_short(value)}" ({named}); the list has: {offered}')
    if len(shown) < len(groups):
        lines.append(f"…and {len(groups) - len(shown)} more such values")
    return lines + report.notes


def _short(text: str, most: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= most else flat[: most - 1] + "…"
