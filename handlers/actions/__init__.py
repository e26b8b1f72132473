"""Block action listeners."""

import re

from slack_bolt import App

from handlers import blocks
from handlers.actions import reminders
from handlers.actions.batch import apply_batch, cancel_batch
from handlers.actions.buttons import (
    acknowledge_selection,
    cancel_counts,
    close_selected,
    confirm_lower_counts,
    open_edit_form,
    turn_page,
)
from handlers.blocks import batch as batch_blocks
from handlers.blocks import cycle as layouts
from handlers.errors import answering_errors


def register(app: App) -> None:
    app.action(blocks.OPEN_EDIT)(answering_errors(open_edit_form))
    app.action(blocks.SELECT_READY)(answering_errors(acknowledge_selection))
    app.action(blocks.CLOSE_SELECTED)(answering_errors(close_selected))
    app.action(re.compile(f"^{blocks.LIST_PAGE}_(prev|next)$"))(answering_errors(turn_page))
    app.action(blocks.CONFIRM_LOWER_COUNTS)(answering_errors(confirm_lower_counts))
    app.action(blocks.CANCEL_COUNTS)(answering_errors(cancel_counts))
    for action_id, listener in (
        (layouts.REMIND_CLOSE, reminders.close_from_reminder),
        (layouts.REMIND_COUNTS, reminders.counts_from_reminder),
        (layouts.REMIND_SNOOZE, reminders.snooze_from_reminder),
        (layouts.OPEN_CHECKLIST, reminders.open_checklist),
        (layouts.CHECKLIST_MARK, reminders.change_step),
        (layouts.CHECKLIST_UNDO, reminders.change_step),
        (layouts.OPEN_SUMMARY, reminders.open_summary),
    ):
        app.action(action_id)(answering_errors(reminders.refreshing_home(listener)))
    app.action(batch_blocks.APPLY_BATCH)(answering_errors(apply_batch))
    app.action(batch_blocks.CANCEL_BATCH)(answering_errors(cancel_batch))
