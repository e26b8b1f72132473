"""Reading every kind of spreadsheet file, and refusing the ones that can't be used."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

import pytest
import python_calamine

from storage.sheets.read import FileRefused, Limits, kind_of, read_file
from tests.storage.batch.files import FIXTURES, ods, text_file, with_cached_formula, xlsx

ROWS = [
    ["Activity ID", "Title", "Start date", "Physicians"],
    ["GR-1", "Grand Rounds", date(2025, 1, 7), 1040.0],
    ["GR-2", "Tumor Board", datetime(2025, 2, 3, 0, 0), 12],
]
EXPECTED = [
    ["Activity ID", "Title", "Start date", "Physicians"],
    ["GR-1", "Grand Rounds", "2025-01-07", "1040"],
    ["GR-2", "Tumor Board", "2025-02-03", "12"],
]


@pytest.mark.parametrize("name", ["activities.xlsx", "activities.xlsm"])
def test_an_excel_workbook_gives_dates_and_whole_numbers_as_typed(name: str) -> None:
    [sheet] = read_file(xlsx(ROWS), name)
    assert sheet.name == "Activities"
    assert sheet.rows == EXPECTED


def test_a_legacy_xls_workbook_is_read() -> None:
    [sheet] = read_file((FIXTURES / "activities.xls").read_bytes(), "old.xls")
    assert sheet.rows[1] == [
        "XLS-1",
        "Legacy Grand Rounds",
        "RSS",
        "2025-01-07",
        "2025-12-16",
        "1040",
    ]


def test_an_opendocument_spreadsheet_is_read() -> None:
    [sheet] = read_file(ods(ROWS), "activities.ods")
    assert sheet.rows == EXPECTED


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")]
)
def test_csv_in_utf8_with_or_without_bom_or_windows_1252(encoding: str, bom: bytes) -> None:
    rows = [["Activity ID", "Title"], ["GR-1", "Médecine – Grand Rounds"]]
    [sheet] = read_file(bom + text_file(rows, encoding=encoding), "export.csv")
    assert sheet.rows == rows


def test_a_csv_with_semicolons_as_european_excel_writes_it() -> None:
    data = text_file([["Activity ID", "Title"], ["GR-1", "Rounds, weekly"]], delimiter=";")
    assert read_file(data, "a.csv")[0].rows[1] == ["GR-1", "Rounds, weekly"]


@pytest.mark.parametrize("name", ["legacy.txt", "legacy.tsv"])
def test_tab_delimited_text(name: str) -> None:
    data = text_file([["Activity ID", "Title"], ["GR-1", "Rounds, weekly"]], delimiter="\t")
    assert read_file(data, name)[0].rows == [["Activity ID", "Title"], ["GR-1", "Rounds, weekly"]]


def test_numbers_typed_as_text_keep_their_text_for_the_field_to_read() -> None:
    [sheet] = read_file(text_file([["ID", "Physicians"], ["GR-1", "1,040"]]), "a.csv")
    assert sheet.rows[1] == ["GR-1", "1,040"]


def test_a_formula_is_read_as_the_value_excel_last_computed() -> None:
    data = with_cached_formula(
        xlsx([["Activity ID", "Title"], ["GR-1", "x"]]),
        "B2",
        'CONCAT("Grand ","Rounds")',
        "Grand Rounds",
    )
    assert read_file(data, "a.xlsx")[0].rows[1] == ["GR-1", "Grand Rounds"]


def test_rows_keep_the_numbers_the_spreadsheet_shows_after_blank_top_rows() -> None:
    data = xlsx([[], [], ["Activity ID", "Title"], ["GR-1", "Rounds"]])
    rows = read_file(data, "a.xlsx")[0].rows
    assert rows[3] == ["GR-1", "Rounds"]  # row 4 in Excel


def test_only_spreadsheets_are_ours() -> None:
    assert kind_of("Budget.XLSX") == "xlsx"
    assert kind_of("notes.tsv") == "tsv"
    assert kind_of("photo.png") is None
    assert kind_of("agenda.pdf") is None
    assert kind_of("README") is None


# -- refusals, before parsing -----------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused() -> None:
    with pytest.raises(FileRefused, match=r"batch files may be at most"):
        read_file(b"x" * 2000, "big.csv", Limits(max_bytes=1000))


def test_more_rows_than_the_limit_are_refused_for_text_and_workbooks() -> None:
    rows = [["Activity ID"]] + [[f"A-{i}"] for i in range(10)]
    for data, name in ((text_file(rows), "a.csv"), (xlsx(rows), "a.xlsx")):
        with pytest.raises(FileRefused, match="more than 5 rows"):
            read_file(data, name, Limits(max_rows=5))


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_by_its_total_size() -> None:
    bomb = _zip({f"xl/part{i}.xml": b"<a/>" * 100_000 for i in range(5)})
    with pytest.raises(FileRefused, match="would unpack to"):
        read_file(bomb, "bomb.xlsx", Limits(max_uncompressed=1024 * 1024))


def test_a_zip_bomb_is_refused_by_its_compression_ratio() -> None:
    bomb = _zip({"xl/worksheets/sheet1.xml": b"\0" * (20 * 1024 * 1024)})
    with pytest.raises(FileRefused, match="zip bomb"):
        read_file(bomb, "bomb.ods")


def test_a_workbook_that_is_not_what_its_name_says() -> None:
    with pytest.raises(FileRefused, match=r"not a \.xlsx workbook, whatever its name says"):
        read_file(text_file([["Activity ID"], ["A"]]), "really-a-csv.xlsx")
    with pytest.raises(FileRefused, match=r"not an \.xls workbook"):
        read_file(xlsx([["Activity ID"]]), "new.xls")


def test_an_encrypted_workbook_gets_a_clear_message() -> None:
    # Excel saves a password-protected .xlsx as an OLE container, like an old .xls.
    data = (FIXTURES / "activities.xls").read_bytes()
    with pytest.raises(FileRefused, match="password-protected"):
        read_file(data, "secret.xlsx")


def test_a_corrupt_workbook_gets_a_clear_message() -> None:
    with pytest.raises(FileRefused, match="damaged"):
        read_file(b"PK\x03\x04" + b"garbage" * 50, "broken.xlsx")
    with pytest.raises(FileRefused, match=r"not-a-workbook\.xlsx is not an Excel workbook"):
        read_file(_zip({"hello.txt": b"hi"}), "not-a-workbook.xlsx")


def test_a_damaged_text_file_gets_a_clear_message() -> None:
    # A cell longer than any spreadsheet allows: the csv module's own error, said plainly.
    huge = b'Activity ID\tTitle\nA-1\t"' + b"x" * 200_000 + b'"\n'
    with pytest.raises(FileRefused, match=r"big\.txt could not be read as tab-delimited text"):
        read_file(huge, "big.txt")
    with pytest.raises(FileRefused, match=r"big\.csv could not be read as CSV \(line 2"):
        read_file(huge.replace(b"\t", b","), "big.csv")


def test_a_table_that_starts_further_right_keeps_its_column_letters() -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active["C3"] = "Activity ID"
    workbook.active["D4"] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read_file(buffer.getvalue(), "a.xlsx")[0].rows
    assert rows[2][2] == "Activity ID" and rows[3][3] == "x"


def test_the_rows_an_xlsx_declares_are_counted_before_it_is_parsed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = xlsx([["Activity ID"]] + [[f"A-{i}"] for i in range(10)])

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed before the row limit was checked")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", never)
    with pytest.raises(FileRefused, match="more than 5 rows"):
        read_file(data, "a.xlsx", Limits(max_rows=5))


def test_a_cell_formatted_far_down_is_no_reason_to_refuse() -> None:
    # Office files often keep a cleared range styled: the sheet declares A1:B150000 though
    # it holds two rows of data.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.active.append(["Activity ID", "Title"])
    workbook.active.append(["A-1", "Grand Rounds"])
    workbook.active["B150000"].font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    [sheet] = read_file(buffer.getvalue(), "a.xlsx")
    assert [r for r in sheet.rows if any(r)] == [["Activity ID", "Title"], ["A-1", "Grand Rounds"]]


# -- sizes in refusals: the comparison must read true -----------------------------------------


def _figures(message: str) -> list[float]:
    """The sizes a refusal names, in bytes, in the order it names them."""
    units = {"bytes": 1, "MB": 1024 * 1024}
    found = re.findall(r"([\d,]+(?:\.\d+)?) (bytes|MB)\b", message)
    return [float(number.replace(",", "")) * units[unit] for number, unit in found]


@pytest.mark.parametrize("over", [1, 1024, 60 * 1024])
def test_a_zip_bomb_refusal_names_a_size_larger_than_the_limit(over: int) -> None:
    limit = 1024 * 1024
    bomb = _zip({"xl/workbook.xml": b"x" * (limit + over)})
    with pytest.raises(FileRefused) as refused:
        read_file(bomb, "bomb.xlsx", Limits(max_uncompressed=limit, max_ratio=10**9))
    size, most = _figures(refused.value.message)[:2]
    assert size > most, refused.value.message
    assert most == limit


@pytest.mark.parametrize("over", [1, 40 * 1024])
def test_a_file_over_the_size_limit_names_a_size_larger_than_the_limit(over: int) -> None:
    limit = 20 * 1024 * 1024
    with pytest.raises(FileRefused) as refused:
        read_file(b"x" * (limit + over), "big.csv")
    size, most = _figures(refused.value.message)[:2]
    assert size > most, refused.value.message
    assert most == limit


def test_the_default_limits_are_whole_megabytes_in_words() -> None:
    bomb = _zip({"xl/workbook.xml": b"x" * (2 * 1024 * 1024 + 1)})
    with pytest.raises(FileRefused, match=r"over the 1 MB a batch file may hold"):
        read_file(bomb, "bomb.xlsx", Limits(max_uncompressed=1024 * 1024, max_ratio=10**9))


# -- a file must be what its name says --------------------------------------------------------


def test_an_excel_workbook_renamed_ods_is_refused_saying_what_it_is() -> None:
    with pytest.raises(FileRefused) as refused:
        read_file(xlsx(ROWS), "activities.ods")
    assert "activities.ods is not an OpenDocument spreadsheet (.ods)" in refused.value.message
    assert "it is an Excel workbook: rename it to .xlsx" in refused.value.message


def test_an_ods_renamed_xlsx_is_refused_saying_what_it_is() -> None:
    with pytest.raises(FileRefused) as refused:
        read_file(ods(ROWS), "activities.xlsx")
    assert "activities.xlsx is not an Excel workbook (.xlsx)" in refused.value.message
    assert "it is an OpenDocument spreadsheet: rename it to .ods" in refused.value.message


def test_a_zip_that_is_no_spreadsheet_is_refused_by_its_content() -> None:
    with pytest.raises(FileRefused, match=r"report\.ods is not an OpenDocument spreadsheet"):
        read_file(_zip({"word/document.xml": b"<w/>"}), "report.ods")


@pytest.mark.parametrize(
    ("name", "kind"), [("a.xlsx", "xlsx"), ("a.xlsm", "xlsm"), ("a.ods", "ods"), ("a.xls", "xls")]
)
def test_real_files_of_every_kind_are_still_read(name: str, kind: str) -> None:
    data = {
        "xlsx": xlsx(ROWS),
        "xlsm": xlsx(ROWS),
        "ods": ods(ROWS),
        "xls": (FIXTURES / "activities.xls").read_bytes(),
    }[kind]
    [sheet] = read_file(data, name)
    assert sheet.rows[0][0] in {"Activity ID", "Provider Activity ID"}
