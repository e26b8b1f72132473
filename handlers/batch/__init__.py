"""Batch work by spreadsheet: uploads and their preview, Apply, Cancel, undo, template, export,
and the provider's own template filled."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scheduler imports layouts of this package without Bolt
    from slack_bolt import App


def register(app: App) -> None:
    # Imported here, as in the other features, so that layouts load without listeners.
    from handlers.batch import buttons, messages, template_fill, uploads
    from handlers.slack.errors import answering_errors

    app.action(messages.APPLY_BATCH)(answering_errors(buttons.apply_batch))
    app.action(messages.CANCEL_BATCH)(answering_errors(buttons.cancel_batch))
    app.action(messages.FILL_TEMPLATE_PATTERN)(answering_errors(template_fill.fill_clicked))
    app.event("message")(answering_errors(uploads.on_message))
    app.event("file_shared")(answering_errors(uploads.on_file_shared))
