"""Shared fixtures: a migrated database on SQLite always, and on PostgreSQL when
PARS_TEST_DATABASE_URL names one (each test starts from empty tables)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from storage.db import create_db_engine, upgrade
from tests.storage.stall_proxy import CLEARS_AFTER, StallingProxy, upstream_url

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("PARS_TEST_DATABASE_URL") else [])

# A fixed instant for tests: 25 Nov 2026, mid-afternoon in Chicago.
NOW = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


def guarded_database_url() -> str:
    """PARS_TEST_DATABASE_URL, once pytest_sessionstart has let it through."""
    return os.environ["PARS_TEST_DATABASE_URL"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """The tests drop the schema of PARS_TEST_DATABASE_URL: refuse, before any test runs, a
    database whose name does not mark it as a test database, so a mistyped URL costs nobody
    their data."""
    url = os.environ.get("PARS_TEST_DATABASE_URL")
    if not url:
        return
    name = make_url(url).database or ""
    if "test" not in name.lower():
        pytest.exit(
            f"PARS_TEST_DATABASE_URL names the database {name!r}; the tests drop its schema, so "
            "they run only on a database whose name contains 'test' (e.g. pars_test).",
            returncode=2,
        )


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[Engine]:
    if "PARS_TEST_DATABASE_URL" not in os.environ:
        # Session-scoped, so set up before a test's own fixtures could skip: skip here too.
        pytest.skip("this test needs PostgreSQL: set PARS_TEST_DATABASE_URL")
    engine = create_db_engine(guarded_database_url())
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'pars.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("_postgres_engine")
    yield engine
    with engine.begin() as connection:
        tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def proxy() -> Iterator[StallingProxy]:
    """A proxy to the test PostgreSQL that can stop forwarding (skips without one)."""
    url = upstream_url()
    if not url:
        pytest.skip("a stalled PostgreSQL needs PARS_TEST_DATABASE_URL")
    through = StallingProxy.to_database(url, longest_stall=CLEARS_AFTER)
    yield through
    through.close()
