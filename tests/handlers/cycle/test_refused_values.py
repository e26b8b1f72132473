"""Values the reporting cycle cannot work with, sent as Slack sends them: years and dates past
the calendar, time zones another host may lack, deadlines at a local time that does not exist
or exists twice. Each is refused with a message that says why, and nothing is stored."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.local_slack import TEAM_ID
from storage.models import LearnerCount, ProgramSummary, ReportingDeadline, WorkspaceSettings
from tests.conftest import NOW
from tests.handlers.conftest import ADD_GR, ADMIN, Workspace, ack_body, form_state
from tests.handlers.cycle.test_cycle import reminder_pass

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


def stored_settings(workspace: Workspace) -> list[tuple[str | None, list[int]]]:
    with Session(workspace.engine) as session:
        zones = [s.timezone for s in session.exec(select(WorkspaceSettings)).all()]
        years = [d.data_year for d in session.exec(select(ReportingDeadline)).all()]
    return [(z, years) for z in zones] or [(None, years)]


@pytest.mark.parametrize(
    ("zone", "words"),
    [
        ("localtime", "`localtime` is not a time zone of the IANA list"),
        ("America/Chicgo", "Did you mean `America/Chicago`?"),
    ],
)
def test_a_time_zone_outside_the_iana_list_is_refused(
    workspace: Workspace, zone: str, words: str
) -> None:
    reply = workspace.pars(f"config timezone {zone}", user=ADMIN)
    assert words in reply.text
    assert stored_settings(workspace) == [(None, [])]
    assert "Time zone: America/Chicago (PARS_TIMEZONE)" in workspace.pars("config").text


def test_a_near_miss_in_another_case_is_taken_as_the_iana_name(workspace: Workspace) -> None:
    reply = workspace.pars("config timezone america/new_york", user=ADMIN)
    assert "Time zone set to America/New_York." in reply.text
    assert stored_settings(workspace) == [("America/New_York", [])]


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("9999-12-31", "deadlines of data years 2000 to 2031; 9999-12-31 would be that of 9998"),
        ("0001-01-01", "0001-01-01 would be that of 0"),
        ("2026-03-08T02:30", "2:30 AM on Sunday 8 March 2026 does not exist in America/Chicago"),
        ("2026-11-01T01:30", "happens twice in America/Chicago"),
        ("default year=1900", "`year=1900` is outside the years pars-bot accepts"),
    ],
)
def test_a_deadline_that_cannot_work_is_refused_and_nothing_is_stored(
    workspace: Workspace, typed: str, words: str
) -> None:
    reply = workspace.pars(f"config deadline {typed}", user=ADMIN)
    assert WENT_WRONG not in reply.text
    assert words in reply.text
    assert stored_settings(workspace) == [(None, [])]


def test_a_zone_stored_before_it_was_checked_falls_back_and_says_so(
    workspace: Workspace,
) -> None:
    # `/pars config timezone localtime` was stored by earlier versions: a host without that
    # file must still answer, in PARS_TIMEZONE, and the settings say what to do.
    with Session(workspace.engine) as session:
        session.add(
            WorkspaceSettings(
                team_id=TEAM_ID, timezone="Mars/Olympus", updated_by=ADMIN, updated_at=NOW
            )
        )
        session.commit()
    shown = workspace.pars("config").text
    assert (
        "Time zone: America/Chicago (PARS_TIMEZONE: the stored `Mars/Olympus` is not a time "
        in (shown)
    )
    assert "*PARS reporting for 2026*" in workspace.pars("status").text


def test_a_nul_in_the_program_summary_form_is_refused_under_its_input(
    workspace: Workspace,
) -> None:
    workspace.command("summary year=2025")
    view = workspace.opened_view()
    entries = SUMMARY | {"registration_fees": "48000\x00"}
    body = ack_body(workspace.submit(view, form_state(view, **entries)))
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["registration_fees"]
    assert (
        "holds an invisible control character (U+0000, character 6)"
        in (body["errors"]["registration_fees"])
    )
    assert summaries(workspace) == []


def test_a_nul_in_a_setting_is_refused(workspace: Workspace) -> None:
    reply = workspace.pars("config timezone America/Chi\x00cago", user=ADMIN)
    assert WENT_WRONG not in reply.text
    assert "holds an invisible control character (U+0000, character 12)" in reply.text
    assert stored_settings(workspace) == [(None, [])]


def test_the_counts_form_refuses_a_nul_and_a_date_past_the_calendar(
    workspace: Workspace,
) -> None:
    workspace.pars(ADD_GR)
    dms = reminder_pass(workspace, "2026-03-30T09:00")
    unclosed = next(d for d in dms if "ended and is not closed" in d.text)
    workspace.click(unclosed, "Enter counts")
    form = workspace.opened_view()
    entries = {"physician": "1040\x00", "other": "212", "as_of": "9999-12-31"}
    body = ack_body(workspace.submit(form, form_state(form, **entries)))
    assert body["response_action"] == "errors"
    assert (
        "holds an invisible control character (U+0000, character 5)"
        in (body["errors"]["physician"])
    )
    assert "As-of date 9999-12-31 is after the end date 2025-12-16" in body["errors"]["as_of"]
    with Session(workspace.engine) as session:
        assert session.exec(select(LearnerCount)).all() == []
