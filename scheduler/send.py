"""One reminder pass for one workspace: load, plan, check profiles, claim, send.

The client comes from the composition root with slack_sdk's retry handlers for 429 and 5xx.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from urllib.error import URLError
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.engine import Engine

from handlers.cycle import messages as layouts
from handlers.slack.messages import Message
from scheduler.plan import Kind, Reminder, plan
from storage import deliveries, reminders
from storage.db import session_scope
from storage.reminders import Snapshot

log = logging.getLogger("pars_bot.scheduler")


@dataclass
class PassResult:
    planned: list[Reminder] = field(default_factory=list)
    sent: list[Reminder] = field(default_factory=list)
    already: list[Reminder] = field(default_factory=list)  # claimed by another pass or process
    failed: list[tuple[Reminder, str]] = field(default_factory=list)


def render(reminder: Reminder, snapshot: Snapshot) -> Message:
    zone = ZoneInfo(reminder.zone)
    if reminder.kind is Kind.COUNTDOWN:
        return layouts.countdown_dm(snapshot.checklist, reminder.deadline, zone, reminder.days_left)
    if reminder.kind is Kind.UNCLOSED:
        return layouts.unclosed_dm(reminder.activities, reminder.deadline, zone, reminder.days_left)
    if reminder.kind is Kind.ENDURING:
        return layouts.enduring_dm(reminder.activities, reminder.deadline.data_year)
    return layouts.digest_message(snapshot.checklist, reminder.owners, zone, reminder.local_date)


def load(engine: Engine, team_id: str, default_zone: str, instant: datetime) -> Snapshot:
    with session_scope(engine) as session:
        return reminders.load_snapshot(
            session=session, team_id=team_id, default_zone=default_zone, instant=instant
        )


def logged(
    engine: Engine, team_id: str, due: list[Reminder]
) -> dict[deliveries.DeliveryKey, deliveries.Logged]:
    """What the delivery log says of each reminder (absent: never claimed)."""
    with session_scope(engine) as session:
        return deliveries.entries(
            session=session, team_id=team_id, keys=[r.key(team_id) for r in due]
        )


def preview(
    *, engine: Engine, team_id: str, default_zone: str, instant: datetime
) -> tuple[Snapshot, list[Reminder], dict[deliveries.DeliveryKey, deliveries.Logged]]:
    """What is due at `instant`, from the database alone, and what the log says of each."""
    snapshot = load(engine, team_id, default_zone, instant)
    due = plan(snapshot, instant)
    return snapshot, due, logged(engine, team_id, due)


def _stale(snapshot: Snapshot, due: list[Reminder], instant: datetime) -> set[str]:
    users = {r.recipient for r in due if r.kind is not Kind.DIGEST}
    stale = set()
    for user_id in users:
        person = snapshot.people.get(user_id)
        checked = person.checked_at if person else None
        if checked is not None and checked.tzinfo is None:
            checked = checked.replace(tzinfo=ZoneInfo("UTC"))
        if checked is None or instant - checked > reminders.PROFILE_FRESH:
            stale.add(user_id)
    return stale


def refresh_profiles(
    *, engine: Engine, client: WebClient, team_id: str, users: set[str], now: datetime
) -> set[str]:
    """Copy each user's time zone and guest/deleted state from Slack; returns who failed."""
    failed = set()
    for user_id in sorted(users):
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            if error.response.get("error") != "user_not_found":
                log.warning("users.info %s failed: %s", user_id, error.response.get("error"))
                failed.add(user_id)
                continue
            user = {"deleted": True}
        except SlackClientError as error:
            log.warning("users.info %s failed: %s", user_id, error)
            failed.add(user_id)
            continue
        with session_scope(engine) as session:
            reminders.save_profile(
                session=session,
                team_id=team_id,
                user_id=user_id,
                tz=user.get("tz"),
                is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
                is_deleted=bool(user.get("deleted")),
                now=now,
            )
    return failed


def deliver(
    *,
    engine: Engine,
    client: WebClient,
    team_id: str,
    reminder: Reminder,
    message: Message,
    now: datetime,
) -> str | None:
    """Claim and send one reminder: "sent", None when it was not ours to send, or the error."""
    key = reminder.key(team_id)
    with session_scope(engine) as session:
        if not deliveries.claim(session=session, key=key, now=now):
            return None
    try:
        channel = reminder.recipient
        if reminder.kind is not Kind.DIGEST:
            channel = client.conversations_open(users=reminder.recipient)["channel"]["id"]
        answer = client.chat_postMessage(channel=channel, **message.kwargs())
    except SlackApiError as error:
        reason = str(error.response.get("error") or error)
    except SlackClientError as error:
        reason = str(error) or type(error).__name__
    except URLError as error:
        # urllib could not send the request (refused, unreachable, reset while sending):
        # Slack never had it, so the next pass may send it.
        reason = f"URLError: {error.reason}"
    except Exception as error:
        # Sent, but the answer was lost (timed out, disconnected): the DM probably arrived.
        # The claim stays, unconfirmed: a reminder twice is worse than one missed, and
        # `reminders preview` shows it as claimed but never confirmed sent.
        log.warning("reminder %s to %s unconfirmed: %r", reminder.kind, reminder.recipient, error)
        return f"unconfirmed: {type(error).__name__}"
    else:
        with session_scope(engine) as session:
            deliveries.record_sent(
                session=session, key=key, now=now, channel=channel, ts=answer.get("ts")
            )
        return "sent"
    log.warning("reminder %s to %s failed: %s", reminder.kind, reminder.recipient, reason)
    with session_scope(engine) as session:
        deliveries.record_failed(session=session, key=key, error=reason)
    return reason


def run_pass(
    *,
    engine: Engine,
    client: WebClient,
    team_id: str,
    default_zone: str,
    instant: datetime,
    now: datetime,
) -> PassResult:
    """Send what is due at `instant` (`now` stamps the log; they differ when replaying)."""
    snapshot = load(engine, team_id, default_zone, instant)
    due = plan(snapshot, instant)
    stale = _stale(snapshot, due, instant)
    unknown: set[str] = set()
    if stale:
        unknown = refresh_profiles(
            engine=engine, client=client, team_id=team_id, users=stale, now=instant
        )
        # Time zones or guest status may have changed what is due.
        snapshot = load(engine, team_id, default_zone, instant)
        due = plan(snapshot, instant)
    result = PassResult(planned=due)
    for reminder in due:
        if reminder.recipient in unknown:
            continue  # not known to be a member in good standing: try again next pass
        outcome = deliver(
            engine=engine,
            client=client,
            team_id=team_id,
            reminder=reminder,
            message=render(reminder, snapshot),
            now=now,
        )
        if outcome == "sent":
            result.sent.append(reminder)
        elif outcome is None:
            result.already.append(reminder)
        else:
            result.failed.append((reminder, outcome))
    return result
