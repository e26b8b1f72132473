"""Workbooks within the size limits that would still take gigabytes to read (issue 12, item 3).

python-calamine builds a whole sheet in memory before it hands over a row: the cells are
counted in the file's XML first, and a workbook over a limit is refused before it is parsed.
Each test makes parsing fail loudly (`never_parsed`), so a file that slipped past the counting
shows as a failure here rather than as gigabytes taken (or a process aborted) in CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import python_calamine

from storage.sheets.read import FileRefused, Limits, read_file
from tests.storage.batch.files import (
    dense_rows,
    dense_xlsx,
    raw_ods,
    raw_xlsx,
    xls_with_cell_at,
    xlsx,
)


@pytest.fixture
def never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(*args: object, **kwargs: object) -> None:
        # pytest.fail is no Exception: the reader's own `except Exception` cannot hide it.
        pytest.fail("the workbook was handed to python-calamine")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", parse)


SMALL = Limits(max_cells=100_000)


def test_a_dense_sheet_under_a_lying_dimension_is_refused_by_its_cells(never_parsed: None) -> None:
    # The shape of the 17 MB file (1,500 rows of 16,000 numbers, declared A1:B1), cut
    # down: 60 rows of 5,000 numbers.
    data = dense_xlsx(60, 5000)
    with pytest.raises(FileRefused) as refused:
        read_file(data, "dense.xlsx", SMALL)
    assert refused.value.message.startswith("dense.xlsx has more than 100,000 cells")
    assert "Split it" in refused.value.message


def test_cells_are_counted_whatever_prefix_or_form_they_are_written_in(never_parsed: None) -> None:
    cells = b"".join(b'<x:c r="%s1"><x:v>1</x:v></x:c>' % col.encode() for col in "ABCDEFGHIJ")
    prefixed = raw_xlsx([b'<x:row r="1">' + cells + b"</x:row>"] * 20)
    with pytest.raises(FileRefused, match="more than 100 cells"):
        read_file(prefixed, "prefixed.xlsx", Limits(max_cells=100))
    spaced = raw_xlsx([b"<row>" + b"<c\n  t='n'><v>1</v></c>" * 200 + b"</row>"])
    with pytest.raises(FileRefused, match="more than 100 cells"):
        read_file(spaced, "spaced.xlsx", Limits(max_cells=100))


def test_a_sheet_kept_where_no_sheet_is_kept_is_counted_too(never_parsed: None) -> None:
    data = raw_xlsx(dense_rows(30, 10), sheet_part="/data/numbers.xml")
    with pytest.raises(FileRefused, match="more than 100 cells"):
        read_file(data, "moved.xlsx", Limits(max_cells=100))


def test_two_cells_far_apart_are_refused_by_the_cells_they_span(never_parsed: None) -> None:
    # 1.6 KB: python-calamine would allocate 10 GB of empty cells for it and abort.
    data = raw_xlsx(
        [
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>Activity ID</t></is></c></row>',
            b'<row r="20000"><c r="XFD20000"><v>1</v></c></row>',
        ]
    )
    with pytest.raises(FileRefused) as refused:
        read_file(data, "sparse.xlsx")
    message = refused.value.message
    assert "sheet 'Activities' spans 20,000 rows by 16,384 columns (to cell XFD20000, " in message
    assert "more than the 3,000,000 cells a batch file may hold" in message


def test_a_far_cell_without_references_is_placed_where_the_reader_would_put_it(
    never_parsed: None,
) -> None:
    # No cell reference: each empty <c/> moves one column right, as the reader counts them.
    row = b"<row>" + b"<c/>" * 2000 + b"<c><v>1</v></c></row>"
    data = raw_xlsx([b"<row><c><v>1</v></c></row>"] + [b"<row/>"] * 100 + [row])
    with pytest.raises(FileRefused, match=r"spans 102 rows by 2,001 columns"):
        read_file(data, "implicit.xlsx", Limits(max_cells=100_000))


def test_a_long_text_shared_by_many_cells_counts_once_for_each(never_parsed: None) -> None:
    # 40 KB of shared text in 10,000 cells: the reader would copy it 10,000 times (400 MB).
    def row(number: int) -> bytes:
        cells = b"".join(
            b'<c r="%s%d" t="s"><v>0</v></c>' % (bytes([c]), number) for c in b"ABCDEFGHIJ"
        )
        return b'<row r="%d">%s</row>' % (number, cells)

    data = raw_xlsx((row(n) for n in range(1, 1001)), shared=["x" * 40_000])
    with pytest.raises(FileRefused) as refused:
        read_file(data, "shared.xlsx")
    assert "would hold more than 100 MB of text in its cells" in refused.value.message


def _shared_rows(cell: bytes, rows: int) -> list[bytes]:
    """`rows` rows of one cell, `cell` formatted with the row number (a shared text's index 0
    in column A, then index 1 in column B)."""
    return [b'<row r="%d">' % n + cell.replace(b"#", b"%d" % n) + b"</row>" for n in range(1, rows)]


@pytest.mark.parametrize(
    "cell",
    [
        b'<c r="A#" t="s"><v>1</v></c><c r="B#" s="1" t="s"><v>0</v></c>',  # as Excel writes
        b'<c r="A#" t="s"><v>1</v></c><c r="B#" t="s" s="1"><v>0</v></c>',  # type first
        b"<x:c t='s'><x:v>1</x:v></x:c><x:c t = 's'><x:v> 0 </x:v></x:c>",  # any other form
    ],
)
def test_shared_texts_are_counted_however_the_cells_are_written(
    cell: bytes, never_parsed: None
) -> None:
    data = raw_xlsx(_shared_rows(cell, 101), shared=["y" * 1000, "ok"])
    with pytest.raises(FileRefused, match=r"more than 0\.1 MB of text"):
        read_file(data, "texts.xlsx", Limits(max_text=100 * 1024))


def test_a_long_shared_text_used_once_is_no_reason_to_refuse() -> None:
    # The quick bound (every cell as long as the longest text) says no; counting says yes.
    cell = b'<c r="A#" t="s"><v>1</v></c><c r="B#" t="s"><v>1</v></c>'
    rows = [b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>', *_shared_rows(cell, 200)[1:]]
    data = raw_xlsx(rows, shared=["y" * 20_000, "ok"])
    [sheet] = read_file(data, "texts.xlsx", Limits(max_text=100 * 1024))
    assert sheet.rows[0][0] == "y" * 20_000 and sheet.rows[-1] == ["ok", "ok"]


def test_an_ordinary_workbook_within_the_limits_is_read_as_before() -> None:
    rows = [["Activity ID", "Title"]] + [[f"A-{i}", "Grand Rounds " * 20] for i in range(200)]
    [sheet] = read_file(xlsx(rows), "a.xlsx", Limits(max_cells=402, max_text=60_000))
    assert sheet.rows[200] == ["A-199", ("Grand Rounds " * 20).strip()]


def test_a_dense_sheet_within_the_limit_is_read_with_every_cell() -> None:
    [sheet] = read_file(dense_xlsx(20, 50), "dense.xlsx", Limits(max_cells=1050))
    assert len(sheet.rows) == 21 and {len(r) for r in sheet.rows[1:]} == {50}
    assert sheet.rows[0][0] == "Activity ID"


def test_a_formatted_empty_cell_far_away_does_not_count_as_spanned() -> None:
    # Office files keep a cleared range styled: <c r="XFD90000" s="1"/> holds nothing.
    data = raw_xlsx(
        [
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>Activity ID</t></is></c></row>',
            b'<row r="2"><c r="A2"><v>7</v></c></row>',
            b'<row r="90000"><c r="XFD90000" s="1"/></row>',
        ]
    )
    [sheet] = read_file(data, "styled.xlsx")
    assert [r for r in sheet.rows if any(r)] == [["Activity ID"], ["7"]]


def test_repeated_cells_of_an_opendocument_sheet_are_counted(never_parsed: None) -> None:
    # 300 bytes that python-calamine would unpack into 2,000 x 1,000 cells.
    cell = (
        '<table:table-cell office:value-type="float" office:value="1" '
        'table:number-columns-repeated="1000"><text:p>1</text:p></table:table-cell>'
    )
    data = raw_ods(f'<table:table-row table:number-rows-repeated="2000">{cell}</table:table-row>')
    with pytest.raises(FileRefused, match=r"repeated\.ods has more than 100,000 cells"):
        read_file(data, "repeated.ods", SMALL)


def test_an_opendocument_cell_far_away_is_refused_by_the_cells_spanned(never_parsed: None) -> None:
    empty_rows = (
        '<table:table-row table:number-rows-repeated="5000">'
        '<table:table-cell table:number-columns-repeated="900"/></table:table-row>'
    )
    far = (
        '<table:table-row><table:table-cell table:number-columns-repeated="900"/>'
        '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>'
    )
    first = '<table:table-row><table:table-cell office:value-type="string"><text:p>ID</text:p>'
    data = raw_ods(first + "</table:table-cell></table:table-row>" + empty_rows + far)
    with pytest.raises(FileRefused, match=r"spans 5,002 rows by 901 columns"):
        read_file(data, "far.ods", SMALL)


def test_spaces_an_opendocument_cell_asks_for_are_counted_as_text(never_parsed: None) -> None:
    # <text:s text:c="N"/> is N spaces, written out by the reader: 60 bytes for 200 KB.
    cell = (
        '<table:table-cell office:value-type="string"><text:p>a<text:s text:c="200000"/>b'
        "</text:p></table:table-cell>"
    )
    data = raw_ods(f"<table:table-row>{cell}</table:table-row>")
    with pytest.raises(FileRefused, match=r"spaces\.ods would hold more than 0\.1 MB of text"):
        read_file(data, "spaces.ods", Limits(max_text=100 * 1024))


def test_an_opendocument_text_repeated_across_cells_counts_once_for_each(
    never_parsed: None,
) -> None:
    cell = (
        '<table:table-cell office:value-type="string" table:number-columns-repeated="50">'
        f"<text:p>{'z' * 3000}</text:p></table:table-cell>"
    )
    data = raw_ods(f"<table:table-row>{cell}</table:table-row>")
    with pytest.raises(FileRefused, match=r"more than 0\.1 MB of text"):
        read_file(data, "repeated.ods", Limits(max_text=100 * 1024))


def test_opendocument_rows_are_counted_before_the_sheet_is_parsed(never_parsed: None) -> None:
    row = '<table:table-row><table:table-cell office:value-type="float" office:value="1"/>'
    data = raw_ods((row + "</table:table-row>") * 12)
    with pytest.raises(FileRefused, match=r"rows\.ods has more than 10 rows"):
        read_file(data, "rows.ods", Limits(max_rows=10))


def test_an_opendocument_sheet_with_trailing_blank_rows_is_read() -> None:
    # LibreOffice ends every sheet with the rest of the grid as one repeated blank row.
    blank = (
        '<table:table-row table:number-rows-repeated="1048574">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    data = raw_ods(
        '<table:table-row><table:table-cell office:value-type="string"><text:p>Activity ID'
        "</text:p></table:table-cell></table:table-row>" + blank
    )
    [sheet] = read_file(data, "lo.ods")
    assert sheet.rows[0] == ["Activity ID"]


def test_an_xls_that_would_take_more_memory_than_the_cap_is_refused_naming_it() -> None:
    # 12 KB, one cell moved to IV65536: python-calamine would take 1 GB to read it.
    with pytest.raises(FileRefused) as refused:
        read_file(xls_with_cell_at(65535, 255), "far.xls")
    assert refused.value.message.startswith(
        "far.xls needs more than 512 MB of memory to read, more than a batch file may take"
    )


def test_an_xls_spanning_more_cells_than_the_limit_is_refused() -> None:
    with pytest.raises(FileRefused, match=r"sheet 'Activities' spans 2,000 rows by 201 columns"):
        read_file(xls_with_cell_at(1999, 200), "wide.xls", SMALL)


def test_an_xls_within_the_limits_is_read_in_its_own_process() -> None:
    [sheet] = read_file(xls_with_cell_at(3, 7), "moved.xls")
    assert sheet.rows[3][7] == "RSS" and sheet.rows[1][2] == ""


def test_the_default_limits() -> None:
    # 100,000 rows of the export's 30 columns; text of 100 MB.
    assert Limits().max_cells == 3_000_000
    assert Limits().max_text == 100 * 1024 * 1024
    assert Limits().max_legacy_memory == 512 * 1024 * 1024


def test_pars_bot_import_refuses_a_workbook_over_the_default_cells_limit(tmp_path: Path) -> None:
    # The real command on a file of the shape just over the default limit (2.4 MB).
    from tests.bot.test_cli import run
    from tests.bot.test_console import stored

    dense_xlsx(188, 16_000, tmp_path / "dense.xlsx")  # 3,008,001 cells
    refused = run(tmp_path, "import", "dense.xlsx", "--team", "T0OFFICE")
    assert refused.returncode == 2
    assert refused.stderr.startswith(
        "pars-bot: dense.xlsx has more than 3,000,000 cells (counted up to sheet 'Activities'), "
        "the most a batch file may hold."
    )
    assert "Traceback" not in refused.stderr
    assert stored(tmp_path, "SELECT count(*) FROM activity") == [(0,)]
