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
    from handlers.slack.work import acknowledged

    # Applying a file, filling a template and previewing an upload are heavy: their own pool.
    app.action(messages.APPLY_BATCH)(
        acknowledged(answering_errors(buttons.apply_batch), heavy=True)
    )
    app.action(messages.CANCEL_BATCH)(acknowledged(answering_errors(buttons.cancel_batch)))
    app.action(messages.FILL_TEMPLATE_PATTERN)(
        acknowledged(answering_errors(template_fill.fill_clicked), heavy=True)
    )
    app.event("message")(acknowledged(answering_errors(uploads.on_message), heavy=True))
    app.event("file_shared")(acknowledged(answering_errors(uploads.on_file_shared), heavy=True))
