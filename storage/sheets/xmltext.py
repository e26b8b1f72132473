"""XML parts of a workbook as text: elements found and cut out where they are written, parsed
with defusedxml one at a time, and written back with the prefixes their part declares. So a
part keeps every byte the bot has no reason to change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

from defusedxml.ElementTree import fromstring

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def qname(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def attrs(start_tag: str) -> dict[str, str]:
    """The attributes of a start tag, as written (prefixed names kept, entities not undone)."""
    return dict(re.findall(r'([\w:.-]+)\s*=\s*"([^"]*)"', start_tag))


def set_attr(start_tag: str, name: str, value: str) -> str:
    """A start tag with one attribute set (replaced where it is, else added at the end)."""
    pattern = re.compile(rf'(\s{re.escape(name)}\s*=\s*)"[^"]*"')
    if pattern.search(start_tag):
        return pattern.sub(lambda m: f'{m.group(1)}"{value}"', start_tag, count=1)
    end = -2 if start_tag.endswith("/>") else -1
    return f'{start_tag[:end]} {name}="{value}"{start_tag[end:]}'


def element_span(xml: str, prefix: str, name: str, start: int = 0) -> tuple[int, int] | None:
    """Where one element (start tag to end tag, or an empty one) lies in the text."""
    opening = re.compile(rf"<{re.escape(prefix)}{name}\b[^>]*?(/?)>", re.DOTALL)
    found = opening.search(xml, start)
    if found is None:
        return None
    if found.group(1):
        return found.start(), found.end()
    close = f"</{prefix}{name}>"
    end = xml.find(close, found.end())
    if end < 0:
        return None
    return found.start(), end + len(close)


@dataclass
class Root:
    """A part's root element: its prefix for the main namespace and what it declares."""

    prefix: str  # "" or "x:"
    declarations: dict[str, str]  # prefix ("" for the default) -> namespace URI

    @classmethod
    def of(cls, xml: str, local: str) -> Root:
        tag = re.search(rf"<([\w.-]+:)?{local}\b[^>]*>", xml)
        if tag is None:
            raise ValueError(f"no <{local}> element")
        declared = {p: uri for p, uri in re.findall(r'xmlns(?::([\w.-]+))?="([^"]*)"', tag.group())}
        return cls(tag.group(1) or "", declared)

    def wrap(self, chunk: str) -> Element:
        """One element cut out of the part, parsed with the namespaces its root declares."""
        spaces = " ".join(
            f"xmlns{':' + p if p else ''}={quoteattr(uri)}" for p, uri in self.declarations.items()
        )
        return fromstring(f"<pars-wrap {spaces}>{chunk}</pars-wrap>")[0]

    def writer(self) -> Writer:
        return Writer({uri: p for p, uri in self.declarations.items()} | {XML_NS: "xml"})


@dataclass
class Writer:
    """Elements back to text, each namespace with the prefix the part declares for it."""

    prefixes: dict[str, str]

    def name(self, qualified: str, undeclared: dict[str, str]) -> str:
        if not qualified.startswith("{"):
            return qualified
        uri, local = qualified[1:].split("}", 1)
        prefix = self.prefixes.get(uri)
        if prefix is None:
            prefix = undeclared.setdefault(uri, f"pars{len(undeclared)}")
        return f"{prefix}:{local}" if prefix else local

    def tags(self, element: Element) -> tuple[str, str]:
        """An element's start and end tags."""
        undeclared: dict[str, str] = {}
        tag = self.name(element.tag, undeclared)
        attrs = [f"{self.name(k, undeclared)}={quoteattr(v)}" for k, v in element.attrib.items()]
        attrs += [f'xmlns:{p}="{uri}"' for uri, p in undeclared.items()]
        return f"<{' '.join([tag, *attrs])}>", f"</{tag}>"

    def text(self, element: Element) -> str:
        opening, closing = self.tags(element)
        inner = escape(element.text or "") + "".join(self.text(child) for child in element)
        body = f"{opening}{inner}{closing}" if inner else f"{opening[:-1]}/>"
        return body + escape(element.tail or "")
