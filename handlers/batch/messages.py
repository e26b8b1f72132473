"""Batch messages: the thread preview, progress, the Apply result; their action IDs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ConfirmObject

from handlers.slack.messages import (
    Message,
    compose,
    context_note,
    line_sections,
    plural,
    section,
)
from handlers.slack.mrkdwn import escape
from storage.batch.plan import Tally

APPLY_BATCH = "pars_batch_apply"
CANCEL_BATCH = "pars_batch_cancel"
# One per data year in a message (Slack wants action IDs unique in a block): the year follows.
FILL_TEMPLATE = "pars_template_fill"
FILL_TEMPLATE_PATTERN = re.compile(rf"^{FILL_TEMPLATE}_\d{{4}}$")
ACTION_IDS = (APPLY_BATCH, CANCEL_BATCH)
# Buttons offered under a shared template: the latest data years.
FILL_YEARS = 5
HOW_TO_FILL = (
    "To fill ACCME's own template instead, share the blank template (as downloaded from "
    "PARS) in a channel with me or in a DM: I answer with a button per data year."
)


def summary_line(summary: Tally, *, future: bool) -> str:
    verb = (lambda w: f"to {w}") if future else (lambda w: w + ("d" if w.endswith("e") else "ed"))
    parts = [
        f"{summary.added:,} {verb('add')}",
        f"{summary.updated:,} {verb('update')}",
        f"{summary.unchanged:,} unchanged",
        f"{summary.counts:,} with {'new ' if future else ''}learner counts"
        + ("" if future else " recorded"),
        f"{summary.closed:,} {verb('close')}",
    ]
    return " · ".join(parts)


def _errors_lines(summary: Tally, errors: Sequence[str], *, future: bool) -> list[str]:
    if not summary.errors:
        return []
    tail = " (they will be skipped)" if future else " (skipped)"
    lines = [f"*{plural(summary.errors, 'row')} with errors*{tail}:"]
    # Thread messages are public: a cell's text quoted in an error must never ping anyone,
    # so the store's own mentions are shown as text too.
    lines += [f"• {escape(e)}" for e in errors]
    if summary.errors and len(errors) < summary.errors:
        lines.append("The annotated copy in this thread marks every error.")
    return lines


def preview_message(
    *,
    batch_id: str,
    file_name: str,
    summary: Tally,
    first_errors: Sequence[str],
    unknown: Sequence[str],
    not_used: Sequence[str],
    expires: str,
    warnings: Sequence[str] = (),
) -> Message:
    changes = bool(summary.added or summary.updated or summary.counts or summary.closed)
    lines = [
        f"*Preview of {escape(file_name)}* (batch `{batch_id}`, {plural(summary.rows, 'row')})",
        summary_line(summary, future=True),
    ]
    lines += _errors_lines(summary, first_errors, future=True)
    if warnings:
        lines.append("*Probable duplicates* (they would still be applied):")
        lines += [f"⚠️ {escape(w)}" for w in warnings]
    if unknown:
        lines.append("Columns I don't know (ignored): " + ", ".join(escape(u) for u in unknown))
    lines += [escape(n) for n in not_used]
    blocks: list[Any] = list(line_sections(lines))
    if changes:
        blocks.append(
            context_note(
                f"Nothing changes until you click Apply. This preview can be applied until "
                f"{expires}."
            )
        )
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Apply",
                        action_id=APPLY_BATCH,
                        value=batch_id,
                        style="primary",
                        confirm=ConfirmObject(
                            title="Apply this batch?",
                            text=summary_line(summary, future=True)[:300],
                            confirm="Apply",
                            deny="Not yet",
                        ),
                    ),
                    ButtonElement(text="Cancel", action_id=CANCEL_BATCH, value=batch_id),
                ]
            )
        )
    else:
        blocks.append(context_note("Nothing to apply: no row would change anything."))
    # The notification text is mrkdwn too: the file name must not ping or link either.
    text = f"Preview of {escape(file_name)}: {summary_line(summary, future=True)}"
    return Message(text=text, blocks=[b if isinstance(b, dict) else b.to_dict() for b in blocks])


def progress_message(text: str) -> Message:
    """Progress, or why a file was refused: plain text, the file name in it shown literally."""
    return compose(escape(text), [section(escape(text))])


def applied_message(
    *,
    batch_id: str,
    file_name: str,
    user_id: str,
    summary: Tally,
    errors: Sequence[str],
    since_preview: Sequence[str],
) -> Message:
    lines = [
        f"*Applied {escape(file_name)}* by <@{user_id}> (batch `{batch_id}`)",
        summary_line(summary, future=False),
    ]
    lines += _errors_lines(summary, errors[:10], future=False)
    if since_preview:
        lines.append("*Changed since the preview* (applied as the data is now):")
        lines += [f"• {escape(s)}" for s in since_preview[:10]]
        if len(since_preview) > 10:
            lines.append(f"…and {len(since_preview) - 10:,} more rows")
    lines.append(
        f"An admin can undo it while nobody has changed these activities since: "
        f"`/pars undo-batch {batch_id}`"
    )
    return compose(f"Applied {escape(file_name)}", list(line_sections(lines)))


def cancelled_message(*, batch_id: str, file_name: str, user_id: str) -> Message:
    text = (
        f"Cancelled by <@{user_id}>: nothing from {escape(file_name)} was changed "
        f"(batch `{batch_id}`)."
    )
    return compose(text, [section(text)])


def template_message(*, file_name: str, plan_id: str, years: Sequence[int]) -> Message:
    """The answer to a shared blank template: a Fill button per data year."""
    name = escape(file_name)
    if not years:
        text = (
            f"*{name}* looks like a blank template (a header row and no activities), but there "
            "are no activities to fill it with yet. Add some, then share it again."
        )
        return compose(text, [section(text)])
    text = (
        f"*{name}* looks like a blank template: a header row and no activities. Pick a data "
        "year and I post a copy filled with its activities in this thread, with the template's "
        "sheets, drop-down lists and formats as they are."
    )
    buttons = [
        ButtonElement(
            text=f"Fill with {year}", action_id=f"{FILL_TEMPLATE}_{year}", value=f"{plan_id}:{year}"
        )
        for year in years[:FILL_YEARS]
    ]
    blocks: list[Any] = [section(text), ActionsBlock(elements=buttons)]
    blocks.append(
        context_note(
            "A data year holds the activities that started in it, and enduring materials open "
            "during it. Values that fit none of a drop-down's entries are highlighted."
        )
    )
    return Message(text=text, blocks=[b if isinstance(b, dict) else b.to_dict() for b in blocks])


def filled_comment(
    *, file_name: str, year: int, user_id: str, activities: int, report: Sequence[str]
) -> str:
    """The words posted with the filled copy: how many, what was left empty, what misfit."""
    lines = [
        f"{escape(file_name)} filled with data year {year} by <@{user_id}>: "
        f"{plural(activities, 'activity', 'activities')}."
    ]
    lines += [escape(line) for line in report]
    return "\n".join(lines)
