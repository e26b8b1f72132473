"""The store's one validator, as the batch calls it (storage/pars/validation.py), and the quick
comparisons that let an unchanged row through without asking it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from storage.models import LearnerCount
from storage.pars.fields import (
    FieldError,
    parse_count,
    parse_date,
    parse_moc_boards,
    parse_values,
    render_moc_boards,
)
from storage.pars.validation import (
    CheckedActivity,
    CheckedCounts,
    check_activity,
    check_close,
    check_counts,
    record_of,
    refusal,
)

__all__ = [
    "CheckedActivity",
    "CheckedCounts",
    "check_activity",
    "check_close",
    "check_counts",
    "record_of",
    "refusal",
    "same_counts",
    "same_values",
    "with_stored_moc_parts",
]


def with_stored_moc_parts(fields: Mapping[str, str], stored: Any) -> Mapping[str, str]:
    """A sheet's MOC boards with each board's blank parts (a blank cell, or a column the sheet
    lacks, such as a template's `MOC Board 2` with no `MOC Points 2`) kept from the stored
    entry of that board, as every blank cell keeps its stored value. The boards themselves
    are the row's."""
    text = fields.get("moc_boards")
    kept = {e["board"]: e for e in getattr(stored, "moc_boards", None) or []}
    if not text or not kept:
        return fields
    try:
        entries = parse_moc_boards(text)
    except FieldError:
        return fields  # the validator says what is wrong with it
    for entry in entries:
        for part, value in kept.get(entry["board"], {}).items():
            if not entry.get(part):
                entry[part] = value
    return {**fields, "moc_boards": render_moc_boards(entries)}


def same_values(stored: Any, raw: Mapping[str, str]) -> bool:
    """Does `raw` read as exactly what is stored? (Then the row changes nothing, and even a
    closed activity, or someone else's, is no problem.)"""
    values, problems = parse_values(raw)
    if problems:
        return False
    return all(getattr(stored, name) == value for name, value in values.items())


def same_counts(
    current: Mapping[str, LearnerCount], counts: Mapping[str, str], as_of: str | None
) -> bool:
    """Are these the counts on file (and, when an as-of date is given, as of that date)?"""
    if counts and not current:
        return False  # nothing on file yet: a new activity's first counts
    try:
        wanted = {category: parse_count(text) for category, text in counts.items()}
        when: date | None = parse_date(as_of) if as_of else None
    except FieldError:
        return False
    return all(
        category in current
        and current[category].count == number
        and (when is None or current[category].as_of == when)
        for category, number in wanted.items()
    )
