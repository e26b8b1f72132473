"""Rows into a plan: what each row would change, checked by the store's one validator.

Nothing is written here. The workspace's activities and learner counts are loaded once, so a
file of thousands of rows costs a few queries.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session, col, select

from storage.activities import Actor
from storage.batch import checks
from storage.batch.rows import BatchRow
from storage.errors import Problem
from storage.fields import label, render
from storage.models import Activity, LearnerCount

ADD, UPDATE, UNCHANGED, ERROR = "add", "update", "unchanged", "error"
CLOSE_WORDS = {"closed", "close", "yes", "y", "x", "true"}
OPEN_WORDS = {"no", "n", "open", "draft", "active", "ready to close", "readytoclose", "false"}


@dataclass
class RowPlan:
    sheet: str
    row: int
    activity_id: str
    action: str  # add, update, unchanged or error
    changes: dict[str, str] = field(default_factory=dict)  # field -> text as typed
    counts: bool = False
    close: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column target, message)

    @property
    def changes_anything(self) -> bool:
        return self.action in (ADD, UPDATE) or self.counts or self.close

    def dump(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    rows: list[RowPlan]

    def summary(self) -> dict[str, int]:
        return {
            "added": sum(r.action == ADD for r in self.rows),
            "updated": sum(r.action == UPDATE for r in self.rows),
            "unchanged": sum(
                r.action == UNCHANGED and not (r.counts or r.close) for r in self.rows
            ),
            "counts": sum(r.counts for r in self.rows if r.action != ERROR),
            "closed": sum(r.close for r in self.rows if r.action != ERROR),
            "errors": sum(r.action == ERROR for r in self.rows),
            "rows": len(self.rows),
        }

    @property
    def errors(self) -> list[RowPlan]:
        return [r for r in self.rows if r.action == ERROR]


@dataclass
class Workspace:
    """What the plan needs of a workspace's data, loaded in a few queries."""

    by_id: dict[str, Activity]
    history: dict[int, list[LearnerCount]]
    # Activities this file adds, by folded ID: a later sheet may count or close them.
    added: dict[str, Any] = field(default_factory=dict)

    def holder(self, activity_id: str) -> int | None:
        found = self.by_id.get(activity_id.strip().lower())
        return found.id if found is not None else None


def load_workspace(session: Session, team_id: str, rows: Sequence[BatchRow]) -> Workspace:
    activities = session.exec(select(Activity).where(Activity.team_id == team_id)).all()
    by_id = {a.activity_id.lower(): a for a in activities}
    history: dict[int, list[LearnerCount]] = defaultdict(list)
    if any(r.counts or r.close for r in rows):
        counts = session.exec(
            select(LearnerCount)
            .where(LearnerCount.team_id == team_id)
            .order_by(col(LearnerCount.as_of), col(LearnerCount.recorded_at), col(LearnerCount.id))
        ).all()
        for count in counts:
            history[count.activity_pk].append(count)
    return Workspace(by_id, dict(history))


def _current(history: Sequence[LearnerCount]) -> dict[str, LearnerCount]:
    return {row.category: row for row in history}  # oldest first: the newest wins


def _may_change(activity: Activity, actor: Actor) -> bool:
    return actor.is_admin or activity.owner_user_id in (None, actor.user_id)


def plan_row(row: BatchRow, *, workspace: Workspace, actor: Actor, today: date) -> RowPlan:
    plan = RowPlan(row.sheet, row.row, row.activity_id, UNCHANGED)
    problems: list[Problem] = []
    if not row.activity_id:
        plan.action = ERROR
        plan.problems.append(("activity_id", "Activity ID is blank: every row needs one"))
        return plan
    stored = workspace.by_id.get(row.activity_id.strip().lower())
    key = row.activity_id.strip().lower()
    record: Any = stored
    if stored is None and key in workspace.added:
        # Added by an earlier sheet of this file: this row may count or close it.
        record = workspace.added[key]
    elif stored is None:
        if not row.fields:
            plan.action = ERROR
            plan.problems.append(
                (
                    "activity_id",
                    f"No activity has the ID {row.activity_id}: add it first with a row that "
                    "gives its title, format and dates",
                )
            )
            return plan
        raw = {"activity_id": row.activity_id, **row.fields}
        checked = checks.check_activity(
            stored=None, raw=raw, actor=actor, id_holder=workspace.holder
        )
        problems += checked.problems
        plan.action = ADD
        plan.changes = {"activity_id": row.activity_id, **row.fields}
        record = SimpleNamespace(**(checks.record_of(None) | checked.values), id=None)
        if not checked.problems:
            workspace.added[key] = record
    elif row.fields:
        raw = {k: v for k, v in row.fields.items() if k != "activity_id"}
        checked = checks.check_activity(
            stored=stored, raw=raw, actor=actor, id_holder=workspace.holder
        )
        problems += checked.problems
        if checked.values:
            plan.action = UPDATE
            plan.changes = {name: row.fields[name] for name in checked.values if name in row.fields}
            for name in checked.values:  # changes the validator implies (delivery on format)
                plan.changes.setdefault(name, render(checked.values[name]))
            record = SimpleNamespace(**(checks.record_of(stored) | checked.values), id=stored.id)
            if stored.closed_at is not None:
                problems.append(
                    Problem(
                        "activity_id",
                        f"{stored.activity_id} is closed, so it can no longer be changed "
                        f"(an admin can reopen it: `/pars reopen {stored.activity_id}`)",
                    )
                )
            elif not _may_change(stored, actor):
                problems.append(
                    Problem(
                        "activity_id",
                        f"{stored.activity_id} belongs to <@{stored.owner_user_id}>; only they or "
                        "an admin can change it",
                    )
                )
    history = workspace.history.get(stored.id, []) if stored is not None else []
    counted = set(_current(history))
    if row.counts:
        counts_problems, changed = _plan_counts(row, record, stored, history, actor, today)
        problems += counts_problems
        plan.counts = changed
        if changed:
            counted |= set(row.counts)
    if row.close:
        problems += _plan_close(row, plan, record, stored, actor, today, counted)
    if problems:
        plan.action = ERROR
        plan.problems = [(p.field, p.message) for p in problems]
    return plan


def _plan_counts(
    row: BatchRow,
    record: Any,
    stored: Activity | None,
    history: list[LearnerCount],
    actor: Actor,
    today: date,
) -> tuple[list[Problem], bool]:
    checked = checks.check_counts(
        stored=record, counts=row.counts, as_of=row.as_of, actor=actor, today=today, history=history
    )
    if checked.problems:
        return checked.problems, False
    current = _current(history)
    same = all(
        category in current
        and current[category].count == number
        and (checked.as_of is None or current[category].as_of == checked.as_of)
        for category, number in checked.counts.items()
    )
    if same:
        return [], False
    problems: list[Problem] = []
    if stored is not None and stored.closed_at is not None:
        problems.append(
            Problem("learners_physician", f"{stored.activity_id} is closed: counts can't change")
        )
    elif stored is not None and not _may_change(stored, actor):
        problems.append(
            Problem(
                "learners_physician",
                f"{stored.activity_id} belongs to <@{stored.owner_user_id}>; only they or an "
                "admin can record its counts",
            )
        )
    if checked.lower:
        parts = "; ".join(f"{d.category} {d.previous} → {d.new}" for d in checked.lower)
        problems.append(
            Problem(
                "learners_physician",
                f"Counts of an enduring material are cumulative and this would lower them "
                f"({parts}); if that is right, record it with `/pars counts {row.activity_id}`",
            )
        )
    return problems, True


def _plan_close(
    row: BatchRow,
    plan: RowPlan,
    record: Any,
    stored: Activity | None,
    actor: Actor,
    today: date,
    counted: set[str],
) -> list[Problem]:
    word = " ".join((row.close or "").lower().split())
    if word in OPEN_WORDS:
        return []
    if word not in CLOSE_WORDS:
        return [
            Problem(
                "close",
                f'Status: "{row.close}" is not understood; write Closed to close the activity '
                "or leave the cell blank",
            )
        ]
    if stored is not None and stored.closed_at is not None:
        return []  # already closed: nothing to do
    if stored is not None and not _may_change(stored, actor):
        return [Problem("close", f"{stored.activity_id} belongs to <@{stored.owner_user_id}>")]
    problems = checks.check_close(stored=record, actor=actor, today=today, counted=counted)
    if not problems:
        plan.close = True
    return problems


def plan_rows(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    rows: Sequence[BatchRow],
    today: date,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    workspace = load_workspace(session, team_id, rows)
    planned: list[RowPlan] = []
    for index, row in enumerate(rows):
        planned.append(plan_row(row, workspace=workspace, actor=actor, today=today))
        if progress is not None and index % 2000 == 1999:
            progress(index + 1, len(rows))
    return Plan(planned)


def clean_message(message: str) -> str:
    """A validator message without the slash-command example, which means nothing in a sheet."""
    return re.sub(r" \(e\.g\. `[^`]*`\)$", "", message)


def problem_text(plan: RowPlan, message: str) -> str:
    """One problem in words with the row number the spreadsheet shows."""
    return f"row {plan.row}, {clean_message(message)}"


def change_words(changes: dict[str, str]) -> str:
    return ", ".join(label(name) for name in changes if name != "activity_id")
