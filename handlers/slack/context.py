"""What every listener needs from the composition root, handed down through Bolt's context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import BoltContext
from sqlalchemy.engine import Engine

from handlers.slack.work import AT_ONCE, Work
from storage.activities import Actor


@dataclass(frozen=True)
class Deps:
    engine: Engine
    timezone: ZoneInfo
    admins: frozenset[str]
    clock: Callable[[], datetime]
    # Where listeners' work runs after the acknowledgement (handlers/slack/work.py).
    work: Work = AT_ONCE

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def today(self) -> date:
        """The provider's calendar date: PARS deadlines and end dates are local dates."""
        return self.clock().astimezone(self.timezone).date()


# The middleware leaves here how to read the workspace's settings into the context's Deps;
# read_settings runs it once, after Slack's acknowledgement wherever the listener allows.
READ_SETTINGS = "pars_read_settings"


def read_settings(context: BoltContext) -> None:
    """Complete the request's Deps with its workspace's settings (its time zone): the
    database's first read of the request. Raises as the read does (an unreachable database)."""
    read = context.pop(READ_SETTINGS, None)
    if read is not None:
        read()


def deps_of(context: BoltContext) -> Deps:
    return context["deps"]


def actor_of(context: BoltContext) -> Actor:
    return context["actor"]


def find_team(body: dict[str, Any], context: BoltContext) -> str | None:
    """The workspace a request comes from, or None when it names none.

    Bolt reads it from every kind of request (the command's team_id, an action's or a view's
    team, an event envelope's team_id); the body is asked again for a context built by hand.
    """
    team = body.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    found = context.team_id or body.get("team_id") or team
    return str(found) if found else None


def team_of(context: BoltContext) -> str:
    """The workspace of the request, as the middleware found it: requests without one are
    refused there, so this is never empty."""
    return context["team"]
