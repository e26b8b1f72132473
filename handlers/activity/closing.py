"""Layouts of closing many: each activity closed or not and why, and Close all's answer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from handlers.activity.messages import edit_button
from handlers.slack.messages import Message, compose, line_sections, plural, section
from handlers.slack.mrkdwn import escape
from storage import close_offers

# A close of many names this many activities one by one, then counts the rest.
CLOSE_DETAIL = 20


@dataclass(frozen=True)
class CloseOutcome:
    activity_id: str
    closed: bool
    message: str  # mrkdwn, user values escaped
    can_edit: bool


def close_results(
    outcomes: list[CloseOutcome], *, heading: str = "", notes: Sequence[str] = ()
) -> Message:
    """Each activity closed or not, and why. Past CLOSE_DETAIL of either kind the rest are
    counted (a close of hundreds must fit Slack's 50 blocks). `heading` replaces the summary
    line; `notes` (mrkdwn the bot wrote) follow the outcomes."""
    closed = [o for o in outcomes if o.closed]
    refused = [o for o in outcomes if not o.closed]
    summary = heading or f"Closed {len(closed)} of {len(outcomes)}."
    blocks: list[Block] = []
    if len(outcomes) > 1 or heading:
        blocks.append(section(f"*{summary}*"))
    lines = [f"✅ {o.message}" for o in closed[:CLOSE_DETAIL]]
    if len(closed) > CLOSE_DETAIL:
        lines.append(f"✅ …and {len(closed) - CLOSE_DETAIL:,} more closed.")
    blocks += line_sections(lines)
    for outcome in refused[:CLOSE_DETAIL]:
        line = section(f"⛔ {outcome.message}")
        if outcome.can_edit:
            line.accessory = edit_button(outcome.activity_id)
        blocks.append(line)
        lines.append(f"⛔ {outcome.message}")
    if len(refused) > CLOSE_DETAIL:
        rest = refused[CLOSE_DETAIL:]
        more = f"⛔ …and {len(rest):,} more not closed: {_ids(o.activity_id for o in rest)}"
        blocks.append(section(more))
        lines.append(more)
    blocks += [section(note) for note in notes]
    text = "\n".join([summary, *lines, *notes])
    return compose(text, blocks)


def _ids(activity_ids: Iterable[str], most: int = 50) -> str:
    """`A`, `B`, … and N more: IDs named inline, as many as a line reads."""
    ids = list(activity_ids)
    named_ids = ", ".join(f"`{escape(a)}`" for a in ids[:most])
    return named_ids + (f" and {len(ids) - most:,} more" if len(ids) > most else "")


def close_all_results(
    outcomes: list[CloseOutcome],
    *,
    removed: Sequence[str],
    newer: Sequence[str],
    capped: bool = False,
) -> Message:
    """The answer to Close all: how many of those shown were closed, each one that was not and
    why, and the ready ones the offer did not hold (left alone); `capped`: it held the first
    close_offers.OFFER_LIMIT of a longer list."""
    shown = len(outcomes) + len(removed)
    closed = sum(o.closed for o in outcomes)
    heading = (
        ("Closed the ready activity." if shown == 1 else f"Closed all {shown:,} ready activities.")
        if closed == shown
        else f"Closed {closed:,} of the {plural(shown, 'ready activity', 'ready activities')} "
        f"the list showed; {shown - closed:,} not closed."
    )
    notes = []
    if removed:
        notes.append(f"⛔ Removed since the list was shown: {_ids(removed)}.")
    limit = close_offers.OFFER_LIMIT
    if newer and capped:
        notes.append(
            f"{'At least ' if len(newer) >= limit else ''}"
            f"{plural(len(newer), 'more ready activity', 'more ready activities')} "
            f"{'was' if len(newer) == 1 else 'were'} left open, as Close all closes "
            f"{limit:,} at a time: {_ids(newer, 10)}. Run `/pars list ready` again."
        )
    elif newer:
        notes.append(
            f"{plural(len(newer), 'activity', 'activities')} became ready after the list was "
            f"shown and {'was' if len(newer) == 1 else 'were'} left open: {_ids(newer, 10)}. "
            "`/pars list ready` shows them."
        )
    if closed:
        notes.append(
            "Closing from a list is not a batch, so `/pars undo-batch` does not take it back: "
            "an admin can reopen an activity with `/pars reopen ID`."
        )
    return close_results(outcomes, heading=heading, notes=notes)
