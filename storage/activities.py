"""The activity service: every change to an activity goes through here, audited.

Functions take `session=` and never commit: the caller owns the transaction, so a batch of
changes is applied whole or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, func, select

from storage import rules
from storage.errors import (
    ActivityClosed,
    ActivityNotFound,
    CloseRefused,
    CountDecreaseNeedsConfirmation,
    DuplicateActivityId,
    LowerCount,
    NotPermitted,
    ParsError,
    Problem,
    StaleEdit,
    ValidationFailed,
)
from storage.fields import (
    BY_NAME,
    FIELDS,
    FieldError,
    check_record,
    label,
    parse_count,
    parse_date,
    parse_values,
    render,
)
from storage.models import Activity, AuditEvent, LearnerCount

FIELD_NAMES = tuple(f.name for f in FIELDS)


@dataclass(frozen=True)
class Actor:
    """Who is making a change, and whether PARS_ADMINS lists them."""

    user_id: str
    is_admin: bool = False


def find_activity(*, session: Session, team_id: str, activity_id: str) -> Activity | None:
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


def current_counts(*, session: Session, activity: Activity) -> dict[str, LearnerCount]:
    """The newest count of each learner category (by as-of date, then when recorded)."""
    rows = session.exec(
        select(LearnerCount)
        .where(LearnerCount.activity_pk == activity.id)
        .order_by(col(LearnerCount.as_of), col(LearnerCount.recorded_at), col(LearnerCount.id))
    ).all()
    return {row.category: row for row in rows}


def count_history(*, session: Session, activity: Activity) -> list[LearnerCount]:
    return list(
        session.exec(
            select(LearnerCount)
            .where(LearnerCount.activity_pk == activity.id)
            .order_by(col(LearnerCount.recorded_at).desc(), col(LearnerCount.id).desc())
        ).all()
    )


def missing_for_next_status(
    *, session: Session, activity: Activity, today: date
) -> tuple[rules.Status, list[str]]:
    """The status after this one, and the fields it still needs."""
    status = status_of(activity, today=today)
    if status is rules.Status.DRAFT:
        nxt = (
            rules.Status.READY_TO_CLOSE if rules.has_ended(activity, today) else rules.Status.ACTIVE
        )
        return nxt, rules.missing_for_active(activity)
    if status in (rules.Status.ACTIVE, rules.Status.READY_TO_CLOSE):
        counted = set(current_counts(session=session, activity=activity))
        return rules.Status.CLOSED, rules.missing_for_close(activity, counted)
    return status, []


def _record_of(activity: Activity) -> dict[str, Any]:
    return {name: getattr(activity, name) for name in FIELD_NAMES}


def _audit(
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
    """Owners and admins change an activity; anyone may change one that has no owner."""
    if actor.is_admin or activity.owner_user_id in (None, actor.user_id):
        return
    raise NotPermitted(
        f"`{activity.activity_id}` belongs to <@{activity.owner_user_id}>; only they or an "
        "admin can change it. Ask them, or an admin, to reassign it with "
        f"`/pars edit {activity.activity_id} owner=@you`."
    )


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


def _raise_if_problems(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems)


def _record_problems(
    record: Mapping[str, Any], changed: set[str], found: list[Problem]
) -> list[Problem]:
    """Whole-record problems, less those on fields whose text could not even be read."""
    unreadable = {p.field for p in found}
    return [p for p in check_record(record, changed) if p.field not in unreadable]


def _insert(session: Session, activity: Activity) -> None:
    """Flush the new row; a concurrent insert of the same ID surfaces as DuplicateActivityId."""
    try:
        with session.begin_nested():
            session.add(activity)
            session.flush()
    except sa.exc.IntegrityError:
        raise DuplicateActivityId(activity.activity_id) from None


def create_activity(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    raw: Mapping[str, str],
    now: datetime,
    batch_id: str | None = None,
) -> Activity:
    """Add an activity from text fields by name; the ID is assigned when none is given."""
    values, problems = parse_values(raw)
    record: dict[str, Any] = dict.fromkeys(FIELD_NAMES) | values
    if not record["owner_user_id"]:
        record["owner_user_id"] = actor.user_id
    problems += _record_problems(record, set(values), problems)
    _raise_if_problems(problems)
    given_id = record.pop("activity_id")
    if given_id and find_activity(session=session, team_id=team_id, activity_id=given_id):
        raise DuplicateActivityId(given_id)
    for _attempt in range(5):
        activity_id = given_id or next_activity_id(
            session=session, team_id=team_id, year=record["start_date"].year
        )
        activity = Activity(
            team_id=team_id,
            activity_id=activity_id,
            **record,
            created_at=now,
            created_by=actor.user_id,
            updated_at=now,
            updated_by=actor.user_id,
        )
        try:
            _insert(session, activity)
        except DuplicateActivityId:
            if given_id:
                raise
            continue  # another process took the same running number; take the next
        changes = _diff({}, {k: v for k, v in _record_of(activity).items() if v is not None})
        _audit(
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


@dataclass
class Update:
    activity: Activity
    changes: dict[str, dict[str, str]] = field(default_factory=dict)


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


def update_activity(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    activity_id: str,
    raw: Mapping[str, str],
    now: datetime,
    expected_version: int | None = None,
    batch_id: str | None = None,
) -> Update:
    """Change the fields given in `raw` (text by field name; empty text clears a field).

    With `expected_version` (the version the user's form was built from), a change made by
    someone else in between refuses the whole update with StaleEdit.
    """
    activity = get_activity(session=session, team_id=team_id, activity_id=activity_id)
    if activity.closed_at is not None:
        raise ActivityClosed(activity.activity_id)
    ensure_may_change(activity, actor)
    if expected_version is not None and activity.version != expected_version:
        who, names = changes_since(session=session, activity=activity, version=expected_version)
        raise StaleEdit(activity.activity_id, who, names)
    values, problems = parse_values(raw)
    before = _record_of(activity)
    changed = {k: v for k, v in values.items() if before[k] != v}
    new_format = changed.get("format", before["format"])
    if (
        "format" in changed
        and new_format in rules.FORMATS
        and not rules.FORMATS[new_format].has_delivery_method
        and before["delivery_method"]
        and "delivery_method" not in raw
    ):
        changed["delivery_method"] = None  # the new format has no delivery method
    if "owner_user_id" in changed and not changed["owner_user_id"]:
        problems.append(
            Problem("owner_user_id", "Owner cannot be emptied; give the person now responsible")
        )
    if "activity_id" in changed and not changed["activity_id"]:
        problems.append(
            Problem(
                "activity_id",
                "Activity ID cannot be emptied; give another one "
                f"(e.g. `{BY_NAME['activity_id'].example}`)",
            )
        )
    record = before | changed
    problems += _record_problems(record, set(changed), problems)
    _raise_if_problems(problems)
    new_id = changed.get("activity_id")
    if new_id:
        other = find_activity(session=session, team_id=team_id, activity_id=new_id)
        if other is not None and other.id != activity.id:
            raise DuplicateActivityId(new_id)
    if not changed:
        return Update(activity)
    for name, value in changed.items():
        setattr(activity, name, value)
    activity.updated_at = now
    activity.updated_by = actor.user_id
    _flush_update(session, activity, expected_version)
    changes = _diff(before, changed)
    _audit(
        session=session,
        activity=activity,
        action="update",
        actor=actor,
        now=now,
        changes=changes,
        batch_id=batch_id,
    )
    return Update(activity, changes)


def _flush_update(session: Session, activity: Activity, read_version: int | None) -> None:
    read = activity.version if read_version is None else read_version
    try:
        session.flush()
    except StaleDataError:
        # Another transaction committed between our read and our write: say who and what.
        session.rollback()
        who, names = changes_since(session=session, activity=activity, version=read)
        raise StaleEdit(activity.activity_id, who, names) from None
    except sa.exc.IntegrityError:
        session.rollback()
        raise DuplicateActivityId(activity.activity_id) from None


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
    """Close an activity, or refuse with exactly what PARS still needs."""
    activity = get_activity(session=session, team_id=team_id, activity_id=activity_id)
    aid = activity.activity_id
    if activity.closed_at is not None:
        raise CloseRefused(aid, f"`{aid}` is already closed.", [])
    ensure_may_change(activity, actor)
    if not rules.has_ended(activity, today):
        raise CloseRefused(
            aid,
            f"`{aid}` ends on {activity.end_date}; an activity can be closed only after its "
            "end date has passed.",
            [],
        )
    counted = set(current_counts(session=session, activity=activity))
    missing = rules.missing_for_close(activity, counted)
    if missing:
        raise CloseRefused(
            aid,
            f"`{aid}` can't be closed yet. PARS still needs: "
            + ", ".join(label(m) for m in missing)
            + ".",
            missing,
        )
    _set_closed(session, activity, actor=actor, now=now, closed=True, batch_id=batch_id)
    return activity


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
    _set_closed(session, activity, actor=actor, now=now, closed=False)
    return activity


def _set_closed(
    session: Session,
    activity: Activity,
    *,
    actor: Actor,
    now: datetime,
    closed: bool,
    batch_id: str | None = None,
) -> None:
    activity.closed_at = now if closed else None
    activity.closed_by = actor.user_id if closed else None
    activity.updated_at = now
    activity.updated_by = actor.user_id
    _flush_update(session, activity, None)
    status = (
        {"before": str(rules.Status.READY_TO_CLOSE), "after": str(rules.Status.CLOSED)}
        if closed
        else {"before": str(rules.Status.CLOSED), "after": "reopened"}
    )
    _audit(
        session=session,
        activity=activity,
        action="close" if closed else "reopen",
        actor=actor,
        now=now,
        changes={"status": status},
        batch_id=batch_id,
    )


@dataclass(frozen=True)
class CountsRecorded:
    activity: Activity
    as_of: date
    counts: dict[str, int]
    previous: dict[str, int]


def default_as_of(activity: Activity, today: date) -> date:
    """Enduring materials: counts as of the last 31 December (or the end date if earlier).

    Other formats, and enduring materials that started after that 31 December: as of the end
    date, or today while the activity is still running.
    """
    if activity.format == rules.ENDURING:
        dec31 = rules.last_december_31(today)
        if dec31 >= activity.start_date:
            return min(dec31, activity.end_date)
    return min(activity.end_date, today)


def record_counts(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    activity_id: str,
    counts: Mapping[str, str],
    as_of: str | None,
    now: datetime,
    today: date,
    confirm_lower: bool = False,
    seen_count_id: int | None = None,
    batch_id: str | None = None,
) -> CountsRecorded:
    """Record learner counts (text by learner category) as of a date, keeping the history.

    `seen_count_id` is the newest count the user saw when asked to confirm lower counts: if
    any count was recorded since (a double click, a colleague), nothing is recorded.
    """
    problems: list[Problem] = []
    parsed: dict[str, int] = {}
    for category, text in counts.items():
        name = rules.LEARNER_CATEGORIES[category]
        try:
            parsed[category] = parse_count(text)
        except FieldError as exc:
            problems.append(Problem(f"learners_{category}", f"{name}: {exc}"))
    as_of_date: date | None = None
    if as_of is not None and as_of.strip():
        try:
            as_of_date = parse_date(as_of)
        except FieldError as exc:
            problems.append(Problem("as_of", f"As-of date: {exc}"))
    if not counts:
        problems.append(Problem("learners", "Give at least one count: physicians=N or others=N"))
    _raise_if_problems(problems)
    activity = get_activity(session=session, team_id=team_id, activity_id=activity_id)
    if activity.closed_at is not None:
        raise ActivityClosed(activity.activity_id)
    ensure_may_change(activity, actor)
    when = as_of_date or default_as_of(activity, today)
    if when < activity.start_date:
        problems.append(
            Problem("as_of", f"As-of date {when} is before the start date {activity.start_date}")
        )
    if when > today:
        problems.append(Problem("as_of", f"As-of date {when} is in the future"))
    _raise_if_problems(problems)
    latest = current_counts(session=session, activity=activity)
    previous = {c: row.count for c, row in latest.items()}
    if activity.format == rules.ENDURING and not confirm_lower:
        # Cumulative: compare with the count as of the same date or earlier, so that
        # correcting an older year's figure is not taken for a drop.
        earlier = {
            row.category: row.count
            for row in sorted(
                count_history(session=session, activity=activity),
                key=lambda r: (r.as_of, r.recorded_at, r.id or 0),
            )
            if row.as_of <= when
        }
        lower = [
            LowerCount(rules.LEARNER_CATEGORIES[c], earlier[c], n)
            for c, n in parsed.items()
            if c in earlier and n < earlier[c]
        ]
        if lower:
            raise CountDecreaseNeedsConfirmation(
                activity.activity_id, lower, _last_count_id(session, activity)
            )
    if seen_count_id is not None and _last_count_id(session, activity) != seen_count_id:
        raise ParsError(
            f"The learner counts of `{activity.activity_id}` changed since you were asked, so "
            f"nothing was recorded. `/pars show {activity.activity_id}` has the current figures."
        )
    for category, number in parsed.items():
        session.add(
            LearnerCount(
                team_id=team_id,
                activity_pk=activity.id,
                category=category,
                count=number,
                as_of=when,
                recorded_by=actor.user_id,
                recorded_at=now,
            )
        )
    changes = {
        f"learners_{c}": {"before": str(previous.get(c, "")), "after": str(n)}
        for c, n in parsed.items()
    }
    changes["as_of"] = {"before": "", "after": when.isoformat()}
    _audit(
        session=session,
        activity=activity,
        action="counts",
        actor=actor,
        now=now,
        changes=changes,
        batch_id=batch_id,
    )
    session.flush()
    return CountsRecorded(activity, when, parsed, previous)


def _last_count_id(session: Session, activity: Activity) -> int | None:
    return session.exec(
        select(func.max(LearnerCount.id)).where(LearnerCount.activity_pk == activity.id)
    ).one()


LIST_VIEWS = ("open", "ready", "closed", "unclosed", "mine", "all")


@dataclass(frozen=True)
class ActivityPage:
    rows: list[tuple[Activity, rules.Status]]
    total: int
    page: int
    pages: int


def list_activities(
    *,
    session: Session,
    team_id: str,
    today: date,
    views: Sequence[str] = ("open",),
    year: int | None = None,
    format_code: str | None = None,
    owner_user_id: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> ActivityPage:
    """Activities of a workspace filtered the way `/pars list` names them, one page at a time.

    `year` keeps activities that ran during that year (for enduring materials spanning years).
    """
    query = select(Activity).where(Activity.team_id == team_id)
    chosen = set(views)
    if "closed" in chosen:
        query = query.where(col(Activity.closed_at).is_not(None))
    elif chosen & {"open", "ready", "unclosed"}:
        query = query.where(col(Activity.closed_at).is_(None))
    if chosen & {"ready", "unclosed"}:
        query = query.where(Activity.end_date < today)
    if "mine" in chosen and owner_user_id:
        query = query.where(Activity.owner_user_id == owner_user_id)
    if year is not None:
        query = query.where(
            Activity.start_date <= date(year, 12, 31), Activity.end_date >= date(year, 1, 1)
        )
    if format_code:
        query = query.where(Activity.format == format_code)
    query = query.order_by(col(Activity.end_date), col(Activity.activity_id))
    if "ready" in chosen:
        # Ready to Close depends on many fields: decided per row, among ended, unclosed ones.
        ready = [a for a in session.exec(query).all() if not rules.missing_for_active(a)]
        total = len(ready)
        page, pages = _page_bounds(page, per_page, total)
        start = (page - 1) * per_page
        chosen_rows = ready[start : start + per_page]
    else:
        total = session.exec(
            select(func.count()).select_from(query.order_by(None).subquery())
        ).one()
        page, pages = _page_bounds(page, per_page, total)
        chosen_rows = list(session.exec(query.offset((page - 1) * per_page).limit(per_page)).all())
    rows = [(a, status_of(a, today=today)) for a in chosen_rows]
    return ActivityPage(rows, total, page, pages)


def _page_bounds(page: int, per_page: int, total: int) -> tuple[int, int]:
    """The page asked for, kept within the pages there are, and how many there are."""
    pages = max(1, -(-total // per_page))
    return min(max(page, 1), pages), pages
