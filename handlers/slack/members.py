"""Everyone who uses the bot is subscribed to the deadline countdown: noted once per person."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from handlers.slack.context import deps_of
from storage import reminders
from storage.db import session_scope


def _uses_the_bot(body: dict[str, Any]) -> bool:
    """A command, a click, a form, App Home or a shared spreadsheet: someone using pars-bot,
    not merely talking in a channel it is in."""
    if body.get("command") or body.get("type") in {"block_actions", "view_submission"}:
        return True
    event = body.get("event") or {}
    if event.get("type") == "app_home_opened":
        return True
    return event.get("type") == "message" and event.get("subtype") == "file_share"


def register(app: App) -> None:
    # Already in the database: skip the write. Only a shortcut; the insert itself is idempotent.
    noted: set[tuple[str, str]] = set()
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
        if key is not None and team_id:
            with lock:
                known = key in noted
            if not known:
                deps = deps_of(context)

                def note() -> None:
                    try:
                        with session_scope(deps.engine) as session:
                            reminders.note_member(
                                session=session, team_id=team_id, user_id=key[1], now=deps.now()
                            )
                        with lock:
                            noted.add(key)
                    except Exception as error:  # never refuse a command over a subscription
                        logger.warning("could not note %s as a member: %s", key[1], error)

                # A write may wait for the database's write lock (an Apply holds it): never
                # before the acknowledgement, so on the pool.
                deps.work.light.submit(note)
        return next()
