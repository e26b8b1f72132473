"""Undo an applied batch, from its audit trail, while none of its activities changed since."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, delete, or_, select

from storage.activities import Actor
from storage.batch.store import APPLIED, UNDONE, get_plan
from storage.duplicates import title_key
from storage.errors import NotPermitted, ParsError, Problem
from storage.models import Activity, AuditEvent, LearnerCount
from storage.pars import rules
from storage.pars.fields import BY_NAME, parse_values


@dataclass
class Undone:
    batch_id: str
    removed: list[str] = field(default_factory=list)  # activities the batch added
    restored: list[str] = field(default_factory=list)  # activities put back as they were


class ChangedSince(ParsError):
    def __init__(self, batch_id: str, changed: list[str]) -> None:
        self.changed = changed
        shown = ", ".join(f"`{a}`" for a in changed[:20])
        more = f" and {len(changed) - 20} more" if len(changed) > 20 else ""
        super().__init__(
            f"Batch `{batch_id}` can't be undone: these activities changed after it was "
            f"applied: {shown}{more}. Nothing was undone; change them back by hand instead."
        )


class CannotRestore(ParsError):
    def __init__(self, batch_id: str, activity_id: str, problems: list[Problem]) -> None:
        what = "; ".join(p.message for p in problems)
        super().__init__(
            f"Batch `{batch_id}` can't be undone: the earlier value of `{activity_id}` can't be "
            f"put back as it was ({what}). Nothing was undone; change it by hand instead."
        )


def undo_batch(
    *, session: Session, team_id: str, batch_id: str, actor: Actor, now: datetime
) -> Undone:
    """Take back everything the batch did. The caller commits."""
    if not actor.is_admin:
        raise NotPermitted("Only admins can undo a batch. Ask one of the admins in PARS_ADMINS.")
    plan = get_plan(session, team_id=team_id, plan_id=batch_id)
    if plan.status != APPLIED:
        raise ParsError(
            f"Batch `{plan.id}` was not applied (it is {plan.status}): nothing to undo."
        )
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.team_id == team_id, AuditEvent.batch_id == plan.id)
        .order_by(col(AuditEvent.id))
    ).all()
    by_pk: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in events:
        if event.activity_pk is not None:
            by_pk[event.activity_pk].append(event)
    changed = _changed_since(session, team_id, plan.id, by_pk)
    if changed:
        raise ChangedSince(plan.id, changed)
    result = Undone(plan.id)
    undo_id = f"undo-{plan.id}"
    for pk, mine in by_pk.items():
        activity = session.get(Activity, pk)
        if activity is None:
            continue
        if any(e.action == "create" for e in mine):
            result.removed.append(activity.activity_id)
            session.add(_audit(activity, actor, now, undo_id, "undo", {"removed": "yes"}, None))
            session.flush()
            session.exec(delete(LearnerCount).where(col(LearnerCount.activity_pk) == pk))
            session.delete(activity)
            session.flush()
            continue
        for event in reversed(mine):
            _reverse(session, activity, event)
        activity.active_fields_complete = not rules.missing_for_active(activity)
        activity.title_key = title_key(activity.title)
        activity.updated_at = now
        activity.updated_by = actor.user_id
        session.add(activity)
        session.flush()
        session.add(_audit(activity, actor, now, undo_id, "undo", {}, activity.id))
        result.restored.append(activity.activity_id)
    plan.status = UNDONE
    plan.result = {**(plan.result or {}), "undone_by": actor.user_id, "undone_at": now.isoformat()}
    session.add(plan)
    session.flush()
    return result


def _changed_since(
    session: Session, team_id: str, batch_id: str, by_pk: dict[int, list[AuditEvent]]
) -> list[str]:
    if not by_pk:
        return []
    first = min(e.id or 0 for mine in by_pk.values() for e in mine)
    later = session.exec(
        select(AuditEvent).where(
            AuditEvent.team_id == team_id,
            col(AuditEvent.id) > first,
            or_(col(AuditEvent.batch_id).is_(None), AuditEvent.batch_id != batch_id),
        )
    ).all()
    changed: list[str] = []
    for event in later:
        mine = by_pk.get(event.activity_pk or -1)
        if mine and (event.id or 0) > (mine[-1].id or 0) and event.activity_id not in changed:
            changed.append(event.activity_id)
    return changed


def _reverse(session: Session, activity: Activity, event: AuditEvent) -> None:
    if event.action == "close":
        activity.closed_at = None
        activity.closed_by = None
    elif event.action == "counts":
        session.exec(
            delete(LearnerCount).where(
                col(LearnerCount.activity_pk) == activity.id,
                col(LearnerCount.recorded_at) == event.at,
                col(LearnerCount.recorded_by) == event.user_id,
            )
        )
    elif event.action == "update":
        texts = {n: c["before"] for n, c in event.changes.items() if n in BY_NAME}
        values, problems = parse_values(texts)
        if problems:
            # A value stored under older rules that today's refuse: restoring the rest and
            # saying "put back" would be untrue, so the whole undo is refused.
            raise CannotRestore(event.batch_id or "", activity.activity_id, problems)
        for name, value in values.items():
            setattr(activity, name, value)


def _audit(
    activity: Activity,
    actor: Actor,
    now: datetime,
    batch_id: str,
    action: str,
    changes: dict[str, str],
    pk: int | None,
) -> AuditEvent:
    return AuditEvent(
        team_id=activity.team_id,
        activity_pk=pk,
        activity_id=activity.activity_id,
        action=action,
        user_id=actor.user_id,
        at=now,
        changes={k: {"before": v, "after": ""} for k, v in changes.items()},
        batch_id=batch_id[:64],
        version=activity.version,
    )
