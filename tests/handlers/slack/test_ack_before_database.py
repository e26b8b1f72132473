"""Slack's acknowledgement never waits for the database: the workspace's settings (its time
zone) are read once the request is acknowledged, and a database that does not answer then is
still told to the user, through the real Bolt app, signed requests and the local stand-in for
Slack.

The read is held at a gate (an Event) until the test opens it: a stalled or locked database,
made certain instead of raced. An acknowledgement that waited for it would not come before the
gate opens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from slack_bolt import BoltResponse
from sqlmodel import Session, select

from bot.console import payloads
from handlers.slack import middleware
from handlers.slack.errors import DATABASE_UNREACHABLE
from storage.models import Activity, LearnerCount
from tests.handlers.conftest import ADD_GR, ALICE, Workspace, ack_body, form_state
from tests.handlers.cycle.test_cycle import reminder_pass
from tests.handlers.slack.test_identity import UPLOAD


def activity_ids(workspace: Workspace) -> list[str]:
    with Session(workspace.engine) as session:
        return sorted(session.exec(select(Activity.activity_id)).all())


class Settings:
    """The read of the workspace's settings, as the test wants it: held at a gate, failing as
    when no pooled connection comes free, or as it is."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self._read = middleware.workspace_zone
        self.gate = threading.Event()

    def hold(self) -> None:
        def held(**kwargs: Any) -> Any:
            assert self.gate.wait(60), "the test never opened the gate"
            return self._read(**kwargs)

        self._monkeypatch.setattr(middleware, "workspace_zone", held)

    def fail(self) -> None:
        def fails(**_kwargs: Any) -> Any:
            raise sa.exc.TimeoutError("QueuePool limit reached, connection timed out")

        self._monkeypatch.setattr(middleware, "workspace_zone", fails)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    read = Settings(monkeypatch)
    yield read
    read.gate.set()  # a failed test leaves no thread waiting


def command(workspace: Workspace, text: str, name: str) -> BoltResponse:
    return workspace.send(
        payloads.slash_command(
            text,
            user_id=ALICE,
            team_id=workspace.team_id,
            channel_id="C0CME",
            response_url=workspace.slack.response_url(name),
            trigger_id=workspace.slack.trigger(name),
        )
    )


def acknowledged_in_time(send: Callable[[], Any]) -> list[Any]:
    """Send a request from a thread of its own; its answer once it came (the test fails if
    it never does while the database is held)."""
    acked = threading.Event()
    answers: list[Any] = []

    def run() -> None:
        answers.append(send())
        acked.set()

    threading.Thread(target=run, daemon=True).start()
    assert acked.wait(10), "the acknowledgement waited for the database"
    return answers


def test_a_command_is_acknowledged_before_the_database_answers(
    workspace: Workspace, settings: Settings
) -> None:
    settings.hold()
    [response] = acknowledged_in_time(lambda: command(workspace, ADD_GR, "held"))
    assert ack_body(response) == {}
    assert not workspace.replies("held")

    settings.gate.set()
    assert "Added `GR-2025`" in workspace.reply("held").text
    assert activity_ids(workspace) == ["GR-2025"]


def test_a_click_is_acknowledged_before_the_database_answers(
    workspace: Workspace, settings: Settings
) -> None:
    added = workspace.pars(ADD_GR)
    settings.hold()
    acknowledged_in_time(lambda: workspace.click(added, "Fill in the rest"))
    assert not workspace.calls("views.open")
    settings.gate.set()
    assert workspace.opened_view()["private_metadata"]  # the edit form, once the read is done


def test_a_command_the_database_cannot_serve_is_told_so_after_its_acknowledgement(
    workspace: Workspace, settings: Settings
) -> None:
    settings.fail()
    assert ack_body(command(workspace, ADD_GR, "down")) == {}
    reply = workspace.reply("down")
    assert reply.text == DATABASE_UNREACHABLE
    assert reply.ephemeral
    assert activity_ids(workspace) == []


def test_a_click_the_database_cannot_serve_is_told_so(
    workspace: Workspace, settings: Settings
) -> None:
    added = workspace.pars(ADD_GR)
    settings.fail()
    answer = workspace.reply(workspace.click(added, "Fill in the rest"))
    assert answer.text == DATABASE_UNREACHABLE
    assert answer.ephemeral
    assert not workspace.calls("views.open")


def test_an_upload_the_database_cannot_serve_is_told_to_its_sharer(
    workspace: Workspace, settings: Settings
) -> None:
    settings.fail()
    workspace.send_event(UPLOAD | {"user": ALICE})
    [told] = workspace.slack.wait_for("chat.postEphemeral")
    assert told.params["text"] == DATABASE_UNREACHABLE
    assert told.params["user"] == ALICE
    assert not workspace.calls("chat.postMessage")  # no "Reading…": the file was not read


def test_a_form_the_database_cannot_serve_stays_open_with_the_reason(
    workspace: Workspace, settings: Settings
) -> None:
    workspace.command("add-activity")
    view = workspace.opened_view()
    entries = form_state(
        view, title="Grand Rounds", format="rss", start_date="2025-01-07", end_date="2025-12-16"
    )
    settings.fail()
    assert ack_body(workspace.submit(view, entries)) == {
        "response_action": "errors",
        "errors": {"title": DATABASE_UNREACHABLE},
    }
    assert activity_ids(workspace) == []


def test_a_form_without_a_title_gets_the_reason_under_one_of_its_own_blocks(
    workspace: Workspace, settings: Settings
) -> None:
    # Slack refuses errors that name a block the form lacks: the user would see only its
    # generic error. The counts form has no title.
    workspace.pars(ADD_GR)
    dms = reminder_pass(workspace, "2026-03-30T09:00")
    workspace.click(next(d for d in dms if "ended and is not closed" in d.text), "Enter counts")
    form = workspace.opened_view()
    blocks = {b["block_id"] for b in form["blocks"] if b["type"] == "input"}
    assert "title" not in blocks
    settings.fail()
    body = ack_body(workspace.submit(form, form_state(form, physician="1040", other="212")))
    assert body["response_action"] == "errors"
    [(block, text)] = body["errors"].items()
    assert block in blocks and text == DATABASE_UNREACHABLE
    with Session(workspace.engine) as session:
        assert session.exec(select(LearnerCount)).all() == []


def test_every_listener_reads_its_workspace_settings(workspace: Workspace) -> None:
    """Through answering_errors: a listener registered without it would show dates in the
    server's zone rather than the workspace's."""
    listeners = [listener.ack_function for listener in workspace.app._listeners]
    assert len(listeners) > 20
    assert [f.__name__ for f in listeners if not getattr(f, "reads_settings", False)] == []
