"""`pars-bot console`: try the bot with no Slack at all."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.app import create_app, create_web_client
from bot.console.session import HELP, Console, ConsoleClock
from bot.local_slack import TEAM_ID, LocalSlack
from bot.settings import Settings
from scheduler.send import run_pass
from storage.db import create_db_engine, shown_url, upgrade

CONSOLE_SECRET = "pars-console-signing-secret"
CONSOLE_USER = "U0CONSOLE"
# The console user's real name in the stand-in Slack: what the export shows as their name.
CONSOLE_NAME = "Console User"


def line_reader(stream: TextIO, echo: TextIO | None) -> Callable[[str], str | None]:
    """Read answers from a script; echo them after their prompt so a transcript reads well."""

    def read(prompt: str) -> str | None:
        line = stream.readline()
        if not line:
            return None
        if echo is not None and prompt != "pars> ":
            echo.write(f"{prompt}{line.rstrip()}\n")
        elif echo is not None:
            echo.write(f"{prompt}{line}")
        return line.rstrip("\n")

    return read


def tty_reader(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


def run_console(
    settings: Settings,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    user_id: str = CONSOLE_USER,
    files: Path | None = None,
) -> None:
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    with LocalSlack(names={CONSOLE_USER: CONSOLE_NAME}) as slack:
        local = settings.model_copy(
            update={
                "slack_bot_token": "xoxb-console",
                "slack_signing_secret": CONSOLE_SECRET,
                "slack_api_url": slack.api_url,
                # The person at the terminal runs this bot: they are its admin.
                "pars_admins": settings.pars_admins | {user_id},
            }
        )
        clock = ConsoleClock(settings.timezone)
        # Listeners finish before dispatch returns, so replies print in order.
        app = create_app(local, engine=engine, clock=clock, at_once=True)
        interactive = stdin.isatty()
        read = tty_reader if interactive else line_reader(stdin, stdout)
        if interactive:
            stdout.write(f"pars-bot console on {shown_url(settings.database_url)}\n{HELP}\n\n")
        client = create_web_client(local)

        def reminder_pass(moment: datetime) -> str:
            result = run_pass(
                engine=engine,
                client=client,
                team_id=TEAM_ID,
                default_zone=settings.pars_timezone,
                instant=moment,
                now=moment,
            )
            return (
                f"(reminder pass: {len(result.sent)} sent, {len(result.already)} already sent, "
                f"{len(result.failed)} failed)"
            )

        Console(
            app=app,
            on_time=reminder_pass,
            slack=slack,
            secret=CONSOLE_SECRET,
            clock=clock,
            user_id=user_id,
            team_id=TEAM_ID,
            read=read,
            out=stdout,
            files=files,
        ).run()
    engine.dispose()
