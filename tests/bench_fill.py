"""Benchmark: filling the provider's template with a large data year (printed, never asserted).

    .venv/bin/python tests/bench_fill.py [--rows N] [--runs R]

Fills the modern test template (drop-down lists on a hidden sheet, in the x14 extension) with
N activity records made in memory, and prints the median time of the fill next to openpyxl
write_only writing the same cells to a new workbook (what the bot's own export costs), the
size of the result, and the peak memory (RSS) of one fill in a process of its own.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook

from storage.sheets.fill import fill_template
from storage.sheets.headers import AS_OF, CLOSE, OTHERS, PHYSICIANS
from tests.storage.sheets.templates import MODERN_HEADERS, modern_template

FORMATS = ["rss", "live-course", "enduring", "journal", "pi"]
DELIVERY = {"rss": "in-person", "live-course": "hybrid"}


def records(n: int) -> list[dict[str, Any]]:
    made = []
    for i in range(n):
        fmt = FORMATS[i % len(FORMATS)]
        start = date(2025, 1, 1) + timedelta(days=i % 300)
        made.append(
            {
                "activity_id": f"A-{i:06d}",
                "title": f"Activity number {i}",
                "format": fmt,
                "delivery_method": DELIVERY.get(fmt),
                "start_date": start,
                "end_date": start + timedelta(days=30),
                "city": "Chicago" if fmt in DELIVERY else None,
                "state": "IL" if fmt in DELIVERY else None,
                "country": "USA" if fmt in DELIVERY else None,
                "credits": Decimal("1.5"),
                "description": "A description of the activity " * 4,
                "providership": "direct" if i % 3 else "joint",
                "cme_finder": bool(i % 2),
                "finder_fee": Decimal("0") if i % 2 else None,
                "outcome_measures": ["knowledge", "competence"][: 1 + i % 2],
                "commercial_support": bool(i % 4 == 0),
                "supporters": [{"name": "Acme", "kind": "monetary", "amount": "5000.00"}]
                if i % 4 == 0
                else None,
                "moc": bool(i % 5 == 0),
                "moc_boards": [
                    {
                        "board": "ABIM",
                        "points": "1.5",
                        "credit_types": ["Medical Knowledge"],
                        "claim_date": None,
                    }
                ]
                if i % 5 == 0
                else None,
                PHYSICIANS: 40,
                OTHERS: 12,
                AS_OF: start,
                CLOSE: "Active",
            }
        )
    return made


def median(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def bare_openpyxl(rows: list[dict[str, Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Activities")
    sheet.append(MODERN_HEADERS)
    for r in rows:
        sheet.append([str(v) if v is not None else None for v in list(r.values())[:27]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def peak_rss(rows: int) -> float:
    probe = (
        "import resource, sys; sys.path.insert(0, '.');"
        "from tests.bench_fill import records;"
        "from tests.storage.sheets.templates import modern_template;"
        "from storage.sheets.fill import fill_template;"
        f"fill_template(modern_template(), 't.xlsx', records({rows}));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    template = modern_template()
    rows = records(args.rows)
    filled = fill_template(template, "t.xlsx", rows)
    fill_time = median(args.runs, lambda: fill_template(template, "t.xlsx", rows))
    bare_time = median(args.runs, lambda: bare_openpyxl(rows))
    print(f"fill {args.rows:,} activities into the template: {fill_time:.2f} s")
    print(f"openpyxl write_only, the same cells, new workbook: {bare_time:.2f} s")
    print(f"filled file: {len(filled.data) / 1024:.0f} KB, {len(filled.report.misfits):,} misfits")
    print(f"peak memory of one fill (RSS): {peak_rss(args.rows):.0f} MB")


if __name__ == "__main__":
    main()
