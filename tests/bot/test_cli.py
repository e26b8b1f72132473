"""The `pars-bot` program as an operator runs it: exit codes, messages, the HTTP server."""

from __future__ import annotations

import subprocess
import sys
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


def test_db_upgrade_prints_one_line_unless_verbose(tmp_path: Path) -> None:
    quiet = run(tmp_path, "db", "upgrade")
    assert quiet.stdout == "database is up to date\n" and "alembic" not in quiet.stderr
    (tmp_path / "pars.db").unlink()
    verbose = run(tmp_path, "--verbose", "db", "upgrade")
    assert "Running upgrade" in verbose.stderr


def test_help_loads_none_of_what_the_commands_need() -> None:
    probe = (
        "import sys, bot.cli;"
        "heavy = ('sqlalchemy', 'slack_bolt', 'slack_sdk', 'openpyxl', 'pydantic', 'storage',"
        " 'handlers', 'alembic');"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(heavy)}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_workspace_the_database_does_not_hold_is_named(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("Activity ID,Title\nGR-1,Grand Rounds\n")
    first = run(tmp_path, "import", "one.csv", "--team", "T0OFFICE")
    assert "No workspace" not in first.stderr  # the first file of a new installation
    run(tmp_path, "import", "one.csv", "--team", "T0OFFICE", "--apply")
    for args in (
        ("export", "--team", "T0NOPE", "--out", "x.xlsx"),
        ("import", "one.csv", "--team", "T0NOPE"),
        ("reminders", "preview", "--team", "T0NOPE", "--at", "2026-03-30T09:00"),
    ):
        done = run(tmp_path, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "No workspace T0NOPE in the database: it holds T0OFFICE." in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("url", "said"),
    [
        # A port nothing listens on: the server is down.
        ("postgresql+psycopg://pars:s3cret@127.0.0.1:9/pars", "is not answering"),
        ("sqlite:////no/such/folder/pars.db", "cannot be used"),
    ],
)
def test_a_database_the_program_cannot_use_is_one_line_not_a_traceback(
    tmp_path: Path, url: str, said: str
) -> None:
    for args in (("db", "upgrade"), ("export", "--out", "x.xlsx")):
        done = run(tmp_path, *args, DATABASE_URL=url)
        assert done.returncode == 1, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert said in done.stderr and "Nothing was changed." in done.stderr
        assert "s3cret" not in done.stderr  # the password is not printed
        assert not (tmp_path / "x.xlsx").exists()


def test_reminders_at_a_date_alone_is_refused_with_the_form_to_use(tmp_path: Path) -> None:
    done = run(tmp_path, "reminders", "preview", "--at", "2026-04-06")
    assert done.returncode == 2
    assert "give one such as 2026-03-30T09:00" in done.stderr
    assert "midnight" in done.stderr


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


@pytest.mark.parametrize("zone", ["Central", "localtime", "America/Chicgo"])
def test_a_bad_time_zone_is_named(tmp_path: Path, zone: str) -> None:
    done = run(tmp_path, "db", "upgrade", PARS_TIMEZONE=zone)
    assert done.returncode == 2
    assert "PARS_TIMEZONE" in done.stderr and "America/Chicago" in done.stderr
    assert not (tmp_path / "pars.db").exists()


def test_a_time_zone_in_any_case_is_read_as_its_iana_name(tmp_path: Path) -> None:
    done = run(tmp_path, "db", "upgrade", PARS_TIMEZONE="america/new_york")
    assert done.returncode == 0, done.stderr


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, LocalSlack]]:
    """`pars-bot serve` in its own process, talking to a local Slack stand-in."""
    with LocalSlack() as slack, serving(tmp_path, slack) as served:
        yield served.base, slack


def test_serve_answers_health_and_signed_commands(server: tuple[str, LocalSlack]) -> None:
    base, slack = server
    with urllib.request.urlopen(f"{base}/healthz", timeout=15) as health:
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
    reply = slack.wait_until(lambda c: c.path.endswith("/served"), timeout=30)[0]
    assert "Subcommands" in reply.params["text"]

    forged = payloads.signed(body, "not-the-secret")
    assert post(base, body.replace("help", "list"), forged)[0] == 401
