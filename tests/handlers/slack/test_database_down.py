"""A request that cannot reach the database, or waits on a lock nobody releases, is told so in
Slack's time, changes nothing, and the next request after the database is back just works.

Each blockage clears by itself long after the bot's deadlines: a request that waited it out
gets an ordinary answer, and the test fails on that rather than on a clock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from bot.app import create_app
from bot.console import payloads
from bot.local_slack import LocalSlack
from bot.settings import Settings
from bot.web import create_wsgi_app
from handlers.slack.errors import DATABASE_UNREACHABLE
from storage.db import create_db_engine
from storage.models import Activity
from tests.conftest import NOW, guarded_database_url
from tests.handlers.conftest import (
    ADD_GR,
    ADMIN,
    ALICE,
    SECRET,
    Clock,
    Workspace,
    ack_body,
    form_state,
)
from tests.storage.stall_proxy import CLEARS_AFTER, StallingProxy, cleared_after


@contextmanager
def writes_blocked(engine: Engine) -> Iterator[None]:
    """Another connection holds the lock every write of an activity needs (an Apply, a CLI
    import, an admin's open transaction) and does not let go."""
    if engine.dialect.name == "sqlite":
        other = sqlite3.connect(engine.url.database or "", check_same_thread=False)
        other.isolation_level = None
        other.execute("BEGIN IMMEDIATE")
        with cleared_after(CLEARS_AFTER, other.rollback):
            yield
        other.close()
        return
    holder = engine.connect()
    holder.execute(sa.text(f"LOCK TABLE {Activity.__tablename__} IN EXCLUSIVE MODE"))
    with cleared_after(CLEARS_AFTER, holder.close):
        yield


def activity_ids(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(Activity.activity_id)).all())


def command(workspace: Workspace, text: str, name: str) -> dict[str, object]:
    """`/pars text` as Slack sends it; what the bot answered in the acknowledgement."""
    response = workspace.send(
        payloads.slash_command(
            text,
            user_id=ALICE,
            team_id=workspace.team_id,
            channel_id="C0CME",
            response_url=workspace.slack.response_url(name),
            trigger_id=f"trig-{name}",
        )
    )
    return ack_body(response)


def test_a_write_waiting_on_a_lock_nobody_releases_is_told_so(workspace: Workspace) -> None:
    with writes_blocked(workspace.engine):
        reply = workspace.pars(ADD_GR)
    assert reply.text == DATABASE_UNREACHABLE
    assert reply.ephemeral
    assert activity_ids(workspace.engine) == []


def test_a_form_saved_while_a_lock_is_held_stays_open_with_the_reason(
    workspace: Workspace,
) -> None:
    workspace.command("add-activity")
    view = workspace.opened_view()
    entries = form_state(
        view, title="Grand Rounds", format="rss", start_date="2025-01-07", end_date="2025-12-16"
    )
    with writes_blocked(workspace.engine):
        response = workspace.submit(view, entries)
    assert ack_body(response) == {
        "response_action": "errors",
        "errors": {"title": DATABASE_UNREACHABLE},
    }
    assert activity_ids(workspace.engine) == []


@pytest.fixture
def stalling(
    proxy: StallingProxy, slack: LocalSlack, _postgres_engine: Engine
) -> Iterator[Workspace]:
    """The bot on the migrated test database, reached through the proxy."""
    engine = create_db_engine(proxy.url_through(guarded_database_url()))
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        database_url="sqlite://",
        pars_admins=frozenset({ADMIN}),
        _env_file=None,
    )
    clock = Clock(NOW)
    app = create_app(settings, engine=engine, clock=clock)
    yield Workspace(app=app, slack=slack, clock=clock, engine=engine)
    proxy.resume()
    engine.dispose()
    with _postgres_engine.begin() as connection:
        tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def test_a_command_while_the_database_stops_answering_is_told_so_and_the_bot_recovers(
    proxy: StallingProxy, stalling: Workspace
) -> None:
    assert "Subcommands" in stalling.pars("help").text  # the pool holds a live connection

    proxy.stall()
    assert command(stalling, ADD_GR, "stalled") == {}  # acknowledged before any read
    told = stalling.reply("stalled")
    assert told.text == DATABASE_UNREACHABLE
    assert told.ephemeral

    proxy.resume()
    assert activity_ids(stalling.engine) == []
    assert "Added `GR-2025`" in stalling.pars(ADD_GR).text
    assert activity_ids(stalling.engine) == ["GR-2025"]
    assert len(stalling.replies("stalled")) == 1  # told once, and not added after all


def test_the_health_check_answers_503_while_the_database_stops_answering(
    proxy: StallingProxy, stalling: Workspace
) -> None:
    application = create_wsgi_app(stalling.app, stalling.engine, signing_secret=SECRET)
    answered: list[str] = []

    def health() -> bytes:
        environ = {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}
        return b"".join(application(environ, lambda status, _headers: answered.append(status)))

    assert health() == b"ok\n"
    proxy.stall()
    assert health() == b"database unreachable\n"
    proxy.resume()
    assert health() == b"ok\n"
    assert answered == ["200 OK", "503 Service Unavailable", "200 OK"]
