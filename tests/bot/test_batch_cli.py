"""Batch work from the command line and the console, run as an operator runs them."""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from tests.bot.test_cli import run
from tests.bot.test_console import console, stored
from tests.storage.batch.files import grand_rounds, table, text_file, xlsx


def test_template_import_apply_export_and_the_round_trip(tmp_path: Path) -> None:
    made = run(tmp_path, "template", "--out", "template.xlsx")
    assert made.returncode == 0, made.stderr
    assert load_workbook(tmp_path / "template.xlsx").sheetnames == ["Activities", "Instructions"]

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
