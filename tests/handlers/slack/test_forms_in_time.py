"""A form opens within its trigger's life (Slack's 3 s) whatever other work is queued: every
listener that calls views.open runs where replies, pages and exports never wait, through the
real Bolt app, signed requests and the local stand-in for Slack.

Every thread of the light pool is held at a gate (an Event) by `/pars help` until the test
opens it: a pool busy with other people's pages or waiting on a lock, made certain instead of
raced. A form that queued behind them would not open before the gate does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.console import payloads
from bot.local_slack import TEAM_ID
from handlers import router
from handlers.activity import messages as activity_layouts
from handlers.cycle import messages as cycle_layouts
from handlers.slack.work import LIGHT_WORKERS
from tests.conftest import NOW, TODAY
from tests.handlers.conftest import ALICE, Workspace, section_texts
from tests.storage.sheets.templates import seed_year


class Gate:
    """Holds every `/pars help` until opened; counts those that started."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.started = 0
        self._changed = threading.Condition()

    def hold(self, text: Callable[[], str]) -> Callable[[], str]:
        def held() -> str:
            with self._changed:
                self.started += 1
                self._changed.notify_all()
            assert self.opened.wait(60), "the test never opened the gate"
            return text()

        return held

    def wait_started(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.started >= count, 10), self.started


@pytest.fixture
def busy(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every light thread answering a `/pars help` held at the gate; their response URLs."""
    gate = Gate()
    monkeypatch.setattr(router, "help_text", gate.hold(router.help_text))
    helps = [workspace.command("help") for _ in range(LIGHT_WORKERS)]
    gate.wait_started(LIGHT_WORKERS)
    yield helps
    assert not any(workspace.replies(name) for name in helps)  # still held: the form came first
    gate.opened.set()
    for name in helps:
        assert "Subcommands" in workspace.reply(name).text


def click(workspace: Workspace, action_id: str, value: str) -> str:
    """A button of the bot's message clicked; the name of its response URL."""
    name = f"click-{action_id}"
    workspace.send(
        payloads.block_actions(
            user_id=ALICE,
            team_id=TEAM_ID,
            channel_id="C0CME",
            response_url=workspace.slack.response_url(name),
            trigger_id=workspace.slack.trigger(name),
            action={"type": "button", "action_id": action_id, "value": value, "action_ts": "1"},
            message={"blocks": []},
            state={},
        )
    )
    return name


def click_in_home(workspace: Workspace, action_id: str, value: str) -> str:
    """A button of App Home clicked: no response URL, so the answer is a modal."""
    name = f"home-{action_id}"
    workspace.send(
        payloads.interactive(
            {
                "type": "block_actions",
                "user": {"id": ALICE, "team_id": TEAM_ID},
                "team": {"id": TEAM_ID, "domain": "local"},
                "api_app_id": "A0PARSBOT",
                "container": {"type": "view", "view_id": "V1"},
                "view": {"type": "home", "id": "V1", "blocks": []},
                "trigger_id": workspace.slack.trigger(name),
                "actions": [
                    {"type": "button", "action_id": action_id, "value": value, "action_ts": "1"}
                ],
            }
        )
    )
    return name


@pytest.fixture
def seeded(workspace: Workspace) -> Workspace:
    seed_year(workspace.engine, TEAM_ID, NOW, TODAY)  # GR-2025 among them
    return workspace


OPENERS: dict[str, tuple[Callable[[Workspace], str], str]] = {
    # what the user does, and a text of the form that opens
    "/pars add-activity": (lambda w: w.command("add-activity"), "New activity"),
    "/pars edit ID": (lambda w: w.command("edit GR-2025"), "GR-2025"),
    "/pars summary": (lambda w: w.command("summary year=2025"), "2025"),
    "Fill in the rest": (
        lambda w: click(w, activity_layouts.OPEN_EDIT, "GR-2025"),
        "GR-2025",
    ),
    "Enter counts": (lambda w: click(w, cycle_layouts.REMIND_COUNTS, "GR-2025"), "GR-2025"),
    "Program Summary": (lambda w: click(w, cycle_layouts.OPEN_SUMMARY, "2025"), "2025"),
    "a checklist opened from App Home": (
        lambda w: click_in_home(w, cycle_layouts.OPEN_CHECKLIST, "2025"),
        "2025",
    ),
}


def _view_text(view: dict[str, Any]) -> str:
    """The modal's title, its texts and the values its inputs open with."""
    blocks = view.get("blocks") or []
    values = [str(b.get("element", {}).get("initial_value", "")) for b in blocks]
    return "\n".join([view["title"]["text"], *section_texts(view), *values])


@pytest.mark.parametrize("opener", list(OPENERS))
def test_a_form_opens_while_every_light_thread_is_busy(
    seeded: Workspace, busy: list[str], opener: str
) -> None:
    start, shows = OPENERS[opener]
    name = start(seeded)
    [opened] = seeded.slack.wait_for("views.open")
    assert opened.params["trigger_id"] == f"trig-{name}"
    assert shows in _view_text(opened.params["view"])


def test_a_form_whose_trigger_expired_says_so(workspace: Workspace) -> None:
    workspace.slack.trigger_life = 0.0  # the form came too late, whatever held it up
    answer = workspace.reply(workspace.command("add-activity"))
    assert answer.ephemeral
    assert answer.text == (
        "The form took too long to open, so Slack no longer accepts it. Please try again."
    )
    assert workspace.calls("views.open")  # tried once, and not again behind the user's back
