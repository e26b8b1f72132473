"""Slash command listeners."""

from slack_bolt import App

from handlers.commands.pars import pars_command
from handlers.errors import answering_errors


def register(app: App) -> None:
    app.command("/pars")(answering_errors(pars_command))
