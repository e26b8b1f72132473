"""Learner counts: recorded with their as-of date, kept as history, audited.

Counts are a small table keyed by learner category, so Joint Accreditation's per-profession
counts fit later; the count with the latest as-of date of each category is its current one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.activities import audit, get_activity, raise_for
from storage.errors import CountDecreaseNeedsConfirmation, ParsError
from storage.models import Activity, AuditEvent, LearnerCount
from storage.pars.validation import Actor, check_counts


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


@dataclass(frozen=True)
class CountsRecorded:
    activity: Activity
    as_of: date
    counts: dict[str, int]
    # The current figure of each category before this entry, and its as-of date.
    previous: dict[str, int]
    previous_as_of: dict[str, date]
    # Figures given that are already on file as of the same date: not recorded again.
    already: dict[str, int] = field(default_factory=dict)

    def is_current(self, category: str) -> bool:
        """Did this entry become the current count (not history as of an earlier date)?"""
        before = self.previous_as_of.get(category)
        return before is None or self.as_of >= before


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
    activity = get_activity(session=session, team_id=team_id, activity_id=activity_id)
    history = count_history(session=session, activity=activity)
    checked = check_counts(
        stored=activity, counts=counts, as_of=as_of, actor=actor, today=today, history=history
    )
    raise_for(checked.problems, activity.activity_id)
    assert checked.as_of is not None  # no problems: the date was read
    if checked.lower and not confirm_lower:
        raise CountDecreaseNeedsConfirmation(
            activity.activity_id, checked.lower, _last_count_id(session, activity)
        )
    if seen_count_id is not None and _last_count_id(session, activity) != seen_count_id:
        raise ParsError(
            f"The learner counts of `{activity.activity_id}` changed since you were asked, so "
            f"nothing was recorded. `/pars show {activity.activity_id}` has the current figures."
        )
    return add_counts(
        session=session,
        activity=activity,
        actor=actor,
        counts=checked.counts,
        as_of=checked.as_of,
        now=now,
        batch_id=batch_id,
    )


def add_counts(
    *,
    session: Session,
    activity: Activity,
    actor: Actor,
    counts: Mapping[str, int],
    as_of: date,
    now: datetime,
    batch_id: str | None = None,
) -> CountsRecorded:
    """Store counts the validator has passed, with their audit row; a figure already on file
    as of the same date is not recorded again (nor audited)."""
    latest = current_counts(session=session, activity=activity)
    already = {
        c: n
        for c, n in counts.items()
        if c in latest and (latest[c].count, latest[c].as_of) == (n, as_of)
    }
    counts = {c: n for c, n in counts.items() if c not in already}
    recorded = CountsRecorded(
        activity,
        as_of,
        dict(counts),
        {c: row.count for c, row in latest.items()},
        {c: row.as_of for c, row in latest.items()},
        already,
    )
    if not counts:
        return recorded
    for category, number in counts.items():
        session.add(
            LearnerCount(
                team_id=activity.team_id,
                activity_pk=activity.id,
                category=category,
                count=number,
                as_of=as_of,
                recorded_by=actor.user_id,
                recorded_at=now,
            )
        )
    changes = _count_changes(latest, counts, as_of)
    audit(
        session=session,
        activity=activity,
        action="counts",
        actor=actor,
        now=now,
        changes=changes,
        batch_id=batch_id,
    )
    session.flush()
    return recorded


def _last_count_id(session: Session, activity: Activity) -> int | None:
    return session.exec(
        select(func.max(LearnerCount.id)).where(LearnerCount.activity_pk == activity.id)
    ).one()


def add_first_counts_many(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    entries: Sequence[tuple[int, str, Mapping[str, int], date]],
    now: datetime,
    batch_id: str | None = None,
) -> None:
    """The first counts of activities just added, in two statements, audited like add_counts.

    `entries` are (row key, activity ID, counts by category, as-of date); the activities have
    no counts on file yet, so there is nothing to compare with.
    """
    if not entries:
        return
    counts = [
        {
            "team_id": team_id,
            "activity_pk": pk,
            "category": category,
            "count": number,
            "as_of": as_of,
            "recorded_by": actor.user_id,
            "recorded_at": now,
        }
        for pk, _aid, numbers, as_of in entries
        for category, number in numbers.items()
    ]
    audits = [
        {
            "team_id": team_id,
            "activity_pk": pk,
            "activity_id": activity_id,
            "action": "counts",
            "user_id": actor.user_id,
            "at": now,
            "changes": _count_changes({}, numbers, as_of),
            "batch_id": batch_id,
            "version": 1,
        }
        for pk, activity_id, numbers, as_of in entries
    ]
    session.execute(sa.insert(LearnerCount.__table__), counts)
    session.execute(sa.insert(AuditEvent.__table__), audits)


def _count_changes(
    latest: Mapping[str, LearnerCount], counts: Mapping[str, int], as_of: date
) -> dict[str, dict[str, str]]:
    changes = {
        f"learners_{c}": {
            "before": str(latest[c].count) if c in latest else "",
            "after": str(n),
        }
        for c, n in counts.items()
    }
    changes["as_of"] = {"before": "", "after": as_of.isoformat()}
    return changes
