"""A plan's rows as stored: one JSON object a line, compressed with zlib, written and read a
row at a time.

Stored as one JSON value, 100,000 rows were 55 MB of text, made whole before the database
copied it again; compressed a row at a time, no more than one row's text and the compressed
bytes (a tenth of it) exist at once, and reading them back never holds the whole text either.
"""

from __future__ import annotations

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
    parts = [squeeze.compress((encode(row) + "\n").encode()) for row in rows]
    parts.append(squeeze.flush())
    return b"".join(parts)


def unpack_rows(
    packed: bytes, object_hook: Callable[[dict[str, Any]], Any] | None = None
) -> Iterator[Any]:
    """Each row of `pack_rows`, in order, parsed as it is decompressed (with `object_hook`,
    as json.loads calls it)."""
    rest = b""
    for text in _texts(packed):
        *lines, rest = (rest + text).split(b"\n")
        for line in lines:
            yield json.loads(line, object_hook=object_hook)
    if rest.strip():
        yield json.loads(rest, object_hook=object_hook)


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
