"""Apply a previewed plan in one transaction, under its batch ID, through the activity service.

The plan's status is changed first of all, in the same transaction: a second Apply (a
double click, another process) waits for the first and then finds it applied. A crash before
the commit leaves everything, the status included, as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from storage import activities as service
from storage import counts as learner_counts
from storage import table_stats
from storage.activities import Actor
from storage.batch.packed import unpack_rows
from storage.batch.plan import ADD, ERROR, UPDATE, Plan, RowPlan, Tally, data_mark, plan_rows
from storage.batch.store import (
    APPLIED,
    PREVIEWED,
    ensure_may_apply,
    get_plan,
    status_refusal,
)
from storage.collector import collector_paused
from storage.errors import ParsError
from storage.models import BatchPlan
from storage.sheets.read import one_copy
from storage.sheets.rows import BatchRow


class ApplyRefused(ParsError):
    pass


@dataclass
class Applied:
    batch_id: str
    summary: Tally
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # row, ID, message
    since_preview: list[str] = field(default_factory=list)

    def dump(self) -> dict[str, Any]:
        return {
            "summary": self.summary.dump(),
            "errors": [list(e) for e in self.errors],
            "since_preview": self.since_preview,
        }


def _claim(session: Session, team_id: str, plan_id: str) -> bool:
    """Mark the plan applied before reading anything, so concurrent Applies queue up here."""
    result = session.execute(
        sa.update(BatchPlan)
        .where(
            BatchPlan.id == plan_id.strip(),
            BatchPlan.team_id == team_id,
            BatchPlan.status == PREVIEWED,
        )
        .values(status=APPLIED)
    )
    return result.rowcount == 1


def apply_plan(
    *,
    session: Session,
    team_id: str,
    plan_id: str,
    actor: Actor,
    now: datetime,
    today: date,
    progress: Callable[[int, int], None] | None = None,
    admins: frozenset[str] = frozenset(),
) -> Applied:
    """Apply what the rows ask for, as the data is now. The caller commits (or rolls back).

    `actor` clicked Apply and is named in the audit trail; the rows are checked again with
    the rights of whoever shared the file (an admin if `admins` names them), as the preview
    was: an admin's click applies what the preview said, no more.
    """
    claimed = _claim(session, team_id, plan_id)
    plan = get_plan(session, team_id=team_id, plan_id=plan_id, fresh=True, rows=False)
    ensure_may_apply(plan, actor.user_id, actor.is_admin)
    if not claimed:
        raise ApplyRefused(
            status_refusal(plan, now) or "This batch can't be applied now.", [plan.applied_by or ""]
        )
    plan.status = PREVIEWED  # for the expiry check only; set back below
    refusal = status_refusal(plan, now)
    if refusal:
        raise ApplyRefused(refusal, [plan.applied_by or ""])
    sharer = Actor(user_id=plan.user_id, is_admin=plan.user_id in admins or (
        plan.user_id == actor.user_id and actor.is_admin
    ))  # fmt: skip
    todo, unchanged = rows_to_check(session, team_id, plan)
    fresh = plan_rows(
        session=session, team_id=team_id, actor=sharer, rows=todo, today=today, notes=False
    )
    since = what_changed(plan.summary or {}, fresh)
    with collector_paused():  # thousands of rows' statements: see collector.py
        done, errors = run_rows(
            session=session,
            team_id=team_id,
            plan=fresh,
            rows=todo,
            actor=actor,
            now=now,
            today=today,
            batch_id=plan.id,
            progress=progress,
        )
    done.unchanged += unchanged
    result = Applied(plan.id, done, errors, since_preview=since)
    plan.status = APPLIED
    plan.applied_at = now
    plan.applied_by = actor.user_id
    plan.result = result.dump()
    session.add(plan)
    session.flush()
    _analyze_once_committed(session, done)
    return result


def _analyze_once_committed(session: Session, done: Tally) -> None:
    """After an Apply of many rows, once the caller commits, the planner's statistics of the
    tables it wrote, in the background (storage/table_stats.py): pages of a workspace just
    imported are planned from its real size, not from an empty table's."""
    changed = done.added + done.updated + done.closed
    written = {
        "activity": changed,
        # About two categories a row, and an audit entry for each change.
        "learner_count": 2 * done.counts,
        "audit_event": changed + done.counts,
    }
    if max(written.values()) <= table_stats.MANY_ROWS:
        return
    engine = session.get_bind()

    def analyze(_session: Session) -> None:
        table_stats.analyze_in_background(engine, written)  # type: ignore[arg-type]

    sa.event.listen(session, "after_commit", analyze, once=True)


def rows_to_check(session: Session, team_id: str, plan: BatchPlan) -> tuple[list[BatchRow], int]:
    """The rows Apply must check again, and how many rows it need not (they stay unchanged).

    All of them, unless nothing has been written in the workspace since the preview. Then a
    row the preview found unchanged still is, whoever clicks and whatever the day (such a row
    is decided by the stored values alone), and only the others are read and checked again:
    a re-upload of a file already applied is quick.

    Not when an activity has rows on two sheets: an earlier row's outcome (which may differ
    now, with other rights or on another day) is what a later row is compared with.
    """
    summary = plan.summary or {}
    trusted = (
        summary.get("unique_ids") is True
        and plan.data_mark is not None
        and plan.data_mark == data_mark(session, team_id)
    )
    if not trusted:
        return _loaded(session, plan, None), 0
    previewed = summary.get("rows", [])
    again = {
        (r["sheet"], r["row"])
        for r in previewed
        if _outcome(r["action"], r["counts"], r["close"]) != "unchanged"
    }
    if not again:
        return [], len(previewed)
    rows = _loaded(session, plan, again)
    return rows, len(previewed) - len(rows)


def _loaded(
    session: Session, plan: BatchPlan, wanted: set[tuple[str, int]] | None
) -> list[BatchRow]:
    """The plan's rows (those `wanted`, or all), read from their stored text one row at a
    time, each cell's text kept once as the reader keeps it. Parsed whole, 100,000 rows'
    dicts and repeated texts would take 200 MB besides the rows themselves."""
    packed = session.execute(
        sa.select(BatchPlan.__table__.c.packed_rows).where(BatchPlan.__table__.c.id == plan.id)
    ).scalar_one()
    if packed is None:
        return []
    once = one_copy()

    def each(found: dict[str, Any]) -> Any:
        # Called for every object, the innermost first: a row's fields and counts, then the
        # row, which becomes its BatchRow at once. The keys too are kept once: each row is
        # parsed on its own, and json shares keys only within one parse.
        if "sheet" not in found or "fields" not in found:
            return {once(k, k): once(v, v) if type(v) is str else v for k, v in found.items()}
        return BatchRow.load(found)

    return [
        r
        for r in unpack_rows(packed, object_hook=each)
        if wanted is None or (r.sheet, r.row) in wanted
    ]


def what_changed(preview: dict[str, Any], fresh: Plan) -> list[str]:
    """Rows whose outcome differs from the preview: someone changed the data in between."""
    before = {(r["sheet"], r["row"]): r for r in preview.get("rows", [])}
    notes: list[str] = []
    for row in fresh.rows:
        old = before.get((row.sheet, row.row))
        if old is None:
            continue
        was = _outcome(old["action"], old["counts"], old["close"])
        now = _outcome(row.action, row.counts, row.close)
        if was != now:
            notes.append(f"row {row.row} ({row.activity_id}): previewed as {was}, now {now}")
    return notes


def _outcome(action: str, counts: bool, close: bool) -> str:
    words = {"add": "an addition", "update": "an update", "unchanged": "unchanged"}
    if action == ERROR:
        return "an error"
    parts = [words[action]] if action != "unchanged" or not (counts or close) else []
    if counts:
        parts.append("new counts")
    if close:
        parts.append("a close")
    return " with ".join(parts) if parts else "unchanged"


@dataclass
class _Run:
    """One Apply's writes: who, when, under which batch, and what came of each row."""

    session: Session
    team_id: str
    actor: Actor
    now: datetime
    today: date
    batch_id: str
    by_position: dict[tuple[str, int], BatchRow]
    done: Tally = field(default_factory=Tally)
    errors: list[tuple[int, str, str]] = field(default_factory=list)


def run_rows(
    *,
    session: Session,
    team_id: str,
    plan: Plan,
    rows: list[BatchRow],
    actor: Actor,
    now: datetime,
    today: date,
    batch_id: str,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Tally, list[tuple[int, str, str]]]:
    """Apply each row of `plan`; what was done, and the rows refused (row, ID, message)."""
    run = _Run(
        session=session,
        team_id=team_id,
        actor=actor,
        now=now,
        today=today,
        batch_id=batch_id,
        by_position={(r.sheet, r.row): r for r in rows},
    )
    total = len(plan.rows)
    step = max(1, min(1000, total // 10))
    # Rows that only add (with their first counts) are written together, in file order with
    # the others: a run of them is flushed before any other row is applied.
    adds: list[RowPlan] = []
    for index, planned in enumerate(plan.rows):
        if progress is not None and index and index % step == 0:
            progress(index, total)
        if planned.action == ERROR:
            run.done.errors += 1
            run.errors += [(planned.row, planned.activity_id, m) for m in planned.messages()]
            continue
        if not planned.changes_anything:
            run.done.unchanged += 1
            continue
        if planned.action == ADD and not planned.close:
            adds.append(planned)
            if len(adds) >= ADD_CHUNK:
                _add_together(run, adds)
                adds = []
            continue
        _add_together(run, adds)
        adds = []
        _apply_one(run, planned)
    _add_together(run, adds)
    return run.done, run.errors


# Rows added in one statement: large enough that a statement per row is gone, small enough
# that a conflict sends only this many rows the slow way.
ADD_CHUNK = 2000


def _add_together(run: _Run, adds: list[RowPlan]) -> None:
    if not adds:
        return
    try:
        with run.session.begin_nested():
            keys = service.add_many_checked(
                session=run.session,
                team_id=run.team_id,
                actor=run.actor,
                records=[planned.values for planned in adds],
                now=run.now,
                batch_id=run.batch_id,
            )
            learner_counts.add_first_counts_many(
                session=run.session,
                team_id=run.team_id,
                actor=run.actor,
                entries=[
                    (
                        keys[p.values["activity_id"]],
                        p.values["activity_id"],
                        p.count_values,
                        p.as_of,
                    )
                    for p in adds
                    if p.counts and p.as_of is not None
                ],
                now=run.now,
                batch_id=run.batch_id,
            )
    except ParsError:
        # An ID taken since the check (another process): each row on its own, so only the
        # rows that conflict are refused.
        for planned in adds:
            _apply_one(run, planned)
        return
    run.done.added += len(adds)
    run.done.counts += sum(p.counts for p in adds)


def _apply_one(run: _Run, planned: RowPlan) -> None:
    row = run.by_position[(planned.sheet, planned.row)]
    steps = (planned.action in (ADD, UPDATE)) + planned.counts + planned.close
    try:
        if steps > 1:  # all of the row or none of it
            with run.session.begin_nested():
                _apply_row(run, planned, row)
        else:  # one write: the service's own savepoint undoes only it on a conflict
            _apply_row(run, planned, row)
    except ParsError as error:
        run.done.errors += 1
        run.errors.append((planned.row, planned.activity_id, error.message))
        return
    if planned.action == ADD:
        run.done.added += 1
    elif planned.action == UPDATE:
        run.done.updated += 1
    run.done.counts += planned.counts
    run.done.closed += planned.close


def _apply_row(run: _Run, planned: RowPlan, row: BatchRow) -> None:
    """One row through the service, with the values the validator passed a moment ago."""
    session, team_id, actor, now, batch_id = (
        run.session, run.team_id, run.actor, run.now, run.batch_id
    )  # fmt: skip
    activity = None
    if planned.action == ADD:
        activity = service.add_checked(
            session=session,
            team_id=team_id,
            actor=actor,
            values=planned.values,
            now=now,
            batch_id=batch_id,
        )
    elif planned.action == UPDATE:
        stored = service.get_activity(
            session=session, team_id=team_id, activity_id=planned.activity_id
        )
        activity = service.update_checked(
            session=session,
            activity=stored,
            actor=actor,
            values=planned.values,
            now=now,
            batch_id=batch_id,
        ).activity
    if planned.counts:
        if activity is None:
            activity = service.get_activity(
                session=session, team_id=team_id, activity_id=planned.activity_id
            )
        assert planned.as_of is not None
        learner_counts.add_counts(
            session=session,
            activity=activity,
            actor=actor,
            counts=planned.count_values,
            as_of=planned.as_of,
            now=now,
            batch_id=batch_id,
        )
    if planned.close:
        service.close_activity(
            session=session,
            team_id=team_id,
            actor=actor,
            activity_id=activity.activity_id if activity is not None else planned.activity_id,
            now=now,
            today=run.today,
            batch_id=batch_id,
        )
