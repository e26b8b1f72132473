"""The store's one validator, as the batch calls it (storage/pars/validation.py), and the quick
comparisons that let an unchanged row through without asking it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from storage.models import LearnerCount
from storage.pars.fields import FieldError, parse_count, parse_date, parse_values
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
]


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
