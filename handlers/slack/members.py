"""Everyone who uses the bot is subscribed to the deadline countdown: noted once per person,
with their real name from Slack, which the export shows for their ID."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from sqlalchemy.engine import Engine

from handlers.slack.context import deps_of, team_of
from handlers.slack.errors import answering_errors
from handlers.slack.work import acknowledged
from storage import members, reminders
from storage.db import session_scope

log = logging.getLogger(__name__)


def _uses_the_bot(body: dict[str, Any]) -> bool:
    """A command, a click, a form, App Home or a shared spreadsheet: someone using pars-bot,
    not merely talking in a channel it is in."""
    if body.get("command") or body.get("type") in {"block_actions", "view_submission"}:
        return True
    event = body.get("event") or {}
    if event.get("type") == "app_home_opened":
        return True
    return event.get("type") == "message" and event.get("subtype") == "file_share"


def _rename(engine: Engine, team_id: str, user_id: str, real_name: str) -> bool:
    """Keep a member's new name (in a thread of its own, so no request waits on it); a
    failure leaves the name as it was, logged, and says so."""
    try:
        with session_scope(engine) as session:
            members.rename(session=session, team_id=team_id, user_id=user_id, real_name=real_name)
    except Exception as error:
        log.warning("could not keep the name of %s: %s", user_id, error)
        return False
    return True


def renamed(event: dict[str, Any], context: BoltContext, logger: logging.Logger) -> None:
    """Slack's `user_change`: someone's profile changed. A member's new name is kept; the
    workspace's other people are not stored."""
    user = event.get("user")
    if not isinstance(user, dict) or not user.get("id"):
        return
    with session_scope(deps_of(context).engine) as session:
        if members.rename(
            session=session,
            team_id=team_of(context),
            user_id=str(user["id"]),
            real_name=user.get("real_name"),
        ):
            logger.info("kept the new name of %s", user["id"])


def register(app: App) -> None:
    # Already in the database, with this name: skip the write. Only a shortcut; the insert
    # itself is idempotent.
    noted: dict[tuple[str, str], str | None] = {}
    lock = threading.Lock()

    @app.middleware
    def note_member(
        body: dict[str, Any],
        context: BoltContext,
        logger: logging.Logger,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        actor = context.get("actor") if _uses_the_bot(body) else None
        team_id = context.get("team") or ""
        key = (team_id, actor.user_id) if actor is not None else None
        # Given by the middleware's users.info when it just asked Slack, else None.
        real_name = context.get("real_name")
        changed = False
        if key is not None and team_id:
            with lock:
                known = key in noted
                changed = known and real_name is not None and noted[key] != real_name
            deps = deps_of(context)
            if not known:

                def note() -> None:
                    try:
                        with session_scope(deps.engine) as session:
                            reminders.note_member(
                                session=session,
                                team_id=team_id,
                                user_id=key[1],
                                now=deps.now(),
                                real_name=real_name,
                            )
                        with lock:
                            noted[key] = real_name
                    except Exception as error:  # never refuse a command over a subscription
                        logger.warning("could not note %s as a member: %s", key[1], error)

                # A write may wait for the database's write lock (an Apply holds it): never
                # before the acknowledgement. In order: a rename follows the record it renames.
                deps.work.ordered.submit(note)
            elif changed:

                def rename() -> None:
                    # Noted once written: a write that failed is tried again by the next
                    # request that brings the name.
                    if real_name is not None and _rename(deps.engine, team_id, key[1], real_name):
                        with lock:
                            noted[key] = real_name

                deps.work.ordered.submit(rename)
        return next()

    app.event("user_change")(acknowledged(answering_errors(renamed), ordered=True))
