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

    for action_id, listener in (
        (messages.REMIND_CLOSE, buttons.close_from_reminder),
        (messages.REMIND_COUNTS, buttons.counts_from_reminder),
        (messages.REMIND_SNOOZE, buttons.snooze_from_reminder),
        (messages.OPEN_CHECKLIST, buttons.open_checklist),
        (messages.CHECKLIST_MARK, buttons.change_step),
        (messages.CHECKLIST_UNDO, buttons.change_step),
        (messages.OPEN_SUMMARY, buttons.open_summary),
    ):
        app.action(action_id)(acknowledged(answering_errors(buttons.refreshing_home(listener))))
    app.view(summary_form.CALLBACK_ID)(answering_errors(summary_form.submit_summary_form))
    app.event("app_home_opened")(acknowledged(answering_errors(home.publish_home)))
