"""The reporting year: status, checklist, Program Summary, settings, reminders and App Home."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scheduler imports layouts of this package without Bolt
    from slack_bolt import App


def register(app: App) -> None:
    # Imported here: the scheduler imports `handlers.cycle.messages` and must load no listener.
    from handlers.cycle import buttons, home, messages, summary_form
    from handlers.slack.errors import answering_errors
    from handlers.slack.work import acknowledged

    # Forms, and a click in App Home (no response URL: its answer is a modal), open a view
    # with the click's trigger: on the forms pool, within the trigger's life.
    for action_id, listener, opens_form in (
        (messages.REMIND_CLOSE, buttons.close_from_reminder, buttons.answers_in_a_modal),
        (messages.REMIND_COUNTS, buttons.counts_from_reminder, True),
        (messages.REMIND_SNOOZE, buttons.snooze_from_reminder, buttons.answers_in_a_modal),
        (messages.OPEN_CHECKLIST, buttons.open_checklist, buttons.answers_in_a_modal),
        (messages.CHECKLIST_MARK, buttons.change_step, False),
        (messages.CHECKLIST_UNDO, buttons.change_step, False),
        (messages.OPEN_SUMMARY, buttons.open_summary, True),
    ):
        app.action(action_id)(
            acknowledged(answering_errors(buttons.refreshing_home(listener)), opens_form=opens_form)
        )
    app.view(summary_form.CALLBACK_ID)(answering_errors(summary_form.submit_summary_form))
    app.event("app_home_opened")(acknowledged(answering_errors(home.publish_home)))
