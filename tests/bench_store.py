"""Benchmark: the store at 100,000 activities in one workspace (printed, never asserted).

    .venv/bin/python tests/bench_store.py [--activities N] [--runs R]

Seeds a fresh SQLite file (and, with PARS_TEST_DATABASE_URL set, that PostgreSQL database,
whose schema it replaces) and prints, for each: a page of `/pars list ready`, App Home for one
owner and a lookup of an unknown ID, each as the median of
several runs, next to its goal and, where there is one, the old way measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage import activities, checklist, queries, reminders, settings
from storage.db import create_db_engine, upgrade
from storage.models import Activity, LearnerCount
from storage.pars import calendar, rules

TEAM = "T0BENCH"
TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
OWNERS = [f"U{n:06d}" for n in range(200)]


def seed(engine: Engine, count: int) -> None:
    """`count` activities of every status, spread over 200 owners; counts for a third."""
    rng = random.Random(7)
    rows, counts = [], []
    for n in range(count):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 1000))
        fmt = rng.choice(["rss", "live-course", "enduring", "journal"])
        span = 300 if fmt == "enduring" else rng.randrange(0, 200)
        complete = rng.random() < 0.6
        rows.append(
            {
                "team_id": TEAM,
                "activity_id": f"ACT-{n:06d}",
                "title": f"Activity {n}",
                "format": fmt,
                "delivery_method": "live-streamed" if fmt in ("rss", "live-course") else None,
                "start_date": start,
                "end_date": start + timedelta(days=span),
                "credits": Decimal("1") if complete else None,
                "description": "Case conference" if complete else None,
                "providership": "direct" if complete else None,
                "cme_finder": False if complete else None,
                "active_fields_complete": complete,
                "owner_user_id": rng.choice(OWNERS),
                "closed_at": NOW if rng.random() < 0.3 else None,
                "created_at": NOW,
                "created_by": "U0BENCH",
                "updated_at": NOW,
                "updated_by": "U0BENCH",
                "version": 1,
            }
        )
    with engine.begin() as connection:
        connection.execute(sa.insert(Activity.__table__), rows)
        pks = connection.execute(sa.select(Activity.__table__.c.id)).scalars().all()
        for pk in pks[::3]:
            for category in rules.LEARNER_CATEGORIES:
                counts.append(
                    {
                        "team_id": TEAM,
                        "activity_pk": pk,
                        "category": category,
                        "count": 10,
                        "as_of": date(2025, 12, 31),
                        "recorded_by": "U0BENCH",
                        "recorded_at": NOW,
                    }
                )
        connection.execute(sa.insert(LearnerCount.__table__), counts)
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql("ANALYZE activity")
            connection.exec_driver_sql("ANALYZE learner_count")


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def ready_the_old_way(session: Session) -> list[Activity]:
    """What `list ready` did before: every ended, open activity loaded and checked in Python."""
    query = select(Activity).where(
        Activity.team_id == TEAM, col(Activity.closed_at).is_(None), Activity.end_date < TODAY
    )
    return [a for a in session.exec(query).all() if not rules.missing_for_active(a)][:10]


def lookup_the_old_way(session: Session) -> object:
    """The old miss: no index on the folded ID, so the workspace's IDs are scanned."""
    return session.exec(
        select(Activity).where(
            Activity.team_id == TEAM,
            sa.func.upper(Activity.activity_id) == "NO-SUCH-ID",
        )
    ).all()


def measure(engine: Engine, runs: int) -> list[tuple[str, float, float, float | None]]:
    owner = OWNERS[0]
    with Session(engine) as session:

        def home() -> None:
            """What App Home reads: the owner's lists, the checklist, what needs them."""
            for view in ("unclosed", "running"):
                queries.list_activities(
                    session=session, team_id=TEAM, today=TODAY, views=[view, "mine"],
                    owner_user_id=owner, per_page=25,
                )  # fmt: skip
            year = calendar.reporting_year(
                TODAY, settings.configured_deadlines(session=session, team_id=TEAM)
            )
            checklist.compute_checklist(session=session, team_id=TEAM, year=year)
            reminders.needs_of(session=session, team_id=TEAM, user_id=owner, today=TODAY)

        results = [
            (
                "list ready, one page",
                median_ms(
                    lambda: queries.list_activities(
                        session=session, team_id=TEAM, today=TODAY, views=["ready"], per_page=10
                    ),
                    runs,
                ),
                200.0,
                median_ms(lambda: ready_the_old_way(session), max(1, runs // 3)),
            ),
            ("App Home, one owner", median_ms(home, runs), 200.0, None),
            (
                "lookup of an unknown ID",
                median_ms(
                    lambda: activities.find_activity(
                        session=session, team_id=TEAM, activity_id="no-such-id"
                    ),
                    runs,
                ),
                200.0,
                median_ms(lambda: lookup_the_old_way(session), runs),
            ),
        ]
    return results


def report(name: str, results: list[tuple[str, float, float, float | None]]) -> None:
    print(f"\n{name}")
    print(f"  {'':26} {'median':>10} {'goal':>9} {'of goal':>8} {'old way':>10} {'speed-up':>9}")
    for label, ms, goal, old in results:
        old_text = f"{old:8.1f}ms" if old is not None else ""
        ratio = f"{old / ms:8.0f}x" if old is not None and ms > 0 else ""
        print(f"  {label:26} {ms:8.1f}ms {goal:7.0f}ms {ms / goal:7.2f}x {old_text:>10} {ratio:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        seed(engine, args.activities)
        report(f"SQLite, {args.activities:,} activities", measure(engine, args.runs))
        engine.dispose()
    url = os.environ.get("PARS_TEST_DATABASE_URL")
    if url:
        engine = create_db_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        upgrade(engine)
        seed(engine, args.activities)
        report(f"PostgreSQL, {args.activities:,} activities", measure(engine, args.runs))
        engine.dispose()


if __name__ == "__main__":
    main()
