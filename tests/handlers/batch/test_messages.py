"""The batch messages in Slack: what a file carries is shown literally, in a public thread."""

from __future__ import annotations

import json

from handlers.batch import messages as layouts
from storage.batch.plan import Tally

SUMMARY = Tally(added=1)


def _everything(message: layouts.Message) -> str:
    return message.text + json.dumps(message.blocks)


def test_file_names_and_headers_never_ping_or_link() -> None:
    # A thread message is public: a name or header must not notify the channel or a person.
    name = "<!channel> <@U0BOSS> list.csv"
    messages = [
        layouts.preview_message(
            batch_id="B-1",
            file_name=name,
            summary=Tally(added=1, rows=1),
            first_errors=[],
            unknown=["<@U0BOSS>"],
            not_used=[],
            expires="2026-12-03",
        ),
        layouts.progress_message(f"Reading {name}…"),
        layouts.applied_message(
            batch_id="B-1",
            file_name=name,
            user_id="U0ALICE",
            summary=SUMMARY,
            errors=[],
            since_preview=[],
        ),
        layouts.cancelled_message(batch_id="B-1", file_name=name, user_id="U0ALICE"),
    ]
    for message in messages:
        shown = _everything(message)
        assert "<!channel>" not in shown and "<@U0BOSS>" not in shown, shown
        assert "&lt;!channel&gt;" in shown


def test_a_cell_quoted_in_an_error_never_pings() -> None:
    # An ID cell that reads "<@U0BOSS>" is quoted in its error, in a public thread.
    error = 'row 2, Activity ID: "<@U0BOSS>" is not a usable activity ID'
    preview = layouts.preview_message(
        batch_id="B-1", file_name="a.csv", summary=Tally(added=1, errors=1, rows=1),
        first_errors=[error], unknown=[], not_used=[], expires="2026-12-03",
    )  # fmt: skip
    applied = layouts.applied_message(
        batch_id="B-1", file_name="a.csv", user_id="U0ALICE", summary=Tally(added=1, errors=1),
        errors=[error], since_preview=["row 2 (<@U0BOSS>): previewed as an addition, now an error"],
    )  # fmt: skip
    for message in (preview, applied):
        assert "<@U0BOSS>" not in _everything(message)
        assert "&lt;@U0BOSS&gt;" in message.text or "&lt;@U0BOSS&gt;" in json.dumps(message.blocks)
