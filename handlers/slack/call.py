"""One `/pars` invocation, as the subcommand functions see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from handlers.slack.context import Deps
from handlers.slack.messages import Message
from storage.activities import Actor


@dataclass
class CommandCall:
    args: list[str]
    usage: str
    deps: Deps
    actor: Actor
    team_id: str
    channel_id: str
    trigger_id: str
    response_url: str
    respond: Respond
    client: WebClient

    def reply(self, message: Message, *, share: bool = False) -> None:
        self.respond(
            **message.kwargs(),
            response_type="in_channel" if share else "ephemeral",
            replace_original=False,
        )


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    example: str
    summary: str
    run: Callable[[CommandCall], Any]
    aliases: tuple[str, ...] = ()
    # Builds a workbook or touches many rows: runs on the heavy pool (handlers/slack/work.py).
    heavy: bool = False
    # Given the words after the subcommand: does it open a form (views.open)? It then runs on
    # the forms pool, within its trigger's 3 s whatever else is queued.
    opens_form: Callable[[list[str]], bool] | None = None
