"""One reminder pass for one workspace: load, plan, check profiles, claim, send.

The client comes from the composition root with slack_sdk's retry handlers for 429 and 5xx.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
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
from storage.reminders import Person, Snapshot

log = logging.getLogger("pars_bot.scheduler")


@dataclass
class PassResult:
    planned: list[Reminder] = field(default_factory=list)
    sent: list[Reminder] = field(default_factory=list)
    already: list[Reminder] = field(default_factory=list)  # claimed by another pass or process
    unknown: list[Reminder] = field(default_factory=list)  # Slack did not say who: next pass
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


@dataclass(frozen=True)
class SlackProfile:
    """What users.info says of someone: what decides when, and whether, they are reminded,
    and their real name (the export shows it for their ID)."""

    tz: str | None
    is_guest: bool
    is_deleted: bool
    real_name: str | None = None


@dataclass
class Planned:
    """What a pass at an instant sends, once the profiles it depends on are known."""

    snapshot: Snapshot
    due: list[Reminder]
    asked: dict[str, SlackProfile] = field(default_factory=dict)  # just now, of Slack
    failed: set[str] = field(default_factory=set)  # Slack could not say: skipped this pass
    unasked: set[str] = field(default_factory=set)  # profile missing or stale, Slack not asked


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


def ask_profiles(client: WebClient, users: set[str]) -> tuple[dict[str, SlackProfile], set[str]]:
    """Each user's time zone and guest/deleted state from Slack, and whom Slack could not
    answer about."""
    found: dict[str, SlackProfile] = {}
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
        except (SlackClientError, URLError) as error:
            log.warning("users.info %s failed: %s", user_id, error)
            failed.add(user_id)
            continue
        found[user_id] = SlackProfile(
            tz=user.get("tz"),
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
            is_deleted=bool(user.get("deleted")),
            real_name=user.get("real_name") or None,
        )
    return found, failed


def with_profiles(
    snapshot: Snapshot, profiles: dict[str, SlackProfile], checked_at: datetime
) -> Snapshot:
    """The snapshot as it reads once `profiles` are saved (reminders.save_profile's rules:
    someone who never used the bot is subscribed, an opt-out stays)."""
    people = dict(snapshot.people)
    for user_id, profile in profiles.items():
        known = people.get(user_id)
        people[user_id] = Person(
            user_id=user_id,
            tz=profile.tz,
            used_bot=known.used_bot if known else False,
            reminders=known.reminders if known else True,
            reachable=not (profile.is_guest or profile.is_deleted),
            checked_at=checked_at,
        )
    return replace(snapshot, people=people)


def plan_pass(
    *,
    engine: Engine,
    client: WebClient | None,
    team_id: str,
    default_zone: str,
    instant: datetime,
) -> Planned:
    """What is due at `instant`: planned from the stored profiles, then planned again once
    Slack has told the time zones of those whose profile is missing or stale (they decide
    whose 9:00 it is). Without a client, from the stored profiles alone. Stores nothing."""
    snapshot = load(engine, team_id, default_zone, instant)
    due = plan(snapshot, instant)
    stale = _stale(snapshot, due, instant)
    if not stale:
        return Planned(snapshot, due)
    if client is None:
        return Planned(snapshot, due, unasked=stale)
    asked, failed = ask_profiles(client, stale)
    # Time zones or guest status may have changed what is due.
    snapshot = with_profiles(snapshot, asked, instant)
    return Planned(snapshot, plan(snapshot, instant), asked=asked, failed=failed)


def save_profiles(
    *, engine: Engine, team_id: str, profiles: dict[str, SlackProfile], now: datetime
) -> None:
    with session_scope(engine) as session:
        for user_id, profile in profiles.items():
            reminders.save_profile(
                session=session,
                team_id=team_id,
                user_id=user_id,
                tz=profile.tz,
                is_guest=profile.is_guest,
                is_deleted=profile.is_deleted,
                now=now,
                real_name=profile.real_name,
            )


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
    planned = plan_pass(
        engine=engine, client=client, team_id=team_id, default_zone=default_zone, instant=instant
    )
    save_profiles(engine=engine, team_id=team_id, profiles=planned.asked, now=instant)
    result = PassResult(planned=planned.due)
    for reminder in planned.due:
        if reminder.recipient in planned.failed:
            result.unknown.append(reminder)  # not known to be a member in good standing
            continue
        outcome = deliver(
            engine=engine,
            client=client,
            team_id=team_id,
            reminder=reminder,
            message=render(reminder, planned.snapshot),
            now=now,
        )
        if outcome == "sent":
            result.sent.append(reminder)
        elif outcome is None:
            result.already.append(reminder)
        else:
            result.failed.append((reminder, outcome))
    return result
