"""The workbooks the bot writes: the template, the PARS export, the annotated copy."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.activities import create_activity
from storage.batch import annotate
from storage.batch.annotate import annotated_workbook
from storage.batch.export import default_year, export_workbook
from storage.batch.plan import clean_message
from storage.batch.preview import check_file
from storage.db import session_scope
from storage.sheets.read import read_file
from storage.sheets.workbooks import template_workbook
from tests.conftest import NOW, TODAY
from tests.storage.batch.files import grand_rounds, table, text_file, xlsx
from tests.storage.batch.helpers import ALICE, TEAM, apply, preview


def opened(data: bytes):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(data))


def test_the_template_has_pars_headers_drop_downs_instructions_and_an_example() -> None:
    book = opened(template_workbook())
    visible = [s.title for s in book.worksheets if s.sheet_state == "visible"]
    assert visible == ["Activities", "Instructions"]
    sheet = book["Activities"]
    headers = [c.value for c in sheet[1]]
    assert headers[:5] == ["Activity ID", "Title", "Format", "Delivery method", "Start date"]
    assert "AMA PRA Category 1 credits" in headers and "Status" in headers
    assert "Physician learners" in headers and "ACCME Activity ID" in headers
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[2]][:3] == [
        "EXAMPLE",
        "Medicine Grand Rounds",
        "Regularly scheduled series",
    ]
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert "Enduring material" in lists["C2"]  # Format
    assert lists["D2"] == '"In-Person,Live-Streamed,In-Person; Live-Streamed"'
    assert '"Yes,No"' in lists.values()
    assert "A blank cell leaves the stored value" in " ".join(
        str(r[0].value) for r in book["Instructions"].iter_rows()
    )


def test_the_counts_template() -> None:
    sheet = opened(template_workbook("counts"))["Learner counts"]
    assert [c.value for c in sheet[1]] == [
        "Activity ID",
        "Physician learners",
        "Other learners",
        "Counts as of",
        "Status",
    ]


def _add(engine: Engine, *records: dict) -> None:  # type: ignore[type-arg]
    batch = preview(engine, xlsx(table(list(records)))).batch_id
    result = apply(engine, batch)
    assert result.summary.errors == 0, result.errors


def _export(engine: Engine, year: int) -> bytes:
    with session_scope(engine) as session:
        return export_workbook(session=session, team_id=TEAM, year=year, today=TODAY).data


def test_the_export_holds_the_data_year_with_status_and_what_is_missing(engine: Engine) -> None:
    em = {
        "Activity ID": "EM-2024",
        "Title": "Online module",
        "Format": "Enduring material",
        "Start date": "2024-06-01",
        "End date": "2026-05-31",
    }
    _add(
        engine,
        grand_rounds(
            "GR-2025",
            **{
                "Physician learners": 1040,
                "Other learners": 212,
                "Status": "Closed",
                "ACCME Activity ID": "201234567",
            },
        ),
        grand_rounds("GR-2024", **{"Start date": "2024-01-09", "End date": "2024-12-17"}),
        em,
    )
    with session_scope(engine) as session:  # a title a CSV could carry: text, not a formula
        create_activity(
            session=session,
            team_id=TEAM,
            actor=ALICE,
            now=NOW,
            raw={
                "activity_id": "F-1",
                "title": "=cmd|' /C calc'!A0",
                "format": "rss",
                "start_date": "2025-02-01",
                "end_date": "2025-03-01",
            },
        )
    book = opened(_export(engine, 2025))
    first, missing, duplicated = book.worksheets
    rows = list(first.iter_rows(values_only=True))
    headers = rows[0]
    by_id = {r[0]: dict(zip(headers, r, strict=True)) for r in rows[1:]}
    # Started in 2025, or an enduring material open during 2025; not the 2024 series.
    assert sorted(by_id) == ["EM-2024", "F-1", "GR-2025"]
    gr = by_id["GR-2025"]
    assert gr["Status"] == "Closed" and gr["Physician learners"] == 1040
    assert gr["ACCME Activity ID"] == "201234567"
    assert gr["Format"] == "Regularly scheduled series"
    assert by_id["EM-2024"]["Status"] == "Draft"
    # Dates are real dates, shown as the importer reads them back.
    start = headers.index("Start date") + 1
    dated = first.cell(row=2, column=start)
    assert dated.is_date and dated.number_format == "yyyy-mm-dd"
    # Text that looks like a formula stays text.
    cell = next(c for c in first["B"] if c.value == "=cmd|' /C calc'!A0")
    assert cell.data_type == "s"
    needs = {r[0]: r[3] for r in missing.iter_rows(min_row=2, values_only=True)}
    assert "Description" in needs["EM-2024"]  # needed for Active
    assert "GR-2025" not in needs
    assert duplicated.title == "Probable duplicates" and duplicated.max_row == 1  # none


def test_an_export_read_back_changes_nothing(engine: Engine) -> None:
    _add(
        engine,
        grand_rounds(
            "GR-2025",
            **{
                "Physician learners": 1040,
                "Other learners": 212,
                "Status": "Closed",
                "ACCME Activity ID": "201234567",
                "Joint providers": "Univ. Hospital; State Society",
                "Providership": "Jointly provided",
                "Commercial support": "Yes",
                "Commercial supporters": "Acme Pharma:monetary:5000; Beta:in-kind",
                "Outcome measures": "Knowledge; Community/population health",
            },
        ),
        grand_rounds(
            "J-1",
            **{
                "Format": "Journal CME",
                "Delivery method": None,
                "City": None,
                "State": None,
                "Country": None,
                "AMA PRA Category 1 credits": 0.5,
                "Title": "+1 Journal; =SUM(A1)",
            },
        ),
    )
    again = preview(engine, _export(engine, 2025), "PARS export 2025.xlsx")
    assert again.summary.unchanged == 2, again.first_errors
    assert not again.changes_anything and again.unknown == [] and again.not_used == []


def test_the_default_data_year_is_last_year_until_the_end_of_march() -> None:
    assert default_year(date(2026, 3, 31)) == 2025
    assert default_year(date(2026, 4, 1)) == 2026


def test_the_annotated_copy_says_what_each_row_does_and_marks_bad_cells(engine: Engine) -> None:
    _add(engine, grand_rounds("GR-1"))
    rows = table(
        [
            grand_rounds("GR-1", City="Evanston"),
            grand_rounds("NEW-1", **{"End date": "2025-02-30"}),
            grand_rounds("NEW-2", Title="=1+1 is text"),
        ]
    )
    p = preview(engine, text_file(rows), "checked.csv")
    book = opened(p.annotate() if p.annotate else b"")
    sheet = book["checked"]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "pars-bot messages"
    messages = [sheet.cell(row=r, column=len(header)).value for r in (2, 3, 4)]
    counts = "PARS still needs for Closed: Physician learners, Other learners"
    assert messages == [
        f"updates City; {counts}",
        clean_message('End date: "2025-02-30" is not a real date'),
        f"adds this activity; {counts}",
    ]
    bad = sheet.cell(row=3, column=header.index("End date") + 1)
    assert bad.fill.fgColor.rgb.endswith("F4B6B6")
    assert bad.comment is not None and "not a real date" in bad.comment.text
    title = sheet.cell(row=4, column=header.index("Title") + 1)
    assert title.value == "=1+1 is text" and title.data_type == "s"


def test_control_characters_pasted_from_word_never_break_a_workbook(engine: Engine) -> None:
    # Word's line break is a vertical tab; an .xlsx cannot hold it, and openpyxl would refuse
    # the whole workbook. The validator refuses such a row; the annotated copy still shows it,
    # with a new line in its place.
    description = "Line one\x0bline two\x01"
    rows = table([grand_rounds("GR-1", Description=description, City="Bad\x02city\x0c")])
    p = preview(engine, text_file(rows), "pasted.csv")
    assert p.summary.errors == 1
    assert [e.split(":")[0] for e in p.first_errors] == ["row 2, City", "row 2, Description"]
    copy = opened(p.annotate() if p.annotate else b"")["pasted"]
    header = [c.value for c in copy[1]]
    assert copy.cell(row=2, column=header.index("Description") + 1).value == "Line one\nline two"


def test_control_characters_stored_before_they_were_refused_never_break_the_export(
    engine: Engine,
) -> None:
    apply(engine, preview(engine, xlsx(table([grand_rounds("GR-1")]))).batch_id)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE activity SET description = :d, city = :c"),
            {"d": "Line one\x0bline two\x01", "c": "Bad\x02city\x0c"},
        )
    export = opened(_export(engine, 2025)).worksheets[0]
    header = [c.value for c in export[1]]
    assert export.cell(row=2, column=header.index("Description") + 1).value == (
        "Line one\nline two"
    )


def test_a_file_name_excel_would_refuse_as_a_sheet_name_still_gets_its_copy(
    engine: Engine,
) -> None:
    # A CSV's sheet is named after the file; Excel refuses [ ] : * ? / \ in sheet names.
    p = preview(engine, text_file(table([grand_rounds("GR-1")])), "activities [final?].csv")
    assert opened(p.annotate() if p.annotate else b"").sheetnames == ["activities -final--"]


def test_the_copy_made_from_the_cells_kept_is_the_copy_of_the_file_read_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The preview keeps the cells compressed for the copy rather than reading the file again
    # (storage/batch/annotate.py pack_sheets); in parts of two rows here, so rows cross parts.
    monkeypatch.setattr(annotate, "_PACKED_ROWS", 2)
    activities = [
        [None, "Activity ID", "Title", "Format", "Start date", "End date", "City"],
        [None, "GR-1", "Grand Rounds ünï", "Regularly scheduled series", date(2025, 1, 7),
         date(2025, 12, 16), "Chicago"],
        [],
        [None, "GR-2", "Tumor Board", "Regularly scheduled series", "2025-02-30", None, 12.5],
        [None, "GR-3", "Short row"],
    ]  # fmt: skip
    counts = [["Activity ID", "Physician learners"], ["GR-1", 30], ["GR-9", "many"]]
    data = xlsx({"Notes": [["just notes"]], "Activities": activities, "Counts": counts})
    made = preview(engine, data, "mixed.xlsx")
    copy = opened(made.annotate() if made.annotate else b"")
    with Session(engine) as session:
        checked = check_file(
            session=session, team_id=TEAM, actor=ALICE, data=data, file_name="mixed.xlsx",
            today=TODAY,
        )  # fmt: skip
    again = opened(
        annotated_workbook(
            read_file(data, "mixed.xlsx", lazy=True), checked.read.layouts, checked.plan
        )
    )
    assert copy.sheetnames == again.sheetnames == ["Activities", "Counts"]
    for name in copy.sheetnames:
        cells = [[(c.value, c.data_type) for c in row] for row in copy[name].iter_rows()]
        assert cells == [[(c.value, c.data_type) for c in row] for row in again[name].iter_rows()]
    row = [c.value for c in copy["Activities"][2]]
    assert row[:3] == [None, "GR-1", "Grand Rounds ünï"]  # the empty first column kept


def test_a_row_with_many_problems_says_the_first_in_full_and_names_the_columns_of_the_rest(
    engine: Engine,
) -> None:
    # A row may have a problem in each of its columns, each quoting its cell: a file of such
    # rows at the limits would keep a gigabyte of messages. The first few are said in full, the
    # others by their column, in the preview and in the copy, whose cells are all marked.
    wrong = {
        "State": "Illinois",
        "Country": "Atlantis",
        "Providership": "Sort of",
        "Outcome measures": "Vibes",
        "Commercial support": "Perhaps",
    }
    p = preview(engine, xlsx(table([grand_rounds("BAD-1", **wrong), grand_rounds("OK-1")])))
    assert p.summary.errors == 1 and p.summary.added == 1
    assert p.first_errors == [
        'row 2, State: "Illinois" is not a 2-letter US state code (activity `BAD-1`)',
        'row 2, Country: "Atlantis" is not a country name or 3-letter country code '
        "(activity `BAD-1`)",
        'row 2, Providership: "Sort of" is not one of: direct, joint (activity `BAD-1`)',
        "row 2, and 2 more: Outcome measures, Commercial support (activity `BAD-1`)",
    ]
    sheet = opened(p.annotate() if p.annotate else b"").worksheets[0]
    header = [c.value for c in sheet[1]]
    message = sheet.cell(row=2, column=header.index("pars-bot messages") + 1).value
    assert message.startswith('State: "Illinois" is not a 2-letter US state code | ')
    assert message.endswith(" | and 2 more: Outcome measures, Commercial support")
    for column in wrong:
        cell = sheet.cell(row=2, column=header.index(column) + 1)
        assert cell.fill.fgColor.rgb.endswith("F4B6B6"), column
        assert cell.comment is not None
    outcome = sheet.cell(row=2, column=header.index("Outcome measures") + 1)
    assert outcome.comment.text.startswith("and 2 more: Outcome measures")
    assert sheet.cell(row=3, column=header.index("State") + 1).comment is None


def test_two_problems_marked_on_one_cell_are_both_said_in_its_comment(engine: Engine) -> None:
    data = xlsx(table([grand_rounds("BAD-1"), grand_rounds("OK-1")]))
    with Session(engine) as session:
        checked = check_file(
            session=session, team_id=TEAM, actor=ALICE, data=data, file_name="two.xlsx",
            today=TODAY,
        )  # fmt: skip
    [layout] = checked.read.layouts
    # Two problems of one column, as when a problem has no column of its own and falls back
    # to the activity's ID: neither hides the other.
    notes = {(layout.name, 2): ("", (("state", "first problem"), ("state", "second problem")), ())}
    sheet = opened(annotated_workbook(read_file(data, "two.xlsx"), [layout], notes)).worksheets[0]
    header = [c.value for c in sheet[1]]
    comment = sheet.cell(row=2, column=header.index("State") + 1).comment
    assert comment is not None
    assert "first problem" in comment.text and "second problem" in comment.text
