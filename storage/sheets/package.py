"""An .xlsx/.xlsm as its parts, for writing values into a workbook someone else made.

openpyxl loads a workbook into its own model and writes that model back: whatever it does not
model is lost, above all the drop-down lists Excel keeps in a worksheet extension
(`x14:dataValidation` inside `extLst`, used whenever the list lives on another sheet), and
also slicers, sparklines, form controls and extended conditional formats. So a template is
filled here part by part: every part is copied as it is, except the rows of the sheets
written (`<sheetData>`, only the rows that receive values), the sheet's dimension and filter
range, and new cell formats appended to the styles part. Parts are read with defusedxml and
rows written as text, with the prefixes the sheet itself declares.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from defusedxml.ElementTree import fromstring
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, to_excel

from storage.sheets.read import FileRefused
from storage.sheets.styles import MINIMAL_STYLES, Styles
from storage.sheets.xmltext import MAIN, Root, attrs, element_span, qname, set_attr

DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
STYLES_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
STYLES_REL = f"{DOC_REL}/styles"

# What a cell receives: a value of its kind, or None to empty it (its format stays).
CellValue = str | date | Decimal | int | float | None


@dataclass(frozen=True)
class SheetInfo:
    name: str
    part: str
    hidden: bool


@dataclass
class WriteResult:
    kept_formulas: list[str] = field(default_factory=list)  # cells left as the template has them


class Package:
    """The parts of a workbook, read once; `write_rows` changes one sheet; `data` saves."""

    def __init__(self, data: bytes, file_name: str) -> None:
        self.file_name = file_name
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                self.infos = archive.infolist()
                self.parts = {info.filename: archive.read(info) for info in self.infos}
            self._read_workbook()
        except (zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as error:
            raise FileRefused(
                f"{file_name} could not be read as an Excel workbook ({error}). Open it in "
                "Excel, save it as Excel Workbook (.xlsx) and try again."
            ) from None
        self._styles: Styles | None = None

    # -- reading ------------------------------------------------------------------------------

    def _read_workbook(self) -> None:
        root_rels = fromstring(self.parts["_rels/.rels"])
        self.workbook_part = next(
            r.get("Target", "").lstrip("/")
            for r in root_rels.iter(qname(PKG_REL, "Relationship"))
            if r.get("Type", "").endswith("/officeDocument")
        )
        workbook = fromstring(self.parts[self.workbook_part])
        rels = self._rels(self.workbook_part)
        self.sheets = [
            SheetInfo(
                sheet.get("name", ""),
                rels[sheet.get(qname(DOC_REL, "id"), "")],
                sheet.get("state", "visible") != "visible",
            )
            for sheet in workbook.iter(qname(MAIN, "sheet"))
        ]
        self.defined_names = [
            (d.get("name", ""), d.get("localSheetId"), (d.text or "").strip())
            for d in workbook.iter(qname(MAIN, "definedName"))
        ]
        properties = workbook.find(qname(MAIN, "workbookPr"))
        date1904 = properties is not None and properties.get("date1904") in {"1", "true"}
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900

    def _rels_part(self, part: str) -> str:
        folder, name = posixpath.split(part)
        return posixpath.join(folder, "_rels", f"{name}.rels")

    def _rels(self, part: str) -> dict[str, str]:
        """A part's relationships: ID -> the part it points to (external targets left out)."""
        xml = self.parts.get(self._rels_part(part))
        if xml is None:
            return {}
        folder = posixpath.dirname(part)
        found = {}
        for rel in fromstring(xml).iter(qname(PKG_REL, "Relationship")):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            found[rel.get("Id", "")] = posixpath.normpath(path)
        return found

    def _rel_types(self, part: str) -> Iterator[tuple[str, str]]:
        xml = self.parts.get(self._rels_part(part))
        if xml is None:
            return
        targets = self._rels(part)
        for rel in fromstring(xml).iter(qname(PKG_REL, "Relationship")):
            if rel.get("Id", "") in targets:
                yield rel.get("Type", ""), targets[rel.get("Id", "")]

    def sheet(self, name: str) -> SheetInfo:
        return next(s for s in self.sheets if s.name == name)

    def text(self, part: str) -> str:
        return self.parts[part].decode("utf-8")

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            part = self._styles_part()
            self._styles = Styles.parse(self.text(part) if part else MINIMAL_STYLES)
        return self._styles

    def _styles_part(self) -> str | None:
        return next(
            (t for kind, t in self._rel_types(self.workbook_part) if kind == STYLES_REL), None
        )

    # -- writing ------------------------------------------------------------------------------

    def write_rows(
        self,
        sheet: SheetInfo,
        rows: Mapping[int, Mapping[int, CellValue]],
        *,
        header_row: int,
        highlight: set[tuple[int, int]],
    ) -> WriteResult:
        """Put values in cells (1-based rows and columns); other cells stay as they are.

        Dates become date cells (in a date format: the cell's own if it has one), numbers
        numbers, text inline text (never a formula); None empties a cell. A cell holding a
        formula is left as it is, and said. `highlight` cells get a yellow fill.
        """
        xml = self.text(sheet.part)
        root = Root.of(xml, "worksheet")
        p = root.prefix
        span = element_span(xml, p, "sheetData")
        if span is None:
            raise FileRefused(f"Sheet {sheet.name!r} of {self.file_name} has no cells part.")
        head, data, tail = xml[: span[0]], xml[span[0] : span[1]], xml[span[1] :]
        chunks = _row_chunks(data, p)
        column_styles = _column_styles(head, p)
        result = WriteResult()
        for number, values in rows.items():
            chunk = chunks.get(number)
            if chunk is None:
                cells = [
                    self._cell(
                        p, col, number, column_styles.get(col), value, (number, col) in highlight
                    )
                    for col, value in sorted(values.items())
                    if value is not None
                ]
                chunks[number] = f'<{p}row r="{number}">{"".join(cells)}</{p}row>'
            else:
                chunks[number] = self._refill_row(
                    root, chunk, number, values, column_styles, highlight, result
                )
        body = "".join(chunks[n] for n in sorted(chunks))
        new_data = f"<{p}sheetData>{body}</{p}sheetData>"
        last_row = max([*chunks, header_row])
        last_col = max((c for values in rows.values() for c in values), default=1)
        head = _grow_dimension(head, p, last_row, last_col)
        tail = _grow_filter(tail, p, header_row, last_row)
        self.parts[sheet.part] = (head + new_data + tail).encode("utf-8")
        self._grow_tables(sheet.part, header_row, last_row)
        return result

    def _refill_row(
        self,
        root: Root,
        chunk: str,
        number: int,
        values: Mapping[int, CellValue],
        column_styles: dict[int, int],
        highlight: set[tuple[int, int]],
        result: WriteResult,
    ) -> str:
        """A row the template has (formatted, perhaps holding a worked example), refilled:
        its attributes and the cells not written stay."""
        row = root.wrap(chunk)
        writer = root.writer()
        p = root.prefix
        cell_tag = qname(MAIN, "c")
        row.attrib.pop("spans", None)  # a hint of the row's width, no longer true
        texts: dict[int, str] = {}
        styles: dict[int, int | None] = {}
        column = 0
        for cell in [c for c in row if c.tag == cell_tag]:
            ref = cell.get("r")
            column = column_index_from_string(re.sub(r"\d", "", ref)) if ref else column + 1
            cell.set("r", f"{get_column_letter(column)}{number}")
            if cell.find(qname(MAIN, "f")) is not None and column in values:
                result.kept_formulas.append(cell.get("r", ""))
            elif column in values:
                styles[column] = int(cell.get("s", "0"))
                continue
            cell.tail = None
            texts[column] = writer.text(cell)
        row_style = int(row.get("s", "0")) if row.get("customFormat") in {"1", "true"} else None
        for col, value in values.items():
            if col in texts or (value is None and col not in styles):
                continue  # a formula kept; or nothing to write and nothing to empty
            style = styles.get(col, row_style or column_styles.get(col))
            texts[col] = self._cell(p, col, number, style, value, (number, col) in highlight)
        others = "".join(writer.text(c) for c in row if c.tag != cell_tag)  # e.g. an extLst
        for child in list(row):
            row.remove(child)
        opening, closing = writer.tags(row)
        return opening + "".join(texts[c] for c in sorted(texts)) + others + closing

    def _cell(
        self,
        p: str,
        col: int,
        number: int,
        style: int | None,
        value: CellValue,
        highlighted: bool,
    ) -> str:
        """One cell as text: a date, a number, inline text (never a formula), or empty."""
        style = style or 0
        kind, inner = "", ""
        if isinstance(value, date):
            style = self.styles.as_date(style)
            day = value.date() if isinstance(value, datetime) else value
            inner = f"<{p}v>{_number(to_excel(day, self.epoch))}</{p}v>"
        elif isinstance(value, bool):  # never given; a slip, shown as text rather than 1/0
            kind, inner = ' t="inlineStr"', _inline(p, "Yes" if value else "No")
        elif isinstance(value, Decimal | int | float):
            inner = f"<{p}v>{_number(value)}</{p}v>"
        elif isinstance(value, str) and value:
            kind, inner = ' t="inlineStr"', _inline(p, value)
        if highlighted:
            style = self.styles.highlighted(style)
        ref = f"{get_column_letter(col)}{number}"
        s = f' s="{style}"' if style else ""
        return f'<{p}c r="{ref}"{s}{kind}>{inner}</{p}c>' if inner else f'<{p}c r="{ref}"{s}/>'

    def _grow_tables(self, sheet_part: str, header_row: int, last_row: int) -> None:
        """An Excel table whose header row is the template's takes in the rows written."""
        for kind, target in self._rel_types(sheet_part):
            if not kind.endswith("/table") or target not in self.parts:
                continue
            xml = self.text(target)
            root = Root.of(xml, "table")
            tag = re.search(rf"<{root.prefix}table\b[^>]*>", xml)
            ref = attrs(tag.group()).get("ref") if tag else None
            if tag is None or ref is None:
                continue
            min_col, min_row, max_col, _max_row = range_boundaries(ref)
            if min_row != header_row:
                continue
            new_ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}"
            new_ref += str(max(last_row, header_row + 1))
            xml = xml[: tag.start()] + set_attr(tag.group(), "ref", new_ref) + xml[tag.end() :]
            xml = _grow_filter(xml, root.prefix, header_row, max(last_row, header_row + 1))
            self.parts[target] = xml.encode("utf-8")

    def data(self) -> bytes:
        """The workbook: each part as it was, but those written."""
        if self._styles is not None and self._styles._made:
            self._save_styles(self._styles)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            names = {info.filename for info in self.infos}
            for info in self.infos:
                archive.writestr(info, self.parts[info.filename])
            for name, payload in self.parts.items():
                if name not in names:
                    archive.writestr(name, payload, zipfile.ZIP_DEFLATED)
        return buffer.getvalue()

    def _save_styles(self, styles: Styles) -> None:
        part = self._styles_part()
        if part is None:  # a workbook without formats gets the least styles part that works
            part = posixpath.join(posixpath.dirname(self.workbook_part), "styles.xml")
            self._add_styles_part(part)
        self.parts[part] = styles.text().encode("utf-8")

    def _add_styles_part(self, part: str) -> None:
        types = self.text("[Content_Types].xml")
        override = f'<Override PartName="/{part}" ContentType="{STYLES_TYPE}"/>'
        self.parts["[Content_Types].xml"] = types.replace(
            "</Types>", override + "</Types>"
        ).encode()
        rels_part = self._rels_part(self.workbook_part)
        rels = self.parts.get(rels_part, b"").decode("utf-8") or (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="{PKG_REL}">'
            "</Relationships>"
        )
        used = set(re.findall(r'Id="([^"]*)"', rels))
        new_id = next(f"rIdPars{n}" for n in range(1, 1000) if f"rIdPars{n}" not in used)
        target = posixpath.relpath(part, posixpath.dirname(self.workbook_part))
        relation = f'<Relationship Id="{new_id}" Type="{STYLES_REL}" Target="{target}"/>'
        self.parts[rels_part] = rels.replace(
            "</Relationships>", relation + "</Relationships>"
        ).encode()


def _row_chunks(sheet_data: str, p: str) -> dict[int, str]:
    """The rows of <sheetData> as written, by row number (implied ones counted on)."""
    chunks: dict[int, str] = {}
    number = 0
    row = re.escape(p) + "row"
    pattern = rf"<{row}\b(?:[^>]*?/>|[^>]*?[^/]>.*?</{row}>|>.*?</{row}>)"
    for found in re.finditer(pattern, sheet_data, re.DOTALL):
        start_tag = re.match(r"<[^>]*>", found.group()).group()  # type: ignore[union-attr]
        given = attrs(start_tag).get("r")
        number = int(given) if given else number + 1
        chunks[number] = found.group()
    return chunks


def _column_styles(head: str, p: str) -> dict[int, int]:
    """The format each column gives its new cells (<cols><col min max style>)."""
    styles: dict[int, int] = {}
    for tag in re.findall(rf"<{re.escape(p)}col\b[^>]*>", head):
        a = attrs(tag)
        if "style" in a and "min" in a:
            for column in range(int(a["min"]), int(a.get("max", a["min"])) + 1):
                styles[column] = int(a["style"])
            if len(styles) > 16384:
                break
    return styles


def _inline(p: str, value: str) -> str:
    space = ' xml:space="preserve"' if value != value.strip() or "\n" in value else ""
    return f"<{p}is><{p}t{space}>{escape(value)}</{p}t></{p}is>"


def _number(value: Decimal | int | float) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _grow_dimension(head: str, p: str, last_row: int, last_col: int) -> str:
    found = re.search(rf'<{re.escape(p)}dimension\b[^>]*\bref="([^"]*)"', head)
    if found is None:
        return head
    try:
        min_col, min_row, max_col, max_row = range_boundaries(found.group(1))
    except (ValueError, TypeError):
        return head
    ref = (
        f"{get_column_letter(min_col or 1)}{min_row or 1}:"
        f"{get_column_letter(max(max_col or 1, last_col))}{max(max_row or 1, last_row)}"
    )
    return head[: found.start(1)] + ref + head[found.end(1) :]


def _grow_filter(xml: str, p: str, header_row: int, last_row: int) -> str:
    """A filter over the header row reaches down to the last row written."""
    found = re.search(rf'<{re.escape(p)}autoFilter\b[^>]*\bref="([^"]*)"', xml)
    if found is None:
        return xml
    try:
        min_col, min_row, max_col, _ = range_boundaries(found.group(1))
    except (ValueError, TypeError):
        return xml
    if min_row != header_row or min_col is None or max_col is None:
        return xml
    ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{last_row}"
    return xml[: found.start(1)] + ref + xml[found.end(1) :]
