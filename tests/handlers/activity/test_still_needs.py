"""What PARS still needs of an activity: the same list, with the status each field blocks,
wherever the bot says it (show, add/edit, close, the export's Still missing sheet)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.handlers.batch.test_uploads import final_update, share
from tests.handlers.conftest import ALICE, Workspace, section_texts
from tests.handlers.cycle.test_cycle import reminder_pass
from tests.storage.batch.files import table, xlsx

# Ended in 2025; Active needs credits, description and providership; closing also needs the
# outcome measures and the commercial support answer (learner counts are on file).
HALF_DONE = (
    'add-activity title="Journal Club" format=journal start=2025-02-01 end=2025-11-30 finder=no'
)
ACTIVE_NEEDS = ["AMA PRA Category 1 credits", "Description", "Providership"]
CLOSED_NEEDS = ["Outcome measures", "Commercial support"]


def _half_done(workspace: Workspace) -> None:
    assert "2025-0001" in workspace.pars(HALF_DONE).text
    workspace.pars("counts 2025-0001 physicians=10 others=2")


def test_show_and_close_say_the_same_fields_and_what_each_blocks(workspace: Workspace) -> None:
    _half_done(workspace)
    shown = workspace.pars("show 2025-0001").text
    closing = workspace.pars("close 2025-0001").text
    for text in (shown, closing):
        assert "for *Active*: " + ", ".join(ACTIVE_NEEDS) in text, text
        assert "for *Closed*: " + ", ".join(CLOSED_NEEDS) in text, text


def test_the_saved_reply_lists_everything_too(workspace: Workspace) -> None:
    reply = workspace.pars(HALF_DONE).text
    assert "for *Active*: " + ", ".join(ACTIVE_NEEDS) in reply
    assert "for *Closed*: " + ", ".join(CLOSED_NEEDS) in reply


def test_the_export_still_missing_sheet_agrees(workspace: Workspace) -> None:
    _half_done(workspace)
    workspace.pars("export year=2025")
    sent = [u for u in workspace.slack.uploaded(1) if u["name"] == "PARS export 2025.xlsx"]
    book = load_workbook(io.BytesIO(sent[0]["data"]))
    sheet = book["Still missing"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    row = dict(zip(header, rows[1], strict=True))
    assert row["Activity ID"] == "2025-0001"
    assert row["Needed for Active"] == ", ".join(ACTIVE_NEEDS)
    assert row["Needed for Closed"] == ", ".join(CLOSED_NEEDS)


EXPECTED = (
    "PARS still needs for *Active*: "
    + ", ".join(ACTIVE_NEEDS)
    + "; for *Closed*: "
    + ", ".join(CLOSED_NEEDS)
)


def test_the_list_says_what_each_activity_still_needs(workspace: Workspace) -> None:
    _half_done(workspace)
    listed = workspace.pars("list unclosed").text
    assert "`2025-0001` *Journal Club*" in listed
    assert EXPECTED in listed


def test_the_reminder_and_app_home_say_the_same(workspace: Workspace) -> None:
    _half_done(workspace)
    dms = reminder_pass(workspace, "2026-03-30T09:00")
    unclosed = next(d for d in dms if "ended and is not closed" in d.text)
    assert EXPECTED in unclosed.text
    workspace.send_event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
    home = workspace.slack.wait_for("views.publish")[-1].params["view"]
    assert EXPECTED in "\n".join(section_texts(home))


def test_the_annotated_copy_of_an_upload_says_the_same(workspace: Workspace) -> None:
    half_done = {
        "Activity ID": "JC-1",
        "Title": "Journal Club",
        "Format": "Journal CME",
        "Start date": "2025-02-01",
        "End date": "2025-11-30",
        "Listed in CME Finder": "No",
        "Physician learners": 10,
        "Other learners": 2,
    }
    share(workspace, "office.xlsx", xlsx(table([half_done])))
    final_update(workspace, "Preview of office.xlsx")
    [annotated] = workspace.slack.uploaded()
    sheet = load_workbook(io.BytesIO(annotated["data"])).active
    message = sheet.cell(row=2, column=sheet.max_column).value
    assert message.startswith("adds this activity; records learner counts")
    assert (
        "PARS still needs for Active: "
        + ", ".join(ACTIVE_NEEDS)
        + "; for Closed: "
        + ", ".join(CLOSED_NEEDS)
    ) in message
