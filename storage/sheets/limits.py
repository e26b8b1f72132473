"""What a batch file may be, and the refusal that says which limit it is over."""

from __future__ import annotations

import math
from dataclasses import dataclass

from storage.errors import ParsError

MB = 1024 * 1024


class FileRefused(ParsError):
    """The file cannot be used as it is; the message says why and what to do."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * MB
    max_rows: int = 100_000
    # A zip archive (.xlsx/.xlsm/.ods) may unpack to at most this much in all ...
    max_uncompressed: int = 400 * MB
    # ... and no member may be more than this many times its compressed size.
    max_ratio: int = 200
    # The cells of all the sheets of a workbook, counted in its XML as it is streamed (never
    # from what it declares), and the rows x columns each sheet spans: the reader builds a
    # whole sheet in memory, empty cells within that span included. 100,000 rows of 29
    # columns fit, with their header; python-calamine and the rows read then take some 450 MB.
    max_cells: int = 3_000_000
    # The text those cells hold, a text shared by many cells counted once for each (the
    # reader copies it into each), as its XML is long.
    max_text: int = 100 * MB
    # An .xls cannot be counted before it is read: it is read by a process of its own, which
    # may take this much memory (address space) at most.
    max_legacy_memory: int = 512 * MB


def megabytes(size: int) -> str:
    """A limit in words: 400 MB, 0.5 MB."""
    return f"{size // MB} MB" if size % MB == 0 else f"{size / MB:.1f} MB"


def sizes_over(size: int, limit: int) -> tuple[str, str]:
    """A size over a limit and the limit, in figures that read as the larger and the smaller:
    never "400.0 MB, more than the 400.0 MB". Cut (not rounded) to as few decimals as show the
    difference, and in bytes when a few decimals cannot."""
    for decimals in (1, 2, 3):
        shown = math.floor(size / MB * 10**decimals) / 10**decimals
        if shown > limit / MB:
            return f"{shown:,.{decimals}f} MB", megabytes(limit)
    return f"{size:,} bytes", f"{megabytes(limit)} ({limit:,} bytes)"
