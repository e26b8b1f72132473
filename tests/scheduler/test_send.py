"""Reminder passes against a real database and the local stand-in for Slack: each reminder
once, catch-up the same day, retries, profiles, opt-out and snooze, two processes at once."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.error import URLError
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.app import create_web_client
from bot.local_slack import TEAM_ID, LocalSlack
from bot.settings import Settings
from scheduler.send import PassResult, run_pass
from storage import activities as service
from storage import deliveries, reminders
from storage.db import session_scope
from tests.bot.test_console import PARS_BOT

CHICAGO = ZoneInfo("America/Chicago")
ALICE, BOB, CAROL, GUEST = "U0ALICE", "U0BOB", "U0CAROL", "U0GUEST"


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    local = LocalSlack(guests={GUEST}).start()
    yield local
    threading.Thread(target=local.stop, daemon=True).start()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO)


def seed(engine: Engine, owner: str, activity_id: str, end: str = "2025-12-16") -> None:
    with session_scope(engine) as session:
        service.create_activity(
            session=session,
            team_id=TEAM_ID,
            actor=service.Actor(owner),
            raw={
                "activity_id": activity_id,
                "title": f"Series {activity_id}",
                "format": "rss",
                "start_date": "2025-01-07",
                "end_date": end,
            },
            now=datetime(2025, 1, 2, tzinfo=UTC),
        )
        reminders.note_member(
            session=session, team_id=TEAM_ID, user_id=owner, now=datetime(2025, 1, 2, tzinfo=UTC)
        )


def run(engine: Engine, slack: LocalSlack, when: str) -> PassResult:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    moment = at(when)
    return run_pass(
        engine=engine,
        client=client,
        team_id=TEAM_ID,
        default_zone="America/Chicago",
        instant=moment,
        now=moment,
    )


def dms(slack: LocalSlack) -> list[tuple[str, str]]:
    """(channel, first words) of every DM posted, in order."""
    return [
        (c.params["channel"], c.params["text"].split(":")[0][:40])
        for c in slack.of("chat.postMessage")
    ]


def test_a_bot_down_at_nine_catches_up_that_day_once_and_never_late(
    engine: Engine, slack: LocalSlack
) -> None:
    seed(engine, ALICE, "GR-2025")
    # Monday 16 March (weekly reminder) passes with the bot down all day. Tuesday 17 March is
    # 14 days before the deadline: at 14:00, back up, the countdown goes, not Monday's.
    result = run(engine, slack, "2026-03-17T14:00")
    assert [(r.kind, r.recipient, r.period) for r in result.sent] == [
        ("countdown", ALICE, "2026-03-17")
    ]
    assert dms(slack) == [("D0ALICE", "⏰ 14 days to the PARS deadline for 2025")]
    assert run(engine, slack, "2026-03-17T14:15").sent == []
    assert run(engine, slack, "2026-03-17T23:45").sent == []
    assert len(slack.of("chat.postMessage")) == 1
    # Monday 23 March: the weekly unclosed reminder, at 9:00 and not before.
    assert run(engine, slack, "2026-03-23T08:45").sent == []
    monday = run(engine, slack, "2026-03-23T09:00")
    assert [(r.kind, [w.activity_id for w in r.activities]) for r in monday.sent] == [
        ("unclosed", ["GR-2025"])
    ]
    with session_scope(engine) as session:
        log = deliveries.log(session=session, team_id=TEAM_ID)
    assert [(d.kind, d.recipient, d.period, d.status) for d in log] == [
        ("countdown", ALICE, "2026-03-17", "sent"),
        ("unclosed", ALICE, "2026-03-23", "sent"),
    ]


def test_a_failed_send_is_retried_on_the_next_pass(engine: Engine, slack: LocalSlack) -> None:
    seed(engine, ALICE, "GR-2025")
    slack.failing_dms.add(ALICE)
    first = run(engine, slack, "2026-03-30T09:00")
    assert [(r.kind, error) for r, error in first.failed] == [
        ("countdown", "channel_not_found"),
        ("unclosed", "channel_not_found"),
    ]
    slack.failing_dms.clear()
    second = run(engine, slack, "2026-03-30T09:15")
    assert [r.kind for r in second.sent] == ["countdown", "unclosed"]
    assert run(engine, slack, "2026-03-30T09:30").sent == []
    with session_scope(engine) as session:
        log = deliveries.log(session=session, team_id=TEAM_ID)
    assert [(d.status, d.attempts, d.error) for d in log] == [("sent", 2, None)] * 2


class DroppingClient(WebClient):
    """Slack's client whose first DM is lost to the network, as a reset connection is."""

    dropped = 0

    def chat_postMessage(self, **kwargs: Any) -> Any:
        if not self.dropped:
            self.dropped += 1
            raise URLError(ConnectionResetError(104, "Connection reset by peer"))
        return super().chat_postMessage(**kwargs)


def test_a_send_lost_to_the_network_is_retried_not_forgotten(
    engine: Engine, slack: LocalSlack
) -> None:
    seed(engine, ALICE, "GR-2025")
    moment = at("2026-03-30T09:00")
    first = run_pass(
        engine=engine, client=DroppingClient(token="xoxb-test", base_url=slack.api_url),
        team_id=TEAM_ID, default_zone="America/Chicago", instant=moment, now=moment,
    )  # fmt: skip
    assert [(r.kind, error.split(":")[0]) for r, error in first.failed] == [
        ("countdown", "URLError")
    ]
    assert [r.kind for r in first.sent] == ["unclosed"]  # the pass went on
    second = run(engine, slack, "2026-03-30T09:15")
    assert [r.kind for r in second.sent] == ["countdown"]
    with session_scope(engine) as session:
        log = deliveries.log(session=session, team_id=TEAM_ID)
    assert sorted(d.status for d in log) == ["sent", "sent"]


class AnswerLostClient(WebClient):
    """Slack's client whose first DM is posted, but whose answer never comes back."""

    lost = 0

    def chat_postMessage(self, **kwargs: Any) -> Any:
        answer = super().chat_postMessage(**kwargs)
        if not self.lost:
            self.lost += 1
            raise TimeoutError("The read operation timed out")
        return answer


def test_a_send_whose_answer_was_lost_is_not_sent_twice(engine: Engine, slack: LocalSlack) -> None:
    seed(engine, ALICE, "GR-2025")
    moment = at("2026-03-30T09:00")
    first = run_pass(
        engine=engine, client=AnswerLostClient(token="xoxb-test", base_url=slack.api_url),
        team_id=TEAM_ID, default_zone="America/Chicago", instant=moment, now=moment,
    )  # fmt: skip
    assert [(r.kind, error) for r, error in first.failed] == [
        ("countdown", "unconfirmed: TimeoutError")
    ]
    assert run(engine, slack, "2026-03-30T09:15").sent == []
    assert len(slack.of("chat.postMessage")) == 2  # the countdown once, the unclosed DM once


def test_guests_and_deactivated_users_get_no_reminders(engine: Engine, slack: LocalSlack) -> None:
    seed(engine, GUEST, "G-1")
    seed(engine, CAROL, "C-1")
    seed(engine, ALICE, "A-1")
    slack.deleted.add(CAROL)
    result = run(engine, slack, "2026-03-30T09:00")
    assert {r.recipient for r in result.sent} == {ALICE}
    assert {c for c, _t in dms(slack)} == {"D0ALICE"}
    with session_scope(engine) as session:
        people = reminders.load_people(session=session, team_id=TEAM_ID)
    assert not people[GUEST].reachable and not people[CAROL].reachable


def test_reminders_come_at_nine_in_the_recipients_own_time_zone(
    engine: Engine, slack: LocalSlack
) -> None:
    seed(engine, BOB, "B-1")
    slack.timezones[BOB] = "America/Los_Angeles"
    assert run(engine, slack, "2026-03-30T09:00").sent == []  # 7:00 in Los Angeles
    assert [c.params["user"] for c in slack.of("users.info")] == [BOB]
    assert run(engine, slack, "2026-03-30T10:45").sent == []
    later = run(engine, slack, "2026-03-30T11:00")
    assert [r.kind for r in later.sent] == ["countdown", "unclosed"]
    assert len(slack.of("users.info")) == 1  # the profile is kept, not asked every pass


def test_an_owner_asked_about_for_reminders_is_kept_with_their_real_name(
    engine: Engine, slack: LocalSlack
) -> None:
    # Bob never used the bot: the reminder pass is what asks Slack who he is.
    seed(engine, BOB, "B-1")
    slack.names[BOB] = "Robert Okafor"
    run(engine, slack, "2026-03-30T09:00")
    with session_scope(engine) as session:
        member = reminders.get_member(session=session, team_id=TEAM_ID, user_id=BOB)
    assert member is not None and member.real_name == "Robert Okafor"


def test_opting_out_and_snoozing_stop_reminders(engine: Engine, slack: LocalSlack) -> None:
    seed(engine, ALICE, "A-1")
    seed(engine, ALICE, "A-2")
    seed(engine, BOB, "B-1")
    with session_scope(engine) as session:
        reminders.set_reminders(
            session=session, team_id=TEAM_ID, user_id=BOB, on=False, now=at("2026-03-27T10:00")
        )
        reminders.snooze(
            session=session,
            team_id=TEAM_ID,
            activity_id="A-1",
            user_id=ALICE,
            today=at("2026-03-27T10:00").date(),
            now=at("2026-03-27T10:00"),
        )
    monday = run(engine, slack, "2026-03-30T09:00")
    assert [(r.recipient, r.kind, [w.activity_id for w in r.activities]) for r in monday.sent] == [
        (ALICE, "countdown", []),
        (ALICE, "unclosed", ["A-2"]),
    ]
    tuesday = run(engine, slack, "2026-03-31T09:00")  # the snooze is over
    assert [w.activity_id for r in tuesday.sent for w in r.activities] == ["A-1", "A-2"]


def _database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_two_processes_on_one_database_send_each_reminder_once(
    engine: Engine, slack: LocalSlack, tmp_path: Path
) -> None:
    owners = [f"U0OWNER{n:02d}" for n in range(15)]
    for n, owner in enumerate(owners):
        seed(engine, owner, f"S-{n}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARS_"))}
    env |= {
        "DATABASE_URL": _database_url(engine),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.api_url,
    }
    command = [PARS_BOT, "reminders", "send", "--team", TEAM_ID, "--at", "2026-03-30T09:00"]
    processes = [
        subprocess.Popen(
            command,
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "Traceback" not in err, err
    per_channel = Counter(c.params["channel"] for c in slack.of("chat.postMessage"))
    # Each owner: the countdown and the unclosed reminder, once each, whoever sent them.
    assert per_channel == {"D" + o.removeprefix("U"): 2 for o in owners}
    sent = sum(int(out.splitlines()[-1].split()[0]) for out, _e in outputs)
    assert sent == 30


def test_rate_limits_and_server_errors_are_retried_honouring_retry_after(
    engine: Engine, slack: LocalSlack
) -> None:
    seed(engine, ALICE, "GR-2025")
    # The client the scheduler and `reminders send` are given, not a plain one.
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=slack.api_url, _env_file=None)
    slack.http_errors["chat.postMessage"] = [429, 503]
    moment = at("2026-03-30T09:00")
    started = time.monotonic()
    result = run_pass(
        engine=engine,
        client=create_web_client(settings),
        team_id=TEAM_ID,
        default_zone="America/Chicago",
        instant=moment,
        now=moment,
    )
    assert time.monotonic() - started >= 1.0  # waited as Retry-After: 1 asked
    assert [r.kind for r in result.sent] == ["countdown", "unclosed"] and not result.failed
    # The first DM was tried three times (429, 503, then sent), the second once.
    assert len(slack.of("chat.postMessage")) == 4
    assert len(dms(slack)) == 4
