"""Reminders from the composition root: `pars-bot reminders preview|send`, and the scheduler
started in-process or alone."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TextIO
from urllib.error import URLError
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.engine import Engine

from bot.app import ConfigurationError, create_web_client, utc_now
from bot.settings import Settings
from bot.workspace import resolve_team
from scheduler import jobs, send
from scheduler.plan import Reminder
from storage.db import session_scope
from storage.deliveries import CLAIMED, FAILED, SENT, DeliveryKey, Logged
from storage.pars.rules import accepted_years
from storage.reminders import PROFILE_FRESH
from storage.settings import workspace_zone

log = logging.getLogger("pars_bot")

UNKNOWN = "Slack did not say who this is: tried again on the next pass"


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    """An ISO date-time; without an offset it is read in the provider's time zone."""
    usage = f"--at {text!r} is not a date and time: give one such as 2026-03-30T09:00"
    if "T" not in text.strip() and " " not in text.strip():
        # A bare date would mean midnight, when no reminder is due: say so rather than guess.
        raise ConfigurationError(usage + " (a date alone is midnight, when nothing is sent)")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigurationError(usage) from None
    years = accepted_years(datetime.now(zone).date())
    if moment.year not in years:
        # The calendar ends at 9999: a pass there would compute past its end.
        raise ConfigurationError(
            f"--at {text!r}: give a year from {years[0]} to {years[-1]}, the years the bot takes."
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _when(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def state(logged: Logged | None, zone: tzinfo) -> str:
    """What the delivery log says of a reminder, its times shown in `zone`."""
    if logged is None:
        return ""
    if logged.status == SENT and logged.sent_at is not None:
        return f" (already sent at {_when(logged.sent_at, zone)})"
    if logged.status == CLAIMED:
        # Its sender died between claim and send, or lost Slack's answer. Left unsent, since
        # a duplicate is worse than a miss (storage/deliveries.py); the operator sees it here.
        claimed = _when(logged.claimed_at, zone)
        return f" (claimed at {claimed}, never confirmed sent: not sent again)"
    if logged.status == FAILED:
        return f" (failed: {logged.error}; tried again on the next pass)"
    return f" ({logged.status})"


def describe(reminder: Reminder, logged: Logged | None = None, zone: tzinfo = UTC) -> str:
    what = {
        "countdown": f"deadline countdown, {reminder.days_left} day"
        f"{'' if reminder.days_left == 1 else 's'} left",
        "unclosed": f"{len(reminder.activities)} ended, not closed",
        "enduring": f"{len(reminder.activities)} enduring materials need Dec 31 counts",
        "digest": "weekly digest",
    }[reminder.kind]
    names = ", ".join(w.activity_id for w in reminder.activities[:5])
    more = f" +{len(reminder.activities) - 5}" if len(reminder.activities) > 5 else ""
    listed = f" [{names}{more}]" if names else ""
    line = f"{reminder.local_date} {reminder.kind:<9} → {reminder.recipient}: {what}{listed}"
    return line + state(logged, zone)


def _summary(result: send.PassResult, logged: dict[DeliveryKey, Logged], team_id: str) -> str:
    unconfirmed = sum(
        1 for r in result.already if (e := logged.get(r.key(team_id))) and e.status == CLAIMED
    )
    parts = [f"{len(result.sent)} sent", f"{len(result.already) - unconfirmed} already sent"]
    if unconfirmed:
        parts.append(f"{unconfirmed} claimed but never confirmed sent")
    if result.unknown:
        parts.append(f"{len(result.unknown)} skipped (Slack did not say who they are)")
    parts.append(f"{len(result.failed)} failed (retried on the next pass)")
    return ", ".join(parts)


def _workspace_client(settings: Settings, team_id: str, what: str) -> WebClient:
    """A client whose token is the workspace's own (`what` says what a refusal leaves undone)."""
    client = create_web_client(settings)
    try:
        token_team_id = client.auth_test()["team_id"]
    except SlackApiError as error:
        raise ConfigurationError(
            f"Slack refused SLACK_BOT_TOKEN ({error.response.get('error')}): {what}"
        ) from None
    except (SlackClientError, URLError) as error:
        raise ConfigurationError(f"Could not reach Slack ({error}): {what}") from None
    if token_team_id != team_id:
        # Another workspace's token would find none of these people, and mark them deleted.
        raise ConfigurationError(
            f"SLACK_BOT_TOKEN belongs to workspace {token_team_id}, not {team_id}: send "
            f"reminders of {team_id} with its own bot token."
        )
    return client


def _zone_of(engine: Engine, team_id: str, settings: Settings) -> ZoneInfo:
    with session_scope(engine) as session:
        return workspace_zone(session=session, team_id=team_id, default=settings.timezone)


def _not_asked(unasked: set[str], guessed: set[str]) -> str:
    hours = PROFILE_FRESH // timedelta(hours=1)
    parts = []
    if guessed:
        parts.append(f"{len(guessed)} have no time zone on file (shown at the workspace's 9:00)")
    if stale := unasked - guessed:
        parts.append(f"{len(stale)} have one on file last checked over {hours} hours ago")
    return (
        f"SLACK_BOT_TOKEN is not set, so Slack was not asked about {len(unasked)} "
        f"recipient(s): {' and '.join(parts)}. send asks Slack about them first and may send "
        "theirs at another hour."
    )


def preview(
    settings: Settings, engine: Engine, team_id: str, instant: datetime, out: TextIO
) -> int:
    """What `send` would send at `instant`: with the bot token, the profiles send would ask
    Slack for are asked too (and not stored), so both see the same time zones."""
    client = None
    if settings.slack_bot_token:
        client = _workspace_client(
            settings, team_id, "unset it to preview from the stored time zones alone."
        )
    planned = send.plan_pass(
        engine=engine,
        client=client,
        team_id=team_id,
        default_zone=settings.pars_timezone,
        instant=instant,
    )
    known = send.logged(engine, team_id, planned.due)
    zone = instant.tzinfo or UTC
    out.write(
        f"{len(planned.due)} reminder(s) due for {team_id} at {instant.isoformat()} "
        "(9:00 in each recipient's time zone):\n"
    )
    guessed = {
        user_id
        for user_id in planned.unasked
        if not (person := planned.snapshot.people.get(user_id)) or not person.tz
    }
    for reminder in planned.due:
        line = describe(reminder, known.get(reminder.key(team_id)), zone)
        if reminder.recipient in planned.failed:
            line += f" ({UNKNOWN})"
        elif reminder.recipient in guessed:
            line += f" (no time zone on file: {planned.snapshot.zone}'s 9:00)"
        out.write(line + "\n")
    if planned.unasked:
        out.write(_not_asked(planned.unasked, guessed) + "\n")
    return 0


def reminders_command(
    settings: Settings, engine: Engine, action: str, team: str | None, at: str, out: TextIO
) -> int:
    parse_instant(at, settings.timezone)  # a malformed --at is named before anything else
    team_id = resolve_team(engine, team)
    # The workspace's 9:00 when no offset is given: the hour reminders are thought of in.
    instant = parse_instant(at, _zone_of(engine, team_id, settings))
    if action == "preview":
        return preview(settings, engine, team_id, instant, out)
    if not settings.slack_bot_token:
        raise ConfigurationError("SLACK_BOT_TOKEN is not set: sending reminders needs it.")
    client = _workspace_client(settings, team_id, "nothing was sent.")
    result = send.run_pass(
        engine=engine,
        client=client,
        team_id=team_id,
        default_zone=settings.pars_timezone,
        instant=instant,
        now=utc_now(),
    )
    # Why each was skipped: sent (and when), or claimed by a sender that never confirmed it.
    logged = send.logged(engine, team_id, result.already)
    zone = instant.tzinfo or UTC
    for reminder in result.sent:
        out.write("sent    " + describe(reminder) + "\n")
    for reminder in result.already:
        out.write("skipped " + describe(reminder, logged.get(reminder.key(team_id)), zone) + "\n")
    for reminder in result.unknown:
        out.write(f"skipped {describe(reminder)} ({UNKNOWN})\n")
    for reminder, error in result.failed:
        out.write(f"FAILED  {describe(reminder)}: {error}\n")
    out.write(_summary(result, logged, team_id) + "\n")
    return 1 if result.failed else 0


def token_team(client: WebClient) -> Callable[[], Sequence[str]]:
    """The workspace of the bot token: the scheduler reminds that one only (not, say, the
    console's workspace sharing the database)."""
    team_id = client.auth_test()["team_id"]
    return lambda: [team_id]


def create_scheduler(
    settings: Settings, engine: Engine, *, blocking: bool, clock: Callable[[], datetime] = utc_now
) -> BaseScheduler:
    client = create_web_client(settings)
    return jobs.build_scheduler(
        engine=engine,
        client=client,
        teams=token_team(client),
        default_zone=settings.pars_timezone,
        clock=clock,
        blocking=blocking,
    )


def start_in_process(settings: Settings, engine: Engine) -> BaseScheduler:
    scheduler = create_scheduler(settings, engine, blocking=False)
    scheduler.start()
    log.info("reminder scheduler started: a pass every 15 minutes")
    return scheduler


def run_alone(settings: Settings, engine: Engine) -> int:
    if not settings.slack_bot_token:
        raise ConfigurationError("SLACK_BOT_TOKEN is not set: the scheduler sends DMs with it.")
    log.info("pars-bot scheduler: a reminder pass every 15 minutes (UTC %s)", datetime.now(UTC))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        create_scheduler(settings, engine, blocking=True).start()
    return 0
