"""Global middleware: dependencies into the context, the workspace and the user of every
request found, and guests kept out.

Nothing here reads the database: with process_before_response Slack's acknowledgement goes out
only once the middleware and the listener have returned, so a read here would make a stalled
or locked database delay (or miss) the ack itself. The workspace's settings are read by
answering_errors just before the listener runs (handlers/slack/context.py read_settings): on a
pool once the request is acknowledged, or for a form's submission before its ack, which
carries the form's errors. The guest check stays before the ack: it asks Slack, not the
database, once per person every few minutes, and a guest's request must reach no listener.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.slack import bot_values
from handlers.slack.context import READ_SETTINGS, Deps, find_team
from handlers.slack.errors import DATABASE_UNREACHABLE, form_error_block
from storage.activities import Actor
from storage.db import deadline, is_unreachable, session_scope
from storage.settings import workspace_zone
from storage.sheets.read import kind_of

GUEST_REFUSAL = (
    "Sorry, guest accounts can't use pars-bot. Ask a full member of your CME office to make "
    "the change."
)
GUEST_UPLOAD_REFUSAL = (
    "Sorry, guest accounts can't use pars-bot, so I didn't read this file. Ask a full member "
    "of your CME office to share it."
)
UNVERIFIED = (
    "I couldn't check your Slack account just now, so nothing was changed. Please try again."
)
NO_TEAM = (
    "I couldn't tell which Slack workspace this came from, so nothing was changed. Please try "
    "again; if it keeps happening, tell your pars-bot admin."
)
# The first read of every request: a database that does not answer by then gets a clear
# refusal soon instead of whenever its connection gives up (a new connection may take up to
# its own 2 s connect_timeout).
FIRST_READ_DEADLINE_S = 1.5
# Message subtypes a person sends. The rest (bot_message, message_changed, message_deleted,
# channel_join, ...) are Slack's or a bot's doing and never a request to the bot.
PERSON_MESSAGES = frozenset({None, "file_share", "thread_broadcast"})


@dataclass(frozen=True)
class Checked:
    guest: bool
    # The real name Slack just gave; None when the answer was remembered (or gave none).
    real_name: str | None = None


class GuestCheck:
    """Is a user a guest (restricted account)? Asked of Slack, remembered for a few minutes.

    The same answer holds their real name: handlers/slack/members.py keeps it, so the name
    costs no call to Slack of its own.
    """

    def __init__(self, ttl_seconds: float = 300.0) -> None:
        self._ttl = ttl_seconds
        self._known: dict[tuple[str, str], tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: WebClient, team_id: str, user_id: str) -> Checked:
        key = (team_id, user_id)
        with self._lock:
            known = self._known.get(key)
        if known and known[1] > time.monotonic():
            return Checked(guest=known[0])
        # Asked before Slack's request is acknowledged: no retries and a short timeout, so a
        # rate-limited or slow Slack means a clear refusal, not a missed 3-second window.
        quick = WebClient(
            token=client.token, base_url=client.base_url, timeout=2, retry_handlers=[]
        )
        user = quick.users_info(user=user_id)["user"]
        guest = bool(user.get("is_restricted") or user.get("is_ultra_restricted"))
        with self._lock:
            self._known[key] = (guest, time.monotonic() + self._ttl)
        return Checked(guest=guest, real_name=user.get("real_name") or None)


def _event(body: dict[str, Any]) -> dict[str, Any] | None:
    event = body.get("event")
    return event if body.get("type") == "event_callback" and isinstance(event, dict) else None


def _user_id(body: dict[str, Any], event: dict[str, Any] | None) -> str | None:
    if event is not None:
        # file_shared names its user `user_id`; every other event `user`.
        return event.get("user") or event.get("user_id")
    return body.get("user_id") or (body.get("user") or {}).get("id")


def _from_a_bot(event: dict[str, Any], context: BoltContext) -> bool:
    if event.get("bot_id"):
        return True
    user_id = _user_id({}, event)
    if user_id is not None and user_id == context.bot_user_id:
        return True  # file_shared for a file the bot uploaded itself
    return event.get("type") == "message" and event.get("subtype") not in PERSON_MESSAGES


def _is_upload(event: dict[str, Any] | None) -> bool:
    """The event the spreadsheet upload answers (file_shared for the same file stays quiet).

    Only a share with a spreadsheet in it: a guest's photo or PDF gets no word, as anyone's.
    """
    if not event or event.get("type") != "message" or event.get("subtype") != "file_share":
        return False
    return any(kind_of(f.get("name") or f.get("title") or "") for f in event.get("files") or [])


def _settings_reader(
    context: BoltContext, deps: Deps, team_id: str, unreachable: Callable[[], None]
) -> Callable[[], None]:
    """What read_settings runs: the dependencies of one request get the workspace's own time
    zone (`/pars config timezone`). The instant is the request's arrival, fixed now, so that
    "today", end dates and every date shown agree with the checklist and the reminders, and
    with each other however long the request takes or waits."""
    instant = deps.clock()
    context["deps"] = replace(deps, clock=lambda: instant)

    def read() -> None:
        try:
            with deadline(FIRST_READ_DEADLINE_S), session_scope(deps.engine) as session:
                zone = workspace_zone(session=session, team_id=team_id, default=deps.timezone)
        except sa.exc.SQLAlchemyError as error:
            if is_unreachable(error):
                unreachable()  # handle_error, which gets the error next, logs it
            raise
        context["deps"] = replace(deps, timezone=zone, clock=lambda: instant)

    return read


def register(app: App, deps: Deps) -> None:
    guests = GuestCheck()

    @app.middleware
    def identify(
        body: dict[str, Any],
        context: BoltContext,
        client: WebClient,
        logger: logging.Logger,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        context["deps"] = deps
        event = _event(body)
        if event is not None and event.get("type") == "user_change":
            # Slack telling of a profile (handlers/slack/members.py): nobody to identify.
            team = find_team(body, context)
            if team is None:
                return _ignored()
            context["team"] = team
            return next()
        if event is not None and _from_a_bot(event, context):
            return _ignored()  # before users.info: bots post often and are never users
        if event is not None and event.get("type") == "message" and not _is_upload(event):
            # People talking in a channel the bot is in: not for the bot, not worth a lookup.
            return _ignored()
        kind = event.get("type") if event is not None else body.get("type") or "command"

        def refuse(text: str) -> BoltResponse:
            if event is None:
                return _refuse(body, context, text)
            # Events have nobody to answer, except an upload: its sharer waits for a reply.
            if _is_upload(event):
                _tell_uploader(client, event, text, logger)
            return _ignored()

        team = find_team(body, context)
        if team is None:
            # Never an empty team: that would read and write a workspace of its own. Nothing
            # is posted for an event either: without a workspace there is no one to post to.
            logger.warning("refused a %s request that names no workspace", kind)
            return _ignored() if event is not None else _refuse(body, context, NO_TEAM)
        user_id = _user_id(body, event)
        if user_id is None:
            logger.warning("refused a %s request that names no user", kind)
            return refuse(UNVERIFIED)
        context["team"] = team

        def unreachable() -> None:
            # handle_error answers commands, clicks and forms; an upload's sharer is told here.
            if event is not None and _is_upload(event):
                _tell_uploader(client, event, DATABASE_UNREACHABLE, logger)

        context[READ_SETTINGS] = _settings_reader(context, deps, team, unreachable)
        context["actor"] = Actor(user_id=user_id, is_admin=user_id in deps.admins)
        try:
            checked = guests.check(client, team, user_id)
        except Exception as error:
            logger.warning("users.info failed for %s: %s", user_id, error)
            return refuse(UNVERIFIED)
        if checked.real_name:
            context["real_name"] = checked.real_name
        if checked.guest:
            # A guest's App Home stays empty too: nothing about the office's activities.
            logger.info("refused a %s request from guest %s", kind, user_id)
            return refuse(GUEST_UPLOAD_REFUSAL if _is_upload(event) else GUEST_REFUSAL)
        if (problem := bot_values.refusal(body)) is not None:
            logger.warning("refused a %s request from %s: %s", kind, user_id, problem)
            return refuse(problem)
        return next()


def _ignored() -> BoltResponse:
    """Acknowledged, so Slack does not retry, and nothing else."""
    return BoltResponse(status=200, body="")


def _tell_uploader(
    client: WebClient, event: dict[str, Any], text: str, logger: logging.Logger
) -> None:
    user, channel = event.get("user"), event.get("channel")
    if not (user and channel):
        return
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as error:
        logger.warning("could not tell %s why their file was not read: %s", user, error)


def _refuse(body: dict[str, Any], context: BoltContext, text: str) -> BoltResponse:
    if body.get("type") == "view_submission":
        errors = {form_error_block(body): text}
        return BoltResponse(status=200, body={"response_action": "errors", "errors": errors})
    if body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if context.respond is not None and context.respond.response_url:
        context.respond(text=text, response_type="ephemeral", replace_original=False)
    return _ignored()
