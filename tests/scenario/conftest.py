"""The real Bolt app, signed requests, and the local stand-in for Slack's Web API."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_bolt import App, BoltResponse
from sqlalchemy.engine import Engine

from bot.app import create_app
from bot.console import payloads
from bot.console.render import render_blocks
from bot.local_slack import TEAM_ID, Call, LocalSlack
from bot.settings import Settings
from tests.conftest import NOW

SECRET = "test-signing-secret"
ALICE, BOB, ADMIN, GUEST = "U0ALICE", "U0BOB", "U0ADMIN", "U0GUEST"
CHICAGO = ZoneInfo("America/Chicago")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).replace(tzinfo=CHICAGO)


@dataclass
class Reply:
    """A message the bot sent to a response URL, and what a person would read in it."""

    params: dict[str, Any]

    @property
    def text(self) -> str:
        return render_blocks(self.params.get("blocks"), self.params.get("text", "")).text

    @property
    def ephemeral(self) -> bool:
        return self.params.get("response_type", "ephemeral") == "ephemeral"

    def button(self, label: str) -> dict[str, Any]:
        buttons = render_blocks(self.params.get("blocks")).buttons
        for control in buttons:
            if control.label == label:
                return {**control.element, "block_id": control.block_id}
        raise AssertionError(f"no button {label!r} in {[b.label for b in buttons]}")


@dataclass
class Workspace:
    """One Slack workspace talking to the bot, as Slack would."""

    app: App
    slack: LocalSlack
    clock: Clock
    engine: Engine
    team_id: str = TEAM_ID
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, body: str) -> BoltResponse:
        response = self.app.dispatch(payloads.bolt_request(body, SECRET))
        assert response.status == 200, (response.status, response.body)
        return response

    def command(self, text: str, *, user: str = ALICE, team: str | None = None) -> str:
        """Send `/pars text`; returns the name of its response URL."""
        name = f"cmd{next(self._ids)}"
        self.send(
            payloads.slash_command(
                text,
                user_id=user,
                team_id=team or self.team_id,
                channel_id="C0CME",
                response_url=self.slack.response_url(name),
                trigger_id=f"trig-{name}",
            )
        )
        return name

    def reply(self, name: str, count: int = 1) -> Reply:
        calls = self.slack.wait_until(
            lambda c: c.method == "response_url" and c.path.endswith(f"/{name}"), count
        )
        return Reply(calls[count - 1].params)

    def pars(self, text: str, *, user: str = ALICE, team: str | None = None) -> Reply:
        """`/pars text` and the reply the user sees."""
        return self.reply(self.command(text, user=user, team=team))

    def click(
        self, reply: Reply, label: str, *, user: str = ALICE, state: dict[str, Any] | None = None
    ) -> str:
        button = reply.button(label)
        name = f"act{next(self._ids)}"
        action = {
            "type": "button",
            "action_id": button["action_id"],
            "block_id": button["block_id"],
            "value": button.get("value", ""),
            "action_ts": "1",
        }
        self.send(
            payloads.block_actions(
                user_id=user,
                team_id=self.team_id,
                channel_id="C0CME",
                response_url=self.slack.response_url(name),
                trigger_id=f"trig-{name}",
                action=action,
                message={"blocks": reply.params.get("blocks", [])},
                state=state or {},
            )
        )
        return name

    def opened_view(self, count: int = 1) -> dict[str, Any]:
        return self.slack.wait_for("views.open", count)[count - 1].params["view"]

    def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str = ALICE
    ) -> BoltResponse:
        return self.send(
            payloads.view_submission(user_id=user, team_id=self.team_id, view=view, state=values)
        )

    def calls(self, method: str) -> list[Call]:
        return self.slack.of(method)


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack(guests={GUEST}) as local:
        yield local


@pytest.fixture
def workspace(engine: Engine, slack: LocalSlack) -> Workspace:
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        database_url="sqlite://",
        pars_admins=frozenset({ADMIN}),
        _env_file=None,
    )
    clock = Clock(NOW)
    app = create_app(settings, engine=engine, clock=clock)
    return Workspace(app=app, slack=slack, clock=clock, engine=engine)
