"""`pars-bot reminders preview|send`, `pars-bot scheduler` and the console's `time`, run as an
operator runs them."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.local_slack import TEAM_ID, LocalSlack
from bot.reminders import describe
from storage import activities as service
from storage import deliveries, reminders, settings
from storage.db import create_db_engine, session_scope, stored_utc, upgrade
from storage.deliveries import DeliveryKey, Logged
from tests.bot.serving import clean_env, free_port
from tests.bot.test_cli import run
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
    guessed = " (no time zone on file: America/Chicago's 9:00)"
    assert done.stdout.splitlines() == [
        "2 reminder(s) due for T0LOCAL at 2026-03-30T09:00:00-05:00 "
        "(9:00 in each recipient's time zone):",
        f"2026-03-30 countdown → U0ALICE: deadline countdown, 1 day left{guessed}",
        f"2026-03-30 unclosed  → U0ALICE: 1 ended, not closed [GR-2025]{guessed}",
        "SLACK_BOT_TOKEN is not set, so Slack was not asked about 1 recipient(s): 1 have no "
        "time zone on file (shown at the workspace's 9:00). send asks Slack about them first "
        "and may send theirs at another hour.",
    ]
    early = run(tmp_path, "reminders", "preview", "--at", "2026-03-30T08:59")
    assert early.stdout.splitlines() == [
        "0 reminder(s) due for T0LOCAL at 2026-03-30T08:59:00-05:00 "
        "(9:00 in each recipient's time zone):"
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


# Whose 9:00: each person's time zone on file (None: never asked) and in Slack now.
ZONES: dict[str, tuple[str | None, str | None]] = {
    "U0CHI": ("America/Chicago", "America/Chicago"),
    "U0LAX": ("America/Los_Angeles", "America/Los_Angeles"),
    "U0MOVED": ("America/Chicago", "America/Los_Angeles"),  # moved since last asked
    "U0TYO": (None, "Asia/Tokyo"),
    "U0LON": (None, "Europe/London"),
    "U0HNL": (None, "Pacific/Honolulu"),
    "U0NONE": (None, None),  # no zone in Slack either: the workspace's
}


def seed_zones(tmp_path: Path) -> LocalSlack:
    """Everyone has used the bot and owns an activity that ended in 2025; the stored profiles
    were asked of Slack weeks ago. The stand-in for Slack knows their zones as they are now."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pars.db'}")
    upgrade(engine)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        for user, (on_file, _) in ZONES.items():
            service.create_activity(
                session=session,
                team_id=TEAM_ID,
                actor=service.Actor(user),
                raw={"activity_id": f"GR-{user}", "title": "Grand Rounds", "format": "rss",
                     "start_date": "2025-01-07", "end_date": "2025-12-16"},
                now=now,
            )  # fmt: skip
            reminders.note_member(session=session, team_id=TEAM_ID, user_id=user, now=now)
            if on_file:
                reminders.save_profile(
                    session=session, team_id=TEAM_ID, user_id=user, tz=on_file,
                    is_guest=False, is_deleted=False, now=now,
                )  # fmt: skip
    engine.dispose()
    return LocalSlack(timezones={user: zone for user, (_, zone) in ZONES.items() if zone})


def profiles(tmp_path: Path) -> list[tuple[str, str | None, datetime | None]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pars.db'}")
    with session_scope(engine) as session:
        people = reminders.load_people(session=session, team_id=TEAM_ID).values()
        found = sorted((p.user_id, p.tz, p.checked_at) for p in people)
    engine.dispose()
    return found


def listed(preview: subprocess.CompletedProcess[str]) -> set[str]:
    """The reminders a preview says are due and not yet sent or claimed."""
    assert preview.returncode == 0, preview.stderr
    lines = preview.stdout.splitlines()[1:]
    return {line for line in lines if " → " in line and "(already sent at" not in line}


def sent(done: subprocess.CompletedProcess[str]) -> set[str]:
    assert done.returncode == 0, done.stderr
    return {
        line.removeprefix("sent    ") for line in done.stdout.splitlines() if line[:8] == "sent    "
    }


def recipients(lines: set[str]) -> set[str]:
    return {line.split(" → ")[1].split(":")[0] for line in lines}


def test_preview_lists_what_send_sends_at_the_same_instants_across_zones(
    tmp_path: Path,
) -> None:
    everyone = set(ZONES)
    # instant: who is sent reminders then (their 9:00 on a weekday, or later that day)
    expected = {
        "2026-03-29T22:00-05:00": set(),  # Sunday in Chicago
        "2026-03-30T08:00-05:00": set(),
        "2026-03-30T09:00-05:00": everyone - {"U0LAX", "U0MOVED", "U0HNL"},  # 7:00, 4:00
        "2026-03-30T11:00-05:00": {"U0LAX", "U0MOVED"},
        "2026-03-30T14:00-05:00": {"U0HNL"},
        "2026-03-31T09:00+09:00": {"U0TYO"},  # Tuesday in Tokyo, still Monday elsewhere
    }
    with seed_zones(tmp_path) as slack:
        env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": slack.api_url}
        for at, who in expected.items():
            before = len(slack.of("chat.postMessage")), profiles(tmp_path)
            preview = run(tmp_path, "reminders", "preview", "--at", at, **env)
            after = len(slack.of("chat.postMessage")), profiles(tmp_path)
            assert after == before, "preview sends nothing and stores nothing"
            done = run(tmp_path, "reminders", "send", "--at", at, **env)
            assert listed(preview) == sent(done), at
            assert recipients(sent(done)) == who, at
        # Countdown and unclosed, once each, to everyone on Monday; Tokyo's Tuesday too.
        assert len(slack.of("chat.postMessage")) == 2 * len(everyone) + 2


def test_preview_without_the_token_says_whose_nine_it_shows(tmp_path: Path) -> None:
    guessed = {"U0TYO", "U0LON", "U0HNL", "U0NONE"}
    with seed_zones(tmp_path) as slack:
        env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": slack.api_url}
        alone = run(tmp_path, "reminders", "preview", "--at", "2026-03-30T09:00")
        lines = listed(alone)
        marked = {
            line
            for line in lines
            if line.endswith("(no time zone on file: America/Chicago's 9:00)")
        }
        assert recipients(marked) == guessed
        assert recipients(lines - marked) == {"U0CHI", "U0MOVED"}  # Chicago on file
        assert alone.stdout.splitlines()[-1] == (
            "SLACK_BOT_TOKEN is not set, so Slack was not asked about 6 recipient(s): 4 have no "
            "time zone on file (shown at the workspace's 9:00) and 2 have one on file last "
            "checked over 20 hours ago. send asks Slack about them first and may send theirs at "
            "another hour."
        )
        done = run(tmp_path, "reminders", "send", "--at", "2026-03-30T09:00", **env)
        assert recipients(sent(done)) == {"U0CHI", "U0TYO", "U0LON", "U0NONE"}
        # send stored the zones it asked for: preview, still without the token, uses them.
        later = run(tmp_path, "reminders", "preview", "--at", "2026-03-30T11:00")
        assert "(no time zone on file" not in later.stdout
        done = run(tmp_path, "reminders", "send", "--at", "2026-03-30T11:00", **env)
        assert listed(later) == sent(done) and recipients(sent(done)) == {"U0LAX", "U0MOVED"}


def test_at_without_an_offset_is_the_workspaces_own_time(tmp_path: Path) -> None:
    seed(tmp_path)
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pars.db'}")
    with session_scope(engine) as session:  # as `/pars config timezone Europe/London` does
        settings.update_settings(
            session=session, team_id=TEAM_ID, user_id="U0ADMIN", now=datetime.now(UTC),
            timezone="Europe/London",
        )  # fmt: skip
    engine.dispose()
    done = run(tmp_path, "reminders", "preview", "--at", "2026-03-30T09:00")
    assert done.stdout.splitlines()[0] == (
        "2 reminder(s) due for T0LOCAL at 2026-03-30T09:00:00+01:00 "
        "(9:00 in each recipient's time zone):"
    )
    assert "(no time zone on file: Europe/London's 9:00)" in done.stdout


def test_operator_mistakes_are_named(tmp_path: Path) -> None:
    seed(tmp_path)
    seed(tmp_path, "T0OTHER")
    several = run(tmp_path, "reminders", "preview", "--at", "2026-03-30T09:00")
    assert several.returncode == 2
    assert "2 workspaces (T0LOCAL, T0OTHER): choose one with --team" in several.stderr
    bad = run(tmp_path, "reminders", "preview", "--team", TEAM_ID, "--at", "next monday")
    assert (
        bad.returncode == 2
        and "is not a date and time: give one such as 2026-03-30T09:00" in bad.stderr
    )
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


def test_preview_and_send_with_slack_out_of_reach_say_so(tmp_path: Path) -> None:
    seed(tmp_path)
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"}
    preview = run(tmp_path, "reminders", "preview", "--at", "2026-03-30T09:00", **env)
    done = run(tmp_path, "reminders", "send", "--at", "2026-03-30T09:00", **env)
    assert preview.returncode == 2 and done.returncode == 2
    assert "Could not reach Slack" in preview.stderr
    assert "unset it to preview from the stored time zones alone." in preview.stderr
    assert "Could not reach Slack" in done.stderr and "nothing was sent." in done.stderr
    assert "Traceback" not in preview.stderr + done.stderr


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
    assert "(DM) ⏰ *1 day to the PARS deadline for 2025*: Tuesday, March 31, 2026" in nine
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


@pytest.mark.parametrize("at", ["9999-12-31T09:00", "0001-01-01T09:00"])
def test_an_instant_past_the_years_the_bot_takes_is_refused_with_the_years(
    tmp_path: Path, at: str
) -> None:
    seed(tmp_path)
    done = run(tmp_path, "reminders", "preview", "--at", at)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "give a year from 2000 to" in done.stderr
