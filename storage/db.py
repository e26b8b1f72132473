"""Engines, sessions and migrations."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from psycopg.abc import PQGen
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

# Deadlines kept by the bot itself, for a database that stops answering: a dead network path,
# or a proxy that stopped forwarding, where no server-side timeout can fire (README: Timeouts).
# libpq's floor: psycopg, like libpq, raises anything lower to 2 s.
CONNECT_TIMEOUT_S = 2
# Data sent and not acknowledged for this long ends the connection: the database sits on the
# bot's own network (a round trip well under 10 ms), so 2 s is several retransmissions.
TCP_USER_TIMEOUT_MS = 2000
# An idle connection (pooled, or waiting for an answer) is probed after 5 s, each second, and
# given up after 3 unanswered probes: a pooled connection on a dead path is noticed within
# seconds, before a request picks it.
KEEPALIVE_IDLE_S = 5
KEEPALIVE_INTERVAL_S = 1
KEEPALIVE_COUNT = 3
# More connections than a worker's 8 request threads and its listeners use at once; waiting
# longer than Slack's 3 s for one to come free is of no use to anyone.
POOL_SIZE = 5
MAX_OVERFLOW = 10
POOL_TIMEOUT_S = 2
# A row lock another transaction holds (an Apply, an admin's open psql session): the same
# bound as SQLite's, below.
LOCK_WAIT_S = 2
# No single answer from PostgreSQL is awaited longer than this, deadline or not: the longest
# statements here (an Apply's batch, an export) take a second or two.
LONGEST_ANSWER_S = 60
# The health check's own deadline: /healthz answers 503 within 5 s.
HEALTH_DEADLINE_S = 2.0


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


_POOL: dict[str, Any] = {
    "pool_size": POOL_SIZE,
    "max_overflow": MAX_OVERFLOW,
    "pool_timeout": POOL_TIMEOUT_S,
}
_POSTGRES_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": CONNECT_TIMEOUT_S,
    "keepalives": 1,
    "keepalives_idle": KEEPALIVE_IDLE_S,
    "keepalives_interval": KEEPALIVE_INTERVAL_S,
    "keepalives_count": KEEPALIVE_COUNT,
    "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
    "options": f"-c lock_timeout={LOCK_WAIT_S * 1000}",
}


def create_db_engine(url: str) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return _postgres_engine(url)
    on_disk = make_url(url).database not in (None, "", ":memory:")
    engine = sa.create_engine(
        url,
        # How long a write waits for another connection's lock (sqlite3's busy timeout).
        connect_args={"timeout": LOCK_WAIT_S, "check_same_thread": False},
        **_JSON,
        **(_POOL if on_disk else {}),  # an in-memory database has one connection, no queue
    )

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if on_disk:
            cursor.execute("PRAGMA journal_mode=WAL")
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
    """Can the bot use its database now? Answered within HEALTH_DEADLINE_S, or within the
    pool's and the connection's own timeouts (2 s each) when a new connection is needed."""
    try:
        with deadline(HEALTH_DEADLINE_S), engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return False
    return True


def is_unreachable(error: BaseException) -> bool:
    """Did `error` come from a database the bot could not reach in time (or a lock that was
    not released in time), rather than from the work itself? Either way the transaction did
    not commit."""
    if isinstance(error, sa.exc.TimeoutError):
        return True  # no pooled connection came free
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    cause = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    if isinstance(cause, sqlite3.OperationalError):
        return cause.sqlite_errorcode & 0xFF in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
    if isinstance(cause, psycopg.OperationalError):
        # No SQLSTATE: the client gave up (connection refused, timed out, closed). 08: the
        # connection failed; 53: the server is out of connections or resources; 57P: it is
        # shutting down or starting; 55P03: a lock was not granted within lock_timeout.
        state = cause.sqlstate
        return state is None or state.startswith(("08", "53", "57P")) or state == "55P03"
    return False


class DatabaseStalled(psycopg.OperationalError):
    """PostgreSQL did not answer by the deadline; the connection was closed, as no one can
    tell where in its exchange it stopped."""


_DEADLINE: ContextVar[float | None] = ContextVar("pars_database_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Inside the block, every wait on PostgreSQL ends `seconds` from now at the latest
    (with DatabaseStalled, raised as SQLAlchemy's OperationalError): for work someone is
    waiting on, such as the read before Slack's request is acknowledged."""
    ends = time.monotonic() + seconds
    outer = _DEADLINE.get()
    token = _DEADLINE.set(ends if outer is None else min(outer, ends))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _seconds_left() -> float:
    ends = _DEADLINE.get()
    if ends is None:
        return LONGEST_ANSWER_S
    return min(LONGEST_ANSWER_S, ends - time.monotonic())


_RV = TypeVar("_RV")


class _DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits on the server end at the current deadline.

    Nothing else ends them when the path to the server goes silent: the kernel acknowledges
    what is sent and answers keepalives on a proxy that stopped forwarding, and a server-side
    statement_timeout never reaches the bot. Every exchange with the server (queries, commit,
    rollback, the pool's ping) goes through wait().
    """

    def wait(
        self, gen: PQGen[_RV], interval: float | None = None, timeout: float | None = None
    ) -> _RV:
        limit = max(_seconds_left(), 0.0)
        if timeout is not None:
            limit = min(limit, timeout)
        started = time.monotonic()
        options: dict[str, Any] = {"timeout": limit}
        if interval is not None:
            options["interval"] = interval
        try:
            return super().wait(gen, **options)
        except psycopg.OperationalError as error:
            if error.sqlstate is not None or time.monotonic() - started < limit:
                raise  # the server's own answer, or a failure of the connection itself
            self.pgconn.finish()  # the pool sees a closed connection and replaces it
            raise DatabaseStalled(
                f"PostgreSQL gave no answer within {limit:.1f} s; the connection was closed"
            ) from None


def _postgres_engine(url: str) -> Engine:
    given = make_url(url).query
    # What the URL sets itself (e.g. ?connect_timeout=10) is the operator's choice.
    connect_args = {k: v for k, v in _POSTGRES_CONNECT_ARGS.items() if k not in given}
    engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **_POOL, **_JSON)

    @sa.event.listens_for(engine, "do_connect")
    def _connect(  # type: ignore[no-untyped-def]
        _dialect, _record, cargs: tuple[Any, ...], cparams: dict[str, Any]
    ) -> psycopg.Connection[Any]:
        if _seconds_left() <= 0:
            # The deadline is spent (on a ping that got no answer): a new connection would
            # take up to connect_timeout more.
            raise DatabaseStalled("no time was left to connect to PostgreSQL")
        return _DeadlineConnection.connect(*cargs, **cparams)

    return engine


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
