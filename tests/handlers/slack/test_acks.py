"""Acknowledgements never wait for another request's work: heavy work (exports) runs on a small
pool of its own and queues there, through the real Bolt app, signed requests and the local
stand-in for Slack.

Each export is held at a gate (an Event) until the test opens it: what a slow export does to
everyone else, made certain instead of raced.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from openpyxl import load_workbook
from slack_bolt.request import BoltRequest
from sqlalchemy.engine import Engine

from bot.app import create_app
from bot.console import payloads
from bot.local_slack import TEAM_ID, LocalSlack
from bot.settings import Settings
from handlers.batch import commands as batch_commands
from handlers.slack.work import HEAVY_WORKERS
from tests.conftest import NOW, TODAY
from tests.handlers.activity.test_modals import GR_ENTRIES
from tests.handlers.batch.test_uploads import final_update, share
from tests.handlers.conftest import ALICE, Clock, Reply, Workspace, ack_body, form_state
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.sheets.templates import seed_year

# More exports than the heavy pool has threads, and than Bolt's own listener executor had (5):
# with listeners run there, the sixth request's ack waited and Slack saw a 404.
EXPORTS = HEAVY_WORKERS + 4


class Gate:
    """Holds every export until opened; counts those that started."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.started = 0
        self._changed = threading.Condition()

    def hold(self, export: Any) -> Any:
        def held(**kwargs: Any) -> Any:
            with self._changed:
                self.started += 1
                self._changed.notify_all()
            assert self.opened.wait(60), "the test never opened the gate"
            return export(**kwargs)

        return held

    def wait_started(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.started >= count, 10), self.started


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate()
    monkeypatch.setattr(
        batch_commands, "export_workbook", held.hold(batch_commands.export_workbook)
    )
    yield held
    held.opened.set()  # a failed test leaves no export thread waiting


def test_a_command_is_acknowledged_and_answered_while_exports_fill_the_heavy_pool(
    workspace: Workspace, gate: Gate
) -> None:
    seed_year(workspace.engine, TEAM_ID, NOW, TODAY)
    exports = [workspace.command("export year=2025") for _ in range(EXPORTS)]  # each acked: 200
    gate.wait_started(HEAVY_WORKERS)

    # Every thread of the heavy pool is held: other requests are acknowledged and answered.
    shown = workspace.pars("show 2025-0001")
    assert "2025-0001" in shown.text
    help_reply = workspace.pars("help")
    assert "/pars export" in help_reply.text

    # The exports beyond the pool's size queue, told so, rather than run at once. Which ones
    # queue is the light pool's to say: it reads each workspace's settings concurrently.
    told = workspace.slack.wait_until(
        lambda c: c.method == "response_url" and "Queued" in c.params.get("text", ""),
        EXPORTS - HEAVY_WORKERS,
    )
    assert sorted(Reply(c.params).text for c in told) == [
        f"Queued behind {position} other jobs (exports, uploads): yours follows shortly."
        for position in range(HEAVY_WORKERS, EXPORTS)
    ]
    assert all(Reply(c.params).ephemeral for c in told)
    assert gate.started == HEAVY_WORKERS

    gate.opened.set()
    for name in exports:
        queued = any(c.path.endswith(f"/{name}") for c in told)
        assert "The export of data year 2025" in workspace.reply(name, 2 if queued else 1).text
    files = workspace.slack.uploaded(EXPORTS)
    assert [f["name"] for f in files] == ["PARS export 2025.xlsx"] * EXPORTS
    assert load_workbook(io.BytesIO(files[-1]["data"]))["Still missing"] is not None
    assert gate.started == EXPORTS


def test_an_upload_waits_its_turn_behind_exports_and_is_then_previewed(
    workspace: Workspace, gate: Gate
) -> None:
    seed_year(workspace.engine, TEAM_ID, NOW, TODAY)
    exports = [workspace.command("export year=2025") for _ in range(HEAVY_WORKERS)]
    gate.wait_started(HEAVY_WORKERS)
    share(workspace, "activities.xlsx", xlsx(table([grand_rounds("GR-1")])))  # acked: 200
    # Light work still flows while the upload waits for a heavy thread.
    assert "/pars export" in workspace.pars("help").text
    assert workspace.calls("chat.postMessage") == []  # not even "Reading…" yet: it queues

    gate.opened.set()
    preview = final_update(workspace, "Preview of activities.xlsx")
    assert "1 to add" in preview.text
    for name in exports:
        assert "The export of data year 2025" in workspace.reply(name).text


def test_a_form_is_checked_in_its_acknowledgement_and_confirmed_while_exports_run(
    workspace: Workspace, gate: Gate
) -> None:
    seed_year(workspace.engine, TEAM_ID, NOW, TODAY)
    for _ in range(EXPORTS):
        workspace.command("export year=2025")
    gate.wait_started(HEAVY_WORKERS)
    typed = workspace.command("add-activity")
    view = workspace.opened_view()

    entries = GR_ENTRIES | {"activity_id": "GR-NEW"}
    bad = entries | {"credits": "1.3"}
    answer = ack_body(workspace.submit(view, form_state(view, **bad)))
    assert answer["response_action"] == "errors"
    assert "1.3 is not a multiple of 0.25" in answer["errors"]["credits"]

    assert ack_body(workspace.submit(view, form_state(view, **entries))) == {}
    assert "GR-NEW" in workspace.reply(typed).text  # the confirmation, exports still held
    assert gate.started == HEAVY_WORKERS
    gate.opened.set()
    workspace.slack.uploaded(EXPORTS)


def test_in_socket_mode_a_command_is_acknowledged_while_exports_fill_the_heavy_pool(
    engine: Engine, slack: LocalSlack, gate: Gate
) -> None:
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_api_url=slack.api_url,
        database_url="sqlite://",
        _env_file=None,
    )
    app = create_app(settings, engine=engine, clock=Clock(NOW), socket_mode=True)
    seed_year(engine, TEAM_ID, NOW, TODAY)

    def command(text: str, name: str) -> int:
        """As Socket Mode delivers a slash command: its fields as JSON, no signature."""
        fields = payloads.slash_command(
            text,
            user_id=ALICE,
            team_id=TEAM_ID,
            channel_id="C0CME",
            response_url=slack.response_url(name),
            trigger_id=f"trig-{name}",
        )
        body = dict(parse_qsl(fields))
        return app.dispatch(BoltRequest(body=body, mode="socket_mode")).status

    assert [command("export year=2025", f"export{n}") for n in range(EXPORTS)] == [200] * EXPORTS
    gate.wait_started(HEAVY_WORKERS)
    assert command("help", "help") == 200
    [answer] = slack.wait_until(lambda c: c.method == "response_url" and c.path.endswith("/help"))
    assert "/pars export" in Reply(answer.params).text
    assert gate.started == HEAVY_WORKERS
    gate.opened.set()
    assert len(slack.uploaded(EXPORTS)) == EXPORTS
