"""Values no activity can hold, sent through the real Bolt app as Slack sends them: dates past
the calendar's end and control characters (a NUL crashes PostgreSQL) are refused, each naming
its field, and nothing changes; on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from storage.models import Activity, AuditEvent, LearnerCount
from tests.handlers.activity.test_modals import GR_ENTRIES, open_add_form
from tests.handlers.conftest import ADD_GR, Workspace, ack_body, form_state

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


# --- control characters -----------------------------------------------------------------------


def test_a_nul_in_an_edited_title_is_refused_naming_the_title(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    reply = workspace.pars('edit GR-2025 title="a\x00b"')
    assert WENT_WRONG not in reply.text
    assert "Title: holds an invisible control character (U+0000, character 2)" in reply.text
    assert "Nothing was saved" in reply.text
    [activity] = rows(workspace, Activity)
    assert activity.title == "Medicine Grand Rounds"
    assert len(rows(workspace, AuditEvent)) == 1  # the add only


NEW = "add-activity format=rss start=2025-01-07 end=2025-12-16"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        (
            f'{NEW} id=B title="Bell\x07"',
            "Title: holds an invisible control character (U+0007, character 5)",
        ),
        (
            f'{NEW} id=C title=t city="Chi\x1bcago"',
            "City: holds an invisible control character (U+001B",
        ),
        (
            f'{NEW} id=D title=t description="a\x7fb"',
            "Description: holds an invisible control character (U+007F",
        ),
        (f'{NEW} id=E title="Caf\x85"', "Title: holds an invisible control character (U+0085"),
        (f"{NEW} id=GR\x0c1 title=t", "Activity ID: holds an invisible control character (U+000C"),
        # An override that would show "Grand Rounds" reversed, the stored text unchanged.
        (
            f'{NEW} id=F title="\u202eGrand Rounds"',
            "Title: holds an invisible control character (U+202E, character 1)",
        ),
    ],
)
def test_control_characters_are_refused_naming_the_field(
    workspace: Workspace, typed: str, words: str
) -> None:
    reply = workspace.pars(typed)
    assert words in reply.text
    assert rows(workspace, Activity) == []


def test_joiners_and_direction_marks_are_text(workspace: Workspace) -> None:
    # A health-worker emoji is three characters joined by U+200D; RLM sits in Hebrew names.
    title = "Nursing \U0001f469\u200d\u2695\ufe0f rounds \u05d3\u05e8\u200f"
    reply = workspace.pars(f'{NEW} id=GR-2025 title="{title}"')
    assert "Added `GR-2025`" in reply.text
    [activity] = rows(workspace, Activity)
    assert activity.title == title


def test_tabs_and_new_lines_are_text(workspace: Workspace) -> None:
    reply = workspace.pars(f'{ADD_GR} description="Cases\tand\r\nanswers"')
    assert "Added `GR-2025`" in reply.text
    [activity] = rows(workspace, Activity)
    assert activity.description == "Cases\tand\r\nanswers"


def test_control_characters_in_the_form_are_shown_under_their_inputs(
    workspace: Workspace,
) -> None:
    _name, view = open_add_form(workspace)
    bad = GR_ENTRIES | {"title": "a\x00b", "description": "x\x1by"}
    body = ack_body(workspace.submit(view, form_state(view, **bad)))
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"title", "description"}
    assert "U+0000" in body["errors"]["title"] and "U+001B" in body["errors"]["description"]
    assert rows(workspace, Activity) == []


def test_a_nul_in_counts_is_refused_naming_the_count(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    reply = workspace.pars("counts GR-2025 physicians=5\x00 others=3")
    assert WENT_WRONG not in reply.text
    assert "Physician learners: holds an invisible control character (U+0000" in reply.text
    as_of = workspace.pars("counts GR-2025 physicians=5 as-of=2025-12-16\x00")
    assert "As-of date: holds an invisible control character (U+0000" in as_of.text
    assert rows(workspace, LearnerCount) == []


@pytest.mark.parametrize("command", ["show GR\x002025", "close GR\x002025", "edit GR\x002025"])
def test_a_nul_in_an_activity_id_looked_up_is_refused(workspace: Workspace, command: str) -> None:
    workspace.pars(ADD_GR)
    reply = workspace.pars(command)
    assert WENT_WRONG not in reply.text
    assert "holds an invisible control character (U+0000, character 3)" in reply.text
