"""People's real names from Slack, kept with the members and shown in the export for their ID."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import Session, select

from handlers.slack import middleware
from storage import members
from storage.models import Member
from tests.handlers.conftest import ADD_GR, ADMIN, ALICE, BOB, COMPLETE, Workspace


@pytest.fixture(autouse=True)
def _slack_asked_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guest check asks Slack on every request, not once in five minutes: as after a
    while of use, so that a name changed in Slack reaches the bot in a test."""
    forgetful = middleware.GuestCheck
    monkeypatch.setattr(middleware, "GuestCheck", lambda: forgetful(ttl_seconds=0))


def _member(workspace: Workspace, user_id: str) -> Member | None:
    with Session(workspace.engine) as session:
        return session.exec(select(Member).where(Member.user_id == user_id)).first()


def _name(workspace: Workspace, user_id: str) -> str | None:
    member = _member(workspace, user_id)
    return member.real_name if member else None


def _eventually(read: Callable[[], Any], expected: Any, timeout: float = 10.0) -> None:
    """Work done after the request was answered: wait until it shows (or fail)."""
    deadline = time.monotonic() + timeout
    while (found := read()) != expected:
        assert time.monotonic() < deadline, f"still {found!r}, expected {expected!r}"
        time.sleep(0.02)


def _exported_owners(workspace: Workspace, *, user: str = ALICE) -> dict[str, tuple[str, str]]:
    """`/pars export year=2025` as `user`: each activity's Owner and Owner Slack ID."""
    before = len(workspace.slack.uploaded(0))
    workspace.pars("export year=2025", user=user)
    sent = [u for u in workspace.slack.uploaded(before + 1) if u["name"] == "PARS export 2025.xlsx"]
    rows = list(load_workbook(io.BytesIO(sent[-1]["data"])).worksheets[0].values)
    header = list(rows[0])
    owner, owner_id = header.index("Owner"), header.index("Owner Slack ID")
    return {str(r[0]): (r[owner], r[owner_id]) for r in rows[1:]}


def test_someone_using_the_bot_is_kept_with_their_real_name(workspace: Workspace) -> None:
    workspace.slack.names[ALICE] = "Alice Whitfield"
    assert "add-activity" in workspace.pars("help").text
    _eventually(lambda: _name(workspace, ALICE), "Alice Whitfield")
    # The name came with the users.info the bot makes anyway: no call of its own.
    assert [c.method for c in workspace.sent()] == ["users.info", "response_url"]


def test_the_export_shows_owners_by_real_name_and_the_rest_by_id(workspace: Workspace) -> None:
    workspace.slack.names[ALICE] = "Alice Whitfield"
    workspace.pars(f"{ADD_GR} {COMPLETE} owner=<@{ALICE}|alice>")
    # Bob owns an activity but never used the bot: the bot has no name for him.
    workspace.pars(
        'add-activity id=JC-2025 title="Journal Club" format=rss start=2025-02-01 '
        f"end=2025-11-30 owner=<@{BOB}|bob>",
        user=ADMIN,
    )
    owners = _exported_owners(workspace)
    assert owners["GR-2025"] == ("Alice Whitfield", ALICE)
    assert owners["JC-2025"] == (BOB, BOB)


def test_a_name_changed_in_slack_is_kept_after_the_request(workspace: Workspace) -> None:
    workspace.slack.names[ALICE] = "Alice Whitfield"
    workspace.pars("help")
    workspace.slack.names[ALICE] = "Alice Moreno"
    # The request is answered as ever; the new name is written beside it.
    assert "add-activity" in workspace.pars("help").text
    _eventually(lambda: _name(workspace, ALICE), "Alice Moreno")


def test_a_slack_profile_without_a_name_leaves_the_id(workspace: Workspace) -> None:
    workspace.slack.answers["users.info"] = {
        "ok": True,
        "user": {"id": ALICE, "name": "alice", "is_restricted": False, "deleted": False},
    }
    workspace.pars(f"{ADD_GR} {COMPLETE} owner=<@{ALICE}|alice>")
    _eventually(lambda: _member(workspace, ALICE) is not None, True)
    assert _name(workspace, ALICE) is None
    assert _exported_owners(workspace)["GR-2025"] == (ALICE, ALICE)


def test_slack_failing_never_loses_a_name(workspace: Workspace) -> None:
    workspace.slack.names[ALICE] = "Alice Whitfield"
    workspace.pars(f"{ADD_GR} {COMPLETE} owner=<@{ALICE}|alice>")
    _eventually(lambda: _name(workspace, ALICE), "Alice Whitfield")
    workspace.slack.answers["users.info"] = {"ok": False, "error": "ratelimited"}
    # Refused as ever when Slack can't say who someone is (test_security.py); the name stays.
    workspace.command("help")
    assert _name(workspace, ALICE) == "Alice Whitfield"
    del workspace.slack.answers["users.info"]
    assert _exported_owners(workspace, user=ADMIN)["GR-2025"] == ("Alice Whitfield", ALICE)


def test_a_rename_that_failed_is_tried_again_on_the_next_request(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.slack.names[ALICE] = "Alice Whitfield"
    workspace.pars("help")
    _eventually(lambda: _name(workspace, ALICE), "Alice Whitfield")
    tried: list[str | None] = []
    rename = members.rename

    def failing_once(**given: Any) -> bool:
        tried.append(given["real_name"])
        if len(tried) == 1:
            raise sa.exc.OperationalError("UPDATE member", {}, Exception("database is locked"))
        return rename(**given)

    monkeypatch.setattr(members, "rename", failing_once)
    workspace.slack.names[ALICE] = "Alice Moreno"
    workspace.pars("help")
    _eventually(lambda: tried, ["Alice Moreno"])
    assert _name(workspace, ALICE) == "Alice Whitfield"
    workspace.pars("help")
    _eventually(lambda: _name(workspace, ALICE), "Alice Moreno")


def _profile_changed(workspace: Workspace, user_id: str, real_name: str) -> None:
    response = workspace.send_event(
        {
            "type": "user_change",
            "user": {"id": user_id, "name": user_id.lower(), "real_name": real_name},
            "event_ts": "1764100000.000300",
        }
    )
    assert response.status == 200


def test_a_member_renamed_in_slack_is_renamed_here(workspace: Workspace) -> None:
    workspace.slack.names[ALICE] = "Alice Whitfield"
    workspace.pars("help")
    mark = workspace.slack.mark()
    _profile_changed(workspace, ALICE, "Alice Moreno")
    _eventually(lambda: _name(workspace, ALICE), "Alice Moreno")
    # Slack said it all: nobody is asked about, nothing is posted.
    assert workspace.slack.since(mark) == []


def test_people_who_never_used_the_bot_are_not_stored_when_their_profile_changes(
    workspace: Workspace,
) -> None:
    workspace.pars("help")  # a member, renamed below as the sign that the event was handled
    _profile_changed(workspace, "U0STRANGER", "Sam Stranger")
    _profile_changed(workspace, ALICE, "Alice Moreno")
    _eventually(lambda: _name(workspace, ALICE), "Alice Moreno")
    assert _member(workspace, "U0STRANGER") is None
