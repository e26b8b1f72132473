"""Batch work from the command line and the console, run as an operator runs them."""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from pathlib import Path

import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from tests.bot.test_cli import run
from tests.bot.test_console import console, stored
from tests.storage.batch.files import grand_rounds, table, text_file, xlsx
from tests.storage.sheets.templates import (
    COUNTS,
    LAYOUT_2010,
    MODERN_HEADERS,
    YEAR_2025,
    YEAR_IDS,
    layout_2010,
    modern_template,
)


def test_template_import_apply_export_and_the_round_trip(tmp_path: Path) -> None:
    made = run(tmp_path, "template", "--out", "template.xlsx")
    assert made.returncode == 0, made.stderr
    book = load_workbook(tmp_path / "template.xlsx")
    # The Lists sheet holds drop-downs whose entries have commas ("No, it's free"): hidden.
    assert book.sheetnames == ["Activities", "Instructions", "Lists"]
    assert book["Lists"].sheet_state == "hidden"

    rows = table([grand_rounds("GR-1"), grand_rounds("GR-2", **{"End date": "2025-02-30"})])
    xlsx(rows, tmp_path / "batch.xlsx")
    refused = run(tmp_path, "import", "batch.xlsx")
    assert refused.returncode == 2
    assert "holds no workspace yet: give --team" in refused.stderr

    checked = run(tmp_path, "import", "batch.xlsx", "--team", "T0OFFICE")
    assert checked.returncode == 1  # errors found, nothing changed
    assert "1 to add" in checked.stdout and "1 with errors" in checked.stdout
    assert 'row 3, End date: "2025-02-30" is not a real date' in checked.stdout
    assert "nothing changed" in checked.stdout
    assert stored(tmp_path, "SELECT activity_id FROM activity") == []

    applied = run(tmp_path, "import", "batch.xlsx", "--team", "T0OFFICE", "--apply")
    assert applied.returncode == 1 and not applied.stderr, applied.stderr  # row 3 skipped
    assert "applied as batch B-" in applied.stdout and "1 added" in applied.stdout
    assert stored(tmp_path, "SELECT team_id, activity_id FROM activity") == [("T0OFFICE", "GR-1")]
    batch = stored(tmp_path, "SELECT DISTINCT batch_id FROM audit_event")
    assert len(batch) == 1 and batch[0][0].startswith("B-")

    exported = run(tmp_path, "export", "--year", "2025", "--out", "pars-2025.xlsx")
    assert exported.returncode == 0, exported.stderr
    assert "1 activities of data year 2025" in exported.stdout
    sheet = load_workbook(io.BytesIO((tmp_path / "pars-2025.xlsx").read_bytes())).worksheets[0]
    assert sheet["A2"].value == "GR-1"

    again = run(tmp_path, "import", "pars-2025.xlsx")  # --team left out: one workspace
    assert again.returncode == 0, again.stderr
    assert "0 to add, 0 to update, 1 unchanged" in again.stdout


def test_console_upload_shows_the_preview_and_applies(tmp_path: Path) -> None:
    (tmp_path / "batch.csv").write_bytes(text_file(table([grand_rounds("GR-1")])))
    out = console(tmp_path, f"upload {tmp_path / 'batch.csv'}\nclick Apply\n/pars show GR-1\n")
    assert "Preview of batch.csv" in out and "1 to add" in out
    assert "[Apply]  [Cancel]" in out
    assert "(file posted: batch - checked by pars-bot.xlsx; saved as pars-files/" in out
    assert "Applied batch.csv" in out and "1 added" in out
    assert "`GR-1` *Medicine Grand Rounds*" in out
    assert stored(tmp_path, "SELECT activity_id FROM activity") == [("GR-1",)]


def test_console_upload_of_a_missing_file(tmp_path: Path) -> None:
    out = console(tmp_path, "upload nowhere.xlsx\n")
    assert "No file nowhere.xlsx" in out


def test_the_same_file_shared_again_in_a_later_console_session_is_previewed(
    tmp_path: Path,
) -> None:
    # Each share is a new Slack file; a restarted stand-in once reused the first file's ID,
    # and the bot, taking the share for one it had read, said nothing at all.
    (tmp_path / "batch.csv").write_bytes(text_file(table([grand_rounds("GR-1")])))
    first = console(tmp_path, f"upload {tmp_path / 'batch.csv'}\nclick Apply\n")
    assert "Applied batch.csv" in first and "1 added" in first
    again = console(tmp_path, f"upload {tmp_path / 'batch.csv'}\n")
    assert "Preview of batch.csv" in again and "0 to add · 0 to update · 1 unchanged" in again


def database_env(engine: Engine) -> dict[str, str]:
    """The CLI's DATABASE_URL for the test database (SQLite's is tmp_path/pars.db already)."""
    if engine.dialect.name == "sqlite":
        return {}
    return {"DATABASE_URL": engine.url.render_as_string(hide_password=False)}


def test_import_of_a_date_past_the_calendar_names_the_row(tmp_path: Path, engine: Engine) -> None:
    far = {"Start date": "9999-12-31", "End date": "9999-12-31"}
    rows = table([grand_rounds("GR-1"), grand_rounds("GR-2", **far)])
    (tmp_path / "batch.csv").write_bytes(text_file(rows))
    checked = run(tmp_path, "import", "batch.csv", "--team", "T0OFFICE", **database_env(engine))
    assert "Traceback" not in checked.stderr
    assert checked.returncode == 1  # errors found, nothing changed
    assert "1 to add" in checked.stdout and "1 with errors" in checked.stdout
    assert "row 3, Start date 9999-12-31 is outside the years pars-bot accepts" in checked.stdout
    applied = run(
        tmp_path, "import", "batch.csv", "--team", "T0OFFICE", "--apply", **database_env(engine)
    )
    assert "Traceback" not in applied.stderr, applied.stderr[-1500:]
    assert applied.returncode == 1  # a row was skipped
    assert "1 added" in applied.stdout and "1 rows skipped" in applied.stdout
    with engine.connect() as connection:
        found = connection.execute(sa.text("SELECT activity_id FROM activity")).all()
    assert [r[0] for r in found] == ["GR-1"]


def test_import_apply_of_a_nul_deep_in_a_csv_skips_that_row(tmp_path: Path, engine: Engine) -> None:
    rows = table(
        [*(grand_rounds(f"GR-{n:03}") for n in range(300)), grand_rounds("X", Title="a\x00b")]
    )
    (tmp_path / "batch.csv").write_bytes(text_file(rows))
    applied = run(
        tmp_path, "import", "batch.csv", "--team", "T0OFFICE", "--apply", **database_env(engine)
    )
    assert "Traceback" not in applied.stderr, applied.stderr[-1500:]
    assert "300 to add" in applied.stdout and "1 with errors" in applied.stdout
    assert "row 302, Title: holds an invisible control character (U+0000" in applied.stdout
    assert "300 added" in applied.stdout
    with engine.connect() as connection:
        found = connection.execute(sa.text("SELECT count(*) FROM activity")).scalar_one()
    assert found == 300


# -- the provider's own template --------------------------------------------------------------


def _enter_a_year(tmp_path: Path) -> None:
    """Data year 2025 as a coordinator enters it: a batch file of activities and counts."""
    records = [
        dict(r)
        | {"Physician learners": COUNTS.get(r["id"], ("", ""))[0]}
        | {"Other learners": COUNTS.get(r["id"], ("", ""))[1]}
        for r in YEAR_2025
    ]
    (tmp_path / "year.csv").write_bytes(text_file(table(records)))
    entered = run(tmp_path, "import", "year.csv", "--team", "T0OFFICE", "--apply")
    assert entered.returncode == 0, entered.stdout + entered.stderr
    assert "3 added" in entered.stdout


def test_export_into_the_provider_s_template_fills_it_and_says_what_it_left(
    tmp_path: Path,
) -> None:
    _enter_a_year(tmp_path)
    (tmp_path / "template.xlsx").write_bytes(modern_template())
    done = run(
        tmp_path, "export", "--into", "template.xlsx", "--year", "2025", "--out", "filled.xlsx"
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "wrote filled.xlsx: 3 activities of data year 2025 into sheet 'Activities'" in out
    assert "Columns left empty (pars-bot has no such field): State Content Tags" in out
    assert 'Delivery Method: "In-Person; Live-Streamed" (CONF-2025): entries of the list' in out
    assert 'Fee: "' not in out  # a fee is whether there is one: the list's own entry fits

    data = (tmp_path / "filled.xlsx").read_bytes()
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<x14:formula1><xm:f>Lists!$B$2:$B$3</xm:f></x14:formula1>" in sheet_xml
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [sheet.cell(row=r, column=1).value for r in (3, 4, 5)] == YEAR_IDS
    assert sheet["C4"].value == "Regularly Scheduled Series"

    again = run(tmp_path, "import", "filled.xlsx")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "3 rows: 0 to add, 0 to update, 3 unchanged" in again.stdout


def test_export_tsv_is_the_filled_first_sheet_as_tab_delimited_text(tmp_path: Path) -> None:
    _enter_a_year(tmp_path)
    (tmp_path / "template.xlsx").write_bytes(modern_template())
    done = run(
        tmp_path,
        "export",
        "--into",
        "template.xlsx",
        "--tsv",
        "--year",
        "2025",
        "--out",
        "filled.txt",
    )
    assert done.returncode == 0, done.stderr
    assert "wrote filled.txt (tab-delimited)" in done.stdout
    text = (tmp_path / "filled.txt").read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect="excel-tab"))
    assert rows[0] == MODERN_HEADERS  # the header row first: the title above it is not data
    gr = dict(zip(MODERN_HEADERS, rows[2], strict=True))
    assert (gr["Start Date"], gr["End Date"]) == ("01/07/2025", "12/16/2025")
    assert gr["Activity Type"] == "Regularly Scheduled Series"
    assert gr["MOC Board 1"] == "" and gr["Fee"] == ""  # blank cells empty
    assert gr["Activity Description"] == "Weekly case conference\nfor internal medicine"
    again = run(tmp_path, "import", "filled.txt")
    assert "3 rows: 0 to add, 0 to update, 3 unchanged" in again.stdout, again.stdout

    own = run(tmp_path, "export", "--tsv", "--year", "2025", "--out", "export.txt")
    assert own.returncode == 0, own.stderr
    header = (tmp_path / "export.txt").read_text().split("\r\n")[0].split("\t")
    assert header[:3] == ["Activity ID", "Title", "Format"]


def test_export_into_the_2010_layout_writes_its_lines(tmp_path: Path) -> None:
    _enter_a_year(tmp_path)
    (tmp_path / "layout 2010.txt").write_bytes(layout_2010())
    done = run(
        tmp_path, "export", "--into", "layout 2010.txt", "--year", "2025", "--out", "pars.txt"
    )
    assert done.returncode == 0, done.stderr
    assert "(tab-delimited)" in done.stdout and "Hours of Instruction" in done.stdout
    lines = (tmp_path / "pars.txt").read_text().split("\n")
    assert lines[0].rstrip("\r").split("\t") == LAYOUT_2010
    again = run(tmp_path, "import", "pars.txt")
    assert "3 rows: 0 to add, 0 to update, 3 unchanged" in again.stdout, again.stdout


def test_export_into_something_that_is_not_a_template_says_why(tmp_path: Path) -> None:
    _enter_a_year(tmp_path)
    missing = run(tmp_path, "export", "--into", "nowhere.xlsx", "--out", "f.xlsx")
    assert missing.returncode == 2 and "nowhere.xlsx: no such file" in missing.stderr
    (tmp_path / "notes.xlsx").write_bytes(xlsx([["Notes"], ["call the chair"]]))
    no_header = run(tmp_path, "export", "--into", "notes.xlsx", "--out", "f.xlsx")
    assert no_header.returncode == 2
    assert "I couldn't find a header row in notes.xlsx" in no_header.stderr
    (tmp_path / "photo.xlsx").write_bytes(b"\x89PNG not a workbook")
    not_a_workbook = run(tmp_path, "export", "--into", "photo.xlsx", "--out", "f.xlsx")
    assert not_a_workbook.returncode == 2
    assert "photo.xlsx is not a .xlsx workbook" in not_a_workbook.stderr
    assert not (tmp_path / "f.xlsx").exists()
    assert "Traceback" not in no_header.stderr + not_a_workbook.stderr


def test_an_export_of_a_year_the_bot_does_not_take_names_the_years(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("Activity ID,Title\nGR-1,Grand Rounds\n")
    run(tmp_path, "import", "one.csv", "--team", "T0OFFICE", "--apply")
    done = run(tmp_path, "export", "--year", "1", "--out", "x.xlsx")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--year 1: give a data year from 2000 to" in done.stderr
    assert not (tmp_path / "x.xlsx").exists()
