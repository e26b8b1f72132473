"""Who sent a request, and from which workspace: for commands, buttons, forms and events alike."""

from __future__ import annotations

import json
import time
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.request import BoltRequest
from sqlmodel import Session, func, select

from bot.console import payloads
from handlers.slack.context import actor_of, team_of
from handlers.slack.middleware import GUEST_UPLOAD_REFUSAL, NO_TEAM
from storage.models import Activity, Member
from tests.handlers.conftest import (
    ADD_GR,
    ADMIN,
    ALICE,
    BOB,
    GUEST,
    SECRET,
    Workspace,
    ack_body,
    form_state,
)

UPLOAD = {
    "type": "message",
    "subtype": "file_share",
    "channel": "C0CME",
    "text": "",
    "files": [{"id": "F0SHEET", "name": "activities.xlsx"}],
    "ts": "1764100000.000200",
}


def activity_count(workspace: Workspace) -> int:
    with Session(workspace.engine) as session:
        return session.exec(select(func.count()).select_from(Activity)).one()


def event_without_team(workspace: Workspace, event: dict[str, Any]) -> int:
    """An Events API request whose envelope names no workspace; returns its HTTP status."""
    body = json.dumps(
        {
            "api_app_id": "A0PARSBOT",
            "type": "event_callback",
            "event_id": "Ev0NOTEAM",
            "event_time": int(time.time()),
            "event": event,
        }
    )
    headers = payloads.signed(body, SECRET) | {"content-type": "application/json"}
    return workspace.app.dispatch(BoltRequest(body=body, headers=headers)).status


def test_a_guest_sharing_a_spreadsheet_is_told_and_nothing_else_happens(
    workspace: Workspace,
) -> None:
    assert workspace.send_event({**UPLOAD, "user": GUEST}).status == 200
    told = workspace.slack.wait_for("chat.postEphemeral")[0].params
    assert (told["channel"], told["user"], told["text"]) == ("C0CME", GUEST, GUEST_UPLOAD_REFUSAL)
    time.sleep(0.2)
    assert [c.method for c in workspace.sent()] == ["users.info", "chat.postEphemeral"]


def test_a_guest_sharing_a_picture_gets_no_word(workspace: Workspace) -> None:
    # Files that are not spreadsheets are ignored without a word, whoever shares them.
    photo = {**UPLOAD, "user": GUEST, "files": [{"id": "F0PIC", "name": "team photo.PNG"}]}
    assert workspace.send_event(photo).status == 200
    time.sleep(0.2)
    assert workspace.sent() == []  # not even a lookup: a picture is nothing to the bot


def test_a_guests_file_shared_event_is_ignored_quietly(workspace: Workspace) -> None:
    # The same upload also arrives as file_shared: one notice is enough.
    event = {"type": "file_shared", "channel_id": "C0CME", "file_id": "F0X", "user_id": GUEST}
    assert workspace.send_event(event).status == 200
    time.sleep(0.2)
    assert [c.method for c in workspace.sent()] == ["users.info"]
    assert workspace.slack.of("users.info")[0].params["user"] == GUEST


def test_a_member_sharing_a_spreadsheet_is_not_refused(workspace: Workspace) -> None:
    assert workspace.send_event({**UPLOAD, "user": ALICE}).status == 200
    workspace.slack.wait_for("chat.update")  # the upload is answered in its thread
    methods = [c.method for c in workspace.sent()]
    assert methods[0] == "users.info" and "chat.postEphemeral" not in methods


def test_bot_messages_are_ignored_without_asking_slack(workspace: Workspace) -> None:
    for event in [
        {"type": "message", "subtype": "bot_message", "bot_id": "B0OTHER", "channel": "C0CME"},
        {**UPLOAD, "user": ALICE, "bot_id": "B0OTHER"},
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C0CME",
            "message": {"user": ALICE, "text": "edited"},
        },
        {"type": "message", "subtype": "message_deleted", "channel": "C0CME"},
        {"type": "message", "subtype": "channel_join", "user": ALICE, "channel": "C0CME"},
    ]:
        assert workspace.send_event(event).status == 200
    time.sleep(0.2)
    assert workspace.sent() == []


def test_people_talking_in_a_channel_are_neither_looked_up_nor_subscribed(
    workspace: Workspace,
) -> None:
    chatter = {"type": "message", "user": ALICE, "text": "lunch?", "channel": "C0CME"}
    picture = {**UPLOAD, "user": BOB, "files": [{"id": "F1", "name": "team.png"}]}
    for event in (chatter, {**chatter, "subtype": "thread_broadcast"}, picture):
        assert workspace.send_event(event).status == 200
    time.sleep(0.2)
    assert workspace.sent() == []
    with Session(workspace.engine) as session:
        assert session.exec(select(Member)).all() == []
    workspace.pars("help", user=ALICE)  # using the bot is what subscribes
    assert noted_members(workspace) == [ALICE]


def noted_members(workspace: Workspace) -> list[str]:
    """Members once the note is written: it is written after the acknowledgement, on the
    pool, alongside the command's own work."""
    deadline = time.monotonic() + 10
    while True:
        with Session(workspace.engine) as session:
            found = [m.user_id for m in session.exec(select(Member)).all()]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_events_with_no_workspace_are_ignored_and_nothing_is_sent(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    mark = workspace.slack.mark()
    assert event_without_team(workspace, {"type": "app_home_opened", "user": ALICE}) == 200
    assert event_without_team(workspace, {**UPLOAD, "user": ALICE}) == 200
    assert event_without_team(workspace, {**UPLOAD, "user": GUEST}) == 200
    time.sleep(0.2)
    assert workspace.slack.since(mark) == []  # no Home for team "", no users.info, no notice


def test_a_command_with_no_workspace_is_refused_and_nothing_is_saved(
    workspace: Workspace,
) -> None:
    response = workspace.send(
        payloads.slash_command(
            ADD_GR,
            user_id=ALICE,
            team_id="",
            channel_id="C0CME",
            response_url=workspace.slack.response_url("noteam"),
            trigger_id="trig-noteam",
        )
    )
    assert ack_body(response) == {"response_type": "ephemeral", "text": NO_TEAM}
    time.sleep(0.2)
    assert activity_count(workspace) == 0
    assert workspace.sent() == []


def test_a_button_with_no_workspace_is_refused(workspace: Workspace) -> None:
    added = workspace.pars(ADD_GR)
    button = added.button("Fill in the rest")
    mark = workspace.slack.mark()
    workspace.send(
        payloads.block_actions(
            user_id=ALICE,
            team_id="",
            channel_id="C0CME",
            response_url=workspace.slack.response_url("noteam"),
            trigger_id="trig-noteam",
            action={"type": "button", "action_id": button["action_id"], "value": "GR-2025"},
            message={"blocks": added.params["blocks"]},
            state={},
        )
    )
    answer = workspace.reply("noteam")
    assert answer.text == NO_TEAM
    assert [c.method for c in workspace.slack.since(mark)] == ["response_url"]


def test_a_form_submitted_with_no_workspace_saves_nothing(workspace: Workspace) -> None:
    workspace.command("add-activity")
    view = workspace.opened_view()
    values = form_state(
        view, title="Rounds", format="rss", start_date="2025-01-07", end_date="2025-12-16"
    )
    body = payloads.view_submission(user_id=ALICE, team_id="", view=view, state=values)
    response = workspace.send(body)
    assert ack_body(response) == {"response_action": "errors", "errors": {"title": NO_TEAM}}
    assert activity_count(workspace) == 0


def test_events_carry_the_actor_and_the_team(workspace: Workspace) -> None:
    """A listener of any event finds who sent it and from where, as command listeners do."""
    seen: list[tuple[str, bool, str]] = []

    @workspace.app.event("reaction_added")
    def remember(context: BoltContext) -> None:
        actor = actor_of(context)
        seen.append((actor.user_id, actor.is_admin, team_of(context)))

    event = {"type": "reaction_added", "user": ADMIN, "reaction": "tada", "item": {}}
    assert workspace.send_event(event, team="T0OTHER").status == 200
    assert workspace.send_event({**event, "user": GUEST}).status == 200
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert seen == [(ADMIN, True, "T0OTHER")]  # and the guest's event reached no listener


def test_app_home_shows_the_workspace_of_the_event(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    assert workspace.send_event(
        {"type": "app_home_opened", "user": ALICE, "tab": "home"}, team="T0OTHER"
    )
    view = workspace.slack.wait_for("views.publish")[0].params["view"]
    assert "GR-2025" not in json.dumps(view)  # another workspace's Home: none of T0LOCAL's
