"""Requests Slack did not sign, and guests (restricted accounts), change nothing."""

from __future__ import annotations

import io
import json
import time
from typing import Any

from slack_bolt.request import BoltRequest
from sqlmodel import Session, col, func, select

from bot.console import payloads
from bot.guard import WSGIApp
from bot.web import EVENTS_PATH, create_wsgi_app
from handlers.slack.middleware import GUEST_REFUSAL
from storage.models import Activity
from tests.handlers.conftest import (
    ADD_GR,
    ALICE,
    COMPLETE,
    GUEST,
    SECRET,
    Workspace,
    ack_body,
    form_state,
)


def activity_ids(workspace: Workspace) -> list[str]:
    with Session(workspace.engine) as session:
        return sorted(session.exec(select(Activity.activity_id)).all())


def closed_ids(workspace: Workspace) -> list[str]:
    with Session(workspace.engine) as session:
        query = select(Activity.activity_id).where(col(Activity.closed_at).is_not(None))
        return sorted(session.exec(query).all())


def command_body(workspace: Workspace, text: str) -> str:
    return payloads.slash_command(
        text,
        user_id=ALICE,
        team_id=workspace.team_id,
        channel_id="C0CME",
        response_url=workspace.slack.response_url("forged"),
        trigger_id="trig-forged",
    )


def test_a_request_signed_with_another_secret_is_rejected(workspace: Workspace) -> None:
    body = command_body(workspace, ADD_GR)
    response = workspace.app.dispatch(
        BoltRequest(body=body, headers=payloads.signed(body, "not-the-secret"))
    )
    assert response.status == 401
    time.sleep(0.2)  # a listener, had one run, would have answered by now
    assert activity_ids(workspace) == []
    assert not workspace.sent()


def test_a_tampered_body_is_rejected(workspace: Workspace) -> None:
    headers = payloads.signed(command_body(workspace, "help"), SECRET)
    body = command_body(workspace, ADD_GR)  # the signature was for another body
    assert workspace.app.dispatch(BoltRequest(body=body, headers=headers)).status == 401
    assert activity_ids(workspace) == []


def test_a_replayed_old_request_is_rejected(workspace: Workspace) -> None:
    body = command_body(workspace, ADD_GR)
    old = int(time.time()) - 10 * 60  # Slack's signatures are good for five minutes
    headers = payloads.signed(body, SECRET, timestamp=old)
    assert workspace.app.dispatch(BoltRequest(body=body, headers=headers)).status == 401
    assert activity_ids(workspace) == []


def test_an_unsigned_event_is_rejected(workspace: Workspace) -> None:
    body = json.dumps(
        {
            "team_id": workspace.team_id,
            "type": "event_callback",
            "event": {"type": "app_home_opened", "user": ALICE, "tab": "home"},
        }
    )
    headers = {"content-type": "application/json"}
    assert workspace.app.dispatch(BoltRequest(body=body, headers=headers)).status == 401
    time.sleep(0.2)
    assert not workspace.sent()


def test_a_guest_command_is_refused_in_its_acknowledgement(workspace: Workspace) -> None:
    response = workspace.send(
        payloads.slash_command(
            ADD_GR,
            user_id=GUEST,
            team_id=workspace.team_id,
            channel_id="C0CME",
            response_url=workspace.slack.response_url("guest"),
            trigger_id="trig-guest",
        )
    )
    assert ack_body(response) == {"response_type": "ephemeral", "text": GUEST_REFUSAL}
    time.sleep(0.2)  # a listener, had one run, would have answered by now
    assert activity_ids(workspace) == []
    assert [c.method for c in workspace.sent()] == ["users.info"]


def test_a_guest_clicking_close_selected_is_refused(workspace: Workspace) -> None:
    workspace.pars(f"{ADD_GR} {COMPLETE}")
    workspace.pars("counts GR-2025 physicians=1040 others=212")
    listed = workspace.pars("list ready")
    clicked = workspace.click(listed, "Close selected", user=GUEST, state=listed.ticked("GR-2025"))
    answer = workspace.reply(clicked)
    assert answer.text == GUEST_REFUSAL
    assert answer.ephemeral
    assert answer.params["replace_original"] is False  # the list stays for a member
    assert closed_ids(workspace) == []


def test_a_guest_clicking_edit_gets_no_form(workspace: Workspace) -> None:
    added = workspace.pars(ADD_GR)
    answer = workspace.reply(workspace.click(added, "Fill in the rest", user=GUEST))
    assert "guest accounts can't use pars-bot" in answer.text
    assert not workspace.calls("views.open")


def test_a_guest_submitting_the_form_is_refused_and_nothing_is_saved(
    workspace: Workspace,
) -> None:
    workspace.command("add-activity")
    view = workspace.opened_view()
    entries = {
        "title": "Guest Rounds",
        "format": "rss",
        "start_date": "2025-01-07",
        "end_date": "2025-12-16",
    }
    body = ack_body(workspace.submit(view, form_state(view, **entries), user=GUEST))
    assert body == {"response_action": "errors", "errors": {"title": GUEST_REFUSAL}}
    assert activity_ids(workspace) == []
    assert not workspace.calls("response_url")


def test_a_guest_cannot_confirm_lower_counts(workspace: Workspace) -> None:
    workspace.pars(
        'add-activity id=EM-1 title="Module" format=enduring start=2025-03-01 end=2027-02-28'
    )
    workspace.pars("counts EM-1 physicians=120 others=30")
    question = workspace.pars("counts EM-1 physicians=90")
    answer = workspace.reply(workspace.click(question, "Record lower counts", user=GUEST))
    assert answer.text == GUEST_REFUSAL
    shown = workspace.pars("show EM-1").text
    assert "Physician learners:* 120" in shown


def test_when_slack_cannot_say_who_you_are_nothing_happens(workspace: Workspace) -> None:
    workspace.slack.answers["users.info"] = {"ok": False, "error": "ratelimited"}
    response = workspace.send(
        payloads.slash_command(
            ADD_GR,
            user_id=ALICE,
            team_id=workspace.team_id,
            channel_id="C0CME",
            response_url=workspace.slack.response_url("unverified"),
            trigger_id="t-unverified",
        )
    )
    assert "couldn't check your Slack account" in ack_body(response)["text"]
    with Session(workspace.engine) as session:
        assert session.exec(select(func.count()).select_from(Activity)).one() == 0


def wsgi_post(application: WSGIApp, body: str, headers: dict[str, str]) -> str:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": EVENTS_PATH,
        "CONTENT_LENGTH": str(len(body.encode())),
        "wsgi.input": io.BytesIO(body.encode()),
        "wsgi.input_terminated": True,
    }
    environ |= {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    environ["CONTENT_TYPE"] = environ.pop("HTTP_CONTENT_TYPE")
    statuses: list[str] = []
    b"".join(application(environ, lambda status, _headers: statuses.append(status)))
    return statuses[0]


def test_bolt_still_verifies_what_the_http_guard_let_through(workspace: Workspace) -> None:
    """Defence in depth: were the guard given another secret by mistake, Bolt still refuses."""
    body = command_body(workspace, ADD_GR)
    guard_only = payloads.signed(body, "the-guards-secret-only")
    application = create_wsgi_app(
        workspace.app, workspace.engine, signing_secret="the-guards-secret-only"
    )
    assert wsgi_post(application, body, guard_only).startswith("401")
    time.sleep(0.2)
    assert activity_ids(workspace) == []
    assert not workspace.sent()
    matching = create_wsgi_app(workspace.app, workspace.engine, signing_secret=SECRET)
    assert wsgi_post(matching, body, payloads.signed(body, SECRET)).startswith("200")
    workspace.slack.wait_until(lambda c: c.path.endswith("/forged"))  # the listener's reply
    assert activity_ids(workspace) == ["GR-2025"]
