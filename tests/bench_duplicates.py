"""Benchmark: probable duplicates in a 10,000-row preview of a 100,000-activity workspace
(printed, never asserted).

    .venv/bin/python tests/bench_duplicates.py [--activities N] [--rows N] [--runs R] [--url URL]

Prints, each the median of several runs: the duplicate lookup of the preview alone (with the
title_key index, then without it), the whole read + check + plan of the file, and one
add's lookup. Without --url it uses a fresh SQLite file; with a PostgreSQL URL it uses (and
drops the tables of) that database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from storage import duplicates
from storage.batch.plan import load_workspace, plan_row, warn_duplicates
from storage.db import create_db_engine, upgrade
from storage.models import Activity
from storage.sheets.read import read_file
from storage.sheets.rows import sheet_rows
from tests.bench_batch import ACTOR, NOW, TEAM, TODAY, workbook_bytes

INDEX = "ix_activity_team_title_key_start"


def median(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fill(engine: sa.Engine, count: int) -> None:
    """`count` stored activities; every tenth is one a row of the workbook repeats (its title
    and start), so a 10,000-row preview of 100,000 activities warns on every row."""
    table = Activity.__table__
    rows = []
    for i in range(count):
        repeated = i % 10 == 0
        start = date(2025, 1, 1) + timedelta(days=(i // 10 if repeated else i) % 300)
        title = f"Grand Rounds {i // 10}" if repeated else f"Stored activity {i}"
        rows.append(
            {
                "team_id": TEAM, "activity_id": f"S-{i:06d}", "title": title,
                "title_key": duplicates.title_key(title), "format": "rss", "start_date": start,
                "end_date": start + timedelta(days=30), "created_at": NOW, "created_by": "U",
                "updated_at": NOW, "updated_by": "U", "version": 1,
                "active_fields_complete": False,
            }
        )  # fmt: skip
    with engine.begin() as connection:
        for at in range(0, count, 10_000):
            connection.execute(sa.insert(table), rows[at : at + 10_000])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(args.url or f"sqlite:///{Path(folder) / 'bench.db'}")
        if args.url:
            SQLModel.metadata.drop_all(engine)
            with engine.begin() as connection:
                connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(engine)
        fill(engine, args.activities)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(sa.text("ANALYZE activity"))
        data = workbook_bytes(args.rows)
        read = sheet_rows(read_file(data, "bench.xlsx"), "bench.xlsx")
        with Session(engine) as session:
            workspace = load_workspace(session, TEAM, read.rows)
            planned = [
                plan_row(r, workspace=workspace, actor=ACTOR, today=TODAY) for r in read.rows
            ]

            def lookup() -> None:
                for row in planned:
                    row.warnings.clear()
                warn_duplicates(session, TEAM, planned, workspace)

            indexed = median(args.runs, lookup)
            warned = sum(bool(r.warnings) for r in planned)
            one = median(
                args.runs,
                lambda: duplicates.others_like(
                    session=session,
                    team_id=TEAM,
                    keys=[("grandrounds7", date(2025, 1, 71 % 28 + 1))],
                ),
            )
            session.connection().execute(sa.text(f"DROP INDEX {INDEX}"))
            bare = median(args.runs, lookup)
            session.rollback()  # the index stays (PostgreSQL's DDL is transactional)
            if engine.dialect.name == "sqlite":
                with engine.begin() as connection:
                    connection.execute(
                        sa.text(f"CREATE INDEX IF NOT EXISTS {INDEX} ON activity "
                                "(team_id, title_key, start_date)")
                    )  # fmt: skip
        from tests.bench_batch import read_and_plan

        whole = median(args.runs, lambda: read_and_plan(data, engine))
        print(f"{engine.dialect.name}: {args.activities:,} activities, {args.rows:,}-row preview")
        print(f"  duplicate lookup, indexed:   {indexed * 1000:8.1f} ms ({warned:,} rows warned)")
        print(f"  duplicate lookup, no index:  {bare * 1000:8.1f} ms")
        print(f"  one add's lookup, indexed:   {one * 1000:8.2f} ms")
        print(f"  whole read + check + plan:   {whole * 1000:8.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
