"""Sheets into batch rows: the activity ID, the fields given, counts, as-of and close.

A blank cell is left out, so that it keeps the stored value. Row numbers are the ones the
spreadsheet shows (1-based, header included).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from storage.pars.fields import YES
from storage.sheets.headers import (
    AS_OF,
    CLOSE,
    COUNT_TARGETS,
    DUPLICATES_SHEET,
    EXAMPLE_ID,
    LOOKED_FOR,
    MISSING_SHEET,
    Columns,
    Slot,
    find_columns,
)
from storage.sheets.read import FileRefused, Sheet


class NoHeaders(FileRefused):
    """No sheet has a header row the bot recognizes."""


@dataclass(slots=True)
class BatchRow:
    sheet: str
    row: int
    activity_id: str
    fields: dict[str, str] = field(default_factory=dict)
    counts: dict[str, str] = field(default_factory=dict)  # learner category -> text
    as_of: str | None = None
    close: str | None = None
    # Why the row is an error before any check (the same ID on another row).
    problems: list[str] = field(default_factory=list)
    # What the reader did with the row's cells (an N/A read as blank), for its message.
    notes: list[str] = field(default_factory=list)

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, data: dict[str, Any]) -> BatchRow:
        return cls(**data)


@dataclass
class SheetLayout:
    name: str
    index: int
    columns: Columns

    def dump(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "index": self.index,
            "header_row": self.columns.header_row,
            "targets": {str(k): v for k, v in self.columns.targets.items()},
        }


@dataclass
class ReadRows:
    rows: list[BatchRow]
    layouts: list[SheetLayout]
    unknown: list[str]
    not_used: list[str]


def no_headers_message(file_name: str) -> str:
    looked = ", ".join(f'"{h}"' for h in LOOKED_FOR)
    return (
        f"I couldn't find a header row in {file_name}. I look for column headers such as "
        f"{looked} in the first rows of a sheet. `/pars template` gives you a workbook with "
        "the right headers."
    )


def _data_sheets(sheets: Sequence[Sheet]) -> tuple[list[SheetLayout], list[str]]:
    """The first sheet with a header row, and any later one that carries learner counts; and
    the names of other sheets with a header row, which are not read (said in the preview, so
    that a second list of activities is not lost without a word)."""
    layouts: list[SheetLayout] = []
    skipped: list[str] = []
    for index, sheet in enumerate(sheets):
        columns = find_columns(sheet.rows)
        if columns is None:
            continue
        if not layouts or columns.has_counts:
            layouts.append(SheetLayout(sheet.name, index, columns))
        elif sheet.name not in (MISSING_SHEET, DUPLICATES_SHEET):
            skipped.append(sheet.name)
    return layouts, skipped


def skipped_message(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names)
    return (
        f"{'Sheets' if len(names) > 1 else 'Sheet'} {shown} not read: a file is read from its "
        "first sheet of activities (and any sheets of learner counts). Share another sheet as a "
        "file of its own."
    )


# Cells that say "nothing here": read as blank, so the stored value stays.
BLANK_WORDS = frozenset({"n/a", "na", "n.a.", "-", "—", "–", "none", "tbd", "not applicable"})
# First cells of a totals row, not an activity.
TOTAL_WORDS = frozenset({"total", "totals", "grand total", "subtotal", "sum"})
_TOTAL_INITIALS = frozenset(word[0] for word in TOTAL_WORDS)


# Every way each of those words can be cased ("N/A", "n/a", "Tbd", ...): the reader strips each
# cell, so a row holds one exactly when a cell is in this set, asked of the whole row at C speed.
_BLANK_CELLS = frozenset(
    "".join(letters)
    for word in BLANK_WORDS
    for letters in itertools.product(*({c.lower(), c.upper()} for c in word))
)


def _says_blank(text: str | None) -> bool:
    return text is not None and text.strip().lower() in BLANK_WORDS


def _blank_words(row: BatchRow, headers: dict[int, str], cols: dict[str, int]) -> None:
    """Cells such as N/A or TBD as blank, each noted on the row under its header."""

    def blank(target: str, text: str | None) -> bool:
        if not _says_blank(text):
            return False
        header = headers.get(cols.get(target, -1), target)
        row.notes.append(f"{header}: {(text or '').strip()} read as blank")
        return True

    # A row with no such cell (nearly every row) keeps its dicts as they are.
    if not _BLANK_CELLS.isdisjoint(row.fields.values()):
        row.fields = {t: text for t, text in row.fields.items() if not blank(t, text)}
    if not _BLANK_CELLS.isdisjoint(row.counts.values()):
        row.counts = {c: text for c, text in row.counts.items() if not blank(f"learners_{c}", text)}
    if blank(AS_OF, row.as_of):
        row.as_of = None
    if blank(CLOSE, row.close):
        row.close = None


def _is_totals(row: BatchRow, cells: Sequence[str], id_col: int) -> bool:
    """A row that sums the others: `Total` (or the like) as its ID, or no ID and only numbers."""
    if row.activity_id:
        # Each totals word starts with t, g or s: other IDs need not be folded to tell.
        initial = row.activity_id.lstrip()[:1].lower()[:1]
        folded = " ".join(row.activity_id.lower().split()) if initial in _TOTAL_INITIALS else ""
        return folded.rstrip(":") in TOTAL_WORDS
    values = [c.strip() for i, c in enumerate(cells) if i != id_col and c.strip()]
    return bool(values) and all(_is_number(v) for v in values)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def sheet_rows(sheets: Sequence[Sheet], file_name: str) -> ReadRows:
    layouts, skipped = _data_sheets(sheets)
    if not layouts:
        raise NoHeaders(no_headers_message(file_name))
    rows: list[BatchRow] = []
    unknown: list[str] = []
    not_used: list[str] = [skipped_message(skipped)] if skipped else []
    for layout in layouts:
        columns = layout.columns
        unknown += [u for u in columns.unknown + columns.repeated if u not in unknown]
        not_used += [n for n in columns.not_used if n not in not_used]
        id_col = columns.column_of("activity_id")
        assert id_col is not None
        seen: dict[str, int] = {}  # folded ID -> its first row's place in `rows`
        repeated: dict[str, list[int]] = {}  # the places of an ID on more than one row
        sheet = sheets[layout.index]
        # Which column fills what, sorted once: this loop runs for every row of the file.
        targets = columns.targets
        not_fields = {*COUNT_TARGETS, AS_OF, CLOSE, "activity_id"}
        field_cols = [(c, t) for c, t in targets.items() if t not in not_fields]
        count_cols = [
            (c, t.removeprefix("learners_")) for c, t in targets.items() if t in COUNT_TARGETS
        ]
        as_of_col, close_col = columns.column_of(AS_OF), columns.column_of(CLOSE)
        columns_of = {t: c for c, t in targets.items()}
        groups = sorted(columns.groups.items())
        width = max([*targets, *columns.groups]) + 1
        for index in range(columns.header_row + 1, len(sheet.rows)):
            cells = sheet.rows[index]
            if not any(cells):
                continue
            if len(cells) < width:  # a short line of a CSV
                cells = cells + [""] * (width - len(cells))
            row = BatchRow(
                layout.name,
                index + 1,
                cells[id_col],
                {t: text for c, t in field_cols if (text := cells[c])},
                {t: text for c, t in count_cols if (text := cells[c])},
                (cells[as_of_col] or None) if as_of_col is not None else None,
                (cells[close_col] or None) if close_col is not None else None,
            )
            if groups:
                for name, text in group_fields(cells, groups).items():
                    row.fields.setdefault(name, text)  # a column of the field itself comes first
            if not (row.activity_id or row.fields or row.counts or row.close):
                continue
            if row.activity_id.upper() == EXAMPLE_ID:
                continue  # the template's worked example
            if _is_totals(row, cells, id_col):
                not_used.append(
                    f"Row {row.row} of {layout.name} skipped: a totals row, not an activity"
                )
                continue
            # The reader strips each cell, so a row holds an N/A exactly when one of its cells
            # is among _BLANK_CELLS (a supporter's or board's text joins its parts with ":",
            # never one of them): asked of the whole row at once, nearly every row is done.
            if row.as_of or row.close or not _BLANK_CELLS.isdisjoint(cells):
                _blank_words(row, columns.headers, columns_of)
            if row.activity_id:
                key, place = row.activity_id.strip().lower(), len(rows)
                if (first := seen.setdefault(key, place)) != place:
                    repeated.setdefault(key, [first]).append(place)
            rows.append(row)
        _mark_repeated(rows, repeated)
    return ReadRows(rows, layouts, unknown, not_used)


def _mark_repeated(rows: list[BatchRow], repeated: dict[str, list[int]]) -> None:
    """Rows of one sheet that give the same activity ID: each an error naming the others;
    every other row is read as usual."""
    for positions in repeated.values():
        numbers = [rows[i].row for i in positions]
        for i in positions:
            others = ", ".join(str(n) for n in numbers if n != rows[i].row)
            rows[i].problems.append(
                f"Activity ID {rows[i].activity_id} is also on row {others} of this sheet: "
                "keep one row per activity; neither row is read"
            )


def group_fields(cells: Sequence[str], groups: Sequence[tuple[int, Slot]]) -> dict[str, str]:
    """A row's numbered entries as the text of the fields they fill, in the one-line form the
    field's parser reads: supporters as `Name:kind:amount; ...`, MOC boards as
    `Board:points:type+type:claim date; ...`."""
    entries: dict[tuple[str, int], dict[str, str]] = {}
    for col, slot in groups:
        text = cells[col]
        if text:
            entries.setdefault((slot.group, slot.index), {})[slot.part] = text
    has_amounts = {s.index for _, s in groups if s.key == "supporter.amount"}
    fields: dict[str, str] = {}
    supporters = [
        _supporter_text(parts, index in has_amounts)
        for (group, index), parts in sorted(entries.items())
        if group == "supporter"
    ]
    if supporters:
        fields["supporters"] = "; ".join(supporters)
    boards = [_moc_text(parts) for (group, _i), parts in sorted(entries.items()) if group == "moc"]
    if boards:
        fields["moc_boards"] = "; ".join(boards)
    return fields


def _moc_text(parts: dict[str, str]) -> str:
    """One board's columns as `Board:points:types:claim date`; the types as typed, with `;`
    (a list in one cell) read as `+`. A part without its board is left for the parser to
    name."""
    types = "+".join(t.strip() for t in re.split(r"[;\n]", parts.get("credit_types", "")))
    pieces = [parts.get("board", ""), parts.get("points", ""), types, parts.get("claim_date", "")]
    return ":".join(p.strip() for p in pieces)


def _said_yes(text: str | None) -> bool:
    return (text or "").strip().lower() in YES


def _supporter_text(parts: dict[str, str], has_amount: bool) -> str:
    """One supporter's columns as `Name:kind:amount`. A kind left out is read from the yes/no
    columns, else from the amount: monetary support has one, so a supporter whose amount
    column is blank gave in kind. What can't be read is left for the parser to say."""
    kind = parts.get("kind", "")
    if not kind:
        if _said_yes(parts.get("monetary")):
            kind = "monetary"
        elif _said_yes(parts.get("in_kind")):
            kind = "in-kind"
        elif parts.get("amount"):
            kind = "monetary"
        elif has_amount:
            kind = "in-kind"
    pieces = [parts.get("name", ""), kind]
    if parts.get("amount"):
        pieces.append(parts["amount"])
    return ":".join(pieces)
