"""MOC per board through spreadsheets: numbered columns read (preview and apply), the
template's columns, the export's, and the export read back unchanged."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from storage.activities import update_activity
from storage.batch.export import export_workbook
from storage.db import session_scope
from storage.sheets.workbooks import template_workbook
from tests.conftest import NOW, TODAY
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.batch.helpers import ALICE, TEAM, apply, load, preview

TWO_BOARDS = {
    "Registered for MOC": "Yes",
    "MOC attestation": "Yes",
    "MOC Board 1": "ABIM",
    "MOC Points 1": 1.5,
    "MOC Credit Types 1": "Medical Knowledge; practice assessment",
    "MOC Claim Date 1": date(2026, 6, 30),
    "MOC Board 2": "abpath",
    "MOC Points 2": 2,
    "MOC Credit Types 2": "Lifelong Learning",
}
ABIM = {
    "board": "ABIM",
    "points": "1.5",
    "credit_types": ["Medical Knowledge", "Practice Assessment"],
    "claim_date": "2026-06-30",
}
ABPATH = {
    "board": "ABPath",
    "points": "2",
    "credit_types": ["Lifelong Learning"],
    "claim_date": None,
}


def added(engine: Engine, *records: dict[str, object]) -> None:
    plan = preview(engine, xlsx(table(list(records))))
    assert plan.summary.errors == 0, plan.first_errors
    result = apply(engine, plan.batch_id)
    assert result.summary.errors == 0, result.errors


def exported(engine: Engine) -> bytes:
    with session_scope(engine) as session:
        return export_workbook(session=session, team_id=TEAM, year=2025, today=TODAY).data


def test_numbered_moc_columns_are_one_entry_per_board(engine: Engine) -> None:
    added(engine, grand_rounds("GR-1", **TWO_BOARDS))
    found = load(engine, "GR-1")
    assert found is not None
    assert found.moc_boards == [ABIM, ABPATH]
    assert found.moc_attested is True


def test_the_one_board_columns_of_until_now_are_still_read(engine: Engine) -> None:
    old = {
        "Registered for MOC": "Yes",
        "MOC Board": "ABIM",
        "MOC Credit Type": "Medical Knowledge",
        "MOC Points": 10,
    }
    added(engine, grand_rounds("GR-1", **old))
    found = load(engine, "GR-1")
    assert found is not None and found.moc_boards == [
        {"board": "ABIM", "points": "10", "credit_types": ["Medical Knowledge"], "claim_date": None}
    ]


def test_a_bad_board_entry_is_an_error_of_its_row_and_nothing_changes(engine: Engine) -> None:
    bad = TWO_BOARDS | {"MOC Board 2": "ABIM", "MOC Points 2": 0.3}
    plan = preview(engine, xlsx(table([grand_rounds("GR-1", **bad)])))
    assert plan.summary.errors == 1
    said = " ".join(str(e) for e in plan.first_errors)
    assert "0.3 MOC points: not a multiple of 0.25" in said
    assert load(engine, "GR-1") is None


def test_the_export_writes_numbered_groups_and_reads_back_unchanged(engine: Engine) -> None:
    added(engine, grand_rounds("GR-1", **TWO_BOARDS), grand_rounds("GR-2"))
    data = exported(engine)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["MOC Board 1"], row["MOC Points 1"], row["MOC Credit Types 1"]) == (
        "ABIM",
        1.5,
        "Medical Knowledge; Practice Assessment",
    )
    assert row["MOC Claim Date 1"].date() == date(2026, 6, 30)
    assert (row["MOC Board 2"], row["MOC Points 2"]) == ("ABPath", 2)
    assert row["MOC attestation of compliance"] == "Yes"
    again = preview(engine, data, "PARS export 2025.xlsx")
    assert again.summary.unchanged == 2, again.first_errors


def test_a_sheet_s_blank_moc_cells_keep_the_stored_parts(engine: Engine) -> None:
    added(engine, grand_rounds("GR-1", **TWO_BOARDS))
    # Only the boards, as a template with a board column and no points column of its own.
    added(engine, grand_rounds("GR-1", **{"MOC Board 1": "ABIM", "MOC Board 2": "ABPath"}))
    found = load(engine, "GR-1")
    assert found is not None and found.moc_boards == [ABIM, ABPATH]


def test_the_template_has_moc_groups_with_a_board_list() -> None:
    book = load_workbook(io.BytesIO(template_workbook()))
    sheet = book["Activities"]
    headers = [c.value for c in sheet[1]]
    for part in ("MOC Board", "MOC Points", "MOC Credit Types", "MOC Claim Date"):
        assert f"{part} 1" in headers and f"{part} 2" in headers
    assert "MOC attestation of compliance" in headers
    letter = sheet.cell(row=1, column=headers.index("MOC Board 1") + 1).column_letter
    [boards] = [
        v for v in sheet.data_validations.dataValidation if str(v.sqref).startswith(f"{letter}2")
    ]
    assert boards.formula1 == '"ABA,ABIM,ABOHNS,ABOS,ABP,ABPath,ABS,ABTS"'
    example = dict(zip(headers, [c.value for c in sheet[2]], strict=True))
    assert (example["MOC Board 1"], example["MOC Credit Types 1"]) == ("ABIM", "Medical Knowledge")


def test_an_edit_between_preview_and_apply_keeps_what_the_sheet_left_blank(
    engine: Engine,
) -> None:
    added(engine, grand_rounds("GR-1", **TWO_BOARDS))
    # Board 1's points left blank; board 2's points changed.
    sheet = {"MOC Board 1": "ABIM", "MOC Board 2": "ABPath", "MOC Points 2": 3}
    plan = preview(engine, xlsx(table([grand_rounds("GR-1", **sheet)])))
    assert plan.summary.updated == 1, plan.first_errors
    with session_scope(engine) as session:
        update_activity(
            session=session,
            team_id=TEAM,
            actor=ALICE,
            activity_id="GR-1",
            raw={
                "moc_boards": "ABIM:2:Medical Knowledge+Practice Assessment:2026-06-30; "
                "ABPath:2:Lifelong Learning"
            },
            now=NOW,
            today=TODAY,
        )
    result = apply(engine, plan.batch_id)
    assert result.summary.errors == 0, result.errors
    found = load(engine, "GR-1")
    assert found is not None
    assert found.moc_boards == [ABIM | {"points": "2"}, ABPATH | {"points": "3"}]
