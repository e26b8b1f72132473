"""Filling the provider's own template with a data year, and reading the result back.

Each template is a real file built as its program writes it (templates.py); the data year is
entered through the activity service; the filled file is opened with zipfile, openpyxl and
the importer itself, which must find every activity unchanged.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.batch.export import data_years, fill_year
from storage.sheets.fill import Filled, fill_template
from storage.sheets.read import FileRefused
from storage.sheets.workbooks import template_workbook
from tests.conftest import NOW, TODAY
from tests.storage.batch.files import xlsx
from tests.storage.batch.helpers import TEAM, preview
from tests.storage.sheets.templates import (
    LAYOUT_2010,
    TEMPLATE_C,
    TEMPLATE_D,
    YEAR_IDS,
    layout_2010,
    modern_template,
    seed_year,
    template_cd,
)

YELLOW = "FFFFEB9C"


@pytest.fixture
def year(engine: Engine) -> Engine:
    seed_year(engine, TEAM, NOW, TODAY)
    return engine


def fill(engine: Engine, template: bytes, name: str) -> Filled:
    with Session(engine) as session:
        return fill_year(
            session=session, team_id=TEAM, year=2025, today=TODAY, template=template, file_name=name
        )


def open_filled(data: bytes) -> dict[str, dict[str, Cell]]:
    """Each row of the first sheet by activity ID: its cells by header."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl: "Data Validation extension is not supported"
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows())
    header_index = next(
        i for i, r in enumerate(rows) if "Provider Activity ID" in [c.value for c in r]
    )
    headers = [c.value for c in rows[header_index]]
    return {
        str(row[headers.index("Provider Activity ID")].value): {
            h: c for h, c in zip(headers, row, strict=False) if h
        }
        for row in rows[header_index + 1 :]
        if row[headers.index("Provider Activity ID")].value
    }


def highlighted(cell: Cell) -> bool:
    return cell.fill is not None and cell.fill.fgColor.rgb == YELLOW


def read_back(engine: Engine, data: bytes, name: str) -> None:
    """The importer's preview of the filled file: every activity there, unchanged."""
    shown = preview(engine, data, name)
    assert shown.first_errors == []
    assert (shown.summary.rows, shown.summary.unchanged) == (3, 3), shown.summary
    assert not shown.summary.changes_anything


def test_the_modern_template_keeps_its_drop_downs_and_gets_their_words(year: Engine) -> None:
    template = modern_template()
    filled = fill(year, template, "PARS activities template.xlsx")

    # Every part but the sheet written and the styles is the template's, byte for byte; the
    # drop-downs' extension and its lists on the hidden sheet are still there.
    before, after = zipfile.ZipFile(io.BytesIO(template)), zipfile.ZipFile(io.BytesIO(filled.data))
    assert before.namelist() == after.namelist()
    changed = {n for n in before.namelist() if before.read(n) != after.read(n)}
    assert changed == {"xl/worksheets/sheet1.xml", "xl/styles.xml"}
    sheet = after.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<x14:dataValidation ") == 5
    assert "<x14:formula1><xm:f>Lists!$A$2:$A$12</xm:f></x14:formula1>" in sheet
    assert 'mc:Ignorable="x14ac xr xr2 xr3"' in sheet
    assert '<formula1>"Yes,No"</formula1>' in sheet
    assert 'state="hidden"' in after.read("xl/workbook.xml").decode()
    assert "<f>" not in sheet  # never a formula
    styles = after.read("xl/styles.xml").decode()
    assert 'mc:Ignorable="x14ac x16r2 xr"' in styles and 'x14ac:knownFonts="1"' in styles

    rows = open_filled(filled.data)
    assert list(rows) == YEAR_IDS
    gr, conf, em = rows["GR-2025"], rows["CONF-2025"], rows["EM-2024-03"]
    # The lists' own words.
    assert gr["Activity Type"].value == "Regularly Scheduled Series"
    assert gr["Delivery Method"].value == "In-Person"
    assert em["Activity Type"].value == "Enduring Material"
    assert gr["Providership"].value == "Directly Provided"  # a list by a defined name
    assert conf["Providership"].value == "Jointly Provided"
    assert (gr["CME Finder"].value, conf["CME Finder"].value) == ("No", "Yes")
    assert gr["Outcome Measures"].value == "Learner Knowledge"
    assert conf["Commercial Support Received"].value == "Yes"
    assert conf["MOC Board 1"].value == "ABIM" and not highlighted(conf["MOC Board 1"])
    # Cells of their kind: dates, numbers, text, never a formula.
    assert gr["Start Date"].value == datetime(2025, 1, 7) and gr["Start Date"].is_date
    assert gr["End Date"].value == datetime(2025, 12, 16) and gr["End Date"].is_date
    assert gr["Start Date"].number_format == "mm/dd/yyyy"  # the column's own date format
    assert gr["AMA PRA Category 1 Credits Designated"].value == 52
    assert conf["AMA PRA Category 1 Credits Designated"].value == 12.5
    assert gr["Activity Title"].value == "=Heart & Lung Grand Rounds"
    assert gr["Activity Title"].data_type == "s"
    assert gr["ACCME Activity ID"].value == "201234567"
    # Numbered groups, in order.
    assert (conf["Commercial Supporter 1"].value, conf["Amount 1"].value) == ("Acme Pharma", 5000)
    assert (conf["Commercial Supporter 2"].value, conf["Amount 2"].value) == ("Beta Devices", None)
    assert (conf["MOC Points 1"].value, conf["MOC Credit Type 1"].value) == (
        10,
        "Medical Knowledge",
    )
    assert conf["MOC Board 2"].value == "ABP" and not highlighted(conf["MOC Board 2"])
    assert gr["MOC Board 1"].value is None and gr["MIPS"].value is None
    assert conf["MIPS"].value == "Yes" and not highlighted(conf["MIPS"])
    # What fits no entry: as the bot has it, highlighted, and reported.
    # Both methods, in a one-entry list: as the bot has it, highlighted.
    assert conf["Delivery Method"].value == "In-Person; Live-Streamed"
    assert highlighted(conf["Delivery Method"]) and not highlighted(gr["Delivery Method"])
    # A fee is whether there is one: the list's own words, nothing to highlight.
    assert conf["Fee"].value == "No, it's free" and not highlighted(conf["Fee"])
    assert conf["Outcome Measures"].value == "Learner Knowledge; Patient Health"
    assert em["Outcome Measures"].value == "Learner Knowledge; Learner Competence"
    assert highlighted(em["Outcome Measures"])  # two entries in a one-entry cell

    report = filled.report
    assert (report.sheet, report.activities) == ("Activities", 3)
    assert conf["Commendation Criteria"].value == "Engages Teams; Improves Performance"
    assert report.empty_columns == ["State Content Tags"]
    assert [(m.activity_id, m.column, m.value) for m in report.misfits] == [
        ("EM-2024-03", "Outcome Measures", "Learner Knowledge; Learner Competence"),
        ("CONF-2025", "Delivery Method", "In-Person; Live-Streamed"),
        ("CONF-2025", "Outcome Measures", "Learner Knowledge; Patient Health"),
    ]
    # Both delivery methods, two measures: entries of the list, several in a one-entry cell.
    assert [m.several for m in report.misfits] == [True, True, True]
    read_back(year, filled.data, "PARS activities filled.xlsx")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            TEMPLATE_C,
            {
                "Activity Type": ["EM", "RSS", "Live course"],
                "Activity Date": [
                    datetime(2024, 6, 1),
                    datetime(2025, 1, 7),
                    datetime(2025, 3, 14),
                ],
                "Template C": [None, None, None],
            },
        ),
        (
            TEMPLATE_D,
            {
                "# of Physicians": [310, 1040, None],
                "Status": ["Ready to Close"] * 3,
            },
        ),
    ],
)
def test_template_c_and_d_are_filled_by_their_headers(
    year: Engine, headers: list[str], expected: dict[str, list[object]]
) -> None:
    filled = fill(year, template_cd(headers), f"{headers[0]}.xlsx")
    sheet = load_workbook(io.BytesIO(filled.data)).active
    assert [c.value for c in sheet[1]] == headers
    columns = {
        h: [sheet.cell(row=r, column=headers.index(h) + 1).value for r in (2, 3, 4)]
        for h in expected
    }
    assert columns == expected
    # Template C's list of activity-type codes is still there.
    assert len(sheet.data_validations.dataValidation) == (1 if headers is TEMPLATE_C else 0)
    assert filled.report.empty_columns == [
        h for h in headers if h in {"Template C", "Template D", "Hours of Instruction"}
    ]
    if headers is TEMPLATE_C:
        # A hybrid live course has no code of its own (C is in person, IL live-streamed).
        [misfit] = filled.report.misfits
        assert (misfit.activity_id, misfit.column, misfit.value) == (
            "CONF-2025",
            "Activity Type",
            "Live course",
        )
        assert sheet.cell(row=4, column=4).fill.fgColor.rgb == YELLOW
    read_back(year, filled.data, f"{headers[0]} filled.xlsx")


def test_the_2010_layout_is_filled_as_tab_delimited_text(year: Engine) -> None:
    filled = fill(year, layout_2010(), "PARS 2010 layout.txt")
    assert filled.is_text
    lines = filled.data.decode().split("\r\n")
    assert lines[0].split("\t") == LAYOUT_2010
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:] if line}
    assert list(rows) == YEAR_IDS
    conf = dict(zip(LAYOUT_2010, rows["CONF-2025"], strict=True))
    assert len(rows["CONF-2025"]) == len(LAYOUT_2010) == 44
    assert (conf["Start Date"], conf["End Date"]) == ("03/14/2025", "03/15/2025")
    assert conf["AMA PRA Category 1 Credits"] == "12.5"
    # The repeated supporter block, one supporter per block, in order.
    blocks = [rows["CONF-2025"][14 + 8 * i : 22 + 8 * i] for i in range(3)]
    assert blocks == [
        ["Acme Pharma", "Yes", "5000", "No", "", "", "", ""],
        ["Beta Devices", "No", "", "Yes", "", "", "", ""],
        [""] * 8,
    ]
    gr = dict(zip(LAYOUT_2010, rows["GR-2025"], strict=True))
    assert (gr["Physicians"], gr["Other Learners"]) == ("1040", "212")
    assert gr["Hours of Instruction"] == "" and gr["Reporting Year"] == ""
    assert "In-Kind: Equipment (×3)" in filled.report.empty_columns
    assert "Designed to Change Competence" in filled.report.empty_columns
    assert "Reporting Year" in filled.report.empty_columns
    read_back(year, filled.data, "PARS 2010 filled.txt")


def test_data_years_are_the_years_with_activities(year: Engine) -> None:
    with Session(year) as session:
        # The enduring material of 2024-2026 is open in each of its years.
        assert data_years(session, TEAM) == [2026, 2025, 2024]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"PK\x03\x04 not really", "t.xlsx", "t.xlsx is damaged"),
        (b"%PDF-1.4", "t.pdf", "t.pdf is not a template the bot can fill"),
        (xlsx([["Notes"], ["nothing here"]]), "t.xlsx", "I couldn't find a header row in t.xlsx"),
        (
            xlsx([["Activity ID", "Title", "Format"], ["GR-1", "Rounds", "rss"]]),
            "t.xlsx",
            "t.xlsx already holds activities (row 2 of sheet 'Activities')",
        ),
    ],
)
def test_a_file_that_is_no_blank_template_is_refused_with_the_reason(
    data: bytes, name: str, message: str
) -> None:
    with pytest.raises(FileRefused) as refused:
        fill_template(data, name, [])
    assert message in refused.value.message


def test_the_worked_example_of_the_bot_s_own_template_is_replaced(year: Engine) -> None:
    filled = fill(year, template_workbook(), "activities template.xlsx")
    sheet = load_workbook(io.BytesIO(filled.data)).active
    assert [sheet.cell(row=r, column=1).value for r in (2, 3, 4, 5)] == [*YEAR_IDS, None]
    read_back(year, filled.data, "activities filled.xlsx")


def test_an_excel_table_over_the_header_takes_in_the_rows_written(year: Engine) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Activity ID", "Title", "Format", "Start date", "End date"])
    sheet.append([None] * 5)  # Excel's tables hold at least one row
    sheet.add_table(Table(displayName="Activities", ref="A1:E2"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    filled = fill(year, buffer.getvalue(), "table.xlsx")
    table = load_workbook(io.BytesIO(filled.data)).active.tables["Activities"]
    assert table.ref == "A1:E4"
    assert table.autoFilter.ref == "A1:E4"
    read_back(year, filled.data, "table filled.xlsx")


def prefixed(data: bytes) -> bytes:
    """The workbook with its sheet's elements written `x:row`, `x:c`..., as the Open XML SDK
    writes them."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            payload = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = payload.decode()
                xml = re.sub(r"<(/?)(?![?\w]+:)(\w+)", r"<\1x:\2", xml)
                xml = xml.replace(' xmlns="http', ' xmlns:x="http', 1)
                payload = xml.encode()
            target.writestr(item, payload)
    return out.getvalue()


def test_a_sheet_written_with_a_namespace_prefix_is_filled_in_kind(year: Engine) -> None:
    template = prefixed(template_cd(TEMPLATE_C))
    assert (
        "<x:sheetData>"
        in zipfile.ZipFile(io.BytesIO(template)).read("xl/worksheets/sheet1.xml").decode()
    )
    filled = fill(year, template, "prefixed.xlsx")
    sheet_xml = zipfile.ZipFile(io.BytesIO(filled.data)).read("xl/worksheets/sheet1.xml").decode()
    assert '<x:row r="2">' in sheet_xml and "<x:is><x:t>EM-2024-03</x:t></x:is>" in sheet_xml
    sheet = load_workbook(io.BytesIO(filled.data)).active
    assert [sheet.cell(row=r, column=2).value for r in (2, 3, 4)] == YEAR_IDS
    read_back(year, filled.data, "prefixed filled.xlsx")


def test_a_template_with_a_damaged_sheet_part_is_refused_in_words() -> None:
    source = zipfile.ZipFile(io.BytesIO(template_cd(TEMPLATE_C)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            payload = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # Readable to calamine up to the rows, broken after them.
                payload = payload.replace(b"</sheetData>", b"</sheetData><dataValidations><x")
            target.writestr(item, payload)
    with pytest.raises(FileRefused) as refused:
        fill_template(out.getvalue(), "broken.xlsx", [])
    assert "Sheet 'Template C' of broken.xlsx could not be filled" in refused.value.message
