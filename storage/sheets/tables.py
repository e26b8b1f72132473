"""Sheets written as tables people read: each column as wide as what it holds (within bounds),
the header row frozen, and a filter over the rows (openpyxl, write-only)."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from openpyxl.utils import get_column_letter

from storage.sheets.workbooks import cells, header_cells

# Column widths in Excel's units (about one digit each): a column never narrower than a date
# (narrower, Excel shows it as ####), never so wide that one long title pushes the rest away.
MIN_WIDTH = 10
MAX_WIDTH = 50
# The header is bold and carries the filter's drop-down button.
HEADER_ROOM = 4
TEXT_ROOM = 2


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Each column's width from the values in hand (no cell is read back): as long as its
    longest value as text (a date as yyyy-mm-dd), its header with room for the filter."""
    widths = [len(h) + HEADER_ROOM for h in headers]
    # Per column, at C speed: str() of a date is yyyy-mm-dd, as the sheet shows it; blanks
    # (None, "", 0) are left out, as they are never the longest.
    for index in range(len(widths)):
        column = filter(None, map(itemgetter(index), rows))
        longest = max(map(len, map(str, column)), default=0)
        widths[index] = max(widths[index], longest + TEXT_ROOM)
    return [float(min(MAX_WIDTH, max(MIN_WIDTH, w))) for w in widths]


def write_table(sheet: Any, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """The header row and `rows` on a write-only sheet, laid out as a table: columns sized to
    their content, the header row frozen, a filter over the header and every row. Text is
    written as text (workbooks.cells), dates as dates."""
    # A write-only sheet writes its column widths with its first row: set them before.
    for index, width in enumerate(column_widths(headers, rows), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, headers))
    for values in rows:
        sheet.append(cells(sheet, values))
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
