"""Two people editing one activity: what changed since someone loaded it, and the three-way
merge of a form saved over a colleague's change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Activity, AuditEvent
from storage.pars.fields import BY_NAME, label, parse_values


def changes_since(
    *, session: Session, activity: Activity, version: int
) -> tuple[str | None, list[str]]:
    """Who last changed the activity after `version`, and which fields changed since."""
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.activity_pk == activity.id, col(AuditEvent.version) > version)
        .order_by(col(AuditEvent.id))
    ).all()
    names: list[str] = []
    for event in events:
        for name in event.changes:
            shown = label(name) if name in BY_NAME or name.startswith("learners_") else name
            if shown not in names:
                names.append(shown)
    return (events[-1].user_id if events else None), names


def values_before(*, session: Session, activity: Activity, version: int) -> dict[str, Any]:
    """Each field changed after `version`, with the value it had at `version`."""
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.activity_pk == activity.id, col(AuditEvent.version) > version)
        .order_by(col(AuditEvent.id))
    ).all()
    texts: dict[str, str] = {}
    for event in events:
        for name, change in event.changes.items():
            if name in BY_NAME and name not in texts:
                texts[name] = change["before"]
    values, problems = parse_values(texts)
    unreadable = {p.field for p in problems}
    return {name: value for name, value in values.items() if name not in unreadable}


@dataclass(frozen=True)
class StaleMerge:
    """A form saved over someone else's change, merged on the latest version.

    `theirs` are the fields only the other person changed: the form takes the stored value.
    `both` are the fields both changed: the form keeps the user's value, and saving again
    deliberately puts it over theirs.
    """

    activity: Activity
    theirs: list[str]
    both: list[str]


def merge_stale_form(
    *, session: Session, activity: Activity, version: int, raw: dict[str, str]
) -> StaleMerge:
    """Merge the text a user submitted against `version` with what changed since."""
    original = values_before(session=session, activity=activity, version=version)
    mine, _problems = parse_values(raw)
    theirs, both = [], []
    for name, was in original.items():
        if name in mine and mine[name] == was:
            theirs.append(name)  # untouched by the user: take the other change
        else:
            both.append(name)
    return StaleMerge(activity=activity, theirs=theirs, both=both)
