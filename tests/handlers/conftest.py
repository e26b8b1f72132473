"""The real Bolt app, signed requests, and the local stand-in for Slack's Web API."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from sqlalchemy.engine import Engine

from bot.app import create_app
from bot.console import payloads
from bot.console.render import render_blocks
from bot.local_slack import TEAM_ID, Call, LocalSlack
from bot.settings import Settings
from storage import activities as service
from storage.db import session_scope
from tests.conftest import NOW

SECRET = "test-signing-secret"
ALICE, BOB, ADMIN, GUEST = "U0ALICE", "U0BOB", "U0ADMIN", "U0GUEST"
CHICAGO = ZoneInfo("America/Chicago")

# A weekly series that ended in 2025, and everything PARS needs of it but learner counts.
ADD_GR = (
    'add-activity id=GR-2025 title="Medicine Grand Rounds" format=rss '
    "start=2025-01-07 end=2025-12-16"
)
COMPLETE = (
    "delivery=in-person city=Chicago state=IL country=USA credits=1 "
    'description="Weekly case conference" providership=direct finder=no '
    "outcomes=knowledge commercial-support=no"
)


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

    @property
    def buttons(self) -> list[str]:
        return [b.label for b in render_blocks(self.params.get("blocks")).buttons]

    def checkbox_options(self) -> list[str]:
        """The values of the checkboxes the message offers, in order."""
        return [
            o["value"]
            for control in render_blocks(self.params.get("blocks")).checkboxes
            for o in control.element.get("options") or []
        ]

    def ticked(self, *values: str) -> dict[str, Any]:
        """The message's state.values once the user has ticked the checkboxes of `values`."""
        state: dict[str, Any] = {}
        for control in render_blocks(self.params.get("blocks")).checkboxes:
            options = control.element.get("options") or []
            chosen = [o for o in options if o["value"] in values]
            state[control.block_id] = {
                control.element["action_id"]: {"type": "checkboxes", "selected_options": chosen}
            }
        return state


def form_state(view: dict[str, Any], **entries: str | list[str] | None) -> dict[str, Any]:
    """A modal's state.values as Slack sends them on submission.

    Every input carries what it shows: its initial value unless the user changed it. `entries`
    are the user's changes by block ID (field name): text for text inputs and date pickers, an
    option value (or a list of them for a multi-select) for selects, a user ID for the user
    picker; None empties the input.
    """
    values: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        name = block["block_id"]
        given = name in entries
        entry = entries.get(name)
        if kind == "plain_text_input":
            state = {"value": entry if given else element.get("initial_value")}
        elif kind == "datepicker":
            state = {"selected_date": entry if given else element.get("initial_date")}
        elif kind == "users_select":
            state = {"selected_user": entry if given else element.get("initial_user")}
        elif kind == "static_select":
            options = {o["value"]: o for o in element.get("options") or []}
            if given:
                assert entry is None or entry in options, (name, entry, list(options))
                chosen = options.get(entry) if isinstance(entry, str) else None
            else:
                chosen = element.get("initial_option")
            state = {"selected_option": chosen}
        elif kind == "multi_static_select":
            options = {o["value"]: o for o in element.get("options") or []}
            if given:
                picked = [entry] if isinstance(entry, str) else list(entry or [])
                assert all(p in options for p in picked), (name, picked, list(options))
                chosen_many = [options[p] for p in picked]
            else:
                chosen_many = element.get("initial_options") or []
            state = {"selected_options": chosen_many}
        else:
            raise AssertionError(f"form_state does not know {kind} inputs")
        values[name] = {element["action_id"]: {"type": kind, **state}}
    unknown = set(entries) - set(values)
    assert not unknown, f"no inputs named {sorted(unknown)}"
    return values


def ack_body(response: BoltResponse) -> dict[str, Any]:
    """What the bot answered Slack in the HTTP response itself (e.g. a view_submission ack)."""
    if not response.body:
        return {}
    return json.loads(response.body)


def section_texts(view_or_message: dict[str, Any]) -> list[str]:
    """The text of each section, header and context block, in order."""
    texts: list[str] = []
    for block in view_or_message.get("blocks") or []:
        if block.get("type") in {"section", "header"} and block.get("text"):
            texts.append(block["text"].get("text", ""))
        elif block.get("type") == "context":
            texts.append(" ".join(e.get("text", "") for e in block.get("elements") or []))
    return texts


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

    def send_event(self, event: dict[str, Any], *, team: str | None = None) -> BoltResponse:
        """An Events API request: JSON, signed like every request from Slack."""
        body = json.dumps(
            {
                "token": "legacy-unused",
                "team_id": team or self.team_id,
                "api_app_id": "A0PARSBOT",
                "type": "event_callback",
                "event_id": f"Ev{next(self._ids):08d}",
                "event_time": int(self.clock.now.timestamp()),
                "event": event,
            }
        )
        headers = payloads.signed(body, SECRET) | {"content-type": "application/json"}
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

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
                trigger_id=self.slack.trigger(name),
            )
        )
        return name

    def reply(self, name: str, count: int = 1) -> Reply:
        calls = self.slack.wait_until(
            lambda c: c.method == "response_url" and c.path.endswith(f"/{name}"), count
        )
        return Reply(calls[count - 1].params)

    def replies(self, name: str) -> list[Reply]:
        """Everything sent to one response URL so far (no waiting)."""
        return [
            Reply(c.params) for c in self.slack.of("response_url") if c.path.endswith(f"/{name}")
        ]

    def pars(self, text: str, *, user: str = ALICE, team: str | None = None) -> Reply:
        """`/pars text` and the reply the user sees."""
        return self.reply(self.command(text, user=user, team=team))

    def click(
        self, reply: Reply, label: str, *, user: str = ALICE, state: dict[str, Any] | None = None
    ) -> str:
        """Click a button of a message the bot sent; returns the name of its response URL."""
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
                trigger_id=self.slack.trigger(name),
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

    def sent(self) -> list[Call]:
        """Everything the bot sent to Slack, less the auth.test Bolt makes when it starts."""
        return [c for c in self.slack.since(0) if c.method != "auth.test"]

    def seed(self, *records: dict[str, str], user: str = ALICE) -> None:
        """Store activities directly (text by field name), for lists longer than typing allows."""
        with session_scope(self.engine) as session:
            for raw in records:
                service.create_activity(
                    session=session,
                    team_id=self.team_id,
                    actor=service.Actor(user_id=user),
                    raw=raw,
                    now=self.clock.now,
                )


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    local = LocalSlack(guests={GUEST}).start()
    yield local
    # stop() waits out the server's half-second poll: let it, without holding up the next test.
    threading.Thread(target=local.stop, daemon=True).start()


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
