"""Values the reporting cycle cannot work with, sent as Slack sends them: years and dates past
the calendar, time zones another host may lack, deadlines at a local time that does not exist
or exists twice. Each is refused with a message that says why, and nothing is stored."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from storage.models import ProgramSummary
from tests.handlers.conftest import Workspace, ack_body, form_state

WENT_WRONG = "Something went wrong"
SUMMARY = {
    "period_start": "2025-01-01",
    "period_end": "2025-12-31",
    "advertising_income": "12,500",
    "registration_fees": "48000",
    "government_grants": "0",
    "private_donations": "0",
}


def summaries(workspace: Workspace) -> list[ProgramSummary]:
    with Session(workspace.engine) as session:
        return list(session.exec(select(ProgramSummary)).all())


@pytest.mark.parametrize(
    ("period", "field"),
    [
        ({"period_start": "9999-12-31", "period_end": "9999-12-31"}, "period_start"),
        ({"period_end": "0001-01-01"}, "period_end"),
    ],
)
def test_a_program_summary_period_past_the_calendar_is_refused_under_its_input(
    workspace: Workspace, period: dict[str, str], field: str
) -> None:
    workspace.command("summary year=2025")
    view = workspace.opened_view()
    body = ack_body(workspace.submit(view, form_state(view, **SUMMARY | period)))
    assert body["response_action"] == "errors"
    assert "outside the years pars-bot accepts" in body["errors"][field]
    assert summaries(workspace) == []


@pytest.mark.parametrize("command", ["status", "checklist agreement done", "summary"])
@pytest.mark.parametrize("year", ["1999", "2032", "0001", "9999"])
def test_a_year_outside_the_accepted_years_is_refused(
    workspace: Workspace, command: str, year: str
) -> None:
    reply = workspace.pars(f"{command} year={year}")
    assert WENT_WRONG not in reply.text
    assert f"`year={year}` is outside the years pars-bot accepts: give one from 2000 to 2031" in (
        reply.text
    )
    assert not workspace.calls("views.open")
