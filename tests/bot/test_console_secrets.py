"""The console names its database on start, never with the database's password."""

from __future__ import annotations

import builtins
import io
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

import bot.console
from bot.console import run_console
from bot.settings import Settings
from storage.db import create_db_engine, shown_url

URL = "postgresql+psycopg://pars:s3cret-Pa55@db.example.org:5432/pars"


class Terminal(io.StringIO):
    """Typed input at a terminal: the console greets a person, not a script."""

    def isatty(self) -> bool:
        return True


def test_the_console_banner_hides_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def local_engine(url: str) -> Engine:
        opened.append(url)  # the real URL still reaches the driver
        return create_db_engine(f"sqlite:///{tmp_path / 'pars.db'}")

    def no_more_input(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(bot.console, "create_db_engine", local_engine)
    monkeypatch.setattr(builtins, "input", no_more_input)
    out = io.StringIO()
    settings = Settings(database_url=URL, _env_file=None)
    run_console(settings, stdin=Terminal(), stdout=out)
    assert opened == [URL]
    assert "pars-bot console on postgresql+psycopg://pars:***@db.example.org:5432/pars" in (
        out.getvalue()
    )
    assert "s3cret" not in out.getvalue()


@pytest.mark.parametrize(
    "url", [URL, "postgresql://pars:s3cret-Pa55@db/pars?sslmode=require", "not a url s3cret"]
)
def test_a_shown_url_never_holds_the_password(url: str) -> None:
    assert "s3cret" not in shown_url(url)
