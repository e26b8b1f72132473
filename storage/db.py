"""Engines, sessions and migrations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session


def normalize_url(url: str) -> str:
    """Plain postgres:// URLs (as hosting platforms hand them out) use psycopg 3, our driver."""
    parsed = make_url(url)
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """The URL for anything printed or logged: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return "(an unreadable database URL)"  # a malformed URL may hold a password anywhere


def as_utc(moment: datetime) -> datetime:
    """An instant as it is stored: in UTC, since SQLite keeps the wall clock and drops the
    offset."""
    return moment.astimezone(UTC)


def stored_utc(moment: datetime) -> datetime:
    """An instant read back: SQLite hands back naive date-times, stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _json_loads(text: str) -> Any:
    # Most list columns of most activities hold JSON null: a spreadsheet's check reads (and an
    # import writes) 30,000 of them at once, and json costs more for each than its whole row.
    return None if text == "null" else json.loads(text)


def _json_dumps(value: Any) -> str:
    return "null" if value is None else json.dumps(value)


_JSON: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}


def create_db_engine(url: str) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **_JSON)
    engine = sa.create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        **_JSON,
    )

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if make_url(url).database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "savepoint")
    def _begin_before_savepoint(connection: sa.Connection, _name: str) -> None:
        # pysqlite begins a transaction only before INSERT/UPDATE/DELETE. A SAVEPOINT issued
        # outside one is a transaction of its own and commits when released, so a later
        # rollback would leave that work in place. Begin first, as the driver would for DML;
        # reads before the first write stay outside the transaction, as the driver has them,
        # so a writer still waits its turn (busy_timeout) instead of failing on a stale read.
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is not None and not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN")

    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def is_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return False
    return True


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back whole on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
