"""Apply a previewed plan in one transaction, under its batch ID, through the activity service.

The plan's status is changed first of all, in the same transaction: a second Apply (a
double click, another process) waits for the first and then finds it applied. A crash before
the commit leaves everything, the status included, as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session

from storage import activities as service
from storage import counts as learner_counts
from storage import table_stats
from storage.activities import Actor
from storage.batch.packed import unpack_rows
from storage.batch.plan import (
    ADD,
    ERROR,
    UPDATE,
    Plan,
    RowPlan,
    Tally,
    Workspace,
    data_mark,
    load_workspace,
    plan_row,
)
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
    todo = rows_to_check(session, team_id, plan)
    before = {(r["sheet"], r["row"]): r for r in previewed_outcomes(plan)}
    run = _Run(
        session=session, team_id=team_id, actor=actor, now=now, today=today, batch_id=plan.id
    )  # fmt: skip
    since: list[str] = []
    with collector_paused():  # thousands of rows' statements: see collector.py
        chunks = _chunks(session, plan.id, todo.wanted, APPLY_CHUNK)
        rows, more = next(chunks, ([], False))
        # The workspace is loaded once, for every row: a file of one chunk is named by its
        # rows, a longer one by a pass over its stored rows that keeps only what names each.
        named: Sequence[Any] = _named(session, plan.id, todo.wanted) if more else rows
        workspace = load_workspace(session, team_id, named)
        # How many of the rows still to come name each activity: once none does, what the
        # file made of it is let go of (see _plan_chunk).
        left = Counter(r.activity_id.strip().lower() for r in named)
        total = len(named)
        del named
        done_rows = 0
        while rows:
            fresh = _plan_chunk(rows, workspace, left, sharer, today)
            since += what_changed(before, fresh)
            _run_chunk(run, fresh, rows, progress, done_rows, total)
            done_rows += len(rows)
            del fresh, rows
            rows, more = next(chunks, ([], False))
    done, errors = run.done, run.errors
    unchanged = todo.previewed - total if todo.wanted is not None else 0
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


# Rows checked again and applied at a time: the rows and their plan are never all held at
# once (100,000 rows: 250 MB), and a multiple of ADD_CHUNK, so that adds are written in the
# same statements as in one go. Every chunk is written in the caller's one transaction.
APPLY_CHUNK = 10_000


class _Named(NamedTuple):
    """What load_workspace needs of a row: which activity, and whether it counts or closes."""

    activity_id: str
    counts: bool
    close: str | None


@dataclass
class ToCheck:
    """The rows Apply checks again: those `wanted` (None: all); the others, of the rows
    `previewed`, stay unchanged."""

    wanted: set[tuple[str, int]] | None
    previewed: int


def rows_to_check(session: Session, team_id: str, plan: BatchPlan) -> ToCheck:
    """The rows Apply must check again, and how many rows the preview had.

    All of them, unless nothing has been written in the workspace since the preview. Then a
    row the preview found unchanged still is, whoever clicks and whatever the day (such a row
    is decided by the stored values alone), and only the others are read and checked again:
    a re-upload of a file already applied is quick.

    Not when an activity has rows on two sheets: an earlier row's outcome (which may differ
    now, with other rights or on another day) is what a later row is compared with.
    """
    summary = plan.summary or {}
    previewed = previewed_outcomes(plan)
    trusted = (
        summary.get("unique_ids") is True
        and plan.data_mark is not None
        and plan.data_mark == data_mark(session, team_id)
    )
    if not trusted:
        return ToCheck(None, len(previewed))
    again = {
        (r["sheet"], r["row"])
        for r in previewed
        if _outcome(r["action"], r["counts"], r["close"]) != "unchanged"
    }
    return ToCheck(again, len(previewed))


def _named(session: Session, plan_id: str, wanted: set[tuple[str, int]] | None) -> list[_Named]:
    """What names each row (those `wanted`, or all): a pass over the stored rows that keeps
    only that, for the workspace's one load when the rows are more than one chunk."""
    return [
        _Named(r["activity_id"], bool(r["counts"]), r["close"])
        for r in unpack_rows(_packed(session, plan_id))
        if wanted is None or (r["sheet"], r["row"]) in wanted
    ]


def _packed(session: Session, plan_id: str) -> bytes:
    packed = session.execute(
        sa.select(BatchPlan.__table__.c.packed_rows).where(BatchPlan.__table__.c.id == plan_id)
    ).scalar_one()
    return packed or b""


def _chunks(
    session: Session, plan_id: str, wanted: set[tuple[str, int]] | None, size: int
) -> Iterator[tuple[list[BatchRow], bool]]:
    """The plan's rows (those `wanted`, or all), `size` at a time, and whether more follow;
    read from their stored text one row at a time, each cell's text kept once in a chunk as
    the reader keeps it. Parsed whole, 100,000 rows' dicts and repeated texts would take
    200 MB besides the rows themselves."""
    if wanted is not None and not wanted:
        return
    once = one_copy()

    def each(found: dict[str, Any]) -> Any:
        # Called for every object, the innermost first: a row's fields and counts, then the
        # row, which becomes its BatchRow at once. The keys too are kept once: each row is
        # parsed on its own, and json shares keys only within one parse.
        if "sheet" not in found or "fields" not in found:
            return {once(k, k): once(v, v) if type(v) is str else v for k, v in found.items()}
        return BatchRow.load(found)

    chunk: list[BatchRow] = []
    for row in unpack_rows(_packed(session, plan_id), object_hook=each):
        if wanted is not None and (row.sheet, row.row) not in wanted:
            continue
        if len(chunk) == size:
            yield chunk, True
            # A new chunk's texts are kept once among themselves: one table for all would
            # keep every row's texts to the end.
            chunk, once = [], one_copy()
        chunk.append(row)
    if chunk:
        yield chunk, False


def _plan_chunk(
    rows: list[BatchRow], workspace: Workspace, left: Counter[str], actor: Actor, today: date
) -> Plan:
    """The rows' plans (plan_rows' without warnings nor needs, which Apply does not show),
    against the workspace as loaded before anything was written and as the file's earlier
    rows leave it. What the file made of an activity is let go of after its last row: kept,
    the values of 100,000 new activities would stay to the end."""
    planned = []
    for row in rows:
        planned.append(plan_row(row, workspace=workspace, actor=actor, today=today))
        key = row.activity_id.strip().lower()
        left[key] -= 1
        if left[key] <= 0:
            workspace.pending.pop(key, None)
    return Plan(planned, workspace.mark)


# A row's outcome as the preview keeps it, in this order (preview.take_outcomes).
OUTCOME = ("sheet", "row", "action", "counts", "close")


def previewed_outcomes(plan: BatchPlan) -> list[dict[str, Any]]:
    """The preview's outcome of each row; a plan previewed before they were kept as lists
    has them as dicts."""
    kept = (plan.summary or {}).get("rows") or []
    if not isinstance(kept, list):
        return []
    return [r if isinstance(r, dict) else dict(zip(OUTCOME, r, strict=True)) for r in kept]


def what_changed(before: dict[tuple[str, int], dict[str, Any]], fresh: Plan) -> list[str]:
    """Rows whose outcome differs from the preview (`before`, by sheet and row): someone
    changed the data in between."""
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
    # The rows being applied (a chunk of them), by position.
    by_position: dict[tuple[str, int], BatchRow] = field(default_factory=dict)
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
        session=session, team_id=team_id, actor=actor, now=now, today=today, batch_id=batch_id
    )  # fmt: skip
    _run_chunk(run, plan, rows, progress, 0, len(plan.rows))
    return run.done, run.errors


def _run_chunk(
    run: _Run,
    plan: Plan,
    rows: list[BatchRow],
    progress: Callable[[int, int], None] | None,
    start: int,
    total: int,
) -> None:
    """Apply each row of `plan`, the rows `start` on of `total` (for the progress)."""
    run.by_position = {(r.sheet, r.row): r for r in rows}
    step = max(1, min(1000, total // 10))
    # Rows that only add (with their first counts) are written together, in file order with
    # the others: a run of them is flushed before any other row is applied.
    adds: list[RowPlan] = []
    for index, planned in enumerate(plan.rows, start):
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
    run.by_position = {}


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
