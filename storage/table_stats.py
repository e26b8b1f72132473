"""Planner statistics brought up to date after writes that change a table's size or shape.

PostgreSQL's autovacuum analyzes a table some time after it changes, or never when it is
off; until then the planner guesses, and a page read from an index may be planned as a scan
of the table. SQLite has no statistics until ANALYZE runs. So a bulk write (a large Apply or
import, a migration that fills in a column) analyzes the tables it wrote, at once.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

# Writes of more rows than this bring the statistics up to date; fewer change little.
MANY_ROWS = 1_000
# SQLite reads about this many entries of each index (PRAGMA analysis_limit): estimates
# good enough for choosing an index, in milliseconds at a million rows.
SQLITE_ROWS_READ = 2_000
TABLES = frozenset({"activity", "learner_count", "audit_event", "batch_plan", "snooze"})


def analyze(connection: sa.Connection, tables: Iterable[str]) -> None:
    """ANALYZE `tables` (names of this schema's tables) on `connection`."""
    names = sorted(set(tables))
    unknown = set(names) - TABLES
    if unknown:
        raise ValueError(f"not a table to analyze: {', '.join(sorted(unknown))}")
    if not names:
        return
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ROWS_READ}")
        for name in names:
            connection.exec_driver_sql(f"ANALYZE {name}")
    else:
        connection.exec_driver_sql(f"ANALYZE {', '.join(names)}")


def analyze_after_commit(engine: sa.Engine, tables: Iterable[str]) -> None:
    """ANALYZE on a connection of its own (outside the writer's transaction, which it would
    otherwise hold open and whose rows it would count before they are committed)."""
    with engine.connect() as connection:
        analyze(connection, tables)
        connection.commit()
