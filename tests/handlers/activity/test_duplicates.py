"""Probable duplicates: the same title (ignoring case, spaces and punctuation) and the same
start date. Adding, editing and previewing warn and name the other; nothing is refused; the
export lists them."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlmodel import Session, select

from storage.models import Activity
from tests.handlers.batch.test_uploads import final_update, share
from tests.handlers.conftest import ADD_GR, Workspace
from tests.storage.batch.files import grand_rounds, table, xlsx

# The same series typed again: other ID, other case, spacing and punctuation, same start.
AGAIN = (
    'add-activity id=GR-AGAIN title="medicine  grand-rounds." format=rss '
    "start=2025-01-07 end=2025-12-16"
)
WARNING = "Probably the same activity as GR-2025 (Medicine Grand Rounds, starting 2025-01-07)"


def ids(workspace: Workspace) -> list[str]:
    with Session(workspace.engine) as session:
        return sorted(session.exec(select(Activity.activity_id)).all())


def test_adding_the_same_title_and_start_warns_and_names_the_other(workspace: Workspace) -> None:
    first = workspace.pars(ADD_GR).text
    assert "Probably the same" not in first
    again = workspace.pars(AGAIN).text
    assert "Added `GR-AGAIN`" in again
    assert WARNING in again
    assert "PARS would count it twice" in again
    assert ids(workspace) == ["GR-2025", "GR-AGAIN"]  # nothing refused


def test_another_start_date_is_not_a_duplicate(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    other = workspace.pars(AGAIN.replace("start=2025-01-07", "start=2025-01-14")).text
    assert "Probably the same" not in other


def test_editing_into_a_duplicate_warns(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    workspace.pars(AGAIN.replace("start=2025-01-07", "start=2025-01-14"))
    edited = workspace.pars("edit GR-AGAIN start=2025-01-07").text
    assert "Updated `GR-AGAIN`" in edited
    assert WARNING in edited


def test_a_preview_warns_on_rows_that_repeat_an_activity(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    rows = table(
        [
            grand_rounds("GR-SHEET", Title="MEDICINE GRAND ROUNDS"),
            grand_rounds("EM-1", Title="Online module", **{"Start date": "2025-03-01"}),
            grand_rounds("EM-2", Title="online module!", **{"Start date": "2025-03-01"}),
        ]
    )
    share(workspace, "office.xlsx", xlsx(rows))
    preview = final_update(workspace, "Preview of office.xlsx")
    assert "3 to add" in preview.text
    assert "Probable duplicates" in preview.text
    assert f"row 2, {WARNING}" in preview.text
    assert "row 3, Probably the same activity as EM-2 (row 4 of Activities)" in preview.text
    assert "row 4, Probably the same activity as EM-1 (row 3 of Activities)" in preview.text
    assert preview.buttons == ["Apply", "Cancel"]  # warned, not refused
    [annotated] = workspace.slack.uploaded()
    sheet = load_workbook(io.BytesIO(annotated["data"])).active
    message = sheet.cell(row=2, column=sheet.max_column).value
    assert message.startswith("adds this activity;")
    assert "warning: Probably the same activity as GR-2025" in message
    workspace.click(preview, "Apply")
    final_update(workspace, "Applied office.xlsx")
    assert ids(workspace) == ["EM-1", "EM-2", "GR-2025", "GR-SHEET"]


def test_the_export_lists_probable_duplicates(workspace: Workspace) -> None:
    workspace.pars(ADD_GR)
    workspace.pars(AGAIN)
    workspace.pars(
        AGAIN.replace("GR-AGAIN", "OTHER").replace("start=2025-01-07", "start=2025-02-04")
    )
    workspace.pars("export year=2025")
    sent = [u for u in workspace.slack.uploaded(1) if u["name"] == "PARS export 2025.xlsx"]
    book = load_workbook(io.BytesIO(sent[0]["data"]))
    assert book.sheetnames[1:] == ["Still missing", "Probable duplicates"]
    rows = list(book["Probable duplicates"].iter_rows(values_only=True))
    assert rows[0] == ("Activity ID", "Title", "Start date", "Probably the same as")
    listed = {r[0]: r[3] for r in rows[1:]}
    assert listed == {"GR-2025": "GR-AGAIN", "GR-AGAIN": "GR-2025"}
