"""What every listener needs from the composition root, handed down through Bolt's context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from slack_bolt import BoltContext
from sqlalchemy.engine import Engine

from storage.activities import Actor


@dataclass(frozen=True)
class Deps:
    engine: Engine
    timezone: ZoneInfo
    admins: frozenset[str]
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def today(self) -> date:
        """The provider's calendar date: PARS deadlines and end dates are local dates."""
        return self.clock().astimezone(self.timezone).date()


def deps_of(context: BoltContext) -> Deps:
    return context["deps"]


def actor_of(context: BoltContext) -> Actor:
    return context["actor"]
