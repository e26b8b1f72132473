"""A database that stops answering, or a lock that is not released, ends in a clear failure
after a few seconds instead of a wait without end; the bot recovers when the database does.

Every blockage below clears by itself long after the bot's deadlines (15 s): without a
deadline, a test sees the database answer in the end, and fails on that wrong outcome rather
than on a clock.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

from storage import activities as svc
from storage.db import (
    KEEPALIVE_COUNT,
    KEEPALIVE_IDLE_S,
    KEEPALIVE_INTERVAL_S,
    MAX_OVERFLOW,
    POOL_SIZE,
    TCP_USER_TIMEOUT_MS,
    create_db_engine,
    deadline,
    is_reachable,
    is_unreachable,
    session_scope,
    upgrade,
)
from storage.models import Activity
from tests.conftest import NOW, guarded_database_url
from tests.storage.stall_proxy import CLEARS_AFTER, StallingProxy, cleared_after


@pytest.fixture
def stalling_engine(proxy: StallingProxy, _postgres_engine: Engine) -> Iterator[Engine]:
    """The migrated test database, reached through the proxy."""
    engine = create_db_engine(proxy.url_through(guarded_database_url()))
    yield engine
    proxy.resume()
    engine.dispose()
    with _postgres_engine.begin() as connection:
        tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def test_the_health_check_fails_when_a_pooled_connection_stops_answering(
    proxy: StallingProxy, stalling_engine: Engine
) -> None:
    assert is_reachable(stalling_engine)  # leaves a connection in the pool
    proxy.stall()
    assert not is_reachable(stalling_engine)


def test_the_health_check_fails_when_a_new_connection_gets_no_answer(
    proxy: StallingProxy, stalling_engine: Engine
) -> None:
    proxy.stall()
    assert not is_reachable(stalling_engine)


def test_work_under_a_deadline_fails_as_unreachable_and_changes_nothing(
    proxy: StallingProxy, stalling_engine: Engine
) -> None:
    assert is_reachable(stalling_engine)
    proxy.stall()
    with (
        pytest.raises(sa.exc.SQLAlchemyError) as caught,
        deadline(1.0),
        session_scope(stalling_engine) as session,
    ):
        add_activity(session, "STALLED-1")
    assert is_unreachable(caught.value)
    proxy.resume()
    assert activity_count(stalling_engine) == 0


def test_the_bot_recovers_when_the_database_answers_again(
    proxy: StallingProxy, stalling_engine: Engine
) -> None:
    assert is_reachable(stalling_engine)
    proxy.stall()
    assert not is_reachable(stalling_engine)
    proxy.resume()
    assert is_reachable(stalling_engine)
    with session_scope(stalling_engine) as session:
        add_activity(session, "BACK-1")
    assert activity_count(stalling_engine) == 1


def test_a_dead_network_path_is_noticed_by_the_kernel(_postgres_engine: Engine) -> None:
    """On loopback nothing is lost, so the proxy cannot show these; the socket says they are
    set: unacknowledged data or unanswered keepalives end the connection within seconds."""
    engine = create_db_engine(guarded_database_url())
    try:
        with engine.connect() as connection:
            fileno = connection.connection.dbapi_connection.pgconn.socket  # type: ignore[union-attr]
            with socket.socket(fileno=fileno) as sock:
                try:
                    options = {
                        "keepalive": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                        "idle": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                        "interval": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                        "count": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                        "user_timeout": sock.getsockopt(
                            socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT
                        ),
                    }
                finally:
                    sock.detach()  # the descriptor stays psycopg's
    finally:
        engine.dispose()
    assert options == {
        "keepalive": 1,
        "idle": KEEPALIVE_IDLE_S,
        "interval": KEEPALIVE_INTERVAL_S,
        "count": KEEPALIVE_COUNT,
        "user_timeout": TCP_USER_TIMEOUT_MS,
    }


def test_no_free_connection_fails_the_health_check_instead_of_waiting(engine: Engine) -> None:
    held = [engine.connect() for _ in range(POOL_SIZE + MAX_OVERFLOW)]

    def release() -> None:
        for connection in held:
            connection.close()

    with cleared_after(CLEARS_AFTER, release):
        assert not is_reachable(engine)
    assert is_reachable(engine)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "pars.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine, path
    engine.dispose()


@contextmanager
def write_lock_held(path: Path, seconds: float) -> Iterator[None]:
    """Another process's connection holding SQLite's write lock (an Apply, a CLI import)."""
    other = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with cleared_after(seconds, lambda: other.execute("ROLLBACK")):
            yield
    finally:
        other.close()


def test_a_write_gives_up_on_a_lock_that_is_not_released(
    sqlite_file: tuple[Engine, Path],
) -> None:
    engine, path = sqlite_file
    with (
        write_lock_held(path, CLEARS_AFTER),
        pytest.raises(sa.exc.OperationalError) as caught,
        session_scope(engine) as session,
    ):
        add_activity(session, "LOCKED-1")
    assert is_unreachable(caught.value)
    assert activity_count(engine) == 0


def test_a_write_waits_out_a_lock_held_briefly(sqlite_file: tuple[Engine, Path]) -> None:
    engine, path = sqlite_file
    with write_lock_held(path, 0.3), session_scope(engine) as session:
        add_activity(session, "WAITED-1")
    assert activity_count(engine) == 1


def test_an_error_of_the_data_is_not_taken_for_an_unreachable_database(engine: Engine) -> None:
    with pytest.raises(sa.exc.SQLAlchemyError) as caught, engine.connect() as connection:
        connection.execute(sa.text("SELECT * FROM no_such_table"))
    assert not is_unreachable(caught.value)


def add_activity(session: Session, activity_id: str) -> None:
    svc.create_activity(
        session=session,
        team_id="T0STALL",
        actor=svc.Actor(user_id="U0JANE"),
        raw={
            "activity_id": activity_id,
            "title": "Grand Rounds",
            "format": "rss",
            "start_date": "2026-01-07",
            "end_date": "2026-11-18",
        },
        now=NOW,
    )


def activity_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(Activity)).one()
