"""The `pars-bot` program's arguments: argparse only, so that `--help` answers at once."""

from __future__ import annotations

import argparse
from pathlib import Path

# Who the audit trail names for changes made from the command line (and the owner of what it
# adds), unless --user names the Slack member running it. Shaped like a Slack user ID, so an
# export read back names the same owner.
CLI_USER = "U0PARSCLI"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pars-bot",
        description="A Slack bot that keeps CME activities ready for ACCME PARS reporting. "
        "With no command: Socket Mode when SLACK_APP_TOKEN is set, else HTTP.",
    )
    parser.add_argument(
        "--no-scheduler", action="store_true", help="do not run reminders in this process"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log more, migrations' progress included"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="HTTP mode: POST /slack/events, GET /healthz")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-scheduler", action="store_true", default=argparse.SUPPRESS)
    socket = sub.add_parser("socket", help="Socket Mode (needs SLACK_APP_TOKEN)")
    socket.add_argument("--no-scheduler", action="store_true", default=argparse.SUPPRESS)
    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    db_sub.add_parser("upgrade", help="apply migrations")
    console = sub.add_parser("console", help="try the bot in a terminal, no Slack needed")
    console.add_argument("--user", default="U0CONSOLE", help="the Slack user ID you act as")
    console.add_argument(
        "--files",
        default="pars-files",
        help="folder where the files the bot posts are saved (default: ./pars-files)",
    )
    sub.add_parser("scheduler", help="run the reminder scheduler alone")
    remind = sub.add_parser("reminders", help="what reminders are due at an instant; send them")
    remind.add_argument("action", choices=["preview", "send"])
    remind.add_argument("--team", help="the workspace (team ID); needed when there are several")
    remind.add_argument("--at", required=True, help="ISO date-time, e.g. 2026-03-30T09:00")
    add_batch_parsers(sub)
    return parser


def add_batch_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    imp = sub.add_parser("import", help="check (and with --apply, apply) a batch file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--team", help="the Slack workspace (team ID); optional with one workspace")
    imp.add_argument("--apply", action="store_true", help="apply the valid rows")
    imp.add_argument(
        "--user",
        default=CLI_USER,
        help=f"your Slack member ID, for the audit trail and as owner of additions "
        f"(default {CLI_USER})",
    )
    exp = sub.add_parser("export", help="write the PARS-ready workbook of a data year")
    exp.add_argument("--team")
    exp.add_argument("--year", type=int, help="data year (default: the one being reported)")
    exp.add_argument(
        "--into",
        type=Path,
        metavar="TEMPLATE",
        help="fill this blank template from PARS (.xlsx, .xlsm, or a tab-delimited .txt "
        "header line) instead of writing pars-bot's own workbook",
    )
    exp.add_argument(
        "--tsv", action="store_true", help="write the first sheet as tab-delimited text"
    )
    exp.add_argument("--out", type=Path, required=True)
    tpl = sub.add_parser("template", help="write the blank batch template")
    tpl.add_argument("--out", type=Path, required=True)
    tpl.add_argument("--counts", action="store_true", help="the learner-counts template")
