"""A blank ACCME template shared in Slack: a button per data year, and the filled copy in the
thread. Through the real Bolt app, signed requests and the local stand-in for Slack."""

from __future__ import annotations

import io
import time
import warnings
import zipfile

from openpyxl import load_workbook

from bot.local_slack import TEAM_ID
from tests.conftest import NOW, TODAY
from tests.handlers.batch.test_uploads import THREAD, final_update, share
from tests.handlers.conftest import BOB, Workspace
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.sheets.templates import YEAR_IDS, modern_template, seed_year

TEMPLATE = "PARS activity template.xlsx"


def test_a_blank_template_is_answered_with_a_button_per_data_year(workspace: Workspace) -> None:
    seed_year(workspace.engine, TEAM_ID, NOW, TODAY)
    share(workspace, TEMPLATE, modern_template())
    answer = final_update(workspace, "blank template")
    assert answer.buttons == ["Fill with 2026", "Fill with 2025", "Fill with 2024"]
    assert "no activities" in answer.text and "Preview" not in answer.text
    time.sleep(0.2)
    assert workspace.slack.of("files.completeUploadExternal") == []  # no annotated copy

    workspace.click(answer, "Fill with 2025", user=BOB)
    [filled] = workspace.slack.uploaded()
    assert (filled["channel"], filled["thread_ts"]) == ("C0CME", THREAD)
    assert filled["name"] == "PARS activity template - 2025 filled by pars-bot.xlsx"
    comment = filled["initial_comment"]
    assert "filled with data year 2025 by <@U0BOB>: 3 activities" in comment
    assert "Columns left empty (pars-bot has no such field): State Content Tags" in comment
    assert '"In-Person; Live-Streamed" (CONF-2025)' in comment

    parts = zipfile.ZipFile(io.BytesIO(filled["data"]))
    assert "<x14:dataValidations" in parts.read("xl/worksheets/sheet1.xml").decode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sheet = load_workbook(io.BytesIO(filled["data"])).worksheets[0]
    assert [sheet.cell(row=r, column=1).value for r in (3, 4, 5)] == YEAR_IDS
    assert sheet["C4"].value == "Regularly Scheduled Series"


def test_a_workbook_with_activities_is_previewed_not_filled(workspace: Workspace) -> None:
    share(workspace, "a.xlsx", xlsx(table([grand_rounds("GR-1")])))
    preview = final_update(workspace, "Preview of a.xlsx")
    assert preview.buttons == ["Apply", "Cancel"]


def test_a_template_with_no_activities_to_fill_it_says_so(workspace: Workspace) -> None:
    share(workspace, TEMPLATE, modern_template())
    answer = final_update(workspace, "blank template")
    assert answer.buttons == []
    assert "no activities to fill it with" in answer.text


def test_a_template_gone_from_slack_is_said_when_clicked(workspace: Workspace) -> None:
    seed_year(workspace.engine, TEAM_ID, NOW, TODAY)
    info = share(workspace, TEMPLATE, modern_template())
    answer = final_update(workspace, "blank template")
    del workspace.slack.files[info["id"]]  # deleted by its owner meanwhile
    refused = workspace.reply(workspace.click(answer, "Fill with 2025"))
    assert refused.ephemeral
    assert "is no longer in Slack" in refused.text and "share it again" in refused.text
    assert workspace.slack.of("files.completeUploadExternal") == []


def test_export_help_says_how_to_fill_the_template(workspace: Workspace) -> None:
    assert "share the blank template" in workspace.pars("help").text
    seed_year(workspace.engine, TEAM_ID, NOW, TODAY)
    reply = workspace.pars("export year=2025")
    assert "share the blank template" in reply.text
