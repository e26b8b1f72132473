"""Benchmark: what a batch file costs in memory and time (printed, never asserted).

    .venv/bin/python tests/bench_limits.py [--rows 100000] [--no-floor]

Issue 12, item 3: the dense workbook (17 MB, 1,500 rows of 16,000 numbers under a dimension
of A1:B1) took `pars-bot import` 35 s and 2.5 GB. For it, for two files at the limits (--rows
rows of the export's first 29 columns: just under the 3,000,000 cells a file may hold, every
row its own 250-character description and, in most columns, a value no list takes, the same
in every row or each row's own, so that every row is an error naming many fields), for an
ordinary 100,000-row activity workbook and for the 10,000-row one of README's "< 300 MB" goal,
each in a process of its own (peak RSS from the kernel, wall time):

- `pars-bot import FILE` (check only, on a new SQLite database): the whole path, from
  reading to the annotated copy;
- the reader alone (`storage.sheets.read.read_file`: limits, counting, python-calamine);
- the floor: bare python-calamine reading the same file (`get_sheet_by_index(0).to_python()`),
  capped at 6 GB of address space so that the dense file cannot take the machine down.

Peak RSS is the kernel's for each process (os.wait4), started by vfork from this small one.

A bare interpreter with the reader imported is printed first, for scale.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
PARS_BOT = ROOT / ".venv" / "bin" / "pars-bot"
FLOOR_CAP = 6 * 1024**3


def child(mode: str, path: str) -> None:
    """In the measured process: read the file the way `mode` says, print what came of it."""
    if mode == "make":
        make_files(Path(path), int(os.environ["BENCH_ROWS"]))
        return
    data = Path(path).read_bytes() if path else b""
    if mode == "read":
        from storage.sheets.read import FileRefused, read_file

        try:
            sheets = read_file(data, Path(path).name)
            print(f"read {sum(len(s.rows) for s in sheets):,} rows")
        except FileRefused as refused:
            print(f"refused: {refused.message}")
    elif mode == "bare":
        import python_calamine

        # Its own cap (not one set between fork and exec: that would make subprocess fork
        # rather than vfork, and a forked child starts with the RSS of this benchmark).
        resource.setrlimit(resource.RLIMIT_AS, (FLOOR_CAP, FLOOR_CAP))

        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = book.get_sheet_by_index(0).to_python()
        print(f"read {len(rows):,} rows")
    else:
        import storage.sheets.read  # noqa: F401  (what every reading process holds)

        print("imported")


def measure(command: list[str], env: dict[str, str]) -> str:
    """Run `command`; its wall time, peak RSS and last line of output, in words."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
    said = lines[-1] if lines else ""
    if os.WIFSIGNALED(status):
        said = f"killed by signal {os.WTERMSIG(status)} ({said[:60]})"
    elif "memory allocation" in "\n".join(lines):
        said = "aborted: could not allocate its memory"
    peak = usage.ru_maxrss // 1024  # KiB on Linux
    return f"{elapsed:7.2f} s {peak:7,d} MB   {said[:110]}"


def file_names(folder: Path, rows: int) -> dict[str, Path]:
    return {
        "dense 1,500 x 16,000 (issue 12)": folder / "dense.xlsx",
        f"at the limits, {rows:,} x 29, one bad value": folder / "limits_same.xlsx",
        f"at the limits, {rows:,} x 29, each row's own": folder / "limits_own.xlsx",
        f"ordinary {rows:,} rows": folder / f"rows{rows}.xlsx",
        "ordinary 10,000 rows": folder / "rows10000.xlsx",
    }


def make_files(folder: Path, rows: int) -> None:
    from tests.bench_batch import workbook_bytes
    from tests.storage.batch.files import dense_xlsx

    dense, same, own, ordinary, small = file_names(folder, rows).values()
    dense_xlsx(1500, 16_000, dense)
    same.write_bytes(limits_bytes(rows, own=False))
    own.write_bytes(limits_bytes(rows, own=True))
    ordinary.write_bytes(workbook_bytes(rows))
    small.write_bytes(workbook_bytes(10_000))


# Words for descriptions that differ in every row yet compress as text does (the file stays
# under the 20 MB a file may be).
WORDS = [
    "case", "review", "outcome", "learner", "physician", "session", "module", "clinical",
    "update", "practice", "guideline", "cardiology", "renal", "pediatric", "surgical", "imaging",
    "quality", "safety", "ethics", "dosing",
]  # fmt: skip


def limits_bytes(rows: int, *, own: bool) -> bytes:
    """A workbook at the limits with little repetition: `rows` rows of the export's first 29
    columns, each row's description its own 250 characters, and in every column but the ID,
    title, dates, city and description a value no list takes ("maybe", or with `own` one
    naming its row, so that no two rows' messages are equal)."""
    from openpyxl import Workbook

    from storage.sheets.workbooks import export_labels

    labels = export_labels()[:29]
    plain = {"Activity ID", "Title", "Start date", "End date", "City", "Description"}
    pick = random.Random(12).choice
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Activities")
    sheet.append(labels)
    for i in range(rows):
        words = [str(i)]
        while sum(len(w) + 1 for w in words) <= 250:
            words.append(pick(WORDS))
        start = date(2025, 1, 1) + timedelta(days=i % 300)
        bad = f"maybe {i}" if own else "maybe"
        own_cells = {
            "Activity ID": f"LIMIT-{i:06d}",
            "Title": f"Title {i}",
            "Start date": start,
            "End date": start + timedelta(days=30),
            "City": f"City {i}",
            "Description": " ".join(words)[:250],
        }
        sheet.append([own_cells[label] if label in plain else bad for label in labels])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-floor", action="store_true", help="skip bare python-calamine")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARS_"))}
        me = [sys.executable, __file__, "--child"]
        # Made in a process of their own: this one stays small, as each measured one starts.
        subprocess.run([*me, "make", tmp], env={**env, "BENCH_ROWS": str(args.rows)}, check=True)
        files = file_names(folder, args.rows)
        print(f"{'':44}{'time':>9} {'peak RSS':>10}   outcome")
        print(f"{'python with the reader imported':44}{measure([*me, 'base', ''], env)}")
        for label, path in files.items():
            size = path.stat().st_size / 1024**2
            print(f"{label} ({size:.1f} MB)")
            database = folder / "pars.db"
            database.unlink(missing_ok=True)
            cli_env = {**env, "DATABASE_URL": f"sqlite:///{database}"}
            command = [str(PARS_BOT), "import", str(path), "--team", "T0BENCH"]
            print(f"{'  pars-bot import':44}{measure(command, cli_env)}")
            print(f"{'  the reader alone (read_file)':44}{measure([*me, 'read', str(path)], env)}")
            if not args.no_floor:
                floor = measure([*me, "bare", str(path)], env)
                print(f"{'  floor: bare python-calamine':44}{floor}")


if __name__ == "__main__":
    main()
