"""Rows into a plan: what each row would change, checked by the store's one validator.

Nothing is written here. The activities a file names and their learner counts are loaded in
a few queries, so a file of thousands of rows costs its own size, not the workspace's.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from storage import duplicates, queries
from storage.activities import Actor
from storage.batch import checks
from storage.collector import collector_paused
from storage.errors import Problem
from storage.models import Activity, AuditEvent, LearnerCount
from storage.pars import rules
from storage.pars.fields import label, render
from storage.pars.validation import FIELD_NAMES, RecordView
from storage.sheets.rows import BatchRow

ADD, UPDATE, UNCHANGED, ERROR = "add", "update", "unchanged", "error"
CLOSE_WORDS = {"closed", "close", "yes", "y", "x", "true"}
OPEN_WORDS = {"no", "n", "open", "draft", "active", "ready to close", "readytoclose", "false"}
# Problems a row keeps in full; the rest are named by their column. A row of a file at the
# limits may have one problem per column, each quoting its cell: 100,000 such rows kept a
# gigabyte of messages, where a few a row say what to fix first.
PROBLEMS_PER_ROW = 3
# Columns of the sheet that hold no field of an activity, by the target a problem names.
_COLUMN_WORDS = {"close": "Status", "status": "Status", "as_of": "Counts as of"}


# What a row has none of, shared by every row's plan: an empty dict and list of its own cost
# each of 100,000 rows some 60 bytes apiece, 35 MB in all. Nothing writes to a plan's
# mappings and sequences; each is replaced whole.
_NOTHING: Mapping[str, Any] = MappingProxyType({})


def _nothing() -> Mapping[str, Any]:
    return _NOTHING


@dataclass(slots=True)
class RowPlan:
    sheet: str
    row: int
    activity_id: str
    action: str  # add, update, unchanged or error
    changes: Mapping[str, str] = field(default_factory=_nothing)  # field -> text as typed
    counts: bool = False
    close: bool = False
    # (column target, message): the first PROBLEMS_PER_ROW of the row's problems.
    problems: tuple[tuple[str, str], ...] = ()
    # The targets of the problems past those, named by `more_text` (interned names, 8 bytes
    # each, rather than their messages).
    more: tuple[str, ...] = ()
    # Said, never refused: e.g. a probable duplicate of another activity.
    warnings: tuple[str, ...] = ()
    # What PARS would still need of the activity after this row (rules.still_needs).
    needs: Sequence[rules.Need] = ()
    # What the validator passed, for the apply (not kept in the database).
    values: Mapping[str, Any] = field(default_factory=_nothing)
    count_values: Mapping[str, int] = field(default_factory=_nothing)
    as_of: date | None = None
    # What the reader did with its cells (an N/A read as blank).
    notes: list[str] = field(default_factory=list)

    @property
    def changes_anything(self) -> bool:
        return self.action in (ADD, UPDATE) or self.counts or self.close

    def keep_problems(self, problems: Sequence[tuple[str, str]]) -> None:
        """The row is in error: its first problems in full, the others' targets."""
        self.action = ERROR
        self.problems = tuple(problems[:PROBLEMS_PER_ROW])
        self.more = tuple(target for target, _message in problems[PROBLEMS_PER_ROW:])
        # What the validator passed is for the apply, which skips the row: let it go.
        self.values = _NOTHING

    def messages(self) -> list[str]:
        """Each problem kept, then a message naming the columns of the others."""
        said = [message for _target, message in self.problems]
        return [*said, more_text(self.more)] if self.more else said


def more_text(targets: Sequence[str]) -> str:
    """The problems past a row's first ones, named by their columns: "and 2 more: State, City"."""
    words = dict.fromkeys(column_word(target) for target in targets)
    return f"and {len(targets)} more: {', '.join(words)}"


def column_word(target: str) -> str:
    """The column a problem's target is, as the sheet's header says it."""
    try:
        return label(target)
    except KeyError:
        return _COLUMN_WORDS.get(target, target.replace("_", " "))


@dataclass
class Tally:
    """How many rows of a batch do what: a preview's forecast, or what an Apply did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    counts: int = 0
    closed: int = 0
    errors: int = 0
    rows: int = 0

    @property
    def changes_anything(self) -> bool:
        return bool(self.added or self.updated or self.counts or self.closed)

    def dump(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def load(cls, kept: Mapping[str, Any]) -> Tally:
        """From what a plan keeps, where `rows` may be the list of the rows' outcomes."""
        rows = kept.get("rows") or 0
        numbers = {f.name: int(kept.get(f.name) or 0) for f in fields(cls) if f.name != "rows"}
        return cls(**numbers, rows=len(rows) if isinstance(rows, list) else int(rows))


@dataclass
class Plan:
    rows: list[RowPlan]
    # The workspace's audit trail as the plan read it (see data_mark).
    data_mark: str | None = None

    def summary(self) -> Tally:
        return Tally(
            added=sum(r.action == ADD for r in self.rows),
            updated=sum(r.action == UPDATE for r in self.rows),
            unchanged=sum(r.action == UNCHANGED and not (r.counts or r.close) for r in self.rows),
            counts=sum(r.counts for r in self.rows if r.action != ERROR),
            closed=sum(r.close for r in self.rows if r.action != ERROR),
            errors=sum(r.action == ERROR for r in self.rows),
            rows=len(self.rows),
        )

    @property
    def errors(self) -> list[RowPlan]:
        return [r for r in self.rows if r.action == ERROR]


@dataclass
class Workspace:
    """What the plan needs of a workspace's data, loaded in a few queries."""

    by_id: dict[str, Activity]
    history: dict[int, list[LearnerCount]]
    mark: str | None = None
    # Activities as this file leaves them, by folded ID, for its later rows.
    pending: dict[str, Any] = field(default_factory=dict)

    def holder(self, activity_id: str) -> int | None:
        found = self.by_id.get(activity_id.strip().lower())
        return found.id if found is not None else None


def data_mark(session: Session, team_id: str) -> str:
    """The workspace's audit trail in a few characters: how many entries, and the newest.

    Every change to an activity or its counts writes its audit entry in the same transaction,
    and none is ever deleted, so a mark that has not moved means nothing has changed. (The
    count as well as the newest ID: on PostgreSQL an entry committed late may have a lower ID
    than one already read.)
    """
    log = AuditEvent.__table__
    entries, newest = (
        session.connection()
        .execute(select(sa.func.count(), sa.func.max(log.c.id)).where(log.c.team_id == team_id))
        .one()
    )
    return f"{entries}:{newest or 0}"


# IDs (and activities' keys) asked for in one statement: well under SQLite's limit of
# parameters, and short enough lists for either database to look up by index.
CHUNK = 1000


def load_workspace(session: Session, team_id: str, rows: Sequence[BatchRow]) -> Workspace:
    """The activities the rows name (and, when the file counts or closes, their counts) as
    plain rows: the validator reads attributes, and 10,000 ORM objects cost a second.

    Only what the file names is read, by folded ID in chunks: a file of 10,000 rows costs the
    same in a workspace of 1,000 activities as in one of 1,000,000. (The validator asks who
    holds an ID only of the IDs the rows add, which are among them.)

    The mark is read first: a change committed while the rest is read moves it, so an Apply
    checks every row again rather than trusting a plan that may have missed the change.
    """
    mark = data_mark(session, team_id)
    named = sorted({r.activity_id.strip().lower() for r in rows if r.activity_id.strip()})
    if not named:
        return Workspace({}, {}, mark)
    connection = session.connection()
    by_id: dict[str, Any] = {}
    for chunk in _chunks(named):
        found = connection.execute(_NAMED, {"team_id": team_id, "folded": chunk}).all()
        by_id.update((a.activity_id.lower(), a) for a in found)
    history: dict[int, list[Any]] = defaultdict(list)
    if by_id and any(r.counts or r.close for r in rows):
        for chunk in _chunks(sorted(a.id for a in by_id.values())):
            for count in connection.execute(_COUNTED, {"team_id": team_id, "pks": chunk}).all():
                history[count.activity_pk].append(count)
    return Workspace(by_id, dict(history), mark)


_TABLE, _COUNTS = Activity.__table__, LearnerCount.__table__
# What the checks read, and no more: the times of creation and update cost a parse each.
# The IDs are one expanding parameter, not a thousand bound values built for each statement.
_NAMED = select(*(_TABLE.c[name] for name in (*FIELD_NAMES, "id", "team_id", "closed_at"))).where(
    _TABLE.c.team_id == sa.bindparam("team_id"),
    # As ix_activity_team_folded_id has it.
    sa.func.lower(_TABLE.c.activity_id).in_(sa.bindparam("folded", expanding=True)),
)
_COUNTED = (
    select(_COUNTS)
    .where(
        _COUNTS.c.team_id == sa.bindparam("team_id"),
        _COUNTS.c.activity_pk.in_(sa.bindparam("pks", expanding=True)),
    )
    .order_by(_COUNTS.c.as_of, _COUNTS.c.recorded_at, _COUNTS.c.id)
)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _current(history: Sequence[LearnerCount]) -> dict[str, LearnerCount]:
    return {row.category: row for row in history}  # oldest first: the newest wins


def plan_row(row: BatchRow, *, workspace: Workspace, actor: Actor, today: date) -> RowPlan:
    # The reader's notes as they are (nothing adds to them): a list less for each row.
    plan = RowPlan(row.sheet, row.row, row.activity_id, UNCHANGED, notes=row.notes)
    problems: list[Problem] = []
    if row.problems:
        plan.keep_problems([("activity_id", message) for message in row.problems])
        return plan
    if not row.activity_id:
        plan.keep_problems([("activity_id", "Activity ID is blank: every row needs one")])
        return plan
    key = row.activity_id.strip().lower()
    stored = workspace.by_id.get(key)
    # What later rows of the file see: this file's own adds and updates (a counts sheet may
    # count or close an activity the activities sheet adds or completes).
    record: Any = workspace.pending.get(key, stored)
    if record is not None and "moc_boards" in row.fields:
        # On a copy of the row: the rows kept for Apply keep the sheet's blanks, filled then
        # from the boards as stored then, so an edit made after the preview is not overwritten.
        row = replace(row, fields=dict(checks.with_stored_moc_parts(row.fields, record)))
    if record is None:
        if not row.fields:
            plan.keep_problems(
                [
                    (
                        "activity_id",
                        f"No activity has the ID {row.activity_id}: add it first with a row "
                        "that gives its title, format and dates",
                    )
                ]
            )
            return plan
        raw = {"activity_id": row.activity_id, **row.fields}
        checked = checks.check_activity(
            stored=None, raw=raw, actor=actor, today=today, id_holder=workspace.holder
        )
        problems += checked.problems
        plan.action = ADD
        plan.values = checked.values
        # The row's own texts, not a copy with its ID: 100,000 rows' copies cost 50 MB.
        plan.changes = row.fields
        # What it will be: a view of the values themselves, not a copy (nothing writes to it);
        # any other attribute (its key, its closing time) reads as None.
        record = RecordView(checked.values)
        if not checked.problems:
            workspace.pending[key] = record
    elif row.fields and not checks.same_values(record, row.fields):
        # Checked against the activity as the file's earlier rows leave it, so a second sheet
        # may complete what the first one added or changed.
        raw = {k: v for k, v in row.fields.items() if k != "activity_id"}
        checked = checks.check_activity(
            stored=record, raw=raw, actor=actor, today=today, id_holder=workspace.holder
        )
        problems += checked.problems
        if checked.values:
            plan.action = UPDATE
            plan.values = checked.values
            changes = {name: row.fields[name] for name in checked.values if name in row.fields}
            for name in checked.values:  # changes the validator implies (cleared dependents)
                changes.setdefault(name, render(checked.values[name]))
            plan.changes = changes
            record = RecordView(vars_of(record) | checked.values)
            if not checked.problems:
                workspace.pending[key] = record
    history = workspace.history.get(stored.id, []) if stored is not None else []
    current = _current(history) if history else {}
    when = None
    if row.counts:
        counts_problems, when = _plan_counts(row, plan, record, history, current, actor, today)
        problems += counts_problems
    if row.close:
        counted = {c: r.as_of for c, r in current.items()}
        if plan.counts and when is not None:
            counted |= dict.fromkeys(row.counts, when)
        problems += _plan_close(row, plan, record, actor, today, counted)
    if problems:
        plan.keep_problems([(p.field, p.message) for p in problems])
    return plan


def vars_of(activity: Activity) -> dict[str, Any]:
    """The stored activity as plain attributes, for checks of what it will be after a row."""
    return checks.record_of(activity) | {
        "id": activity.id,
        "closed_at": activity.closed_at,
        "team_id": getattr(activity, "team_id", None),
    }


def _plan_counts(
    row: BatchRow,
    plan: RowPlan,
    record: Any,
    history: list[LearnerCount],
    current: dict[str, LearnerCount],
    actor: Actor,
    today: date,
) -> tuple[list[Problem], date | None]:
    if checks.same_counts(current, row.counts, row.as_of):
        return [], None
    if getattr(record, "start_date", None) is None or getattr(record, "end_date", None) is None:
        return [], None  # an add whose dates are wrong: its own errors say so
    checked = checks.check_counts(
        stored=record, counts=row.counts, as_of=row.as_of, actor=actor, today=today, history=history
    )
    if checked.problems:
        return checked.problems, None
    if checked.lower:
        parts = "; ".join(d.describe() for d in checked.lower)
        return [
            Problem(
                "learners_physician",
                f"Counts of an enduring material are cumulative and this would contradict the "
                f"counts on file ({parts}); if it is right, record it with "
                f"`/pars counts {row.activity_id}`",
            )
        ], None
    if current:
        on_file = {c: (row.count, row.as_of) for c, row in current.items()}
        changed = {c: n for c, n in checked.counts.items() if on_file.get(c) != (n, checked.as_of)}
    else:
        changed = checked.counts  # nothing on file: every figure is new
    if not changed:
        return [], None  # every figure is on file as of that date already
    plan.counts = True
    plan.count_values = changed
    plan.as_of = checked.as_of
    return [], checked.as_of


def _plan_close(
    row: BatchRow,
    plan: RowPlan,
    record: Any,
    actor: Actor,
    today: date,
    counted: dict[str, date],
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
    if getattr(record, "closed_at", None) is not None:
        return []  # already closed: nothing to do
    problems = checks.check_close(stored=record, actor=actor, today=today, counted=counted)
    if not problems:
        plan.close = True
    return [
        Problem("close", f"Can't close it yet: {p.message}") if p.field == "status" else p
        for p in problems
    ]


def plan_rows(
    *,
    session: Session,
    team_id: str,
    actor: Actor,
    rows: Sequence[BatchRow],
    today: date,
    progress: Callable[[int, int], None] | None = None,
    notes: bool = True,
) -> Plan:
    """Every row's plan, checked with `actor`'s rights; what it adds without an owner column
    belongs to `actor`. Without `notes`, no warnings nor needs (an Apply shows neither)."""
    workspace = load_workspace(session, team_id, rows)
    planned: list[RowPlan] = []
    with collector_paused():
        for index, row in enumerate(rows):
            planned.append(plan_row(row, workspace=workspace, actor=actor, today=today))
            if progress is not None and index % 2000 == 1999:
                progress(index + 1, len(rows))
        if notes:
            warn_duplicates(session, team_id, planned, workspace)
            note_needs(session, team_id, planned, workspace)
    return Plan(planned, workspace.mark)


def note_needs(
    session: Session, team_id: str, planned: Sequence[RowPlan], workspace: Workspace
) -> None:
    """What PARS would still need of each activity a row adds, changes or counts, as the
    whole file leaves it: the same list as `/pars show` says after the apply."""
    going = [r for r in planned if r.changes_anything and r.action != ERROR and not r.close]
    if not going:
        return
    # The counts on file of the stored activities the rows name, whether or not the file has
    # count columns (a grouped query per chunk): not the whole workspace's.
    named = sorted(
        {a.id for r in going if (a := workspace.by_id.get(r.activity_id.strip().lower()))}
    )
    on_file: dict[int, dict[str, date]] = {}
    for chunk in _chunks(named):
        on_file |= queries.counts_on_file(session=session, team_id=team_id, activity_pks=chunk)
    counted: dict[str, set[str]] = defaultdict(set)
    for row in planned:  # every row of the file that records counts, for later rows too
        if row.action != ERROR and row.count_values:
            counted[row.activity_id.strip().lower()] |= row.count_values.keys()
    nothing: set[str] = set()
    for row in going:
        folded = row.activity_id.strip().lower()
        stored = workspace.by_id.get(folded)
        record = workspace.pending.get(folded, stored)
        if record is None:
            continue
        mine = counted.get(folded, nothing)  # read, never changed: no set of its own a row
        if stored is not None and (kept := on_file.get(stored.id)):
            mine = mine | kept.keys()
        row.needs = rules.still_needs(record, closed=False, counted=mine)


def warn_duplicates(
    session: Session, team_id: str, planned: Sequence[RowPlan], workspace: Workspace
) -> None:
    """Warn on each row that adds an activity, or changes its title or start, when another
    activity has the same title and start date: stored (found by index), or added by another
    row of this file. Nothing is refused."""
    entering: list[tuple[RowPlan, duplicates.Key, int | None]] = []
    for row in planned:
        if row.action == ADD or (
            row.action == UPDATE and ({"title", "start_date"} & row.values.keys())
        ):
            folded = row.activity_id.strip().lower()
            record = workspace.pending.get(folded)
            key = duplicates.key_of(
                getattr(record, "title", None), getattr(record, "start_date", None)
            )
            if key is not None:
                stored = workspace.by_id.get(folded)
                entering.append((row, key, stored.id if stored is not None else None))
    if not entering:
        return
    found = duplicates.others_like(
        session=session, team_id=team_id, keys={key for _r, key, _pk in entering}
    )
    in_file: dict[duplicates.Key, list[RowPlan]] = defaultdict(list)
    for row, key, _pk in entering:
        in_file[key].append(row)
    for row, key, pk in entering:
        others = [o.describe() for o in found.get(key, []) if o.id != pk]
        others += [
            f"{o.activity_id} (row {o.row} of {o.sheet})"
            for o in in_file[key]
            if o is not row and o.activity_id.strip().lower() != row.activity_id.strip().lower()
        ]
        if others:
            row.warnings += (duplicates.warning_text(others),)


def clean_message(message: str) -> str:
    """A validator message without the slash-command example, which means nothing in a sheet."""
    return re.sub(r" \(e\.g\. `[^`]*`\)$", "", message)


def problem_text(plan: RowPlan, message: str) -> str:
    """One problem in words with the row number the spreadsheet shows."""
    return row_text(plan.row, plan.activity_id, message)


def row_text(row: int, activity_id: str, message: str) -> str:
    """A row's message, naming its activity unless the message already does."""
    text = clean_message(message)
    aid = activity_id.strip()
    if aid and aid not in text:
        text += f" (activity `{aid}`)"
    return f"row {row}, {text}"


def change_words(changes: Mapping[str, str]) -> str:
    return ", ".join(label(name) for name in changes if name != "activity_id")
