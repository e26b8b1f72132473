"""Benchmark: how long the bot takes to say so when its database stops answering.

Run `PARS_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/pars_test
.venv/bin/python tests/bench_db_stall.py` (it migrates that database; the SQLite figures need
no server). It prints figures; it is not a test (no timing is asserted anywhere). Goals:
/healthz 503 within 5 s, a Slack request answered within Slack's 3 s.
"""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

# Run as a script from tests/: the project's packages come first, not tests/ of the same names.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import create_app
from bot.console import payloads
from bot.local_slack import LocalSlack
from bot.settings import Settings
from bot.web import create_wsgi_app
from storage.db import create_db_engine, is_reachable, upgrade
from tests.conftest import NOW
from tests.handlers.conftest import ALICE, SECRET, Clock, Workspace, ack_body, form_state
from tests.storage.stall_proxy import StallingProxy

ROUNDS = 3
LONGEST_STALL = 10.0


def timed(
    label: str, run: Callable[[], object], before: Callable[[], object] = lambda: None
) -> None:
    spent, outcome = [], None
    for _ in range(ROUNDS):
        before()
        started = time.perf_counter()
        outcome = run()
        spent.append(time.perf_counter() - started)
    print(f"{label:<68} {min(spent):5.2f}–{max(spent):5.2f} s  ({outcome})")


def workspace(engine: Engine, slack: LocalSlack) -> Workspace:
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        database_url="sqlite://",
        _env_file=None,
    )
    clock = Clock(NOW)
    return Workspace(create_app(settings, engine=engine, clock=clock), slack, clock, engine)


_NAMES = itertools.count(1)


def told(space: Workspace, text: str) -> str:
    """`/pars text` sent; returns when its answer came, the ack's and the reply's."""
    name = f"bench{next(_NAMES)}"
    body = payloads.slash_command(
        text,
        user_id=ALICE,
        team_id=space.team_id,
        channel_id="C0CME",
        response_url=space.slack.response_url(name),
        trigger_id="trig-bench",
    )
    started = time.perf_counter()
    response = space.app.dispatch(payloads.bolt_request(body, SECRET))
    acked = time.perf_counter() - started
    in_ack = str(ack_body(response).get("text", ""))
    reply = in_ack or space.reply(name).text
    return f"acked {response.status} in {acked:.2f} s, told {reply[:40]!r}"


def postgres(url: str, slack: LocalSlack) -> None:
    upgrade(create_db_engine(url))
    proxy = StallingProxy.to_database(url, longest_stall=LONGEST_STALL)
    through = proxy.url_through(url)
    engine = create_db_engine(through)
    space = workspace(engine, slack)
    health = create_wsgi_app(space.app, engine, signing_secret=SECRET)

    def healthz() -> str:
        answered: list[str] = []
        environ = {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}
        list(health(environ, lambda status, _headers: answered.append(status)))
        return answered[0]

    def warm_then_stall() -> None:
        proxy.resume()
        assert is_reachable(engine)
        proxy.stall()

    def cold_then_stall() -> None:
        proxy.resume()
        engine.dispose()
        proxy.stall()

    timed(
        "is_reachable, stalled, a pooled connection", lambda: is_reachable(engine), warm_then_stall
    )
    timed(
        "is_reachable, stalled, no pooled connection", lambda: is_reachable(engine), cold_then_stall
    )
    timed("GET /healthz, stalled, a pooled connection", healthz, warm_then_stall)
    timed(
        "/pars help answered, stalled, a pooled connection",
        lambda: told(space, "help"),
        warm_then_stall,
    )
    timed(
        "/pars help answered, stalled, no pooled connection",
        lambda: told(space, "help"),
        cold_then_stall,
    )

    def stall_then_resume() -> None:
        warm_then_stall()
        is_reachable(engine)
        proxy.resume()

    timed(
        "/pars help answered, first request after the database is back",
        lambda: told(space, "help"),
        stall_then_resume,
    )

    def server_side_timeout_only() -> str:
        # What a server-side statement_timeout does for a path that went silent: nothing.
        with psycopg.connect(
            through.replace("postgresql+psycopg", "postgresql"), options="-c statement_timeout=1000"
        ) as raw:
            proxy.stall()
            try:
                raw.execute("SELECT 1")
                return f"answered when the stall ended ({LONGEST_STALL:.0f} s)"
            except psycopg.Error as error:
                return type(error).__name__

    proxy.resume()
    print(
        f"{'plain psycopg, statement_timeout=1 s, stalled (no deadline)':<68}", end=" ", flush=True
    )
    started = time.perf_counter()
    outcome = server_side_timeout_only()
    print(f"{time.perf_counter() - started:5.2f} s  ({outcome})")
    proxy.resume()
    engine.dispose()
    proxy.close()


def sqlite(slack: LocalSlack) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "pars.db"
        engine = create_db_engine(f"sqlite:///{path}")
        upgrade(engine)
        space = workspace(engine, slack)
        space.pars("help")  # the member is noted: the lock below is met by the command alone
        holder = sqlite3.connect(path, isolation_level=None)

        def lock() -> None:
            holder.execute("ROLLBACK") if holder.in_transaction else None
            holder.execute("BEGIN IMMEDIATE")

        def add() -> str:
            reply = space.pars(
                'add-activity title="Rounds" format=rss start=2025-01-07 end=2025-12-16'
            )
            return reply.text[:45]

        timed("SQLite, /pars add-activity answered, the write lock held", add, lock)
        space.command("add-activity")
        view = space.opened_view()
        entries = form_state(
            view, title="Rounds", format="rss", start_date="2025-01-07", end_date="2025-12-16"
        )

        def submit() -> str:
            return str(ack_body(space.submit(view, entries)))[:60]

        timed("SQLite, form submission acknowledged, the write lock held", submit, lock)
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()


def main() -> None:
    logging.disable(logging.WARNING)  # each refusal is logged; the figures are what matters
    slack = LocalSlack().start()
    try:
        sqlite(slack)
        url = os.environ.get("PARS_TEST_DATABASE_URL")
        if url and "test" in (sa.engine.make_url(url).database or ""):
            postgres(url, slack)
        else:
            print("PostgreSQL figures need PARS_TEST_DATABASE_URL (a database named *test*)")
    finally:
        slack.stop()


if __name__ == "__main__":
    main()
