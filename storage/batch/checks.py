"""The store's one validator, as the batch calls it.

Until storage/validation.py lands on main these adapters give the same answers from
storage.fields.parse_values/check_record and the PARS rules; afterwards they forward to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from storage import rules
from storage.activities import Actor
from storage.errors import LowerCount, Problem
from storage.fields import FIELDS, FieldError, check_record, label, parse_count, parse_date
from storage.fields import parse_values as _parse_values
from storage.models import Activity, LearnerCount

FIELD_NAMES = tuple(f.name for f in FIELDS)


@dataclass
class CheckedActivity:
    values: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)


@dataclass
class CheckedCounts:
    counts: dict[str, int]
    as_of: date | None
    problems: list[Problem] = field(default_factory=list)
    lower: list[LowerCount] = field(default_factory=list)


def record_of(activity: Any) -> dict[str, Any]:
    return {name: getattr(activity, name, None) for name in FIELD_NAMES}


def check_activity(
    *,
    stored: Activity | None,
    raw: Mapping[str, str],
    actor: Actor,
    id_holder: Callable[[str], int | None],
) -> CheckedActivity:
    values, problems = _parse_values(raw)
    unreadable = {p.field for p in problems}
    if stored is None:
        record: dict[str, Any] = dict.fromkeys(FIELD_NAMES) | values
        if not record["owner_user_id"]:
            record["owner_user_id"] = actor.user_id
        problems += [p for p in check_record(record, set(values)) if p.field not in unreadable]
        given = record.get("activity_id")
        if given and id_holder(given) is not None:
            problems.append(Problem("activity_id", f"Activity ID {given} is already taken"))
        return CheckedActivity({k: v for k, v in record.items() if v is not None}, problems)
    before = record_of(stored)
    changed = {k: v for k, v in values.items() if before[k] != v}
    fmt = changed.get("format", before["format"])
    if (
        "format" in changed
        and fmt in rules.FORMATS
        and not rules.FORMATS[fmt].has_delivery_method
        and before["delivery_method"]
        and "delivery_method" not in raw
    ):
        changed["delivery_method"] = None
    for name in ("owner_user_id", "activity_id", "title", "format", "start_date", "end_date"):
        if name in changed and changed[name] is None:
            problems.append(Problem(name, f"{label(name)} cannot be emptied"))
    new_id = changed.get("activity_id")
    if new_id and id_holder(new_id) not in (None, stored.id):
        problems.append(Problem("activity_id", f"Activity ID {new_id} is already taken"))
    record = before | changed
    problems += [p for p in check_record(record, set(changed)) if p.field not in unreadable]
    return CheckedActivity(changed, problems)


def check_counts(
    *,
    stored: Any,
    counts: Mapping[str, str],
    as_of: str | None,
    actor: Actor,
    today: date,
    history: Sequence[LearnerCount],
) -> CheckedCounts:
    result = CheckedCounts({}, None)
    for category, text in counts.items():
        try:
            result.counts[category] = parse_count(text)
        except FieldError as exc:
            name = rules.LEARNER_CATEGORIES[category]
            result.problems.append(Problem(f"learners_{category}", f"{name}: {exc}"))
    if as_of:
        try:
            result.as_of = parse_date(as_of)
        except FieldError as exc:
            result.problems.append(Problem("as_of", f"As-of date: {exc}"))
            return result
    when = result.as_of or _default_as_of(stored, today)
    if when is None:
        return result
    if stored.start_date and when < stored.start_date:
        result.problems.append(
            Problem("as_of", f"As-of date {when} is before the start date {stored.start_date}")
        )
    if when > today:
        result.problems.append(Problem("as_of", f"As-of date {when} is in the future"))
    if stored.format == rules.ENDURING:
        earlier = {
            row.category: row.count
            for row in sorted(history, key=lambda r: (r.as_of, r.recorded_at, r.id or 0))
            if row.as_of <= when
        }
        result.lower = [
            LowerCount(rules.LEARNER_CATEGORIES[c], earlier[c], n)
            for c, n in result.counts.items()
            if c in earlier and n < earlier[c]
        ]
    return result


def _default_as_of(activity: Any, today: date) -> date | None:
    if not activity.end_date or not activity.start_date:
        return None
    if activity.format == rules.ENDURING:
        dec31 = rules.last_december_31(today)
        if dec31 >= activity.start_date:
            return min(dec31, activity.end_date)
    return min(activity.end_date, today)


def check_close(*, stored: Any, actor: Actor, today: date, counted: set[str]) -> list[Problem]:
    if stored.end_date and not rules.has_ended(stored, today):
        return [
            Problem(
                "close",
                f"It ends on {stored.end_date}; an activity can be closed only after its end "
                "date has passed",
            )
        ]
    missing = rules.missing_for_close(stored, set(counted))
    if missing:
        return [Problem("close", "It can't be closed yet. PARS still needs: " + _labels(missing))]
    return []


def _labels(names: list[str]) -> str:
    return ", ".join(label(m) for m in names)
