"""Slack-facing errors, and the one global handler that turns any error into a clear reply."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.context.respond import Respond
from slack_bolt.kwargs_injection.args import Args
from slack_sdk.errors import SlackApiError

from handlers.slack.context import read_settings
from handlers.slack.mrkdwn import error_text
from storage.db import is_unreachable
from storage.errors import ParsError


class UsageError(ParsError):
    """A command the bot could not read; `usage` shows the right form."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        self.usage = usage
        text = message if usage is None else f"{message}\nUsage: `{usage}`"
        super().__init__(text)


# A database that did not answer in time, or a lock that was not released in time: the
# transaction did not commit (storage.db.is_unreachable).
DATABASE_UNREACHABLE = "pars-bot can't reach its database right now; nothing was changed"

# Slack accepts a form (views.open) within 3 s of the click or command that asked for it.
FORM_TOO_LATE = "The form took too long to open, so Slack no longer accepts it. Please try again."

UNEXPECTED = (
    "Something went wrong on our side and nothing was changed. Please try again; if it keeps "
    "happening, tell your pars-bot admin."
)


def unreachable_reason(error: BaseException) -> str:
    """The driver's own words, for the log: not the statement and its values (user data)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"


def handle_error(
    error: Exception,
    body: dict[str, Any],
    respond: Respond | None,
    response: BoltResponse | None,
    logger: logging.Logger,
) -> BoltResponse | None:
    """Expected errors become the user's own ephemeral message; anything else is logged once.

    Once the user has been told, the HTTP answer to Slack is a plain 200 (when Bolt still
    holds it), so Slack shows no second, generic failure.
    """
    if isinstance(error, ParsError):
        logger.info("refused: %s", error.message)
        # Messages quote what the user typed; Slack must show it, not act on it.
        text = error_text(error)
    elif is_unreachable(error):
        logger.warning("database unreachable: %s", unreachable_reason(error))
        text = DATABASE_UNREACHABLE
    elif isinstance(error, SlackApiError) and error.response.get("error") == "expired_trigger_id":
        logger.warning("a form came after its trigger expired")
        text = FORM_TOO_LATE
    else:
        logger.exception("unexpected error handling a %s request", body.get("type", "command"))
        text = UNEXPECTED
    if respond is None or not respond.response_url:
        return None
    respond(text=text, response_type="ephemeral", replace_original=False)
    return BoltResponse(status=200, body="") if response is not None else None


def answering_errors(listener: Callable[..., Any]) -> Callable[[Args], None]:
    """Run a listener, after reading its workspace's settings (read_settings), so that its
    errors and the read's reach handle_error from inside the listener.

    Bolt's threaded runner forgets that ack() was called when a listener raises within its
    10 ms polling interval after ack(), then answers Slack with a 404 three seconds later; a
    refusal right after ack() is the common case here, so errors never leave the listener.
    """
    names = list(inspect.signature(listener).parameters)

    def run(args: Args) -> None:
        try:
            # The request's first read of the database, here so that its failure is
            # answered as any other: on the pool after the ack, or in a form's ack.
            read_settings(args.context)
            listener(**{name: getattr(args, name) for name in names})
        except Exception as error:
            handle_error(error, args.body, args.respond, None, args.logger)
            if args.ack.response is None:
                _ack_after_error(args, error)

    run.__name__ = run.__qualname__ = listener.__name__
    # Every listener reads its workspace's settings this way (tests/handlers/slack checks).
    run.reads_settings = True  # type: ignore[attr-defined]
    return run


def _ack_after_error(args: Args, error: Exception) -> None:
    if args.body.get("type") == "view_submission":
        # Keep the form open with the user's entries: nothing they typed is lost.
        text = DATABASE_UNREACHABLE if is_unreachable(error) else UNEXPECTED
        args.ack(response_action="errors", errors={form_error_block(args.body): text})
    else:
        args.ack()


def form_error_block(body: dict[str, Any]) -> str:
    """The block a form-wide message goes under: the title, else the form's first input.
    Slack refuses an answer that names a block the form does not have, and the user sees only
    its generic error (the counts and Program Summary forms have no title)."""
    inputs = [
        str(block["block_id"])
        for block in (body.get("view") or {}).get("blocks") or []
        if block.get("type") == "input" and block.get("block_id")
    ]
    return "title" if "title" in inputs or not inputs else inputs[0]


def register(app: App) -> None:
    app.error(handle_error)
