"""Planner statistics brought up to date after writes that change a table's size or shape.

PostgreSQL's autovacuum analyzes a table some time after it changes, or never when it is
off; until then the planner guesses, and a page read from an index may be planned as a scan
of the table. SQLite has no statistics until ANALYZE runs. So a bulk write (a large Apply or
import, a migration that fills in a column) analyzes the tables it wrote, at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping

import sqlalchemy as sa

logger = logging.getLogger(__name__)

# Writes of more rows than this may bring the statistics up to date; fewer change little.
MANY_ROWS = 1_000
# ...when they are at least this share of the rows the statistics counted (autovacuum's
# default threshold too): a 1,001-row Apply into a million rows changes no plan.
SHARE = 0.1
TABLES = frozenset({"activity", "learner_count", "audit_event", "batch_plan", "snooze"})


def analyze(connection: sa.Connection, tables: Iterable[str]) -> None:
    """ANALYZE `tables` (names of this schema's tables) on `connection`.

    SQLite reads every index whole (about 0.3 s for 100,000 activities): its sampling
    (PRAGMA analysis_limit) stops counting at the limit, and a workspace's team_id, the same
    on every row, would then look selective enough to plan by.
    """
    names = sorted(set(tables))
    unknown = set(names) - TABLES
    if unknown:
        raise ValueError(f"not a table to analyze: {', '.join(sorted(unknown))}")
    if not names:
        return
    if connection.dialect.name == "sqlite":
        for name in names:
            connection.exec_driver_sql(f"ANALYZE {name}")
    else:
        connection.exec_driver_sql(f"ANALYZE {', '.join(names)}")


_running: list[threading.Thread] = []
_lock = threading.Lock()


def analyze_in_background(engine: sa.Engine, written: Mapping[str, int]) -> None:
    """analyze_after_writes on a thread of its own, so that whoever wrote the rows (the
    Apply's reply) does not wait for it: 0.3 s at 100,000 activities on SQLite, which reads
    every index whole. Not a daemon thread: a process that is ending (`pars-bot import`)
    finishes it first."""
    thread = threading.Thread(
        target=_analyze_logged, args=(engine, dict(written)), name="pars-analyze"
    )
    with _lock:
        _running[:] = [t for t in _running if t.is_alive()]
        _running.append(thread)
    thread.start()


def wait(timeout: float | None = None) -> None:
    """Until the analyses started in the background are done (for tests and benchmarks)."""
    with _lock:
        running = list(_running)
    for thread in running:
        thread.join(timeout)


def _analyze_logged(engine: sa.Engine, written: Mapping[str, int]) -> None:
    try:
        analyze_after_writes(engine, written)
    except sa.exc.SQLAlchemyError:  # the rows are committed; statistics only speed reading
        logger.warning("could not analyze %s", sorted(written), exc_info=True)


def analyze_after_writes(engine: sa.Engine, written: Mapping[str, int]) -> list[str]:
    """ANALYZE the tables of `written` (rows written, by table) whose statistics these writes
    made stale, on a connection of its own: after the writer's commit, not inside its
    transaction, which it would hold open. Returns the tables analyzed."""
    with engine.connect() as connection:
        stale = [
            name
            for name, rows in written.items()
            if rows > MANY_ROWS and rows >= SHARE * _rows_counted(connection, name)
        ]
        analyze(connection, stale)
        connection.commit()
    return sorted(stale)


def _rows_counted(connection: sa.Connection, table: str) -> float:
    """How many rows `table` had when its statistics were last taken (0 for none)."""
    if connection.dialect.name == "sqlite":
        if not sa.inspect(connection).has_table("sqlite_stat1"):
            return 0
        stat = connection.exec_driver_sql(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = ? LIMIT 1", (table,)
        ).scalar()
        return float(stat.split()[0]) if stat else 0
    counted = connection.execute(
        sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"), {"name": table}
    ).scalar()
    return max(float(counted or 0), 0)
