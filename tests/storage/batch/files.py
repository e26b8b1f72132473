"""Real spreadsheet files for the tests, written the way spreadsheet programs write them."""

from __future__ import annotations

import csv
import io
import random
import struct
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook

Rows = Sequence[Sequence[Any]]

HEADERS = ["Activity ID", "Title", "Format", "Start date", "End date"]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def xlsx(sheets: dict[str, Rows] | Rows, path: Path | None = None) -> bytes:
    """A workbook with one sheet per entry (a plain list of rows is one sheet)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    named = sheets if isinstance(sheets, dict) else {"Activities": sheets}
    for name, rows in named.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data


def text_file(rows: Rows, *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def _ods_cell(value: Any) -> str:
    if value is None or value == "":
        return "<table:table-cell/>"
    if isinstance(value, datetime | date):
        iso = value.isoformat()
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{iso}">'
            f"<text:p>{iso}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p>'
        "</table:table-cell>"
    )


def ods(rows: Rows, sheet: str = "Activities") -> bytes:
    """An OpenDocument spreadsheet, built as LibreOffice lays one out (a zip of XML)."""
    body = "".join(
        "<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
        for row in rows
    )
    return raw_ods(body, sheet)


def raw_ods(body: str, sheet: str = "Activities") -> bytes:
    """An OpenDocument spreadsheet of one table whose rows are the given XML."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{sheet}">{body}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def with_cached_formula(data: bytes, cell: str, formula: str, cached: str) -> bytes:
    """An .xlsx whose `cell` holds a formula and the value Excel last computed for it."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            payload = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = payload.decode()
                marker = f'<c r="{cell}"'
                start = xml.index(marker)
                end = xml.index("</c>", start) + len("</c>")
                replacement = (
                    f'<c r="{cell}" t="str"><f>{escape(formula)}</f><v>{escape(cached)}</v></c>'
                )
                payload = (xml[:start] + replacement + xml[end:]).encode()
            target.writestr(item, payload)
    return out.getvalue()


def grand_rounds(activity_id: str = "GR-2025", **extra: Any) -> dict[str, Any]:
    """A complete weekly series of 2025, as a row of a spreadsheet by header."""
    return {
        "Activity ID": activity_id,
        "Title": "Medicine Grand Rounds",
        "Format": "Regularly scheduled series",
        "Delivery method": "In person",
        "Start date": date(2025, 1, 7),
        "End date": date(2025, 12, 16),
        "City": "Chicago",
        "State": "IL",
        "Country": "USA",
        "AMA PRA Category 1 credits": 1,
        "Description": "Weekly case conference",
        "Providership": "Directly provided",
        "Listed in CME Finder": "No",
        "Outcome measures": "Knowledge",
        "Commercial support": "No",
        **extra,
    }


def table(records: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Records by header into rows: the header row first, then one row per record."""
    headers: list[str] = []
    for record in records:
        headers += [h for h in record if h not in headers]
    return [headers] + [[r.get(h) for h in headers] for r in records]


# -- workbooks written part by part, for files no spreadsheet program would write ----------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Activities" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


_SHARED_RELATIONSHIP = (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)


def raw_xlsx(
    sheet_data: Iterable[bytes],
    *,
    dimension: str = "A1:B1",
    shared: Sequence[str] = (),
    sheet_part: str = "worksheets/sheet1.xml",
    path: Path | None = None,
) -> bytes:
    """An .xlsx of one sheet whose <sheetData> is the given XML, written as it comes (so a
    part of hundreds of megabytes is never held whole) under whatever dimension it declares,
    with the `shared` texts (cells `t="s"` give their index) and the sheet at `sheet_part`
    (relative to xl/, or absolute with a leading slash). The prefix `x:` is bound to the
    sheet's namespace, as some generators write every element."""
    target: Any = path.open("w+b") if path is not None else io.BytesIO()
    relationships = _WORKBOOK_RELS.replace("worksheets/sheet1.xml", sheet_part)
    if shared:
        relationships = relationships.replace("</Relationships>", _SHARED_RELATIONSHIP)
    member = sheet_part[1:] if sheet_part.startswith("/") else f"xl/{sheet_part}"
    with target, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", relationships)
        if shared:
            archive.writestr(
                "xl/sharedStrings.xml",
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                + "".join(f"<si><t>{escape(text)}</t></si>" for text in shared)
                + "</sst>",
            )
        with archive.open(member, "w") as part:
            part.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<dimension ref="' + dimension.encode() + b'"/><sheetData>'
            )
            for chunk in sheet_data:
                part.write(chunk)
            part.write(b"</sheetData></worksheet>")
        archive.close()
        if path is not None:
            return b""
        return target.getvalue()


def dense_rows(rows: int, columns: int, *, seed: int = 12) -> Iterator[bytes]:
    """A header cell, then `rows` rows of `columns` one-digit numbers, as a program writes
    them without cell references (`<c><v>7</v></c>`): 15 bytes a cell. Sixteen random rows
    are cycled, so the part compresses about as well as real numbers do (some 20 times)."""
    rng = random.Random(seed)
    pool = [
        b"<row>" + b"".join(b"<c><v>%d</v></c>" % rng.randint(1, 9) for _ in range(columns))
        for _ in range(16)
    ]
    yield b'<row><c t="inlineStr"><is><t>Activity ID</t></is></c></row>'
    for index in range(rows):
        yield pool[index % 16] + b"</row>"


def dense_xlsx(rows: int, columns: int, path: Path | None = None) -> bytes:
    """The dense workbook of issue 12: many numeric cells under a dimension of A1:B1."""
    return raw_xlsx(dense_rows(rows, columns), dimension="A1:B1", path=path)


def xls_with_cell_at(row: int, column: int) -> bytes:
    """The legacy .xls fixture with its cell C2 moved to (row, column), counted from 0: its
    LABELSST record (type 0x00FD, 10 bytes) rewritten in place, as a hostile file would be."""
    data = bytearray((FIXTURES / "activities.xls").read_bytes())
    at = data.index(b"\xfd\x00\x0a\x00" + struct.pack("<HH", 1, 2))
    data[at + 4 : at + 8] = struct.pack("<HH", row, column)
    return bytes(data)
