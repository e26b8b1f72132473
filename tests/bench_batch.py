"""Benchmark: batch work on a 10,000-row workbook (printed, never asserted).

    .venv/bin/python tests/bench_batch.py [--rows N] [--runs R] [--workspace N | --workspaces A,B]
        [--memory-rows 10000,100000] [--only timing|memory]

Generates an activity workbook and prints, each the median of several runs and next to its
goal (issues 6 and 15): read + validate + plan against bare python-calamine reading the same
file; applying every row as a new activity to SQLite; a re-upload of the same file (all
unchanged); the three of them in an empty workspace and in one of 100,000 activities already
stored (--workspaces, or --workspace for one); the export against bare openpyxl write_only
writing the same cells.

Then the memory of a whole import of a workbook of each size in --memory-rows, in a process of
its own as a serving worker would do it, into the largest of the workspaces: the peak of each
phase (the kernel's VmHWM, reset before the phase by writing 5 to /proc/self/clear_refs, so
that an earlier phase, or this benchmark's own size, does not count), and the resident size
once the phase's objects are released, before and after glibc's malloc_trim.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import python_calamine
import sqlalchemy as sa
from openpyxl import Workbook
from sqlmodel import Session

from storage import table_stats
from storage.activities import Actor
from storage.batch import plan
from storage.batch.annotate import annotated_workbook, unpacked
from storage.batch.apply import apply_plan
from storage.batch.export import export_workbook
from storage.batch.preview import Checked, check_file, preview_file
from storage.batch.store import claim_file
from storage.collector import collector_paused
from storage.db import create_db_engine, session_scope, upgrade
from storage.models import Activity, AuditEvent, LearnerCount
from storage.pars.validation import FIELD_NAMES
from storage.sheets.read import read_file
from storage.sheets.rows import BatchRow, sheet_rows
from tests.bench_store import seed

TEAM = "T0BENCH"
TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
ACTOR = Actor(user_id="U0BENCH", is_admin=True)
HEADERS = [
    "Activity ID", "Title", "Format", "Delivery method", "Start date", "End date", "City",
    "State", "Country", "AMA PRA Category 1 credits", "Description", "Providership",
    "Listed in CME Finder", "Outcome measures", "Commercial support", "Physician learners",
    "Other learners",
]  # fmt: skip


def workbook_bytes(rows: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Activities")
    sheet.append(HEADERS)
    for i in range(rows):
        start = date(2025, 1, 1) + timedelta(days=i % 300)
        sheet.append(
            [
                f"BENCH-{i:05d}", f"Grand Rounds {i}", "Regularly scheduled series", "In person",
                start, start + timedelta(days=30), "Chicago", "IL", "USA", 1.5,
                "Weekly case conference", "Directly provided", "No", "Knowledge; Competence",
                "No", 20 + i % 50, i % 7,
            ]
        )  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def median(runs: int, work: Callable[[], object], fresh: Callable[[], None] | None = None) -> float:
    times = []
    for _ in range(runs):
        if fresh is not None:
            fresh()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timed(
    runs: int, work: Callable[[], object], fresh: Callable[[], None] | None = None
) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of this process. On this shared machine the
    CPU time is the steadier figure: a neighbour's load stretches the wall clock, not it."""
    walls, cpus = [], []
    for _ in range(runs):
        if fresh is not None:
            fresh()
        started, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def bare_read(data: bytes) -> list[list[object]]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_index(0).to_python()


def read_and_plan(data: bytes, engine) -> Checked:  # type: ignore[no-untyped-def]
    """What a preview does before it stores anything: read, match headers, check, plan."""
    with Session(engine) as session:
        return check_file(
            session=session, team_id=TEAM, actor=ACTOR, data=data, file_name="bench.xlsx",
            today=TODAY,
        )  # fmt: skip


def part_times(data: bytes, engine, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Median CPU seconds of each part of read_and_plan, run one after the other as it does
    (the collector held off, as check_file holds it): calamine's own reading, the reader's
    work on top of it, cells into rows, the plan's checks, its warnings and PARS needs."""
    times: dict[str, list[float]] = {}

    def part(name: str, work: Callable[..., Any], *args: Any) -> Any:
        cpu = time.process_time()
        result = work(*args)
        times.setdefault(name, []).append(time.process_time() - cpu)
        return result

    def checks(rows: list[BatchRow], workspace: plan.Workspace) -> list[plan.RowPlan]:
        return [plan.plan_row(r, workspace=workspace, actor=ACTOR, today=TODAY) for r in rows]

    def notes(session: Session, planned: list[plan.RowPlan], workspace: plan.Workspace) -> None:
        plan.warn_duplicates(session, TEAM, planned, workspace)
        plan.note_needs(session, TEAM, planned, workspace)

    for _ in range(runs):
        with collector_paused(), Session(engine) as session:
            part("calamine", bare_read, data)
            sheets = part("reader", read_file, data, "bench.xlsx")
            rows = part("rows", sheet_rows, sheets, "bench.xlsx").rows
            workspace = part("load", plan.load_workspace, session, TEAM, rows)
            planned = part("checks", checks, rows, workspace)
            part("warnings+needs", notes, session, planned, workspace)
    medians = {name: statistics.median(t) for name, t in times.items()}
    medians["reader"] -= medians["calamine"]  # what it does on top of calamine's reading
    return medians


def new_database(folder: Path, name: str):  # type: ignore[no-untyped-def]
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def previewed(engine, data: bytes) -> str:  # type: ignore[no-untyped-def]
    claim = claim_file(
        engine=engine, team_id=TEAM, user_id=ACTOR.user_id, file_id=None,
        file_name="bench.xlsx", now=NOW,
    )  # fmt: skip
    preview_file(
        engine=engine, plan_id=claim.plan_id, team_id=TEAM, actor=ACTOR, data=data,
        file_name="bench.xlsx", today=TODAY,
    )  # fmt: skip
    return claim.plan_id


def apply(engine, plan_id: str) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        apply_plan(
            session=session, team_id=TEAM, plan_id=plan_id, actor=ACTOR, now=NOW, today=TODAY
        )


def _status_mb(name: str) -> float:
    """A figure of /proc/self/status (VmHWM, VmRSS) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(name)


def _reset_peak() -> None:
    """The peak resident size (VmHWM) starts again from the present size (Linux 4.0+)."""
    Path("/proc/self/clear_refs").write_text("5")


def _trim() -> None:
    """Give freed heap back to the system, as glibc keeps it otherwise (nothing elsewhere)."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def memory_child(path: str, database: str) -> None:
    """A whole import as a serving worker does it: the preview (read, check, plan, store),
    then the annotated copy, each released once done; later, the Apply. Prints, as JSON, the
    peak of each phase and the resident size after it (released, collected, trimmed)."""
    engine = create_db_engine(f"sqlite:///{database}")
    upgrade(engine)
    data = Path(path).read_bytes()
    gc.collect()
    _trim()
    figures: dict[str, float] = {"idle": _status_mb("VmRSS")}

    def phase(name: str, work: Callable[[], object]) -> None:
        gc.collect()
        _reset_peak()
        work()
        figures[f"{name} peak"] = _status_mb("VmHWM")
        gc.collect()
        figures[f"{name} after"] = _status_mb("VmRSS")
        _trim()
        figures[f"{name} after, trimmed"] = _status_mb("VmRSS")

    kept: dict[str, Any] = {}

    def preview() -> None:
        claim = claim_file(
            engine=engine, team_id=TEAM, user_id=ACTOR.user_id, file_id=None,
            file_name="bench.xlsx", now=NOW,
        )  # fmt: skip
        kept["plan"] = claim.plan_id
        kept["preview"] = preview_file(
            engine=engine, plan_id=claim.plan_id, team_id=TEAM, actor=ACTOR, data=data,
            file_name="bench.xlsx", today=TODAY,
        )  # fmt: skip

    def annotate() -> None:
        kept.pop("preview").annotate()  # the preview is posted; the copy is the last use

    phase("preview (read, check, plan, store)", preview)
    phase("annotated copy", annotate)

    def apply_it() -> None:
        apply(engine, kept["plan"])
        table_stats.wait()

    phase("apply", apply_it)
    engine.dispose()
    print(json.dumps(figures))


def memory_table(sizes: Sequence[int], workspace: int, template: Path, folder: Path) -> None:
    """Each size's import in a child process, into a copy of the seeded workspace."""
    print(f"-- memory of an import, in a workspace of {workspace:,} (MB)")
    results: dict[int, dict[str, float]] = {}
    for rows in sizes:
        sheet_file = folder / f"memory-{rows}.xlsx"
        sheet_file.write_bytes(workbook_bytes(rows))
        database = folder / "mem.db"
        workspace_copy(template, database).dispose()
        child = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(sheet_file), str(database)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        results[rows] = json.loads(child.stdout.strip().splitlines()[-1])
    names = list(next(iter(results.values())))
    print(f"{'':46}" + "".join(f"{f'{rows:,} rows':>14}" for rows in sizes))
    for name in names:
        print(f"{name:46}" + "".join(f"{results[rows][name]:14.0f}" for rows in sizes))
    peaks = {rows: max(v for k, v in results[rows].items() if k.endswith("peak")) for rows in sizes}
    for rows, peak in peaks.items():
        goal = 300 if rows <= 10_000 else 500
        print(f"peak of a {rows:,}-row import: {peak:.0f} MB (goal < {goal} MB)")


def seed_workspace(engine, count: int) -> None:  # type: ignore[no-untyped-def]
    """`count` activities already in the workspace (tests/bench_store.py's mix, other IDs than
    the workbook's), each with the audit entry its import wrote, and their planner statistics
    as a large Apply leaves them."""
    if count:
        seed(engine, count)
        log = AuditEvent.__table__
        with engine.begin() as connection:
            # The folded titles the activity service keeps ("Activity 12" -> "activity12"):
            # left blank, every activity would share one key, and the duplicate check would
            # walk the whole workspace, as it never does in a workspace the bot wrote.
            connection.execute(
                sa.update(Activity.__table__).values(
                    title_key=sa.func.lower(sa.func.replace(Activity.__table__.c.title, " ", ""))
                )
            )
            ids = connection.execute(sa.select(Activity.__table__.c.id, Activity.activity_id))
            entries = [
                {"team_id": TEAM, "activity_pk": pk, "activity_id": activity_id,
                 "action": "create", "user_id": "U0BENCH", "at": NOW, "changes": {},
                 "batch_id": "B-SEED", "version": 1}
                for pk, activity_id in ids
            ]  # fmt: skip
            connection.execute(sa.insert(log), entries)
    analyze_all(engine)


def seeded(folder: Path, size: int) -> Path:
    """The database file of a workspace of `size` activities, seeded once per run."""
    template = folder / f"workspace-{size}.db"
    if not template.exists():
        engine = new_database(folder, template.name)
        started = time.perf_counter()
        seed_workspace(engine, size)
        engine.dispose()
        if size:
            print(f"   (seeded {size:,} activities in {time.perf_counter() - started:.0f} s)")
    return template


@contextmanager
def whole_workspace_loaded() -> Iterator[None]:
    """Plans as before issue 15: every activity of the workspace (and every count) loaded,
    whatever the file names."""

    def everything(session: Session, team_id: str, rows: Sequence[BatchRow]) -> plan.Workspace:
        mark = plan.data_mark(session, team_id)
        table, counts = Activity.__table__, LearnerCount.__table__
        wanted = [table.c[n] for n in (*FIELD_NAMES, "id", "team_id", "closed_at")]
        connection = session.connection()
        found = connection.execute(sa.select(*wanted).where(table.c.team_id == team_id))
        history: dict[int, list[Any]] = {}
        if any(r.counts or r.close for r in rows):
            query = sa.select(counts).where(counts.c.team_id == team_id)
            for count in connection.execute(query.order_by(counts.c.as_of, counts.c.id)):
                history.setdefault(count.activity_pk, []).append(count)
        return plan.Workspace({a.activity_id.lower(): a for a in found}, history, mark)

    kept = plan.load_workspace
    plan.load_workspace = everything  # type: ignore[assignment]
    try:
        yield
    finally:
        plan.load_workspace = kept


def workspace_copy(template: Path, path: Path):  # type: ignore[no-untyped-def]
    """A copy of the seeded workspace's database file, to apply to afresh."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, path)
    return create_db_engine(f"sqlite:///{path}")


def in_workspace(data: bytes, rows: int, size: int, runs: int, folder: Path) -> None:
    """Check, apply and re-upload the workbook in a workspace of `size` activities."""
    where = f"in a workspace of {size:,}" if size else "in an empty workspace"
    print(f"-- {where}")
    template = seeded(folder, size)
    engine = create_db_engine(f"sqlite:///{template}")
    bare = timed(runs, lambda: bare_read(data))
    ours = timed(runs, lambda: read_and_plan(data, engine))
    print(f"read+validate+plan   {ours[0]:7.3f} s ({ours[1]:.3f} CPU)   bare calamine "
          f"{bare[0]:6.3f} s ({bare[1]:.3f} CPU)   ratio {ours[0] / bare[0]:5.2f}x "
          f"({ours[1] / bare[1]:.2f}x CPU)   (goal <= 3x)")  # fmt: skip
    parts = part_times(data, engine, runs)
    print("  apart (median CPU s): " + ", ".join(f"{k} {v:.3f}" for k, v in parts.items()))
    if size:
        with whole_workspace_loaded():
            old = timed(max(3, runs // 2), lambda: read_and_plan(data, engine))
        print(f"  the old way, the whole workspace loaded: {old[0]:.3f} s ({old[1]:.3f} CPU), "
              f"{old[0] / bare[0]:.2f}x")  # fmt: skip
    engine.dispose()

    state: dict[str, object] = {}

    def fresh_plan() -> None:
        table_stats.wait()  # the last run's, in the background: not part of the next one
        engine = workspace_copy(template, folder / "apply.db")
        state["engine"], state["plan"] = engine, previewed(engine, data)

    applied = timed(max(3, runs // 2), lambda: apply(state["engine"], state["plan"]), fresh_plan)  # type: ignore[arg-type]
    table_stats.wait()
    engine = state["engine"]
    analyzed = timed(1, lambda: analyze_all(engine))  # type: ignore[arg-type]
    print(f"apply {rows:,} new         {applied[0]:7.3f} s ({applied[1]:.3f} CPU)   "
          f"(goal < 2 s; then ANALYZE in the background, {analyzed[0]:.3f} s)")  # fmt: skip
    reupload = timed(runs, lambda: read_and_plan(data, engine))

    def preview_again() -> None:
        state["again"] = previewed(engine, data)

    again = timed(runs, lambda: apply(engine, state["again"]), preview_again)  # type: ignore[arg-type]
    print(f"re-upload unchanged  {reupload[0] + again[0]:7.3f} s "
          f"({reupload[1] + again[1]:.3f} CPU)   (read+plan {reupload[0]:.3f} + apply "
          f"{again[0]:.3f}; goal < 1 s)")  # fmt: skip
    engine.dispose()  # type: ignore[attr-defined]


def analyze_all(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        table_stats.analyze(connection, {"activity", "learner_count", "audit_event"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--workspaces", default="0,100000", help="activities already stored, for each run"
    )
    parser.add_argument("--workspace", type=int, help="one workspace size (for --workspaces)")
    parser.add_argument(
        "--memory-rows",
        default="10000,100000",
        help="workbook sizes whose import's memory is shown",
    )
    parser.add_argument("--only", choices=("timing", "memory"))
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    sizes = (
        [args.workspace]
        if args.workspace is not None
        else [int(size) for size in args.workspaces.split(",")]
    )
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.only != "memory":
            timing(args.rows, args.runs, sizes, folder)
        if args.only != "timing":
            biggest = max(sizes)
            template = seeded(folder, biggest)
            memory_table([int(n) for n in args.memory_rows.split(",")], biggest, template, folder)
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")


def timing(rows: int, runs: int, sizes: Sequence[int], folder: Path) -> None:
    data = workbook_bytes(rows)
    print(f"{rows:,}-row workbook, {len(data) / 1024:.0f} KiB; median of {runs} runs")
    engine = new_database(folder, "plan.db")
    checked = read_and_plan(data, engine)
    annotate = median(
        runs,
        lambda: annotated_workbook(unpacked(checked.cells), checked.read.layouts, checked.plan),
    )
    print(
        f"annotated copy       {annotate:7.3f} s   (written once per preview, from the cells kept)"
    )
    engine.dispose()
    for size in sizes:
        in_workspace(data, rows, size, runs, folder)
    engine = workspace_copy(seeded(folder, 0), folder / "export.db")
    apply(engine, previewed(engine, data))

    def export() -> bytes:
        with session_scope(engine) as session:  # type: ignore[arg-type]
            return export_workbook(session=session, team_id=TEAM, year=2025, today=TODAY).data

    exported = export()
    cells = [list(r) for r in python_calamine.CalamineWorkbook.from_filelike(
        io.BytesIO(exported)).get_sheet_by_index(0).to_python()]  # fmt: skip

    def bare_write() -> None:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Activities")
        for row in cells:
            sheet.append(row)
        book.save(io.BytesIO())

    ours_export = median(runs, export)
    bare_export = median(runs, bare_write)
    ratio = ours_export / bare_export
    print(f"export {len(cells) - 1:,}         {ours_export:7.3f} s   bare openpyxl "
          f"{bare_export:6.3f} s   ratio {ratio:5.2f}x   (goal <= 1.5x)")  # fmt: skip
    engine.dispose()


if __name__ == "__main__":
    main()
