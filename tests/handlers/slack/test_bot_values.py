"""What the bot put in its buttons, forms and the files it reads comes back with an invisible
control character: refused with a clear word, before anything reads or stores it."""

from __future__ import annotations

import json
import time

from sqlmodel import Session, select

from storage.models import Activity, BatchPlan
from tests.handlers.batch.test_uploads import THREAD, share
from tests.handlers.conftest import ADD_GR, ALICE, Workspace, ack_body, form_state
from tests.storage.batch.files import grand_rounds, table, text_file


def _title(workspace: Workspace) -> str:
    with Session(workspace.engine) as session:
        return session.exec(select(Activity.title)).one()


def test_a_button_whose_value_holds_a_control_character_is_refused(
    workspace: Workspace,
) -> None:
    added = workspace.pars(ADD_GR)
    assert added.button("Fill in the rest")["value"] == "GR-2025"
    # The button as a forged request would send it back.
    blocks = json.dumps(added.params["blocks"]).replace(
        '"value": "GR-2025"', '"value": "GR-2025\\u0000"'
    )
    added.params["blocks"] = json.loads(blocks)
    reply = workspace.reply(workspace.click(added, "Fill in the rest"))
    assert "invisible control character (U+0000, character 8)" in reply.text
    assert "This button's data is damaged or was not made by pars-bot" in reply.text
    assert "Nothing was done" in reply.text
    assert workspace.calls("views.open") == []


def test_a_form_whose_private_metadata_holds_a_control_character_is_refused(
    workspace: Workspace,
) -> None:
    workspace.pars(ADD_GR)
    workspace.command("edit GR-2025")
    view = workspace.opened_view()
    state = json.loads(view["private_metadata"])
    view["private_metadata"] = json.dumps(state | {"activity_id": "GR-2025\u202e"})
    body = ack_body(workspace.submit(view, form_state(view, title="Another title")))
    assert body["response_action"] == "errors"
    assert "invisible control character (U+202E" in json.dumps(body, ensure_ascii=False)
    assert _title(workspace) == "Medicine Grand Rounds"


def test_a_shared_file_whose_name_holds_a_control_character_is_refused_once(
    workspace: Workspace,
) -> None:
    # U+202E shows "report\u202excsl.csv" as "reportlscx.csv"... or worse, another extension.
    name = "report\u202eslx.csv"
    info = share(workspace, name, text_file(table([grand_rounds("GR-1")])))
    [posted] = workspace.slack.wait_until(lambda c: c.method == "chat.postMessage")
    assert posted.params["thread_ts"] == THREAD
    assert (
        "The name of report\N{REPLACEMENT CHARACTER}slx.csv holds an invisible control "
        "character (U+202E, character 7): rename the file and share it again."
    ) in str(posted.params["text"])
    assert workspace.calls("file_download") == []
    # Slack delivers the same share again (the file_shared event of the same file).
    event = {"type": "file_shared", "file_id": info["id"], "user_id": ALICE, "channel_id": "C0CME"}
    assert workspace.send_event(event | {"file": {"id": info["id"]}}).status == 200
    time.sleep(0.5)  # time for a second answer, which must not come
    with Session(workspace.engine) as session:
        assert [p.status for p in session.exec(select(BatchPlan)).all()] == ["refused"]
    assert len(workspace.calls("chat.postMessage")) == 1
