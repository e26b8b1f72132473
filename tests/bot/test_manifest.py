"""app.yaml declares everything the code registers, and what the issues need of Slack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from handlers.registry import register
from handlers.slack.context import Deps

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "app.yaml").read_text())


class RecordingApp:
    """Stands in for Bolt's App at registration time and notes what is registered."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.events: list[str] = []
        self.actions: list[Any] = []
        self.views: list[str] = []

    def _record(self, into: list[Any], key: Any) -> Any:
        into.append(key)
        return lambda listener: listener

    def command(self, name: str) -> Any:
        return self._record(self.commands, name)

    def event(self, name: str) -> Any:
        return self._record(self.events, name)

    def action(self, action_id: Any) -> Any:
        return self._record(self.actions, action_id)

    def view(self, callback_id: str) -> Any:
        return self._record(self.views, callback_id)

    def middleware(self, func: Any) -> Any:
        return func

    def error(self, func: Any) -> Any:
        return func


def registered() -> RecordingApp:
    app = RecordingApp()
    register(app, Deps(engine=None, timezone=None, admins=frozenset(), clock=None))  # type: ignore[arg-type]
    return app


def test_every_registered_command_is_in_the_manifest() -> None:
    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    app = registered()
    assert app.commands == ["/pars"]
    assert set(app.commands) <= declared


def test_every_registered_event_is_subscribed() -> None:
    subscribed = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    for event in registered().events:
        if event == "message":
            # One listener serves messages in public and private channels and in DMs.
            assert {"message.channels", "message.groups", "message.im"} <= subscribed
        else:
            assert event in subscribed, event


def test_actions_and_views_need_interactivity() -> None:
    app = registered()
    assert app.actions and app.views
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True


def test_scopes_and_events_the_issues_need() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {
        "commands",
        "chat:write",
        "im:write",
        "users:read",
        "files:read",
        "files:write",
        "channels:history",
        "groups:history",
        "im:history",
    } <= scopes
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert {
        "message.channels",
        "message.groups",
        "message.im",
        "file_shared",
        "app_home_opened",
        "user_change",  # members' names kept fresh (handlers/slack/members.py)
    } <= events
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_slash_command_escapes_mentions() -> None:
    # owner=@jane only reaches the bot as <@U...> when Slack escapes mentions.
    (pars,) = MANIFEST["features"]["slash_commands"]
    assert pars["should_escape"] is True
