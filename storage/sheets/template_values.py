"""What the bot writes in each column of a template: the one table from the header matcher's
targets (storage/sheets/headers.py) to an activity's values.

A record is one activity as stored (its fields by name) with its current learner counts, their
as-of date and its PARS status (`export.template_records`). Each column gets:
- `value`: the stored value (for a numbered group, of entry `index`);
- `shown`: as a cell shows it where no drop-down decides: PARS labels, dates, numbers;
- `fits`: whether a drop-down entry says that value, read with the parser the importer uses
  for that column, so the entry written is one the importer reads back as the same value.

A field the record gains is filled by FIELD_COLUMNS without a word here; a numbered part or
another column is one line in COLUMNS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from storage.pars import rules
from storage.pars.fields import (
    FIELDS,
    FieldError,
    choice_parser,
    parse_count,
    parse_date,
    parse_moc_board,
    parse_moc_points,
    parse_money,
    parse_values,
    parse_yes_no,
)
from storage.sheets.headers import AS_OF, CLOSE, OTHERS, PHYSICIANS, Slot
from storage.sheets.workbooks import moc_cell, shown_value

Record = Mapping[str, Any]


def same(stored: Any, read: Any) -> bool:
    """Is a value read from a list entry the stored one? Text regardless of case."""
    if isinstance(stored, str) and isinstance(read, str):
        return stored.casefold() == read.casefold()
    if isinstance(stored, Decimal | int) and isinstance(read, Decimal | int):
        return Decimal(stored) == Decimal(read)
    return bool(stored == read)


@dataclass(frozen=True)
class Column:
    value: Callable[[Record, int], Any]
    shown: Callable[[Any], Any]
    fits: Callable[[str, Record, int], bool]
    field: str | None = None  # the activity field it writes, for lists of values


def _field(name: str) -> Column:
    def fits(entry: str, record: Record, _index: int) -> bool:
        # The whole row's reading: a legacy code such as C also says the delivery method.
        read, problems = parse_values({name: entry})
        return not problems and all(same(record.get(k), v) for k, v in read.items())

    return Column(lambda r, _i: r.get(name), lambda v: shown_value(name, v), fits, name)


def _column(
    value: Callable[[Record, int], Any],
    parse: Callable[[str], Any],
    shown: Callable[[Any], Any] = lambda v: v,
) -> Column:
    def fits(entry: str, record: Record, index: int) -> bool:
        try:
            return same(value(record, index), parse(entry))
        except FieldError:
            return False

    return Column(value, shown, fits)


def _supporter(part: str) -> Callable[[Record, int], Any]:
    def value(record: Record, index: int) -> Any:
        supporters = record.get("supporters") or []
        if index > len(supporters):
            return None
        supporter = supporters[index - 1]
        if part == "amount":
            return Decimal(supporter["amount"]) if supporter.get("amount") else None
        if part in {"monetary", "in_kind"}:
            return supporter["kind"] == part.replace("_", "-")
        return supporter.get(part)

    return value


def _moc(part: str) -> Callable[[Record, int], Any]:
    def value(record: Record, index: int) -> Any:
        entries = (record.get("moc_boards") or []) if record.get("moc") else []
        if index > len(entries):
            return None
        return moc_cell(entries[index - 1], part)

    return value


def _yes_no(value: Any) -> Any:
    return None if value is None else ("Yes" if value else "No")


def _text(raw: str) -> str:
    return raw.strip()


def _supporter_present(record: Record, index: int) -> bool:
    return index <= len(record.get("supporters") or [])


def _flag(part: str) -> Callable[[Record, int], Any]:
    get = _supporter(part)
    return lambda r, i: get(r, i) if _supporter_present(r, i) else None


FIELD_COLUMNS: dict[str, Column] = {spec.name: _field(spec.name) for spec in FIELDS}

COLUMNS: dict[str, Column] = {
    **FIELD_COLUMNS,
    PHYSICIANS: _column(lambda r, _i: r.get(PHYSICIANS), parse_count),
    OTHERS: _column(lambda r, _i: r.get(OTHERS), parse_count),
    AS_OF: _column(lambda r, _i: r.get(AS_OF), parse_date),
    CLOSE: _column(lambda r, _i: r.get(CLOSE), _text),
    "supporter.name": _column(_supporter("name"), _text),
    "supporter.kind": _column(
        _supporter("kind"),
        choice_parser(rules.SUPPORT_KINDS, {"inkind": "in-kind"}),
        lambda v: rules.SUPPORT_KINDS.get(v, v) if v else None,
    ),
    "supporter.amount": _column(_supporter("amount"), parse_money),
    "supporter.monetary": _column(_flag("monetary"), parse_yes_no, _yes_no),
    "supporter.in_kind": _column(_flag("in_kind"), parse_yes_no, _yes_no),
    "moc.board": _column(_moc("board"), parse_moc_board),
    "moc.credit_types": _column(_moc("credit_types"), _text),
    "moc.points": _column(_moc("points"), lambda raw: Decimal(parse_moc_points(raw))),
    "moc.claim_date": _column(_moc("claim_date"), parse_date),
}


def column_for(target: str | Slot) -> tuple[Column, int] | None:
    """The table's entry for a matched column, and the entry number of a numbered part."""
    if isinstance(target, Slot):
        found = COLUMNS.get(target.key)
        return (found, target.index) if found else None
    found = COLUMNS.get(target)
    return (found, 1) if found else None


def cell_value(column: Column, record: Record, index: int) -> Any:
    """The value a cell shows when no list decides: a date, a number or text, or None."""
    value = column.value(record, index)
    if value is None or value == []:
        return None
    shown = column.shown(value)
    return shown if isinstance(shown, date | Decimal | int | str) else str(shown)
