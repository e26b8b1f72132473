"""Values no activity can hold, sent through the real Bolt app as Slack sends them: dates past
the calendar's end and control characters (a NUL crashes PostgreSQL) are refused, each naming
its field, and nothing changes; on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from storage.models import Activity
from tests.handlers.activity.test_modals import GR_ENTRIES, open_add_form
from tests.handlers.conftest import Workspace, ack_body, form_state

WENT_WRONG = "Something went wrong"


def rows(workspace: Workspace, model: Any) -> list[Any]:
    with Session(workspace.engine) as session:
        return list(session.exec(select(model)).all())


# --- dates outside the accepted years ---------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_date_past_the_calendar_typed_in_a_command_is_named(
    workspace: Workspace, day: str
) -> None:
    reply = workspace.pars(f"add-activity id=Z1 title=t format=rss start={day} end={day}")
    assert WENT_WRONG not in reply.text
    assert f"Start date {day} is outside the years pars-bot accepts" in reply.text
    assert f"End date {day} is outside the years pars-bot accepts" in reply.text
    assert "from 2000 to 2031" in reply.text
    assert rows(workspace, Activity) == []


def test_an_edit_to_a_start_near_the_calendars_end_is_named(workspace: Workspace) -> None:
    workspace.pars(
        "add-activity id=EM-1 title=Module format=enduring start=2025-01-01 end=2026-06-30"
    )
    reply = workspace.pars("edit EM-1 start=9998-06-01")
    assert WENT_WRONG not in reply.text
    assert "Start date 9998-06-01 is outside the years pars-bot accepts" in reply.text
    [activity] = rows(workspace, Activity)
    assert str(activity.start_date) == "2025-01-01"


def test_a_date_past_the_calendar_in_the_form_is_shown_under_its_input(
    workspace: Workspace,
) -> None:
    _name, view = open_add_form(workspace)
    far = GR_ENTRIES | {"start_date": "9999-12-31", "end_date": "9999-12-31"}
    body = ack_body(workspace.submit(view, form_state(view, **far)))
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"start_date", "end_date"}
    assert "outside the years pars-bot accepts" in body["errors"]["start_date"]
    assert rows(workspace, Activity) == []
