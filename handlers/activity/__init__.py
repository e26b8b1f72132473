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

    app.action(messages.OPEN_EDIT)(answering_errors(buttons.open_edit_form))
    app.action(messages.SELECT_READY)(answering_errors(buttons.acknowledge_selection))
    app.action(messages.CLOSE_SELECTED)(answering_errors(buttons.close_selected))
    app.action(messages.CLOSE_ALL)(answering_errors(buttons.close_all_ready))
    app.action(re.compile(f"^{messages.LIST_PAGE}_(prev|next)$"))(
        answering_errors(buttons.turn_page)
    )
    app.action(messages.CONFIRM_LOWER_COUNTS)(answering_errors(buttons.confirm_lower_counts))
    app.action(messages.CANCEL_COUNTS)(answering_errors(buttons.cancel_counts))
    app.view(form.CALLBACK_ID)(answering_errors(form.submit_activity_form))
    app.view(counts_form.CALLBACK_ID)(answering_errors(counts_form.submit_counts_form))
