"""Activities: add, edit, show, list, close, reopen and learner counts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scheduler imports layouts of this package without Bolt
    from slack_bolt import App


def register(app: App) -> None:
    # Imported here so that importing `handlers.activity.messages` loads no listener.
    from handlers.activity import buttons, counts_form, form, messages
    from handlers.slack.errors import answering_errors
    from handlers.slack.work import acknowledged

    # Opens the edit form: on the forms pool, within its trigger's life.
    app.action(messages.OPEN_EDIT)(
        acknowledged(answering_errors(buttons.open_edit_form), opens_form=True)
    )
    for action_id, listener in (
        (messages.SELECT_READY, buttons.acknowledge_selection),
        (messages.CLOSE_SELECTED, buttons.close_selected),
        (messages.CLOSE_ALL, buttons.close_all_ready),
        (re.compile(f"^{messages.LIST_PAGE}_(prev|next)$"), buttons.turn_page),
        (messages.CONFIRM_LOWER_COUNTS, buttons.confirm_lower_counts),
        (messages.CANCEL_COUNTS, buttons.cancel_counts),
    ):
        app.action(action_id)(acknowledged(answering_errors(listener)))
    # Forms are checked before the acknowledgement, which carries their errors: on the
    # request's own thread. What follows a save (the confirmation) goes to the pool.
    app.view(form.CALLBACK_ID)(answering_errors(form.submit_activity_form))
    app.view(counts_form.CALLBACK_ID)(answering_errors(counts_form.submit_counts_form))
