"""The activity service: every change to an activity goes through here, audited.

Functions take `session=` and never commit: the caller owns the transaction, so a batch of
changes is applied whole or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, func, select

from storage import queries
from storage.duplicates import title_key
from storage.editing import changes_since
from storage.errors import (
    ActivityClosed,
    ActivityNotFound,
    CloseRefused,
    DuplicateActivityId,
    NotPermitted,
    ParsError,
    Problem,
    StaleEdit,
    ValidationFailed,
)
from storage.models import Activity, AuditEvent
from storage.pars import rules
from storage.pars.fields import render
from storage.pars.validation import (
    CLOSED,
    DUPLICATE_ID,
    FIELD_NAMES,
    NOT_PERMITTED,
    Actor,
    RecordView,
    check_activity,
    check_close,
    default_as_of,
    record_of,
    refusal,
)

__all__ = ["Actor", "default_as_of"]


def find_activity(*, session: Session, team_id: str, activity_id: str) -> Activity | None:
    """The activity with this ID, or with this ID in another case when only one has it."""
    wanted = activity_id.strip()
    exact = session.exec(
        select(Activity).where(Activity.team_id == team_id, Activity.activity_id == wanted)
    ).first()
    if exact is not None:
        return exact
    # People type "gr-2025" for "GR-2025"; accept it when it names one activity only.
    loose = session.exec(
        select(Activity).where(
            Activity.team_id == team_id, func.lower(Activity.activity_id) == wanted.lower()
        )
    ).all()
    return loose[0] if len(loose) == 1 else None


def get_activity(*, session: Session, team_id: str, activity_id: str) -> Activity:
    activity = find_activity(session=session, team_id=team_id, activity_id=activity_id)
    if activity is None:
        raise ActivityNotFound(activity_id.strip())
    return activity


def get_activity_by_pk(*, session: Session, team_id: str, pk: int) -> Activity:
    """The activity behind a form, whatever its ID has been renamed to since."""
    activity = session.get(Activity, pk)
    if activity is None or activity.team_id != team_id:
        raise ActivityNotFound(str(pk))
    return activity


def status_of(activity: Activity, *, today: date) -> rules.Status:
    return rules.derive_status(activity, closed=activity.closed_at is not None, today=today)


def still_needs(*, session: Session, activity: Activity) -> list[rules.Need]:
    """What PARS still needs of this activity, each field with the status it holds back."""
    counted = set(_counted_as_of(session, activity))
    return rules.still_needs(activity, closed=activity.closed_at is not None, counted=counted)


def needs_of_many(
    *, session: Session, team_id: str, activities: Sequence[Activity]
) -> dict[int, list[rules.Need]]:
    """`still_needs` of each activity of a page, by row, with one query for their counts."""
    counted = queries.counts_on_file(
        session=session, team_id=team_id, activity_pks=[a.id for a in activities if a.id]
    )
    return {
        a.id: rules.still_needs(a, closed=a.closed_at is not None, counted=counted.get(a.id, {}))
        for a in activities
        if a.id is not None
    }


def _counted_as_of(session: Session, activity: Activity) -> dict[str, date]:
    """The learner categories on file, each with the as-of date of its newest count."""
    assert activity.id is not None
    found = queries.counts_on_file(
        session=session, team_id=activity.team_id, activity_pks=[activity.id]
    )
    return found.get(activity.id, {})


def audit(
    *,
    session: Session,
    activity: Activity,
    action: str,
    actor: Actor,
    now: datetime,
    changes: dict[str, dict[str, str]],
    batch_id: str | None,
) -> None:
    session.add(
        AuditEvent(
            team_id=activity.team_id,
            activity_pk=activity.id,
            activity_id=activity.activity_id,
            action=action,
            user_id=actor.user_id,
            at=now,
            changes=changes,
            batch_id=batch_id,
            version=activity.version,
        )
    )


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    return {
        name: {"before": render(before.get(name)), "after": render(after[name])}
        for name in after
        if before.get(name) != after[name]
    }


def ensure_may_change(activity: Activity, actor: Actor) -> None:
    """An open activity, changed by its owner or an admin (anyone, when it has no owner)."""
    if (problem := refusal(activity, actor)) is not None:
        raise_for([problem], activity.activity_id)


def activity_to_change(
    *, session: Session, team_id: str, actor: Actor, activity_id: str = "", pk: int | None = None
) -> Activity:
    """The activity (by row when `pk` is given, else by ID), refused up front when it is
    closed or the actor may not change it: before a form opens, not after it is filled in."""
    if pk is not None:
        activity = get_activity_by_pk(session=session, team_id=team_id, pk=pk)
    else:
        activity = get_activity(session=session, team_id=team_id, activity_id=activity_id)
    ensure_may_change(activity, actor)
    return activity


def next_activity_id(*, session: Session, team_id: str, year: int) -> str:
    """A readable ID such as 2025-0042: the year of the start date and a running number."""
    prefix = f"{year}-"
    taken = session.exec(
        select(Activity.activity_id).where(
            Activity.team_id == team_id, col(Activity.activity_id).startswith(prefix)
        )
    ).all()
    numbers = [int(m.group(1)) for t in taken if (m := re.fullmatch(rf"{year}-(\d+)", t))]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def raise_for(
    problems: list[Problem], activity_id: str | None = None, new_id: str | None = None
) -> None:
    """The validator's problems as the error a caller can answer: a closed activity, a
    forbidden change and a taken ID have errors of their own; the rest are listed together."""
    if not problems:
        return
    for problem in problems:
        if problem.code == CLOSED:
            raise ActivityClosed(activity_id or "")
        if problem.code == NOT_PERMITTED:
            raise NotPermitted(problem.message, problem.people)
    if len(problems) == 1 and problems[0].code == DUPLICATE_ID and new_id:
        raise DuplicateActivityId(new_id)
    raise ValidationFailed(problems)


def id_holder(session: Session, team_id: str) -> Callable[[str], int | None]:
    """The validator's question "who holds this ID?", answered from the database."""

    def holder(activity_id: str) -> int | None:
        found = find_activity(session=session, team_id=team_id, activity_id=activity_id)
        return found.id if found is not None else None

    return holder


def _local_today(now: datetime, today: date | None) -> date:
    # Only the "how many years ahead" check reads it: a day either way does not matter.
    return today if today is not None else now.date()


def create_activity(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    raw: Mapping[str, str],
    now: datetime,
    today: date | None = None,
    batch_id: str | None = None,
) -> Activity:
    """Add an activity from text fields by name; the ID is assigned when none is given."""
    checked = check_activity(
        stored=None,
        raw=raw,
        actor=actor,
        today=_local_today(now, today),
        id_holder=id_holder(session, team_id),
    )
    raise_for(checked.problems, new_id=checked.values.get("activity_id"))
    return add_checked(
        session=session,
        team_id=team_id,
        actor=actor,
        values=checked.values,
        now=now,
        batch_id=batch_id,
    )


def add_checked(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    values: Mapping[str, Any],
    now: datetime,
    batch_id: str | None = None,
) -> Activity:
    """Store an activity the validator has passed, with its audit row."""
    record = record_of(None) | dict(values)
    given_id = record.pop("activity_id")
    for _attempt in range(5):
        activity = Activity(
            team_id=team_id,
            activity_id=given_id
            or next_activity_id(session=session, team_id=team_id, year=record["start_date"].year),
            **record,
            created_at=now,
            created_by=actor.user_id,
            updated_at=now,
            updated_by=actor.user_id,
        )
        activity.active_fields_complete = not rules.missing_for_active(activity)
        activity.title_key = title_key(activity.title)
        try:
            _write(session, activity, {}, add=True)
        except DuplicateActivityId:
            if given_id:
                raise
            continue  # another process took the same running number; take the next
        changes = _diff({}, {k: v for k, v in record_of(activity).items() if v is not None})
        audit(
            session=session,
            activity=activity,
            action="create",
            actor=actor,
            now=now,
            changes=changes,
            batch_id=batch_id,
        )
        return activity
    raise ParsError("Could not assign a new activity ID; please try again.")


def add_many_checked(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    records: Sequence[Mapping[str, Any]],
    now: datetime,
    batch_id: str | None = None,
) -> dict[str, int]:
    """Store many activities the validator has passed, each with its ID, in a few statements.

    Returns each new row's key by activity ID. All or none: an ID taken meanwhile (another
    process) raises DuplicateActivityId and writes none of them, so the caller can go row by
    row instead. The spreadsheet import adds thousands at once; one by one takes 2 ms each.
    """
    if not records:
        return {}
    table, log = Activity.__table__, AuditEvent.__table__
    rows = []
    for values in records:
        record = record_of(None) | dict(values)
        rows.append(
            record
            | {
                "team_id": team_id,
                "active_fields_complete": not rules.missing_for_active(RecordView(record)),
                "title_key": title_key(record.get("title")),
                "created_at": now,
                "created_by": actor.user_id,
                "updated_at": now,
                "updated_by": actor.user_id,
                "version": 1,
            }
        )
    # Keys are matched by activity ID, so the rows may come back in any order, and the
    # driver may send them as a few multi-row statements instead of one statement a row.
    insert = sa.insert(table).returning(table.c.id, table.c.activity_id)
    try:
        with session.begin_nested():
            keys = {aid: pk for pk, aid in session.execute(insert, rows).all()}
    except sa.exc.IntegrityError:
        raise DuplicateActivityId("one of them") from None
    audits = [
        {
            "team_id": team_id,
            "activity_pk": keys[row["activity_id"]],
            "activity_id": row["activity_id"],
            "action": "create",
            "user_id": actor.user_id,
            "at": now,
            "changes": {
                n: {"before": "", "after": render(row[n])}
                for n in FIELD_NAMES
                if row[n] is not None
            },
            "batch_id": batch_id,
            "version": 1,
        }
        for row in rows
    ]
    session.execute(sa.insert(log), audits)
    return keys


@dataclass
class Update:
    activity: Activity
    changes: dict[str, dict[str, str]] = field(default_factory=dict)


def update_activity(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    activity_id: str,
    raw: Mapping[str, str],
    now: datetime,
    today: date | None = None,
    expected_version: int | None = None,
    batch_id: str | None = None,
) -> Update:
    """Change the fields given in `raw` (text by field name; empty text clears a field).

    With `expected_version` (the version the user's form was built from), a change made by
    someone else in between refuses the whole update with StaleEdit.
    """
    activity = get_activity(session=session, team_id=team_id, activity_id=activity_id)
    ensure_may_change(activity, actor)
    if expected_version is not None and activity.version != expected_version:
        who, names = changes_since(session=session, activity=activity, version=expected_version)
        raise StaleEdit(activity.activity_id, who, names)
    checked = check_activity(
        stored=activity,
        raw=raw,
        actor=actor,
        today=_local_today(now, today),
        id_holder=id_holder(session, team_id),
    )
    raise_for(checked.problems, activity.activity_id, checked.values.get("activity_id"))
    # Fields the change cleared (a "no" that empties what followed a "yes") are in
    # checked.values as None, so the reply lists them among the changes.
    return update_checked(
        session=session,
        activity=activity,
        actor=actor,
        values=checked.values,
        now=now,
        read_version=expected_version,
        batch_id=batch_id,
    )


def update_checked(
    *,
    session: Session,
    activity: Activity,
    actor: Actor,
    values: Mapping[str, Any],
    now: datetime,
    read_version: int | None = None,
    batch_id: str | None = None,
) -> Update:
    """Apply changes the validator has passed, with their audit row."""
    if not values:
        return Update(activity)
    before = record_of(activity)
    read = activity.version if read_version is None else read_version
    after = before | dict(values)
    complete = not rules.missing_for_active(RecordView(after))
    written = {**values, "active_fields_complete": complete}
    if "title" in values:
        written["title_key"] = title_key(after.get("title"))
    notes = activity.conversion_notes or {}
    if any(name in notes for name in values):
        # A field given again is no longer the migration's guess.
        kept = {name: note for name, note in notes.items() if name not in values}
        written["conversion_notes"] = kept or None
    try:
        _write(session, activity, written | {"updated_at": now, "updated_by": actor.user_id})
    except StaleDataError:
        # Another transaction committed between our read and our write: say who and what.
        who, names = changes_since(session=session, activity=activity, version=read)
        raise StaleEdit(activity.activity_id, who, names) from None
    changes = _diff(before, dict(values))
    audit(
        session=session,
        activity=activity,
        action="update",
        actor=actor,
        now=now,
        changes=changes,
        batch_id=batch_id,
    )
    return Update(activity, changes)


def _write(
    session: Session, activity: Activity, values: Mapping[str, Any], *, add: bool = False
) -> None:
    """Write one activity; if it conflicts, undo only this write and raise.

    The caller's earlier work in the same transaction stays: a batch can skip the row and go
    on, a single command rolls back as a whole when the error leaves its session_scope.
    """
    try:
        with session.begin_nested():
            for name, value in values.items():
                setattr(activity, name, value)
            if add:
                session.add(activity)
            session.flush()
    except (StaleDataError, sa.exc.IntegrityError) as error:
        # Forget the refused values, so no later flush of this session tries them again.
        if add:
            if activity in session:  # the savepoint's rollback usually expunged it already
                session.expunge(activity)
        else:
            session.expire(activity)
        if isinstance(error, StaleDataError):
            raise
        raise DuplicateActivityId(values.get("activity_id") or activity.activity_id) from None


def close_activity(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    activity_id: str,
    now: datetime,
    today: date,
    batch_id: str | None = None,
) -> Activity:
    """Close an activity, or refuse with everything that stands in the way."""
    activity = get_activity(session=session, team_id=team_id, activity_id=activity_id)
    problems = check_close(
        stored=activity,
        actor=actor,
        today=today,
        counted=_counted_as_of(session, activity),
    )
    if problems:
        raise close_refused(activity.activity_id, problems)
    _set_closed(session, activity, actor=actor, now=now, closed=True, batch_id=batch_id)
    return activity


def close_refused(activity_id: str, problems: list[Problem]) -> ParsError:
    """One message with every reason a close was refused, or the refusal that stops all."""
    for problem in problems:
        if problem.code == NOT_PERMITTED:
            return NotPermitted(problem.message)
        if problem.code == CLOSED:
            return CloseRefused(activity_id, problem.message, [], problems)
    missing = [
        name
        for p in problems
        if p.code.startswith("missing:")
        for name in p.code.removeprefix("missing:").split(",")
    ]
    reasons = " ".join(f"{p.message}." for p in problems)
    return CloseRefused(
        activity_id, f"`{activity_id}` can't be closed yet. {reasons}", missing, problems
    )


def reopen_activity(
    *, session: Session, team_id: str, actor: Actor, activity_id: str, now: datetime
) -> Activity:
    if not actor.is_admin:
        raise NotPermitted(
            "Only admins can reopen a closed activity. Ask one of the admins listed in PARS_ADMINS."
        )
    activity = get_activity(session=session, team_id=team_id, activity_id=activity_id)
    if activity.closed_at is None:
        raise ParsError(f"`{activity.activity_id}` is not closed, so there is nothing to reopen.")
    _set_closed(session, activity, actor=actor, now=now, closed=False, batch_id=None)
    return activity


def _set_closed(
    session: Session,
    activity: Activity,
    *,
    actor: Actor,
    now: datetime,
    closed: bool,
    batch_id: str | None,
) -> None:
    read = activity.version
    values = {
        "closed_at": now if closed else None,
        "closed_by": actor.user_id if closed else None,
        "updated_at": now,
        "updated_by": actor.user_id,
    }
    try:
        _write(session, activity, values)
    except StaleDataError:
        who, names = changes_since(session=session, activity=activity, version=read)
        raise StaleEdit(activity.activity_id, who, names) from None
    status = (
        {"before": str(rules.Status.READY_TO_CLOSE), "after": str(rules.Status.CLOSED)}
        if closed
        else {"before": str(rules.Status.CLOSED), "after": "reopened"}
    )
    audit(
        session=session,
        activity=activity,
        action="close" if closed else "reopen",
        actor=actor,
        now=now,
        changes={"status": status},
        batch_id=batch_id,
    )
