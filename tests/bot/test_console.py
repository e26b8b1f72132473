"""`pars-bot console` driven through stdin, as a script would drive it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

PARS_BOT = shutil.which("pars-bot") or str(Path(__file__).parents[2] / ".venv/bin/pars-bot")


def console(tmp_path: Path, script: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARS_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'pars.db'}"
    done = subprocess.run(
        [PARS_BOT, "console"],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def stored(tmp_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "pars.db") as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture(autouse=True)
def _needs_the_program() -> None:
    assert Path(PARS_BOT).exists(), "install the project first: make install"


def test_inline_commands_from_a_script(tmp_path: Path) -> None:
    out = console(
        tmp_path,
        '/pars add-activity id=GR-2025 title="Medicine Grand Rounds" format=rss '
        "start=2025-01-07 end=2025-12-16\n/pars show GR-2025\n/pars list all\n",
    )
    assert "Added `GR-2025`" in out
    assert "PARS status: *Draft*" in out
    assert "Regularly scheduled series" in out
    assert stored(tmp_path, "select activity_id, title, team_id from activity") == [
        ("GR-2025", "Medicine Grand Rounds", "T0LOCAL")
    ]


def test_errors_are_explained_and_nothing_is_saved(tmp_path: Path) -> None:
    out = console(
        tmp_path,
        '/pars add-activity title="X" fromat=rss\n'
        '/pars add-activity title="X" format=rss start=2025-01-01 end=2026-06-01\n'
        "/pars frobnicate\n",
    )
    assert "Did you mean `format=`?" in out
    assert "at most 1 year" in out
    assert "is not a /pars subcommand" in out
    assert "HTTP 500" not in out
    assert stored(tmp_path, "select count(*) from activity") == [(0,)]


def test_the_form_is_filled_line_by_line(tmp_path: Path) -> None:
    answers = [
        "",  # activity ID: let the bot assign one
        "Cardiology Update",  # title
        "3",  # format: Enduring material
        "",  # delivery method
        "2025-03-01",  # start
        "2025-02-01",  # end: before the start, refused below
    ] + [""] * 23  # every other field left empty
    fixes = ["2027-03-01"]  # the form asks again for the end date only
    out = console(tmp_path, "/pars add-activity\n" + "\n".join(answers + fixes) + "\n")
    assert "== New activity ==" in out
    assert "✗ End date:" in out and "before the start date" in out
    assert "assigned the ID `2025-0001`" in out
    assert stored(tmp_path, "select activity_id, format, end_date from activity") == [
        ("2025-0001", "enduring", "2027-03-01")
    ]


def test_a_command_typed_in_a_form_leaves_it(tmp_path: Path) -> None:
    out = console(tmp_path, "/pars add-activity\n\n/pars help\n")
    assert "(form closed without saving)" in out
    assert "Subcommands:" in out
    assert stored(tmp_path, "select count(*) from activity") == [(0,)]


COMPLETE = (
    "delivery=in-person city=Chicago state=IL country=USA credits=1 description=Weekly "
    "providership=direct finder=no outcomes=knowledge commercial-support=no"
)


def test_time_check_and_click_close_selected(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "time 2026-01-15T10:00",
            '/pars add-activity id=A-1 title="One" format=rss start=2025-01-07 end=2025-12-16',
            f"/pars edit A-1 {COMPLETE}",
            "/pars counts A-1 physicians=10 others=2",
            '/pars add-activity id=A-2 title="Two" format=rss start=2025-01-07 end=2025-12-16',
            "/pars list ready",
            "check A-1 A-2",
            "click Close selected",
        ]
    )
    out = console(tmp_path, script + "\n")
    assert "It is now 2026-01-15 10:00 CST" in out
    assert "Ready to close" in out  # A-1 only: A-2 is still a Draft
    assert "`A-2` is not a checkbox" in out
    assert "Closed `A-1`" in out
    assert stored(tmp_path, "select activity_id from activity where closed_at is not null") == [
        ("A-1",)
    ]


def test_close_all_shows_slacks_confirmation_and_closes_the_ready_ones(tmp_path: Path) -> None:
    lines = ["time 2026-01-15T10:00"]
    for n in range(1, 13):
        lines += [
            f'/pars add-activity id=A-{n:02d} title="Course {n}" format=rss start=2025-01-07 '
            f"end=2025-12-16 {COMPLETE}",
            f"/pars counts A-{n:02d} physicians=10 others=2",
        ]
    lines += [
        "/pars list ready",
        "check A-01 A-12",  # in the first group of ten and the second
        "click Close selected",
        "/pars list ready",
        'click "Close all 10 ready"',
    ]
    out = console(tmp_path, "\n".join(lines) + "\n")
    assert "Closed 2 of 2." in out
    assert "[Close selected]  [Close all 10 ready]" in out
    assert "Slack asks first: Close 10 activities? Closes the 10 activities" in out
    assert "[Close 10] [Cancel] — clicked [Close 10]." in out
    assert "Closed all 10 ready activities." in out
    closed = stored(tmp_path, "select count(*) from activity where closed_at is not null")
    assert closed == [(12,)]


def test_click_asks_which_when_buttons_share_a_label(tmp_path: Path) -> None:
    script = "\n".join(
        [
            '/pars add-activity id=A-1 title="One" format=rss start=2025-01-07 end=2025-12-16',
            '/pars add-activity id=A-2 title="Two" format=rss start=2025-01-07 end=2025-12-16',
            "/pars close A-1 A-2",
            "click Open edit form",
            "click Open edit form A-2",
            "",  # activity ID: keep
            "Two, revised",  # title
        ]
    )
    out = console(tmp_path, script + "\n" + "\n" * 30)
    assert "Several buttons match" in out and "Open edit form A-2" in out
    assert "== Edit A-2 ==" in out
    assert "Updated `A-2`" in out
    assert stored(tmp_path, "select title from activity where activity_id = 'A-2'") == [
        ("Two, revised",)
    ]


def test_typed_markup_is_stored_and_shown_as_typed(tmp_path: Path) -> None:
    # The console sends what was typed as Slack does (& < > as entities); the bot reads it back.
    out = console(
        tmp_path,
        '/pars add-activity id=HL-1 title="Heart & Lung <3" format=rss start=2025-01-07 '
        "end=2025-12-16\n/pars show HL-1\n",
    )
    assert "`HL-1` *Heart & Lung <3*" in out
    assert "&amp;" not in out and "&lt;" not in out
    assert stored(tmp_path, "select title from activity") == [("Heart & Lung <3",)]


def test_files_the_bot_posts_are_saved_and_their_path_printed(tmp_path: Path) -> None:
    out = console(
        tmp_path,
        '/pars add-activity id=GR-2025 title="Medicine Grand Rounds" format=rss '
        "start=2025-01-07 end=2025-12-16\n/pars export year=2025\n/pars template\n",
    )
    export = tmp_path / "pars-files" / "PARS export 2025.xlsx"
    assert f"saved as {export.relative_to(tmp_path)}" in out
    assert load_workbook(export).sheetnames[0] == "Activities 2025"
    assert (tmp_path / "pars-files" / "pars-bot activities template.xlsx").is_file()


def test_the_console_user_has_a_name_and_the_export_shows_it(tmp_path: Path) -> None:
    console(
        tmp_path,
        '/pars add-activity id=GR-2025 title="Medicine Grand Rounds" format=rss '
        "start=2025-01-07 end=2025-12-16 owner=U0CONSOLE\n/pars export year=2025\n",
    )
    sheet = load_workbook(tmp_path / "pars-files" / "PARS export 2025.xlsx").worksheets[0]
    rows = list(sheet.values)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["Owner"], row["Owner Slack ID"]) == ("Console User", "U0CONSOLE")


def test_an_earlier_message_can_be_clicked_by_its_number(tmp_path: Path) -> None:
    out = console(
        tmp_path,
        "/pars checklist agreement done year=2025\n"  # message #1, with Undo
        "/pars checklist contact done year=2025\n"  # message #2
        "click #1 Undo\n",
    )
    assert "#1 *PARS reporting for 2025*" in out and "#2 *PARS reporting for 2025*" in out
    assert stored(tmp_path, "select step from checklist_mark") == [("contact",)]
    assert "There is no message #9" in console(tmp_path, "click #9 Undo\n")


def test_a_channel_is_named_as_in_slack(tmp_path: Path) -> None:
    out = console(tmp_path, "/pars config channel #cme-office\n")
    assert "The weekly digest goes to #cme-office" in out
    assert stored(tmp_path, "select digest_channel from workspace_settings") == [("C0CMEOFFICE",)]


def test_quit_and_time_in_a_form_are_not_taken_as_values(tmp_path: Path) -> None:
    out = console(tmp_path, "/pars add-activity\nGR-1\ntime 2026-01-05T09:00\n/pars list all\n")
    assert "(form closed without saving)" in out
    assert "It is now 2026-01-05 09:00" in out
    assert stored(tmp_path, "select count(*) from activity") == [(0,)]
    out = console(tmp_path, "/pars add-activity\nGR-1\nquit\n/pars help\n")
    assert "(form closed without saving)" in out and "Subcommands" not in out


def test_a_time_past_the_years_the_bot_takes_is_refused_and_now_stays(tmp_path: Path) -> None:
    out = console(tmp_path, "time 2026-01-05T09:00\ntime 9999-12-31T09:00\ntime\n")
    assert "in a year from 2000 to" in out and "Traceback" not in out
    assert out.rstrip().endswith("It is 2026-01-05 09:00 CST.")
