"""What a workbook would become in memory, counted in its XML before it is parsed.

python-calamine hands over no row before it has built the whole sheet (`get_sheet_by_name`
reads it all; `iter_rows` walks that copy): 1.7 GB for the 24 million numbers of a 17 MB
.xlsx, and for two cells far apart (A1 and XFD20000) one block of 330 million empty cells,
which it cannot allocate (the process aborts). It also copies a shared text into every cell
that uses it, and an .ods cell "repeated 1,000 times" into 1,000 cells. So the sheets are
streamed here first, a block at a time, and counted: cells, the rows and columns they span and
the text they would hold. Nothing the file declares (its dimension, its sizes) is believed: a
part whose content does not match its declared size fails its checksum and is refused as
damaged. A workbook over a limit is refused, naming the limit, before it is parsed.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from defusedxml import ElementTree as SafeTree
from defusedxml.common import DefusedXmlException

from storage.sheets.limits import FileRefused, Limits, megabytes

BLOCK = 1 << 20
# Where a reading must not split a row (or a cell, or a text) between two blocks, one larger
# than this is refused: it is no row of activities.
MAX_ROW_BYTES = 32 * 1024 * 1024
# The parts that only list other parts: small in any real workbook.
_INDEX_PART_LIMIT = 4 * 1024 * 1024

# The form every spreadsheet program writes a cell in, `<c r="AB12"`, counted at C speed.
_CANONICAL = b'<c r="'
_CANONICAL_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
# Every cell not "near" (canonical, in columns A to Z and rows 1 to 99,999): none in most
# files, so one search bounds a part's far corner without a look at each cell. What it finds
# is either canonical but farther (its reference read), or of another form, which sends the
# part to the exact reading below: `<c>`, `<c/>`, `<c t="n" r="B2">`, `<c r="b2">`.
_NOT_NEAR = re.compile(rb'<c(?! r="[A-Z][0-9]{1,5}")[\s/>][^>]{0,16}')
NEAR_COLUMNS, NEAR_ROWS = 26, 99_999
# A cell of any prefix (`<x:c>`): the reader takes any. (A pattern of its own: the regex
# engine looks for a leading literal at C speed, but tries every position for an alternation.)
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_ANY_CELL = re.compile(rb"<c[\s/>]")
# The exact reading of a part whose cells are all canonical: the cells that hold something
# (not the styled but empty `<c r="B9" s="1"/>`), the shared texts they point to, and the
# texts they hold themselves (inline, or a formula's result), a block at a time in C.
_FILLED_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*(?<!/)>')
# (As every program writes them, the type last: a cell written otherwise fails the count.)
_SHARED_INDEX = re.compile(rb't="s"><v>([0-9]{1,10})</v>')
_SHARED_TYPE = b't="s"'
_INLINE_TEXT = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)")
_FORMULA_TEXT = b't="str"'
# Attributes written otherwise than name="value", which those patterns would not see.
_LOOSE_ATTRIBUTES = (b"='", b" =", b"= ")
# Tokens of the slowest, exact reading of a part in any form: rows, cells, values, texts.
_TOKEN = re.compile(
    rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>|<(?:[\w.-]+:)?(v|t)(?:\s[^>]*)?>([^<]*)"
)
_R = re.compile(rb"""(?:^|\s)r\s*=\s*["']([A-Za-z]*)([0-9]*)["']""")
_T = re.compile(rb"""(?:^|\s)t\s*=\s*["']([A-Za-z]+)["']""")
_SI = re.compile(rb"<(?:[\w.-]+:)?si(?=[\s/>])")
# Cells whose value is a text held in the sheet itself (inline, or a formula's result).
_INLINE_TYPES = {b"inlineStr", b"str"}


@dataclass
class Tally:
    """What a workbook holds so far, against the limits, for the file `name`."""

    name: str
    limits: Limits
    cells: int = 0
    spanned: int = 0
    text: int = 0

    def add_cells(self, count: int, sheet: str) -> None:
        self.cells += count
        if self.cells > self.limits.max_cells:
            raise self.too_many_cells(sheet)

    def too_many_cells(self, sheet: str) -> FileRefused:
        return FileRefused(
            f"{self.name} has more than {self.limits.max_cells:,} cells (counted up to sheet "
            f"{sheet!r}), the most a batch file may hold. Split it into smaller files of "
            "activities and share them one at a time."
        )

    def add_span(self, rows: int, columns: int, sheet: str) -> None:
        """A sheet is built as a block of rows x columns, the empty cells within included."""
        self.spanned += rows * columns
        if self.spanned > self.limits.max_cells:
            corner = f"{column_letters(columns)}{rows}"
            raise FileRefused(
                f"In {self.name}, sheet {sheet!r} spans {rows:,} rows by {columns:,} columns "
                f"(to cell {corner}, where Ctrl+End goes in Excel), more than the "
                f"{self.limits.max_cells:,} cells a batch file may hold. Delete what lies "
                "beyond your table, or split the file, and share it again."
            )

    def add_text(self, size: int) -> None:
        self.text += size
        if self.text > self.limits.max_text:
            raise FileRefused(
                f"{self.name} would hold more than {megabytes(self.limits.max_text)} of text in "
                "its cells (a text that many cells share counts once for each), the most a "
                "batch file may hold. Split it into smaller files."
            )


def column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _blocks(part: IO[bytes], before: bytes = b"<", most: int = 0) -> Iterator[bytes]:
    """The part a block at a time, each block cut just before a tag (or before the tag
    `before`), so that no tag and no text between two tags is split. A block without any is
    passed on as it is, or, given `most`, joined to the next up to that many bytes."""
    tail = b""
    while block := part.read(BLOCK):
        data = tail + block
        cut = data.rfind(before)
        if cut > 0:
            tail = data[cut:]
            yield data[:cut]
        elif most and len(data) <= most:
            tail = data
        elif most:
            raise FileRefused(
                f"A single row of the file is over {megabytes(most)}, more than any row of "
                "activities. Delete what is not activities and share it again."
            )
        else:
            tail = b""
            yield data
    if tail:
        yield tail


def _damaged(name: str) -> FileRefused:
    return FileRefused(
        f"{name} is damaged (a part of it does not unpack to what it says it holds). Open it "
        "in your spreadsheet program, save it again and share the new copy."
    )


# -- .xlsx / .xlsm ----------------------------------------------------------------------------


def check_excel(archive: zipfile.ZipFile, name: str, limits: Limits) -> None:
    """Count every worksheet of an .xlsx/.xlsm, and the shared texts its cells point to.

    A quick reading of each sheet counts its cells and bounds its far corner and its text; only
    when those bounds do not settle it is each sheet read again, cell by cell."""
    tally = Tally(name, limits)
    try:
        shared = _shared_text_sizes(archive, tally)
        sheets = _worksheets(archive)
        found = [_quick_count(archive, member, sheet, tally) for sheet, member in sheets]
        longest = max(shared, default=0)
        odd = any(bounds.odd for bounds in found)
        spans_settled = not odd and sum(b.rows * b.columns for b in found) <= limits.max_cells
        # Every shared text as long as the longest, every byte a text of its own.
        text_bound = tally.text + sum(b.cells * longest + b.size for b in found)
        text_settled = not odd and text_bound <= limits.max_text
        if spans_settled and text_settled:
            return
        for (sheet, member), bounds in zip(sheets, found, strict=True):
            exact = None
            if not bounds.odd:
                exact = _exact_canonical(
                    archive, member, shared, span=not spans_settled, text=not text_settled
                )
            rows, columns, text = exact or _exact_count(archive, member, shared)
            if not spans_settled:
                tally.add_span(rows, columns, sheet)
            if not text_settled:
                tally.add_text(text)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError):
        raise _damaged(name) from None


def _small_xml(archive: zipfile.ZipFile, member: str) -> Any:
    """A part that only lists other parts, parsed (entities and DTDs refused), or None."""
    try:
        info = archive.getinfo(member)
    except KeyError:
        return None
    if info.file_size > _INDEX_PART_LIMIT:
        return None
    try:
        return SafeTree.fromstring(archive.read(info), forbid_dtd=True)
    except (SafeTree.ParseError, DefusedXmlException):
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _worksheets(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part) of every sheet the workbook names, where the reader looks for it:
    a target "/data.xml" is the part data.xml, any other is under xl/. Parts under
    xl/worksheets/ that no sheet names are counted too (under their file name)."""
    targets: dict[str, str] = {}
    relationships = _small_xml(archive, "xl/_rels/workbook.xml.rels")
    for element in relationships.iter() if relationships is not None else ():
        target = element.get("Target")
        if _local(element.tag) == "Relationship" and element.get("Id") and target:
            targets[element.get("Id")] = target[1:] if target.startswith("/") else f"xl/{target}"
    found: list[tuple[str, str]] = []
    workbook = _small_xml(archive, "xl/workbook.xml")
    for element in workbook.iter() if workbook is not None else ():
        if _local(element.tag) != "sheet":
            continue
        ids = [v for k, v in element.attrib.items() if _local(k) == "id"]
        member = targets.get(ids[0]) if ids else None
        if member is not None:
            found.append((element.get("name") or member, member))
    members = set(archive.namelist())
    seen = {member for _, member in found}
    found += [
        (m.rsplit("/", 1)[-1], m)
        for m in sorted(members)
        if re.fullmatch(r"xl/worksheets/[^/]+\.xml", m) and m not in seen
    ]
    return [(sheet, member) for sheet, member in found if member in members]


def _shared_text_sizes(archive: zipfile.ZipFile, tally: Tally) -> array[int]:
    """The size of each shared text, by index (its XML, so a little more than its text).

    The reader keeps each once, and copies it into each cell that points to it."""
    sizes: array[int] = array("q")
    try:
        info = archive.getinfo("xl/sharedStrings.xml")
    except KeyError:
        return sizes
    offset, last = 0, None
    with archive.open(info) as part:
        for block in _blocks(part):
            for match in _SI.finditer(block):
                start = offset + match.start()
                if last is not None:
                    sizes.append(start - last)
                last = start
            if len(sizes) > tally.limits.max_cells:
                raise FileRefused(
                    f"{tally.name} holds more than {tally.limits.max_cells:,} different texts, "
                    "more than a batch file may hold. Split it into smaller files."
                )
            offset += len(block)
    if last is not None:
        sizes.append(offset - last)
    tally.add_text(sum(sizes))
    return sizes


@dataclass
class _Bounds:
    """What the quick reading of a part found: its cells, and bounds on its far corner."""

    cells: int = 0
    odd: bool = False
    rows: int = 0
    columns: int = 0
    size: int = 0

    def add(self, block: bytes) -> int:
        prefixed = len(_PREFIXED_CELL.findall(block))
        self.size += len(block)
        if self.odd:  # to be read exactly anyway: only its cells counted, at C speed
            count = len(_ANY_CELL.findall(block)) + prefixed
            self.cells += count
            return count
        count = block.count(_CANONICAL) + prefixed
        self.odd = prefixed > 0
        if count:
            self.rows, self.columns = max(self.rows, NEAR_ROWS), max(self.columns, NEAR_COLUMNS)
        for start in _NOT_NEAR.findall(block):
            canonical = _CANONICAL_REF.match(start)
            if canonical is None:
                self.odd = True
                count += not start.startswith(_CANONICAL)  # counted above if it is
            else:
                self.columns = max(self.columns, column_number(canonical.group(1)))
                self.rows = max(self.rows, int(canonical.group(2)))
        self.cells += count
        return count


# A sheet of at most this many cells (an Instructions sheet, a short list) has its span read
# exactly at once: its bound (99,999 rows of 26 columns) would leave no room for another sheet.
SMALL_SHEET_CELLS = 10_000


def _quick_count(archive: zipfile.ZipFile, member: str, sheet: str, tally: Tally) -> _Bounds:
    bounds = _Bounds()
    with archive.open(member) as part:
        for block in _blocks(part):
            tally.add_cells(bounds.add(block), sheet)
    if not bounds.odd and bounds.cells <= SMALL_SHEET_CELLS:
        exact = _exact_canonical(archive, member, array("q"), span=True, text=False)
        if exact is not None:
            bounds.rows, bounds.columns, _ = exact
    return bounds


def _widest(letters: set[bytes]) -> int:
    return column_number(max(letters, key=lambda found: (len(found), found)))


def _exact_canonical(
    archive: zipfile.ZipFile, member: str, shared: array[int], *, span: bool, text: bool
) -> tuple[int, int, int] | None:
    """(rows, columns, text) of a part whose cells are all canonical (the span only if `span`,
    the text only if `text`), or None if its attributes are written in a way that only the
    token by token reading follows."""
    rows = columns = size = 0
    with archive.open(member) as part:
        # Cut before a cell, so that each cell's value is in the block of its tag.
        for block in _blocks(part, before=_CANONICAL, most=MAX_ROW_BYTES):
            if span and (refs := _FILLED_REF.findall(block)):
                letters, digits = zip(*refs, strict=True)
                rows = max(rows, max(map(int, set(digits))))
                columns = max(columns, _widest(set(letters)))
            if text:
                found = _canonical_text(block, shared)
                if found is None:
                    return None
                size += found
    return rows, columns, size


def _canonical_text(block: bytes, shared: array[int]) -> int | None:
    if any(form in block for form in _LOOSE_ATTRIBUTES):
        return None
    indices = _SHARED_INDEX.findall(block)
    if len(indices) != block.count(_SHARED_TYPE):
        return None  # a shared text cell without its index where expected
    size = sum(
        shared[int(index)] * uses
        for index, uses in Counter(indices).items()
        if int(index) < len(shared)
    )
    size += sum(map(len, _INLINE_TEXT.findall(block)))
    return size + len(block) if _FORMULA_TEXT in block else size


def _exact_count(archive: zipfile.ZipFile, member: str, shared: array[int]) -> tuple[int, int, int]:
    """(rows, columns, text) of a part read cell by cell, as the reader would place each cell:
    an empty <c/> takes no room, a cell without a reference goes right of the one before it,
    a row without one below the one before. The quick reading has bounded the cells."""
    row = column = 0
    last_row = last_column = 0
    text = 0
    kind = b""  # the type of the cell being read, when it holds something
    with archive.open(member) as part:
        for block in _blocks(part, most=MAX_ROW_BYTES):
            for tag, attributes, inner, content in _TOKEN.findall(block):
                if tag == b"c":
                    kind = b""
                    if not attributes:  # <c>: the most common form here, read at once
                        column += 1
                    else:
                        found = _R.search(attributes)
                        if found and found.group(1):
                            column = column_number(found.group(1))
                            row = int(found.group(2)) if found.group(2) else row
                        else:
                            column += 1
                        if attributes.rstrip().endswith(b"/"):
                            continue  # empty: takes no room
                        typed = _T.search(attributes)
                        kind = typed.group(1) if typed else b"n"
                    if row > last_row:
                        last_row = row
                    if column > last_column:
                        last_column = column
                elif tag == b"row":
                    found = _R.search(attributes) if attributes else None
                    row = int(found.group(2)) if found and found.group(2) else row + 1
                    column = 0
                elif not kind:
                    continue  # a number's value, or no cell's
                elif inner == b"v":
                    if kind == b"s":
                        index = content.strip()
                        if index.isdigit() and int(index) < len(shared):
                            text += shared[int(index)]
                    elif kind in _INLINE_TYPES:
                        text += len(content)
                elif inner == b"t":
                    text += len(content)
    return last_row, last_column, text


# -- .ods -------------------------------------------------------------------------------------

# python-calamine reads the elements by these very names (another prefix is not read).
_TABLE_START = re.compile(rb"<table:table(?=[\s>])([^>]*)>")
_TABLE_NAME = re.compile(rb'table:name="([^"]*)"')
_ROW_START = b"<table:table-row"
_ODS_CELL = re.compile(
    rb"<table:(?:covered-)?table-cell\b([^>]*?)(?:/>|>(.*?)</table:(?:covered-)?table-cell>)",
    re.DOTALL,
)
_ODS_CELL_START = (b"<table:table-cell", b"<table:covered-table-cell")
_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="([0-9]+)"')
_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="([0-9]+)"')
_VALUE_TYPE = b"office:value-type"
_TAG = re.compile(rb"<[^>]*>")
# <text:s text:c="1000"/>: a thousand spaces, which the reader writes out.
_SPACES = re.compile(rb'<text:s\b[^>]*?text:c="([0-9]+)"')


def check_opendocument(archive: zipfile.ZipFile, name: str, limits: Limits) -> None:
    """Count the cells of every table of an .ods, a repeated cell (or row) counted as the
    cells it becomes, and the text they hold (the spaces of <text:s text:c=…/> written out).

    The text is first bounded by the bytes of the rows that hold values, and counted exactly
    (a second reading) only when that bound is over the limit."""
    try:
        bound = _count_content(archive, Tally(name, limits), exact=False)
        if bound > limits.max_text:
            _count_content(archive, Tally(name, limits), exact=True)
    except KeyError:
        return  # no content: reading it says so in words
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError):
        raise _damaged(name) from None


@dataclass
class _Table:
    name: str = ""
    rows: int = 0  # rows so far
    last_row: int = 0  # the far corner of the cells that hold a value
    last_column: int = 0
    open: bool = False
    text: int = 0  # the text of its cells, or a bound on it

    def close(self, tally: Tally) -> None:
        if self.open:
            tally.add_span(self.last_row, self.last_column, self.name)
        self.rows = self.last_row = self.last_column = 0
        self.open = False


def _count_content(archive: zipfile.ZipFile, tally: Tally, *, exact: bool) -> int:
    """Count content.xml against the limits; the text is counted (and refused) only if
    `exact`, else a bound on it is returned."""
    table = _Table()
    rows = cells = 0  # elements, however often each repeats: they bound the time taken
    with archive.open("content.xml") as part:
        for block in _blocks(part, before=_ROW_START, most=MAX_ROW_BYTES):
            rows += block.count(_ROW_START)
            cells += sum(map(block.count, _ODS_CELL_START))
            if rows > tally.limits.max_rows + 1:
                raise FileRefused(
                    f"{tally.name} has more than {tally.limits.max_rows:,} rows, the most one "
                    "batch file may have. Split it into smaller files."
                )
            if cells > tally.limits.max_cells:
                raise tally.too_many_cells(table.name)
            position = 0
            for start in _TABLE_START.finditer(block):
                _count_rows(block[position : start.start()], table, tally, exact)
                table.close(tally)
                named = _TABLE_NAME.search(start.group(1))
                table.name = named.group(1).decode("utf-8", "replace") if named else ""
                table.open = True
                position = start.end()
            _count_rows(block[position:], table, tally, exact)
    table.close(tally)
    return table.text


def _count_rows(text: bytes, table: _Table, tally: Tally, exact: bool) -> None:
    # Split at each row's start (at C speed): each piece is a row's attributes, then its cells.
    for piece in text.split(_ROW_START)[1:]:
        end = piece.find(b">")
        attributes, content = piece[:end], piece[end + 1 :]
        found = _ROWS_REPEATED.search(attributes)
        repeats = int(found.group(1)) if found else 1
        table.rows += repeats
        if attributes.endswith(b"/") or _VALUE_TYPE not in content:
            continue  # no cell of it holds a value: the reader keeps nothing of it
        cells, width, size = _row_cells(content, exact)
        tally.add_cells(cells * repeats, table.name)
        table.text += size * repeats
        if exact:
            tally.add_text(size * repeats)
        table.last_row = table.rows
        table.last_column = max(table.last_column, width)


def _row_cells(content: bytes, exact: bool) -> tuple[int, int, int]:
    """(cells holding a value, the column of the last of them, their text, or a bound on it
    when not `exact`) of one row."""
    if b"repeated" not in content:  # each cell once: counted at C speed
        last = content.rfind(_VALUE_TYPE)
        width = sum(content.count(start, 0, last) for start in _ODS_CELL_START)
        return content.count(_VALUE_TYPE), width, _text_size(content, exact)
    cells = width = size = column = 0
    for cell in _ODS_CELL.finditer(content):
        attributes, inner = cell.groups()
        found = _COLUMNS_REPEATED.search(attributes)
        repeats = int(found.group(1)) if found else 1
        column += repeats
        if _VALUE_TYPE in attributes:
            cells += repeats
            width = column
            size += _text_size(inner or b"", exact) * repeats
    return cells, width, size


def _text_size(content: bytes, exact: bool) -> int:
    spaces = sum(map(int, _SPACES.findall(content))) if b"text:c=" in content else 0
    return (len(_TAG.sub(b"", content)) if exact else len(content)) + spaces
