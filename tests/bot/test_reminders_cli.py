"""`pars-bot reminders preview|send`, `pars-bot scheduler` and the console's `time`, run as an
operator runs them."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.local_slack import TEAM_ID, LocalSlack
from bot.reminders import describe
from storage import activities as service
from storage import deliveries, reminders
from storage.db import create_db_engine, session_scope, stored_utc, upgrade
from storage.deliveries import DeliveryKey, Logged
from tests.bot.test_cli import clean_env, run
from tests.bot.test_console import PARS_BOT, console

CHICAGO = ZoneInfo("America/Chicago")


def seed(tmp_path: Path, team_id: str = TEAM_ID) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pars.db'}")
    upgrade(engine)
    now = datetime(2025, 1, 2, tzinfo=UTC)
    with session_scope(engine) as session:
        service.create_activity(
            session=session,
            team_id=team_id,
            actor=service.Actor("U0ALICE"),
            raw={
                "activity_id": "GR-2025",
                "title": "Medicine Grand Rounds",
                "format": "rss",
                "start_date": "2025-01-07",
                "end_date": "2025-12-16",
            },
            now=now,
        )
        reminders.note_member(session=session, team_id=team_id, user_id="U0ALICE", now=now)
    engine.dispose()


def test_preview_prints_what_is_due_and_sends_nothing(tmp_path: Path) -> None:
    seed(tmp_path)
    done = run(tmp_path, "reminders", "preview", "--at", "2026-03-30T09:00")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "2 reminder(s) due for T0LOCAL at 2026-03-30T09:00:00-05:00:",
        "2026-03-30 countdown → U0ALICE: deadline countdown, 1 day left",
        "2026-03-30 unclosed  → U0ALICE: 1 ended, not closed [GR-2025]",
    ]
    early = run(tmp_path, "reminders", "preview", "--at", "2026-03-30T08:59")
    assert early.stdout.splitlines() == [
        "0 reminder(s) due for T0LOCAL at 2026-03-30T08:59:00-05:00:"
    ]


def test_send_delivers_once_and_preview_then_says_so(tmp_path: Path) -> None:
    seed(tmp_path)
    with LocalSlack() as slack:
        env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": slack.api_url}
        first = run(tmp_path, "reminders", "send", "--at", "2026-03-30T09:00", **env)
        assert first.returncode == 0, first.stderr
        assert first.stdout.splitlines()[-1].startswith("2 sent, 0 already sent, 0 failed")
        again = run(tmp_path, "reminders", "send", "--at", "2026-03-30T11:00", **env)
        assert again.stdout.splitlines()[-1].startswith("0 sent, 2 already sent")
        assert len(slack.of("chat.postMessage")) == 2
    preview = run(tmp_path, "reminders", "preview", "--at", "2026-03-30T12:00")
    assert preview.stdout.count("(already sent at ") == 2


def sent_at(tmp_path: Path) -> dict[str, str]:
    """When the delivery log says each kind was sent, as the CLI shows it (Chicago time)."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pars.db'}")
    with session_scope(engine) as session:
        log = deliveries.log(session=session, team_id=TEAM_ID)
        shown = {
            d.kind: stored_utc(d.sent_at).astimezone(CHICAGO).isoformat(timespec="seconds")
            for d in log
            if d.sent_at is not None
        }
    engine.dispose()
    return shown


def test_a_second_send_says_when_each_was_sent_and_which_were_never_confirmed(
    tmp_path: Path,
) -> None:
    seed(tmp_path)
    # A sender killed between claiming Alice's countdown and sending it.
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pars.db'}")
    killed_at = datetime(2026, 3, 30, 14, 0, 5, tzinfo=UTC)
    with session_scope(engine) as session:
        key = DeliveryKey(TEAM_ID, "countdown", "U0ALICE", "2025", "2026-03-30")
        assert deliveries.claim(session=session, key=key, now=killed_at)
    engine.dispose()
    with LocalSlack() as slack:
        env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": slack.api_url}
        first = run(tmp_path, "reminders", "send", "--at", "2026-03-30T09:00", **env)
        again = run(tmp_path, "reminders", "send", "--at", "2026-03-30T11:00", **env)
        assert len(slack.of("chat.postMessage")) == 1
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    unclosed = "2026-03-30 unclosed  → U0ALICE: 1 ended, not closed [GR-2025]"
    countdown = "2026-03-30 countdown → U0ALICE: deadline countdown, 1 day left"
    never_confirmed = (
        " (claimed at 2026-03-30T09:00:05-05:00, never confirmed sent: not sent again)"
    )
    assert first.stdout.splitlines() == [
        f"sent    {unclosed}",
        f"skipped {countdown}{never_confirmed}",
        "1 sent, 0 already sent, 1 claimed but never confirmed sent, 0 failed "
        "(retried on the next pass)",
    ]
    assert again.stdout.splitlines() == [
        f"skipped {countdown}{never_confirmed}",
        f"skipped {unclosed} (already sent at {sent_at(tmp_path)['unclosed']})",
        "0 sent, 1 already sent, 1 claimed but never confirmed sent, 0 failed "
        "(retried on the next pass)",
    ]


def test_operator_mistakes_are_named(tmp_path: Path) -> None:
    seed(tmp_path)
    seed(tmp_path, "T0OTHER")
    several = run(tmp_path, "reminders", "preview", "--at", "2026-03-30T09:00")
    assert several.returncode == 2
    assert "2 workspaces (T0LOCAL, T0OTHER): choose one with --team" in several.stderr
    bad = run(tmp_path, "reminders", "preview", "--team", TEAM_ID, "--at", "next monday")
    assert bad.returncode == 2 and "not an ISO date-time" in bad.stderr
    no_token = run(tmp_path, "reminders", "send", "--team", TEAM_ID, "--at", "2026-03-30T09:00")
    assert no_token.returncode == 2 and "SLACK_BOT_TOKEN is not set" in no_token.stderr
    assert "Traceback" not in several.stderr + bad.stderr + no_token.stderr


def test_send_refuses_a_token_of_another_workspace(tmp_path: Path) -> None:
    seed(tmp_path, "T0OTHER")
    with LocalSlack() as slack:  # its token belongs to T0LOCAL
        env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": slack.api_url}
        done = run(tmp_path, "reminders", "send", "--at", "2026-03-30T09:00", **env)
        assert done.returncode == 2
        assert "SLACK_BOT_TOKEN belongs to workspace T0LOCAL, not T0OTHER" in done.stderr
        assert slack.of("users.info") == [] and slack.of("chat.postMessage") == []


def test_send_with_a_revoked_token_says_so(tmp_path: Path) -> None:
    seed(tmp_path)
    with LocalSlack(answers={"auth.test": {"ok": False, "error": "invalid_auth"}}) as slack:
        env = {"SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_API_URL": slack.api_url}
        done = run(tmp_path, "reminders", "send", "--at", "2026-03-30T09:00", **env)
    assert done.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth): nothing was sent." in done.stderr
    assert "Traceback" not in done.stderr


def test_the_scheduler_alone_runs_a_pass_at_once(tmp_path: Path) -> None:
    seed(tmp_path)
    with LocalSlack() as slack:
        env = clean_env(tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_API_URL=slack.api_url)
        process = subprocess.Popen(
            [PARS_BOT, "scheduler"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        try:
            deadline = time.monotonic() + 30
            assert process.stdout is not None
            while time.monotonic() < deadline:
                line = process.stdout.readline()
                lines.append(line)
                if "executed successfully" in line or not line:
                    break
        finally:
            process.terminate()
            process.wait(timeout=20)
        assert any(
            'Job "reminder_job' in line and "executed successfully" in line for line in lines
        ), lines
        assert slack.of("auth.test"), "it learns its workspace from the token"


def test_time_in_the_console_runs_the_reminder_pass(tmp_path: Path) -> None:
    out = console(
        tmp_path,
        '/pars add-activity id=GR-2025 title="Medicine Grand Rounds" format=rss '
        "start=2025-01-07 end=2025-12-16\n"
        "time 2026-03-30T08:00\n"
        "time 2026-03-30T09:00\n"
        "click Snooze 3 days\n"
        "time 2026-03-30T10:00\n"
        "time 2026-03-31T09:00\n",
    )
    blocks = out.split("pars> ")
    assert "(reminder pass: 0 sent, 0 already sent, 0 failed)" in blocks[2]
    nine = blocks[3]
    assert "(DM) ⏰ *1 day to the PARS deadline for 2025*: Tuesday 31 March 2026" in nine
    assert "(DM) 📋 *1 of your activities ended and is not closed in pars-bot.*" in nine
    assert "(reminder pass: 2 sent, 0 already sent, 0 failed)" in nine
    assert "Snoozed `GR-2025`" in blocks[4]
    # The snoozed activity is no longer due; the countdown was sent at 9:00.
    assert "(reminder pass: 0 sent, 1 already sent, 0 failed)" in blocks[5]
    deadline_day = blocks[6]
    assert "The PARS deadline for 2025 is today" in deadline_day
    assert "📋" not in deadline_day  # snoozed until 2 April


def test_preview_names_a_claim_never_confirmed_sent() -> None:
    # A sender killed between claim and send: the reminder is not sent again, and says so.
    from scheduler.plan import Kind, Reminder
    from storage.pars.calendar import deadline_for

    reminder = Reminder(
        Kind.COUNTDOWN, "U0ALICE", "2025", "2026-03-30", datetime(2026, 3, 30).date(),
        "America/Chicago", deadline_for(2025, {}),
    )  # fmt: skip
    claimed = datetime(2026, 3, 30, 14, 0, tzinfo=UTC)
    sent = datetime(2026, 3, 30, 14, 0, 2, tzinfo=UTC)
    assert describe(reminder, Logged("claimed", claimed, None, None), CHICAGO).endswith(
        "(claimed at 2026-03-30T09:00:00-05:00, never confirmed sent: not sent again)"
    )
    assert describe(reminder, Logged("sent", claimed, sent, None), CHICAGO).endswith(
        "(already sent at 2026-03-30T09:00:02-05:00)"
    )
    assert describe(reminder, Logged("failed", claimed, None, "ratelimited"), CHICAGO).endswith(
        "(failed: ratelimited; tried again on the next pass)"
    )
    assert describe(reminder, None, CHICAGO).endswith("deadline countdown, 1 day left")
