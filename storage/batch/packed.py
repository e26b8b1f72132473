"""A plan's rows as stored: one JSON object a line, compressed with zlib, written and read a
row at a time.

Stored as one JSON value, 100,000 rows were 55 MB of text, made whole before the database
copied it again; compressed a row at a time, no more than one row's text and the compressed
bytes (a tenth of it) exist at once, and reading them back never holds the whole text either.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

# Bytes handed to zlib, and taken from it, at a time when reading: a few rows' worth.
_CHUNK = 64 * 1024
# Level 1: most of the size saved, at a fraction of the default level's time.
_LEVEL = 1


def pack_rows(rows: Iterable[dict[str, Any]]) -> bytes:
    """The rows, each as one line of JSON, compressed."""
    squeeze = zlib.compressobj(_LEVEL)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    # Written into one buffer, which grows in place and is handed over as it is: parts
    # joined at the end were the packed size twice over for a moment (15 MB at the limits).
    out = io.BytesIO()
    for row in rows:
        out.write(squeeze.compress((encode(row) + "\n").encode()))
    out.write(squeeze.flush())
    return out.getvalue()


def unpack_rows(
    packed: bytes, object_hook: Callable[[dict[str, Any]], Any] | None = None
) -> Iterator[Any]:
    """Each row of `pack_rows`, in order, parsed as it is decompressed (with `object_hook`,
    as json.loads calls it)."""
    decode = json.JSONDecoder(object_hook=object_hook).raw_decode
    rest = b""
    for piece in _texts(packed):
        text = rest + piece
        cut = text.rfind(b"\n") + 1
        rest = text[cut:]
        # The whole lines of the piece, parsed where they lie in one string: a string a line
        # would leave, once freed, holes among the rows' objects that later objects fill,
        # keeping the heap from shrinking after Apply.
        lines = text[:cut].decode()
        at = 0
        while at < len(lines):
            row, at = decode(lines, at)
            yield row
            at += 1  # the line's end
    if rest.strip():
        raise ValueError("packed rows end in the middle of a line")


def _texts(packed: bytes) -> Iterator[bytes]:
    """The decompressed text in pieces of at most _CHUNK bytes, whatever the ratio."""
    opened = zlib.decompressobj()
    view = memoryview(packed)
    for start in range(0, len(view), _CHUNK):
        data: bytes | memoryview = view[start : start + _CHUNK]
        while data:
            yield opened.decompress(data, _CHUNK)
            data = opened.unconsumed_tail
    yield opened.flush()
