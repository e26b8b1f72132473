"""The styles part of a workbook: which cell formats show dates, and formats added for the
cells the bot writes (a date format, a highlight), appended so existing ones keep their
numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import unescape

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

from storage.sheets.xmltext import MAIN, Root, attrs, element_span, set_attr

DATE_FORMAT_ID = 14  # the built-in short date: m/d/yyyy where PARS's users are
HIGHLIGHT_RGB = "FFFFEB9C"  # Excel's own "neutral" yellow


@dataclass
class Styles:
    """The styles part: which cell formats show dates, and new ones appended as needed."""

    xml: str
    prefix: str
    number_formats: dict[int, str]
    formats: list[str]  # each <xf> of cellXfs, as written
    _made: dict[tuple[int, str], int] = field(default_factory=dict)
    _highlight_fill: int | None = None

    @classmethod
    def parse(cls, xml: str) -> Styles:
        prefix = Root.of(xml, "styleSheet").prefix
        number_formats = {
            int(a["numFmtId"]): unescape(a.get("formatCode", ""), {"&quot;": '"', "&apos;": "'"})
            for tag in re.findall(rf"<{prefix}numFmt\b[^>]*>", xml)
            if "numFmtId" in (a := attrs(tag))
        }
        span = element_span(xml, prefix, "cellXfs")
        body = xml[span[0] : span[1]] if span else ""
        formats = re.findall(
            rf"<{prefix}xf\b(?:[^>]*?/>|[^>]*?[^/]>.*?</{prefix}xf>|>.*?</{prefix}xf>)", body, re.S
        )
        return cls(xml, prefix, number_formats, formats)

    def _start_tag(self, index: int) -> str:
        xf = self.formats[index] if 0 <= index < len(self.formats) else f"<{self.prefix}xf/>"
        return re.match(r"<[^>]*>", xf).group()  # type: ignore[union-attr]

    def shows_dates(self, index: int) -> bool:
        number_format = int(attrs(self._start_tag(index)).get("numFmtId", "0"))
        code = self.number_formats.get(number_format) or BUILTIN_FORMATS.get(number_format, "")
        return is_date_format(code)

    def as_date(self, index: int) -> int:
        """A format like `index` that shows a date (itself when it does)."""
        if self.shows_dates(index):
            return index
        return self._derived(index, "date", {"numFmtId": str(DATE_FORMAT_ID)}, "applyNumberFormat")

    def highlighted(self, index: int) -> int:
        """A format like `index` with a yellow fill, to mark a value that fits no list."""
        fill = self._fill()
        if fill is None:
            return index
        return self._derived(index, "highlight", {"fillId": str(fill)}, "applyFill")

    def _derived(self, index: int, why: str, changes: dict[str, str], apply: str) -> int:
        if (index, why) in self._made:
            return self._made[(index, why)]
        base = self.formats[index] if 0 <= index < len(self.formats) else f"<{self.prefix}xf/>"
        tag = re.match(r"<[^>]*>", base).group()  # type: ignore[union-attr]
        new_tag = tag
        for name, value in {**changes, apply: "1"}.items():
            new_tag = set_attr(new_tag, name, value)
        self.formats.append(new_tag + base[len(tag) :])
        self._made[(index, why)] = len(self.formats) - 1
        return len(self.formats) - 1

    def _fill(self) -> int | None:
        if self._highlight_fill is None:
            span = element_span(self.xml, self.prefix, "fills")
            if span is None or self.xml[span[1] - 2 : span[1]] == "/>":
                return None
            p = self.prefix
            body = self.xml[span[0] : span[1]]
            count = len(re.findall(rf"<{p}fill\b", body))
            fill = (
                f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{HIGHLIGHT_RGB}"/>'
                f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>'
            )
            end = span[1] - len(f"</{p}fills>")
            start_tag = re.match(r"<[^>]*>", body).group()  # type: ignore[union-attr]
            new_start = set_attr(start_tag, "count", str(count + 1))
            self.xml = (
                self.xml[: span[0]] + new_start + self.xml[span[0] + len(start_tag) : end]
                + fill + self.xml[end:]
            )  # fmt: skip
            self._highlight_fill = count
        return self._highlight_fill

    def text(self) -> str:
        """The part, with the formats appended to cellXfs."""
        if not self._made:
            return self.xml
        p = self.prefix
        span = element_span(self.xml, p, "cellXfs")
        inner = "".join(self.formats)
        cell_xfs = f'<{p}cellXfs count="{len(self.formats)}">{inner}</{p}cellXfs>'
        if span is None:  # after the other formats, as the schema orders them
            cell_style = element_span(self.xml, p, "cellStyleXfs") or element_span(
                self.xml, p, "borders"
            )
            at = cell_style[1] if cell_style else self.xml.rfind(f"</{p}styleSheet>")
            return self.xml[:at] + cell_xfs + self.xml[at:]
        return self.xml[: span[0]] + cell_xfs + self.xml[span[1] :]


MINIMAL_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
    '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
    '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
    '<right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf '
    'numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf '
    'numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1">'
    '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
