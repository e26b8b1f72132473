"""The annotated copy of an upload: each data sheet as read, a column saying what each row
would do (or what is wrong with it), and the bad cells highlighted with a note."""

from __future__ import annotations

import pickle
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from storage.batch.plan import ERROR, Plan, RowPlan, change_words, clean_message, more_text
from storage.pars.needs import needs_text
from storage.sheets.read import Sheet, one_copy
from storage.sheets.rows import SheetLayout
from storage.sheets.workbooks import (
    FORMULA_STARTS,
    HEADER_FILL,
    HEADER_FONT,
    printable,
    printable_row,
    text_cell,
    to_bytes,
)

BAD_FILL = PatternFill("solid", fgColor="F4B6B6")
ERROR_FONT = Font(color="9C0006", bold=True)
MESSAGES_HEADER = "pars-bot messages"


def _text(sheet: Any, value: str) -> Any:
    """A cell of the copy: text stays text (a value that could read as a formula is pinned)."""
    if not value:
        return None
    return text_cell(sheet, value) if value[:1] in FORMULA_STARTS else value


def sheet_title(name: str) -> str:
    """A sheet name Excel allows: a CSV named "list [final].csv" gives its stem, and Excel
    refuses []:*?/\\ in sheet names, names of more than 31 characters and blank ones."""
    title = re.sub(r"[\[\]:*?/\\]", "-", printable(name)).strip().strip("'")[:31]
    return title or "Sheet"


def row_message(row: RowPlan) -> str:
    if row.action == ERROR:
        return error_message(row.problems, row.more)
    parts: list[str] = []
    if row.action == "add":
        parts.append("adds this activity")
    elif row.action == "update":
        parts.append("updates " + change_words(row.changes))
    if row.counts:
        parts.append(
            f"records learner counts as of {row.as_of}" if row.as_of else "records learner counts"
        )
    if row.close:
        parts.append("closes it")
    if row.needs:
        parts.append(needs_text(row.needs, bold=False))
    parts += [f"warning: {w}" for w in row.warnings]
    return "; ".join([*(parts or ["unchanged"]), *row.notes])


def error_message(problems: Sequence[tuple[str, str]], more: Sequence[str]) -> str:
    """What is wrong with a row in error: its problems kept, then the columns of the rest."""
    said = [clean_message(message) for _target, message in problems]
    return " | ".join([*said, more_text(more)] if more else said)


# What the copy says of one row: its message (blank for a row in error, whose message is
# made of the rest when it is written); the problems of a row in error (column target,
# message), each of which marks a cell; and the targets of its problems past those, whose
# cells are marked with the message that names them.
RowNote = tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]


def row_notes(plan: Plan) -> dict[tuple[str, int], RowNote]:
    """What the copy needs of a plan, by (sheet, row): a text and two tuples a row, and each
    equal message kept once, rather than the plan (100,000 rows: 150 MB less while the copy
    is written after the preview). A row in error keeps its problems, not their text once
    more joined: each quotes its cell, and 100,000 such rows' texts took 50 MB."""
    once = one_copy()
    return {(r.sheet, r.row): row_note(r, once) for r in plan.rows}


def row_note(row: RowPlan, once: Callable[[str, str], str]) -> RowNote:
    """One row's note, its message kept `once` (one_copy) with the file's equal ones."""
    if row.action == ERROR:
        return "", row.problems, row.more
    message = printable(row_message(row))
    return once(message, message), (), ()


def note_message(note: RowNote) -> str:
    """The text of a row's note, in the copy's column of messages."""
    return printable(error_message(note[1], note[2])) if note[1] else note[0]


def cell_marks(note: RowNote) -> Iterator[tuple[str, str]]:
    """The cells a row's note marks, by column target, each with its comment."""
    yield from note[1]
    if note[2]:
        more = more_text(note[2])
        for target in dict.fromkeys(note[2]):
            yield target, more


@dataclass
class PackedSheet:
    """A sheet's cells as read, kept compressed, and its width."""

    name: str
    # Pickled lists of rows, each compressed: this process's own objects, never stored.
    parts: list[bytes]
    width: int


# Rows pickled and compressed together: a few hundred KB of text at a time.
_PACKED_ROWS = 1000


def pack_sheets(sheets: Sequence[Sheet], layouts: Sequence[SheetLayout]) -> dict[int, PackedSheet]:
    """The cells of the sheets the copy is made of, kept while the preview goes on: 100,000
    rows' cells take under 2 MB so, where reading the file again for the copy took
    python-calamine 160 MB at its peak. (Pickled a thousand rows at a time: a fifth of the
    time of a line of JSON a row, and each text read once is written once.)"""
    kept = {}
    for layout in layouts:
        sheet = sheets[layout.index]
        lines = sheet.lines if sheet.lines is not None else iter(sheet.rows)
        width = max((len(r) for r in sheet.rows), default=sheet.width)
        parts = []
        while some := list(islice(lines, _PACKED_ROWS)):
            parts.append(zlib.compress(pickle.dumps(some, pickle.HIGHEST_PROTOCOL), 1))
        kept[layout.index] = PackedSheet(sheet.name, parts, width)
    return kept


def _unpacked_lines(parts: list[bytes]) -> Iterator[list[str]]:
    for part in parts:
        yield from pickle.loads(zlib.decompress(part))


def unpacked(kept: Mapping[int, PackedSheet]) -> dict[int, Sheet]:
    """The kept sheets, each giving its rows as it is written out (`lines`)."""
    return {
        index: Sheet(sheet.name, lines=_unpacked_lines(sheet.parts), width=sheet.width)
        for index, sheet in kept.items()
    }


def annotated_workbook(
    sheets: Sequence[Sheet] | Mapping[int, Sheet],
    layouts: Sequence[SheetLayout],
    plan: Plan | Mapping[tuple[str, int], RowNote],
) -> bytes:
    by_position = row_notes(plan) if isinstance(plan, Plan) else plan
    workbook = Workbook(write_only=True)
    for layout in layouts:
        source = sheets[layout.index]
        sheet = workbook.create_sheet(sheet_title(layout.name))
        lines = source.lines if source.lines is not None else iter(source.rows)
        width = max((len(r) for r in source.rows), default=source.width)
        columns_of = {t: c for c, t in layout.columns.targets.items()}
        for index, cells in enumerate(lines):
            padded = printable_row(list(cells) + [""] * (width - len(cells)))
            out: list[Any] = [_text(sheet, value) for value in padded]
            number = index + 1
            if index == layout.columns.header_row:
                header = text_cell(sheet, MESSAGES_HEADER)
                header.font, header.fill = HEADER_FONT, HEADER_FILL
                out.append(header)
            elif (note := by_position.get((layout.name, number))) is not None:
                message = text_cell(sheet, note_message(note))
                if note[1]:  # a row in error
                    message.font = ERROR_FONT
                    for target, text in cell_marks(note):
                        column = columns_of.get(target, columns_of.get("activity_id"))
                        if column is None or column >= len(out):
                            continue
                        existing = out[column]
                        cell = (
                            text_cell(sheet, existing or "")
                            if existing is None or isinstance(existing, str)
                            else existing
                        )
                        cell.fill = BAD_FILL
                        said = printable(clean_message(text))
                        if cell.comment is not None:  # two problems of one cell: both said
                            said = f"{cell.comment.text}\n{said}"
                        cell.comment = Comment(said[:1000], "pars-bot")
                        out[column] = cell
                out.append(message)
            sheet.append(out)
    return to_bytes(workbook)
