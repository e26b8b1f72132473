"""The drop-down lists of a template's columns: which entries each column's cells accept.

A list is a data validation of type "list". Excel writes one whose entries are typed in
(`"Yes,No"`) or that points to a range of the same sheet in `<dataValidations>`; one whose
range lies on another sheet (often a hidden "Lists" sheet) in the worksheet's extension list,
as `x14:dataValidation` with the formula in `xm:f`. Both are read here; a defined name is
followed to its range. A list computed by a formula (INDIRECT, OFFSET) can't be known without
calculating the workbook, and is said so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.cell_range import MultiCellRange

from storage.sheets.package import Package, SheetInfo
from storage.sheets.read import Sheet
from storage.sheets.xmltext import MAIN, qname

X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"

# `Lists!$A$2:$A$12`, `'Drop downs'!A2:A12`, `$A$2:$A$12`
_RANGE = re.compile(
    r"^(?:(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^'!]+))!)?"
    r"(?P<range>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)$"
)


@dataclass(frozen=True)
class Validation:
    cells: MultiCellRange
    formula: str


@dataclass
class ColumnLists:
    entries: dict[int, list[str]] = field(default_factory=dict)  # 0-based column -> entries
    notes: list[str] = field(default_factory=list)


def _validations(root: Element) -> list[Validation]:
    found: list[Validation] = []
    for element in root.iter(qname(MAIN, "dataValidation")):
        formula = element.findtext(qname(MAIN, "formula1"))
        if element.get("type") == "list" and formula and element.get("sqref"):
            found.append(Validation(MultiCellRange(element.get("sqref")), formula.strip()))
    for element in root.iter(qname(X14, "dataValidation")):
        formula = element.findtext(f"{qname(X14, 'formula1')}/{qname(XM, 'f')}")
        where = element.findtext(qname(XM, "sqref"))
        if element.get("type") == "list" and formula and where:
            found.append(Validation(MultiCellRange(where.strip()), formula.strip()))
    return found


def _literal(formula: str) -> list[str] | None:
    """`"Yes,No"` as its entries (a doubled quote is a quote)."""
    if len(formula) < 2 or formula[0] != '"' or formula[-1] != '"':
        return None
    return [e.strip() for e in formula[1:-1].replace('""', '"').split(",") if e.strip()]


class _Resolver:
    def __init__(self, package: Package, sheets: Sequence[Sheet], own: SheetInfo) -> None:
        self.rows = {s.name: s.rows for s in sheets}
        self.own = own
        index = package.sheets.index(own)
        self.names: dict[str, str] = {}
        # A sheet's own names first: they win over the workbook's of the same name.
        ordered = sorted(package.defined_names, key=lambda d: d[1] is None)
        for name, local, formula in ordered:
            if local in (None, str(index)):
                self.names.setdefault(name.lower(), formula)

    def entries(self, formula: str, depth: int = 0) -> list[str] | None:
        text = formula.lstrip("=").strip()
        literal = _literal(text)
        if literal is not None:
            return literal
        found = _RANGE.match(text)
        if found is not None:
            quoted = found.group("quoted")
            sheet = quoted.replace("''", "'") if quoted else found.group("plain") or self.own.name
            return self._range(sheet, found.group("range").replace("$", ""))
        if depth < 3 and text.lower() in self.names:
            return self.entries(self.names[text.lower()], depth + 1)
        return None

    def _range(self, sheet: str, ref: str) -> list[str] | None:
        rows = self.rows.get(sheet)
        if rows is None:
            return None
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        entries = []
        for row in rows[(min_row or 1) - 1 : max_row]:
            for text in row[(min_col or 1) - 1 : max_col]:
                if text and text not in entries:
                    entries.append(text)
        return entries


def column_lists(
    package: Package,
    sheets: Sequence[Sheet],
    sheet: SheetInfo,
    *,
    first_row: int,
    columns: Iterable[int],
    headers: dict[int, str],
) -> ColumnLists:
    """The entries of the list that governs each column's first data row (1-based)."""
    validations = _validations(fromstring(package.parts[sheet.part]))
    resolver = _Resolver(package, sheets, sheet)
    found = ColumnLists()
    for column in columns:
        cell = f"{get_column_letter(column + 1)}{first_row}"
        validation = next((v for v in validations if cell in v.cells), None)
        if validation is None:
            continue
        entries = resolver.entries(validation.formula)
        if entries:
            found.entries[column] = entries
        else:
            found.notes.append(
                f"The drop-down list of {headers.get(column, cell)} ({validation.formula}) "
                "could not be read, so its values are written as the bot has them."
            )
    return found
