"""Modal submission listeners."""

from slack_bolt import App

from handlers.activity_form import CALLBACK_ID
from handlers.errors import answering_errors
from handlers.views.activity_form import submit_activity_form
from handlers.views.counts_form import CALLBACK_ID as COUNTS_FORM
from handlers.views.counts_form import submit_counts_form
from handlers.views.summary_form import CALLBACK_ID as SUMMARY_FORM
from handlers.views.summary_form import submit_summary_form


def register(app: App) -> None:
    app.view(CALLBACK_ID)(answering_errors(submit_activity_form))
    app.view(SUMMARY_FORM)(answering_errors(submit_summary_form))
    app.view(COUNTS_FORM)(answering_errors(submit_counts_form))
