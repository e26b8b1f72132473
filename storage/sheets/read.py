"""Spreadsheet files into rows of cell text: limits first, then python-calamine or csv.

Nothing here knows what the columns mean (headers.py) or what the rows would change (plan.py).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

import python_calamine

from storage.sheets.legacy import read_legacy
from storage.sheets.limits import FileRefused, Limits, sizes_over
from storage.sheets.scan import Tally, check_excel, check_opendocument

WORKBOOK_KINDS = {"xlsx", "xlsm", "xls", "ods"}
TEXT_KINDS = {"csv", "tsv", "txt"}
KINDS = WORKBOOK_KINDS | TEXT_KINDS
ZIP_KINDS = {"xlsx", "xlsm", "ods"}

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and every password-protected .xlsx


@dataclass
class Sheet:
    name: str
    rows: list[list[str]] = field(default_factory=list)
    # Read with `lazy` (a workbook's sheet): its rows, turned into text as they are iterated,
    # instead of `rows`, and the length of each.
    lines: Iterator[list[str]] | None = None
    width: int = 0


def kind_of(file_name: str) -> str | None:
    """The spreadsheet kind by the file's extension; None for anything else (images, PDFs)."""
    suffix = PurePath(file_name).suffix.lower().lstrip(".")
    return suffix if suffix in KINDS else None


def check_size(size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        shown, most = sizes_over(size, limits.max_bytes)
        raise FileRefused(
            f"The file is {shown}; batch files may be at most {most}. Split it into smaller files."
        )


def check_archive(data: bytes, kind: str, name: str, limits: Limits) -> None:
    """Before any parsing: is it the archive its name says, and does it unpack to a sane size?"""
    if kind not in ZIP_KINDS:
        return
    if data.startswith(_OLE_MAGIC):
        raise FileRefused(
            f"{name} is password-protected (encrypted), so it cannot be read. Save a copy "
            "without a password (File > Info > Protect Workbook) and share that."
        )
    if not data.startswith(_ZIP_MAGIC):
        raise FileRefused(
            f"{name} is not a .{kind} workbook, whatever its name says. Save it from your "
            "spreadsheet program as Excel Workbook (.xlsx) or CSV and share it again."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise FileRefused(
            f"{name} is damaged (not a readable .{kind} archive). Open it in your spreadsheet "
            "program, save it again and share the new copy."
        ) from None
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed:
        shown, most = sizes_over(total, limits.max_uncompressed)
        raise FileRefused(
            f"{name} would unpack to {shown}, over the {most} a batch file may hold. Split it "
            "into smaller files."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > limits.max_ratio:
            raise FileRefused(
                f"{name} is compressed {ratio:.0f} times over (part {member.filename}), far more "
                "than any real spreadsheet: it was refused as a possible zip bomb."
            )
    check_content(archive_data=data, members=members, kind=kind, name=name)
    check_declared_rows(archive_data=data, members=members, name=name, limits=limits)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if kind == "ods":
            check_opendocument(archive, name, limits)
        else:
            check_excel(archive, name, limits)


ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_KIND_WORDS = {
    "excel": ("an Excel workbook", "xlsx"),
    "ods": ("an OpenDocument spreadsheet", "ods"),
}


def zip_content(archive_data: bytes, members: list[zipfile.ZipInfo]) -> str | None:
    """What a zip archive holds, by its parts rather than its name: "excel" (.xlsx/.xlsm),
    "ods", or None for anything else (a Word document, a plain zip)."""
    by_name = {m.filename: m for m in members}
    if "xl/workbook.xml" in by_name:
        return "excel"
    # OpenDocument's first part, stored uncompressed: its media type and nothing else.
    mimetype = by_name.get("mimetype")
    if mimetype is not None and mimetype.file_size <= 100:
        try:
            with zipfile.ZipFile(io.BytesIO(archive_data)) as archive:
                declared = archive.read(mimetype).strip()
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError):
            return None
        if declared == ODS_MIMETYPE:
            return "ods"
    return None


def check_content(
    *, archive_data: bytes, members: list[zipfile.ZipInfo], kind: str, name: str
) -> None:
    """Refuse a workbook whose content is not what its name says (an .xlsx renamed .ods):
    the name decides how it is read and what the user is told, so they must agree."""
    expected = "ods" if kind == "ods" else "excel"
    found = zip_content(archive_data, members)
    if found == expected:
        return
    what = f"{_KIND_WORDS[expected][0]} (.{kind})"
    if found is None:
        raise FileRefused(
            f"{name} is not {what}, whatever its name says. Save it from your spreadsheet "
            "program as Excel Workbook (.xlsx) or CSV and share it again."
        )
    words, suffix = _KIND_WORDS[found]
    raise FileRefused(
        f"{name} is not {what}, whatever its name says: it is {words}: rename it to "
        f".{suffix} and share it again."
    )


# The <dimension ref="A1:AD12345"/> that Excel writes at the top of each worksheet part.
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]*\d*:?[A-Z]*(\d+)"')


# The least one row of data takes in a worksheet part: `<row r="1"><c r="A1"><v>1</v></c></row>`.
BYTES_PER_ROW = 30


def check_declared_rows(
    *, archive_data: bytes, members: list[zipfile.ZipInfo], name: str, limits: Limits
) -> None:
    """The row count an .xlsx declares for each sheet, read before the sheet is parsed.

    Only the first bytes of each worksheet part are unpacked. A sheet without a dimension
    (some programs leave it out) is counted again when it is read.
    """
    sheets = [m for m in members if re.fullmatch(r"xl/worksheets/[^/]+\.xml", m.filename)]
    if not sheets:
        return
    with zipfile.ZipFile(io.BytesIO(archive_data)) as archive:
        for member in sheets:
            try:
                with archive.open(member) as part:
                    found = _DIMENSION.search(part.read(4096))
            except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError):
                return  # a damaged part: reading the workbook says so in words
            # The declared range also covers cells that are only formatted (a cleared column
            # still styled to row 150,000): believe it only when the part is large enough to
            # hold that many rows of data.
            if (
                found
                and int(found.group(1)) > limits.max_rows + 1
                and member.file_size >= limits.max_rows * BYTES_PER_ROW
            ):
                _too_many_rows(name, limits)


def cell_text(value: Any) -> str:
    """A cell as the text a person would type: 12.0 -> "12", a date -> 2025-01-07."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time | timedelta):
        return ""  # a time without a date is nothing PARS asks for
    return str(value).strip()


def one_copy() -> Callable[[str, str], str]:
    """`once(text, text)`: the first copy of an equal text read before (for one file).

    A sheet repeats most of its cells' texts (a format, a state, Yes, a date, a number of
    credits), each read as a new string: kept once, a file of 100,000 rows takes about 80 MB
    less for as long as its rows are checked, planned and annotated.
    """
    seen: dict[str, str] = {}
    return seen.setdefault


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252 as Excel writes CSV."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _text_rows(data: bytes, kind: str, name: str, limits: Limits) -> list[Sheet]:
    text = _decode(data)
    if "\x00" in text[:4096]:
        raise FileRefused(
            f"{name} is not a text file, whatever its name says. Save it as CSV (comma "
            "delimited) or Excel Workbook (.xlsx) and share it again."
        )
    if kind == "csv":
        sample = text[:8192]
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
    else:
        delimiter = "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Only the tab-delimited export guards cells; a CSV's apostrophes are the office's own.
    guarded = kind != "csv"
    sheet = Sheet(PurePath(name).stem or "rows")
    once = one_copy()
    try:
        for row in reader:
            if len(sheet.rows) > limits.max_rows:
                _too_many_rows(name, limits)
            cells = [once(text := cell.strip(), text) for cell in row]
            if guarded and any(c[:1] == "'" for c in cells):
                cells = [_unguarded(c) for c in cells]
            sheet.rows.append(cells)
    except csv.Error as error:
        # A cell longer than any spreadsheet allows, a NUL byte deep in the file...
        raise FileRefused(
            f"{name} could not be read as {_TEXT_NAMES[kind]} (line {reader.line_num}: "
            f"{error}). Open it in your spreadsheet program, save it again as CSV and share "
            "the new copy."
        ) from None
    return [sheet]


# What follows the apostrophe the tab-delimited export puts before text a spreadsheet would
# read as a formula (fill.tsv_bytes): read back, the text is as it was.
# Text that itself began with an apostrophe got one more, so that exactly one comes off.
_GUARDED = frozenset("=+-@\t\r'")


def _unguarded(cell: str) -> str:
    return cell[1:].strip() if cell[:1] == "'" and cell[1:2] in _GUARDED else cell


_TEXT_NAMES = {"csv": "CSV", "tsv": "tab-delimited text", "txt": "tab-delimited text"}


def _too_many_rows(name: str, limits: Limits) -> None:
    raise FileRefused(
        f"{name} has more than {limits.max_rows:,} rows, the most one batch file may have. "
        "Split it into smaller files."
    )


def _check_legacy(data: bytes, name: str) -> None:
    if not data.startswith(_OLE_MAGIC):
        raise FileRefused(
            f"{name} is not an .xls workbook, whatever its name says. Save it from your "
            "spreadsheet program as Excel Workbook (.xlsx) and share it again."
        )


def workbook_rows(
    data: bytes, kind: str, name: str, limits: Limits, *, lazy: bool = False
) -> list[Sheet]:
    """A workbook's sheets read by python-calamine, here (an .xls: in legacy.py's process);
    with `lazy`, each sheet's rows as `lines`, turned into text only as they are iterated."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise FileRefused(
            f"{name} is password-protected, so it cannot be read. Save a copy without a "
            "password and share that."
        ) from None
    except Exception:
        raise FileRefused(
            f"{name} could not be read as a .{kind} workbook: it may be damaged or of another "
            "kind. Open it in your spreadsheet program, save it again and share the new copy."
        ) from None
    sheets: list[Sheet] = []
    # Counted before parsing for .xlsx and .ods; for .xls, only now (in a capped process).
    spans = Tally(name, limits)
    with workbook:
        for meta in workbook.sheets_metadata:
            if str(meta.typ) not in {"SheetTypeEnum.WorkSheet", "WorkSheet"}:
                continue
            sheet = Sheet(meta.name)
            try:
                source = workbook.get_sheet_by_name(meta.name)
                if source.total_height > limits.max_rows + 1:
                    _too_many_rows(name, limits)
                if source.end is not None:
                    spans.add_span(source.end[0] + 1, source.end[1] + 1, meta.name)
                texts = _texts(source)
                if lazy:
                    sheet.lines = texts
                    sheet.width = (source.start[1] + source.width) if source.start else 0
                else:
                    sheet.rows = list(texts)
            except FileRefused:
                raise
            except Exception:
                raise FileRefused(
                    f"Sheet {meta.name!r} of {name} could not be read: the workbook may be "
                    "damaged. Open it in your spreadsheet program, save it again and share it."
                ) from None
            sheets.append(sheet)
    return sheets


def _texts(source: python_calamine.CalamineSheet) -> Iterator[list[str]]:
    # Most cells are text or numbers: written here as cell_text would, without a call for
    # each (a sheet of 3 million numbers: 4 s less). Each text is kept once (see one_copy).
    once = one_copy()
    for row in _rows(source):
        yield [
            once(
                text := v.strip()
                if type(v) is str
                else (str(int(v)) if v.is_integer() else repr(v))
                if type(v) is float
                else cell_text(v),
                text,
            )
            for v in row
        ]


def _rows(source: python_calamine.CalamineSheet) -> Iterator[list[Any]]:
    # calamine keeps leading empty rows but not leading empty columns: put those back, so
    # row and column numbers are the ones the spreadsheet shows.
    offset = source.start[1] if source.start else 0
    for row in source.iter_rows():  # a new list each
        yield [None] * offset + row if offset else row


def read_file(
    data: bytes, file_name: str, limits: Limits | None = None, *, lazy: bool = False
) -> list[Sheet]:
    """Every sheet of a spreadsheet as rows of cell text. Formulas give their cached values.

    With `lazy`, the sheets of an .xlsx, .xlsm or .ods give their rows as `lines`, each turned
    into text as it is iterated (once): a file already read once, written out again row by row
    (the annotated copy), without 100,000 rows of text held at once. Other kinds give `rows`.
    """
    limits = limits or Limits()
    kind = kind_of(file_name)
    if kind is None:
        raise FileRefused(
            f"{file_name} is not a spreadsheet the bot reads: use .xlsx, .xlsm, .xls, .ods, "
            ".csv or tab-delimited .txt/.tsv."
        )
    check_size(len(data), limits)
    check_archive(data, kind, file_name, limits)
    if kind in TEXT_KINDS:
        return _text_rows(data, kind, file_name, limits)
    if kind == "xls":
        _check_legacy(data, file_name)
        return [Sheet(sheet, rows) for sheet, rows in read_legacy(data, file_name, limits)]
    return workbook_rows(data, kind, file_name, limits, lazy=lazy)
