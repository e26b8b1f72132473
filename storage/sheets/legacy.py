"""Legacy .xls workbooks, read in a process of their own under a memory cap.

An .xls is a compound file of binary records, not a zip of XML: its cells cannot be counted
before python-calamine reads it, and python-calamine builds the whole sheet, every empty cell
within its span included. A 12 KB .xls with one cell moved to IV65536 takes it 1 GB. So the
workbook is read by a new interpreter (started afresh, not forked) whose address space is
capped: one that needs more is stopped by the kernel, and the file refused with the cap named.
The rows come back as JSON: nothing the child says is executed.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from dataclasses import asdict

from storage.sheets.limits import FileRefused, Limits, megabytes

# Time enough for any .xls of 20 MB; a child past it is stopped.
TIMEOUT_SECONDS = 120


def read_legacy(data: bytes, name: str, limits: Limits) -> list[tuple[str, list[list[str]]]]:
    """Every sheet of an .xls as (name, rows of cell text), or FileRefused."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "storage.sheets.legacy", name, json.dumps(asdict(limits))],
            input=data,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise FileRefused(
            f"{name} took more than {TIMEOUT_SECONDS} seconds to read. Save it as Excel "
            "Workbook (.xlsx) and share that."
        ) from None
    if done.returncode != 0:
        raise FileRefused(
            f"{name} needs more than {megabytes(limits.max_legacy_memory)} of memory to read, "
            "more than a batch file may take (an .xls can hold far more empty cells than its "
            "size suggests). Save it as Excel Workbook (.xlsx) and share that."
        )
    answer = json.loads(done.stdout)
    if "refused" in answer:
        raise FileRefused(answer["refused"])
    return [(sheet, rows) for sheet, rows in answer["sheets"]]


def _child(name: str, limits_json: str) -> None:
    limits = Limits(**json.loads(limits_json))
    cap = limits.max_legacy_memory
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)  # a lower cap set by the operator stays
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from storage.sheets.read import workbook_rows

    data = sys.stdin.buffer.read()
    try:
        sheets = workbook_rows(data, "xls", name, limits)
        answer: dict[str, object] = {"sheets": [[s.name, s.rows] for s in sheets]}
    except FileRefused as refused:
        answer = {"refused": refused.message}
    sys.stdout.buffer.write(json.dumps(answer, ensure_ascii=False).encode())


if __name__ == "__main__":
    _child(*sys.argv[1:3])
