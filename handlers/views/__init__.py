"""Modal submission listeners."""

from slack_bolt import App

from handlers.activity_form import CALLBACK_ID
from handlers.errors import answering_errors
from handlers.views.activity_form import submit_activity_form


def register(app: App) -> None:
    app.view(CALLBACK_ID)(answering_errors(submit_activity_form))
