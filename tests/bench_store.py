"""Benchmark: list pages and lookups as a workspace grows (printed, never asserted).

    .venv/bin/python tests/bench_store.py [--sizes 10000,100000[,1000000]] [--runs R]

For each size, seeds one workspace directly (every status, 200 owners, counts for a third;
most activities that ended over a year ago closed) in a fresh SQLite file and, with
PARS_TEST_DATABASE_URL set, in that PostgreSQL database (its schema is replaced), then times
each list page as `/pars list` reads it (page 1, and the page after a row in the middle of the
list, as Next reads it), App Home for one owner and a lookup of an unknown ID: the median of
several runs, first with no planner statistics (autovacuum off), then once the tables are
analyzed as a large Apply leaves them (storage/table_stats.py). Goal (issue 15): every page
under 50 ms at 100,000 and within 1.5x of its 10,000 figure.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage import activities, checklist, close_offers, queries, reminders, settings, table_stats
from storage.db import create_db_engine, normalize_url, upgrade
from storage.models import Activity, LearnerCount
from storage.pars import calendar, rules

TEAM = "T0BENCH"
TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
OWNERS = [f"U{n:06d}" for n in range(200)]
OWNER = OWNERS[0]
CHUNK = 50_000
GOAL_MS = 50.0
GOAL_RATIO = 1.5

# What `/pars list` asks for: (label, views, other filters). Ready lists 50 a page, others 20.
LISTS: list[tuple[str, list[str], dict[str, Any]]] = [
    ("list open", ["open"], {}),
    ("list ready", ["ready"], {}),
    ("list unclosed", ["unclosed"], {}),
    ("list closed", ["closed"], {}),
    ("list all", ["all"], {}),
    ("list mine", ["mine"], {}),
    ("list open mine", ["open", "mine"], {}),
    ("list ready mine", ["ready", "mine"], {}),
    ("list unclosed year=2025", ["unclosed"], {"year": 2025}),
    ("list open format=enduring", ["open"], {"format_code": "enduring"}),
    ("list all format=enduring", ["all"], {"format_code": "enduring"}),
]


def activity_rows(count: int) -> Iterator[list[dict[str, Any]]]:
    """`count` activities in chunks: every status, 200 owners; old ones mostly closed."""
    rng = random.Random(7)
    chunk: list[dict[str, Any]] = []
    for n in range(count):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 1000))
        fmt = rng.choice(["rss", "live-course", "enduring", "journal"])
        end = start + timedelta(days=300 if fmt == "enduring" else rng.randrange(0, 200))
        complete = rng.random() < 0.6
        closed = complete and rng.random() < (0.9 if end < TODAY - timedelta(days=365) else 0.1)
        chunk.append(
            {
                "team_id": TEAM,
                "activity_id": f"ACT-{n:07d}",
                "title": f"Activity {n}",
                "format": fmt,
                "delivery_method": "live-streamed" if fmt in ("rss", "live-course") else None,
                "start_date": start,
                "end_date": end,
                "credits": Decimal("1") if complete else None,
                "description": "Case conference" if complete else None,
                "providership": "direct" if complete else None,
                "cme_finder": False if complete else None,
                "active_fields_complete": complete,
                "owner_user_id": rng.choice(OWNERS),
                "closed_at": NOW if closed else None,
                "created_at": NOW,
                "created_by": "U0BENCH",
                "updated_at": NOW,
                "updated_by": "U0BENCH",
                "version": 1,
            }
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def count_rows(pks: list[int]) -> Iterator[dict[str, Any]]:
    for pk in pks[::3]:
        for category in rules.LEARNER_CATEGORIES:
            yield {
                "team_id": TEAM,
                "activity_pk": pk,
                "category": category,
                "count": 10,
                "as_of": date(2025, 12, 31),
                "recorded_by": "U0BENCH",
                "recorded_at": NOW,
            }


def seed(engine: Engine, count: int) -> float:
    """Seeds the workspace; returns the seconds it took. PostgreSQL's autovacuum is held off
    for the tables, so that the first measures have no statistics."""
    started = time.perf_counter()
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if postgres:
            for name in ("activity", "learner_count"):
                connection.exec_driver_sql(f"ALTER TABLE {name} SET (autovacuum_enabled = off)")
        for rows in activity_rows(count):
            if postgres:
                copy(connection, Activity.__table__, rows)
            else:
                connection.execute(sa.insert(Activity.__table__), rows)
        pks = list(connection.execute(sa.select(Activity.__table__.c.id)).scalars())
        for start in range(0, len(pks), CHUNK):
            counts = list(count_rows(pks[start : start + CHUNK]))
            if postgres:
                copy(connection, LearnerCount.__table__, counts)
            else:
                connection.execute(sa.insert(LearnerCount.__table__), counts)
    return time.perf_counter() - started


def copy(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY: a million rows in seconds rather than minutes."""
    names = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as target:
        for row in rows:
            target.write_row([row[n] for n in names])


def page_of(session: Session, views: list[str], filters: dict[str, Any], **where: Any) -> Any:
    per_page = 50 if "ready" in views else 20
    return queries.list_activities(
        session=session, team_id=TEAM, today=TODAY, views=views, owner_user_id=OWNER,
        per_page=per_page, **filters, **where,
    )  # fmt: skip


def middle_key(session: Session, views: list[str], filters: dict[str, Any]) -> Any:
    """The key of a row half-way down the list (read once, by number: not timed)."""
    first = page_of(session, views, filters, count_limit=None)
    middle = page_of(session, views, filters, page=max(1, first.pages // 2), count_limit=None)
    return queries.page_key(middle.rows[0][0]) if middle.rows else None


def cases(session: Session) -> dict[str, Callable[[], object]]:
    """What is timed, by label, reading through `session`."""
    found: dict[str, Callable[[], object]] = {}
    for label, views, filters in LISTS:
        found[f"{label}, page 1"] = lambda v=views, f=filters: page_of(session, v, f)
        key = middle_key(session, views, filters)
        if key is not None:
            found[f"{label}, Next from the middle"] = lambda v=views, f=filters, k=key: page_of(
                session, v, f, page=9, after=k
            )

    def home() -> None:
        """What App Home reads: the owner's lists, the checklist, what needs them."""
        for view in ("unclosed", "running"):
            queries.list_activities(
                session=session, team_id=TEAM, today=TODAY, views=[view, "mine"],
                owner_user_id=OWNER, per_page=25,
            )  # fmt: skip
        year = calendar.reporting_year(
            TODAY, settings.configured_deadlines(session=session, team_id=TEAM)
        )
        checklist.compute_checklist(session=session, team_id=TEAM, year=year)
        reminders.needs_of(session=session, team_id=TEAM, user_id=OWNER, today=TODAY)

    for label, user, admin in (("an admin", OWNER, True), ("an owner", OWNER, False)):
        # What a ready list reads for its Close all button: at most the first 1,001 keys.
        found[f"list ready: Close all's keys, {label}"] = lambda u=user, a=admin: (
            queries.closable_keys(
                session=session, team_id=TEAM, today=TODAY, views=["ready"], user_id=u,
                is_admin=a, limit=close_offers.OFFER_LIMIT + 1,
            )
        )  # fmt: skip
    found["App Home, one owner"] = home
    found["lookup of an unknown ID"] = lambda: activities.find_activity(
        session=session, team_id=TEAM, activity_id="no-such-id"
    )
    return found


Figures = dict[int, dict[str, tuple[float, float]]]  # size -> label -> (median, best) ms


def measure(engines: dict[int, Engine], runs: int) -> Figures:
    """The median and best ms of each case at each size, the sizes taken in turn within each
    round so that a busy neighbour on this shared machine weighs on all of them alike."""
    sessions = {size: Session(engine) for size, engine in engines.items()}
    work = {size: cases(session) for size, session in sessions.items()}
    times: dict[int, dict[str, list[float]]] = {size: {} for size in engines}
    smallest = min(engines)
    for label in work[smallest]:
        for _ in range(runs):
            for size in engines:
                if label not in work[size]:
                    continue
                started = time.perf_counter()
                work[size][label]()
                elapsed = (time.perf_counter() - started) * 1000
                times[size].setdefault(label, []).append(elapsed)
    for session in sessions.values():
        session.close()
    return {
        size: {label: (statistics.median(t), min(t)) for label, t in by_label.items()}
        for size, by_label in times.items()
    }


def analyze(engine: Engine) -> float:
    started = time.perf_counter()
    with engine.begin() as connection:
        table_stats.analyze(connection, {"activity", "learner_count"})
    return time.perf_counter() - started


def fresh_engine(backend: str, folder: Path, size: int) -> Engine:
    """A new database for `size`: a SQLite file, or a PostgreSQL schema of its own."""
    if backend == "sqlite":
        return create_db_engine(f"sqlite:///{folder / f'bench-{size}.db'}")
    url = os.environ["PARS_TEST_DATABASE_URL"]
    schema = f"bench_{size}"
    with create_db_engine(url).begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    return sa.create_engine(normalize_url(url), connect_args={"options": f"-csearch_path={schema}"})


def drop(backend: str, engine: Engine, size: int) -> None:
    if backend == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA bench_{size} CASCADE")
    engine.dispose()


def run(backend: str, sizes: list[int], runs: int, folder: Path) -> None:
    engines = {}
    for size in sizes:
        engines[size] = engine = fresh_engine(backend, folder, size)
        upgrade(engine)
        seconds = seed(engine, size)
        print(f"  {backend}: seeded {size:,} activities in {seconds:.0f} s")
    raw = measure(engines, max(3, runs // 3))
    for size, engine in engines.items():
        print(f"  {backend}: ANALYZE at {size:,} took {analyze(engine) * 1000:.0f} ms")
    analyzed = measure(engines, runs)
    for size, engine in engines.items():
        drop(backend, engine, size)
    report(backend, sizes, raw, analyzed)


def report(backend: str, sizes: list[int], raw: Figures, analyzed: Figures) -> None:
    """Median ms (best in brackets) at each size; the ratio of the best figures, which the
    load of a shared machine disturbs least; the goal judged on the median and that ratio."""
    base, big = sizes[0], (100_000 if 100_000 in sizes else sizes[-1])
    heads = "".join(f"{f'{s:,}':>17}" for s in sizes)
    print(f"\n{backend}, analyzed: median ms (best)")
    print(f"  {'':46}{heads} {f'{big:,}/{base:,}':>15} {'goal':>7} {'no stats':>16}")
    for label in analyzed[base]:
        figures = "".join(
            f"{analyzed[s][label][0]:9.1f} ({analyzed[s][label][1]:5.1f})"
            if label in analyzed[s] else f"{'':17}"
            for s in sizes
        )  # fmt: skip
        ratio = analyzed[big][label][1] / analyzed[base][label][1]
        ok = analyzed[big][label][0] < GOAL_MS and ratio <= GOAL_RATIO
        if label.startswith(("App Home", "lookup")):
            ok = analyzed[big][label][0] < 200  # README's goal for these
        median, best = raw[sizes[-1]].get(label, (float("nan"), float("nan")))
        print(f"  {label:46}{figures} {ratio:14.2f}x {'met' if ok else 'MISSED':>7} "
              f"{median:8.1f} ({best:5.1f})")  # fmt: skip
    print(f"  (no stats: the largest size before ANALYZE, {sizes[-1]:,})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    with tempfile.TemporaryDirectory() as folder:
        if args.backend in ("sqlite", "both"):
            run("sqlite", sizes, args.runs, Path(folder))
        if args.backend in ("postgresql", "both") and os.environ.get("PARS_TEST_DATABASE_URL"):
            run("postgresql", sizes, args.runs, Path(folder))
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
