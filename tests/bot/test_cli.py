"""The `pars-bot` program as an operator runs it: exit codes, messages, the HTTP server."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.console import payloads
from bot.local_slack import TEAM_ID, LocalSlack
from tests.bot.serving import SECRET, clean_env, post, serving
from tests.bot.test_console import PARS_BOT


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PARS_BOT, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        timeout=60,
        check=False,
    )


def test_db_upgrade_creates_the_tables(tmp_path: Path) -> None:
    done = run(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'pars.db'}")
    tables = set(sa.inspect(engine).get_table_names())
    assert {"activity", "learner_count", "audit_event", "alembic_version"} <= tables


def test_http_mode_refuses_to_start_without_a_signing_secret(tmp_path: Path) -> None:
    done = run(tmp_path, "serve", SLACK_BOT_TOKEN="xoxb-1")
    assert done.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_command_without_app_token_means_http_and_the_same_refusal(tmp_path: Path) -> None:
    done = run(tmp_path, SLACK_BOT_TOKEN="xoxb-1")
    assert done.returncode == 2
    assert "SLACK_SIGNING_SECRET" in done.stderr


def test_socket_mode_needs_the_app_token(tmp_path: Path) -> None:
    done = run(tmp_path, "socket", SLACK_BOT_TOKEN="xoxb-1")
    assert done.returncode == 2
    assert "SLACK_APP_TOKEN is not set" in done.stderr


def test_a_bad_time_zone_is_named(tmp_path: Path) -> None:
    done = run(tmp_path, "db", "upgrade", PARS_TIMEZONE="Central")
    assert done.returncode == 2
    assert "PARS_TIMEZONE" in done.stderr and "America/Chicago" in done.stderr


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, LocalSlack]]:
    """`pars-bot serve` in its own process, talking to a local Slack stand-in."""
    with LocalSlack() as slack, serving(tmp_path, slack) as served:
        yield served.base, slack


def test_serve_answers_health_and_signed_commands(server: tuple[str, LocalSlack]) -> None:
    base, slack = server
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as health:
        assert health.status == 200
    assert slack.of("auth.test"), "the bot checks its token against SLACK_API_URL"
    body = payloads.slash_command(
        "help",
        user_id="U0ALICE",
        team_id=TEAM_ID,
        channel_id="C1",
        response_url=slack.response_url("served"),
        trigger_id="t1",
    )
    assert post(base, body, payloads.signed(body, SECRET))[0] == 200
    reply = slack.wait_until(lambda c: c.path.endswith("/served"))[0]
    assert "Subcommands" in reply.params["text"]

    forged = payloads.signed(body, "not-the-secret")
    assert post(base, body.replace("help", "list"), forged)[0] == 401
