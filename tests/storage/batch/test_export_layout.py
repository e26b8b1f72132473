"""The export as a coordinator opens it: owners by name, columns that fit, the header row
frozen with a filter, dates as dates; and read back, it still changes nothing."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.engine import Engine

from storage import reminders
from storage.batch.export import export_tsv, export_workbook
from storage.db import session_scope
from storage.sheets.fill import tsv_bytes
from storage.sheets.headers import find_columns
from storage.sheets.read import read_file
from storage.sheets.tables import MAX_WIDTH, MIN_WIDTH
from tests.conftest import NOW, TODAY
from tests.storage.batch.files import grand_rounds, table, xlsx
from tests.storage.batch.helpers import ADMIN, TEAM, apply, preview

LONG_TITLE = "Interdisciplinary Case Conference on Anticoagulation in the Elderly " * 3


def _add(engine: Engine, *records: dict) -> None:  # type: ignore[type-arg]
    # An admin's file: it gives activities to owners, then counts them.
    batch = preview(engine, xlsx(table(list(records))), actor=ADMIN).batch_id
    result = apply(engine, batch, actor=ADMIN)
    assert result.summary.errors == 0, result.errors


def _named(engine: Engine, user_id: str, real_name: str | None) -> None:
    with session_scope(engine) as session:
        reminders.note_member(
            session=session, team_id=TEAM, user_id=user_id, now=NOW, real_name=real_name
        )


def _office(engine: Engine) -> None:
    """Three activities of three owners: one named, one with a name like a formula, and one
    the bot knows only by ID; two of them probably the same activity entered twice."""
    _add(
        engine,
        grand_rounds(
            "GR-2025",
            **{
                "Owner": "U0JANE",
                "Physician learners": 1040,
                "Other learners": 212,
                "Counts as of": date(2025, 12, 16),
            },
        ),
        grand_rounds("GR-2025B", **{"Owner": "U0EVIL"}),
        grand_rounds("EM-1", **{"Title": LONG_TITLE, "Owner": "U0NONAME"}),
    )
    _named(engine, "U0JANE", "Jane Whitfield")
    _named(engine, "U0EVIL", '=HYPERLINK("http://evil.example","x")')
    _named(engine, "U0NONAME", None)


def _export(engine: Engine) -> bytes:
    with session_scope(engine) as session:
        return export_workbook(session=session, team_id=TEAM, year=2025, today=TODAY).data


def _by_id(sheet: Worksheet) -> dict[str, dict[str, object]]:
    rows = list(sheet.iter_rows(values_only=True))
    return {str(r[0]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}


def _row(sheet: Worksheet, activity_id: str) -> int:
    return next(c.row for c in sheet["A"] if c.value == activity_id)


def _column(sheet: Worksheet, header: str) -> int:
    return [c.value for c in sheet[1]].index(header) + 1


def test_owners_are_shown_by_their_real_name_beside_their_slack_id(engine: Engine) -> None:
    _office(engine)
    sheet = load_workbook(io.BytesIO(_export(engine))).worksheets[0]
    rows = _by_id(sheet)
    assert rows["GR-2025"]["Owner"] == "Jane Whitfield"
    assert rows["GR-2025"]["Owner Slack ID"] == "U0JANE"
    # No name known: the ID, as before.
    assert rows["EM-1"]["Owner"] == "U0NONAME"
    # A Slack name that looks like a formula is text, never a formula.
    evil = sheet.cell(row=_row(sheet, "GR-2025B"), column=_column(sheet, "Owner"))
    assert evil.value == '=HYPERLINK("http://evil.example","x")' and evil.data_type == "s"


def test_every_sheet_is_a_table_with_fitted_columns_a_frozen_header_and_a_filter(
    engine: Engine,
) -> None:
    _office(engine)
    book = load_workbook(io.BytesIO(_export(engine)))
    activities, missing, duplicated = book.worksheets
    assert missing.max_row >= 2 and duplicated.max_row == 3  # GR-2025 and GR-2025B
    for sheet in book.worksheets:
        last = sheet.cell(row=1, column=sheet.max_column).column_letter
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", sheet.title
        for column in range(1, sheet.max_column + 1):
            letter = sheet.cell(row=1, column=column).column_letter
            width = sheet.column_dimensions[letter].width
            assert MIN_WIDTH <= width <= MAX_WIDTH, (sheet.title, letter, width)

    def width(header: str) -> float:
        letter = activities.cell(row=1, column=_column(activities, header)).column_letter
        return activities.column_dimensions[letter].width

    # Sized to what the column holds: a title is wide (up to the bound), a state narrow,
    # the description as wide as "Weekly case conference", the owner as her name.
    assert width("Title") == MAX_WIDTH
    assert width("State") == MIN_WIDTH
    assert len("Weekly case conference") < width("Description") < MAX_WIDTH
    assert width("Owner") >= len("Jane Whitfield")
    # A date column is wide enough to show the date rather than ####.
    assert width("Start date") >= len("2025-01-07")


def test_dates_are_date_cells_on_every_sheet(engine: Engine) -> None:
    _office(engine)
    book = load_workbook(io.BytesIO(_export(engine)))
    activities, _missing, duplicated = book.worksheets
    counted = _row(activities, "GR-2025")
    for header in ("Start date", "End date", "Counts as of"):
        cell = activities.cell(row=counted, column=_column(activities, header))
        assert cell.is_date and cell.number_format == "yyyy-mm-dd", header
    as_of = activities.cell(row=counted, column=_column(activities, "Counts as of"))
    assert as_of.value.date() == date(2025, 12, 16)
    started = duplicated.cell(row=2, column=_column(duplicated, "Start date"))
    assert started.is_date and started.value.date() == date(2025, 1, 7)


def test_an_export_with_owners_read_back_changes_nothing(engine: Engine) -> None:
    _office(engine)
    again = preview(engine, _export(engine), "PARS export 2025.xlsx", actor=ADMIN)
    assert again.summary.unchanged == 3, again.first_errors
    assert not again.changes_anything and again.unknown == [] and again.not_used == []


def test_a_changed_owner_slack_id_in_the_export_is_read(engine: Engine) -> None:
    _office(engine)
    sheet = load_workbook(io.BytesIO(_export(engine)))
    activities = sheet.worksheets[0]
    activities.cell(row=2, column=_column(activities, "Owner Slack ID")).value = "U0BOB"
    edited = io.BytesIO()
    sheet.save(edited)
    again = preview(engine, edited.getvalue(), "PARS export 2025.xlsx", actor=ADMIN)
    assert again.summary.errors == 0 and again.summary.unchanged == 2, again.first_errors
    assert again.changes_anything


def test_owner_alone_is_still_read_as_the_owner_s_slack_id() -> None:
    # The template's column, and every export written before names were shown.
    alone = find_columns([["Activity ID", "Title", "Owner"]])
    assert alone is not None and alone.targets[2] == "owner_user_id"
    both = find_columns([["Activity ID", "Owner", "Owner Slack ID"]])
    assert both is not None and both.targets == {0: "activity_id", 2: "owner_user_id"}
    assert both.unknown == [] and both.repeated == [] and both.not_used == []


def test_the_tab_delimited_export_keeps_a_formula_like_name_as_text(engine: Engine) -> None:
    _office(engine)
    with session_scope(engine) as session:
        data = export_tsv(session=session, team_id=TEAM, year=2025, today=TODAY).data
    lines = list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), dialect="excel-tab"))
    rows = {r[0]: dict(zip(lines[0], r, strict=True)) for r in lines[1:]}
    # The apostrophe a spreadsheet shows a text that begins like a formula with.
    assert rows["GR-2025B"]["Owner"] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows["GR-2025"]["Owner"] == "Jane Whitfield"
    assert rows["GR-2025B"]["Start date"] == "01/07/2025"


def test_tab_delimited_text_reads_back_as_written_whatever_it_begins_with() -> None:
    texts = ["=SUM(A1)", "'=x", "'quoted", "-5 mg", "plain", "''"]
    data = tsv_bytes([["Title"], *([t] for t in texts)])
    assert data.decode("utf-8").splitlines()[1:3] == ["'=SUM(A1)", "''=x"]
    [sheet] = read_file(data, "export.tsv")
    assert [row[0] for row in sheet.rows[1:]] == texts
    # A CSV is the office's own file, never the export's: its apostrophes stay.
    [sheet] = read_file(b"Title\n'+1 555\n", "office.csv")
    assert sheet.rows[1] == ["'+1 555"]
