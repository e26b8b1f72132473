"""Layouts and action IDs of activities: the card, what was saved, lists, closes and counts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    Option,
)

from handlers.slack.messages import (
    Message,
    compose,
    line_sections,
    local_date,
    plain,
    plural,
    section,
)
from handlers.slack.mrkdwn import cut, escape
from storage import close_offers, duplicates
from storage.close_offers import Offer
from storage.counts import CountsRecorded
from storage.duplicates import Other
from storage.models import Activity, LearnerCount
from storage.pars import rules
from storage.pars.fields import BY_NAME, FIELDS, label, outcome_label, render
from storage.pars.needs import needs_text
from storage.queries import ActivityPage, PageKey, page_key

OPEN_EDIT = "pars_open_edit"
CLOSE_SELECTED = "pars_close_selected"
CLOSE_ALL = "pars_close_all"
SELECT_READY = "pars_select_ready"
LIST_PAGE = "pars_list_page"
CONFIRM_LOWER_COUNTS = "pars_confirm_lower_counts"
CANCEL_COUNTS = "pars_cancel_counts"
ACTION_IDS = (
    OPEN_EDIT,
    CLOSE_SELECTED,
    CLOSE_ALL,
    SELECT_READY,
    LIST_PAGE,
    CONFIRM_LOWER_COUNTS,
    CANCEL_COUNTS,
)

# Slack allows at most 10 options in one checkbox group, and 50 blocks in a message: a page
# of the ready list is five groups of ten, one block each.
CHECKBOX_GROUP = 10
READY_PAGE_SIZE = 50
# A close of many names this many activities one by one, then counts the rest.
CLOSE_DETAIL = 20
LIST_PAGE_SIZE = 20
HISTORY_ROWS = 10


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(name: str, value: Any) -> str:
    """A stored value as mrkdwn: what the user typed is escaped, never read as markup."""
    if value is None or value == "" or value == []:
        return "—"
    if name == "owner_user_id":
        return f"<@{escape(value)}>"
    return escape(_shown_text(name, value))


def _shown_text(name: str, value: Any) -> str:
    if name == "format":
        return rules.format_label(value)
    if name == "delivery_method":
        return ", ".join(rules.DELIVERY_METHODS.get(v, v) for v in value)
    if name == "providership":
        return rules.PROVIDERSHIP.get(value, value)
    if name == "outcome_measures":
        return ", ".join(outcome_label(v) for v in value)
    if name == "description":
        return _clip(value, 300)
    if name == "finder_fee":
        return rules.PASSPORT_FEES.get(value, value)
    if name == "finder_registration":
        return rules.PASSPORT_REGISTRATION.get(value, value)
    return render(value)


def edit_button(activity_id: str, text: str = "Open edit form") -> ButtonElement:
    return ButtonElement(text=text, action_id=OPEN_EDIT, value=activity_id)


def named(activity: Activity) -> str:
    """`ID` *Title*, escaped: how messages name an activity."""
    return f"`{escape(activity.activity_id)}` *{escape(activity.title)}*"


def activity_summary_line(
    activity: Activity, status: rules.Status, needs: Sequence[rules.Need] = ()
) -> str:
    line = (
        f"{named(activity)} · {escape(rules.format_label(activity.format))} · "
        f"{activity.start_date} → {activity.end_date} · _{status}_"
    )
    return f"{line} · {needs_text(needs, most=4)}" if needs else line


def activity_card(
    activity: Activity,
    *,
    status: rules.Status,
    needs: Sequence[rules.Need],
    counts: dict[str, LearnerCount],
    timezone: ZoneInfo,
    history: Sequence[LearnerCount] = (),
    interactive: bool = True,
) -> Message:
    """Every field of an activity, its PARS status and what PARS still needs.

    `history` is the count history, newest first; a shared card (`interactive` off) has no
    Edit button for the whole channel. Times show as dates in the provider's `timezone`.
    """
    header = f"{named(activity)}\nPARS status: *{status}*"
    if needs:
        header += "\n" + needs_text(needs)
    elif status is rules.Status.ACTIVE:
        header += f"\nEverything for PARS is in; it can be closed after {activity.end_date}."
    elif status is rules.Status.READY_TO_CLOSE:
        header += f"\nReady: `/pars close {escape(activity.activity_id)}`"
    lines = [
        f"*{f.label}:* {_shown(f.name, getattr(activity, f.name))}"
        for f in FIELDS
        if f.name not in {"activity_id", "title"}
        # A field PARS does not ask for stays off the card, unless something was entered.
        and (rules.applies(f.name, activity) or getattr(activity, f.name) not in (None, []))
    ]
    lines += [
        f"*Converted ({label(name)}):* {escape(note)}"
        for name, note in (activity.conversion_notes or {}).items()
        if name in BY_NAME
    ]
    for category, name in rules.LEARNER_CATEGORIES.items():
        row = counts.get(category)
        shown = f"{row.count} (as of {row.as_of})" if row else "—"
        lines.append(f"*{name}:* {shown}")
    if len(history) > len(counts):  # more than the current figures: show how they grew
        lines.append("*Count history* (newest first):")
        lines += [
            f"• {rules.LEARNER_CATEGORIES.get(row.category, row.category)}: {row.count} as of "
            f"{row.as_of}, by <@{escape(row.recorded_by)}> on "
            f"{local_date(row.recorded_at, timezone)}"
            for row in history[:HISTORY_ROWS]
        ]
        if len(history) > HISTORY_ROWS:
            older = len(history) - HISTORY_ROWS
            lines.append(f"…and {older} older entr{'y' if older == 1 else 'ies'} not shown.")
    if activity.closed_at:
        lines.append(
            f"*Closed:* {local_date(activity.closed_at, timezone)} by "
            f"<@{escape(activity.closed_by)}>"
        )
    blocks: list[Block] = [section(header), DividerBlock(), *line_sections(lines)]
    if interactive and status is not rules.Status.CLOSED:
        blocks.append(ActionsBlock(elements=[edit_button(activity.activity_id, "Edit")]))
    text = f"{escape(activity.activity_id)} {escape(activity.title)}: {status}"
    return compose(text, blocks)


def saved(
    verb: str,
    activity: Activity,
    *,
    status: rules.Status,
    needs: Sequence[rules.Need],
    changes: dict[str, dict[str, str]] | None = None,
    note: str = "",
    duplicate_of: Sequence[Other] = (),
) -> Message:
    """The reply after an add or edit: what was saved, the status, and what is still missing.

    `note` is mrkdwn the bot wrote; `duplicate_of` the activities this one probably repeats.
    """
    lines = [f"{verb} {named(activity)} — PARS status: *{status}*"]
    if note:
        lines.append(note)
    if duplicate_of:
        lines.append(f"⚠️ {escape(duplicates.warning(duplicate_of))}")
    if changes:
        for name, change in changes.items():
            before = escape(change["before"]) if change["before"] else "—"
            after = escape(change["after"]) if change["after"] else "—"
            lines.append(f"• {label(name)}: {before} → {after}")
    if needs:
        lines.append(needs_text(needs))
    blocks: list[Block] = [section("\n".join(lines))]
    if needs:
        blocks.append(
            ActionsBlock(elements=[edit_button(activity.activity_id, "Fill in the rest")])
        )
    return compose("\n".join(lines), blocks)


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


def list_message(
    page: ActivityPage,
    *,
    title: str,
    state: dict[str, Any],
    selectable: bool,
    needs: Mapping[int, Sequence[rules.Need]] | None = None,
    close_all: Offer | None = None,
) -> Message:
    """A compact list; with `selectable`, checkboxes (groups of ten) and a Close selected
    button; with `close_all` (what it would close), a Close all N button.

    A list shared in the channel has no buttons: a click would replace everybody's copy
    with the clicker's own list, or close activities in front of the whole channel.
    """
    interactive = not state.get("share")
    selectable = selectable and interactive
    if page.total == 0:
        return plain(f"{title}: none.")
    if page.more_than is not None:
        heading = f"*{title}* — more than {page.more_than:,} activities, page {page.page}"
    else:
        heading = f"*{title}* — {page.total} activit{'y' if page.total == 1 else 'ies'}"
        if page.pages > 1:
            heading += f", page {page.page} of {page.pages}"
    blocks: list[Block] = [section(heading)]
    needs = needs or {}
    lines = [activity_summary_line(a, s, needs.get(a.id or 0, ())) for a, s in page.rows]
    if selectable:
        options = [
            Option(
                value=a.activity_id,
                # Cut after escaping: Slack's 75-character limit counts the escaped text.
                text=MarkdownTextObject(text=cut(named(a), 75)),
                description=MarkdownTextObject(
                    text=cut(escape(f"{rules.format_label(a.format)} · ended {a.end_date}"), 75)
                ),
            )
            for a, _s in page.rows
        ]
        # Close selected reads the ticks of every group: Slack sends the state of them all.
        blocks += [
            ActionsBlock(
                block_id=f"ready_selection_{n // CHECKBOX_GROUP + 1}",
                elements=[
                    CheckboxesElement(
                        action_id=SELECT_READY, options=options[n : n + CHECKBOX_GROUP]
                    )
                ],
            )
            for n in range(0, len(options), CHECKBOX_GROUP)
        ]
    else:
        blocks += line_sections(lines)
    buttons: list[ButtonElement] = []
    if selectable:
        buttons.append(
            ButtonElement(
                text="Close selected",
                action_id=CLOSE_SELECTED,
                style="primary",
                value=json.dumps(state),
            )
        )
        if close_all is not None:
            buttons.append(_close_all_button(close_all, state))
            if close_all.capped:
                blocks.append(
                    _note(
                        f"Close all closes {close_all.count:,} at a time, the first in this "
                        "list's order: list again for the next ones."
                    )
                )
            elif page.more_than is None and close_all.count < page.total:
                blocks.append(
                    _note(
                        f"Close all closes the {close_all.count:,} of these you may close: "
                        "yours and those with no owner. Their owner or an admin can close the "
                        "others."
                    )
                )
        elif page.rows:
            blocks.append(_note("None of these is yours: their owner or an admin can close them."))
    if interactive:
        buttons += _page_buttons(page, state)
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    text = heading.replace("*", "") + "\n" + "\n".join(lines)
    return compose(text, blocks)


def _note(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _close_all_button(offer: Offer, state: dict[str, Any]) -> ButtonElement:
    """Close all N ready, behind Slack's confirmation naming how many."""
    count = offer.count
    things = plural(count, "activity", "activities")
    value = {"offer": offer.id} | {k: state[k] for k in ("views", "year", "format") if k in state}
    return ButtonElement(
        text=f"Close the first {count:,} ready" if offer.capped else f"Close all {count:,} ready",
        action_id=CLOSE_ALL,
        style="danger",
        value=json.dumps(value),
        confirm=ConfirmObject(
            title=f"Close {things}?",
            text=(
                f"Closes the {things} this list shows as ready, each one that PARS's rules "
                "still allow; any that can't be closed is named. Only an admin can reopen."
            ),
            confirm=f"Close {count:,}",
            deny="Cancel",
        ),
    )


def _page_buttons(page: ActivityPage, state: dict[str, Any]) -> list[ButtonElement]:
    """Previous and Next, each carrying where its page starts or ends (storage.queries reads
    the page from there rather than counting rows from the start)."""
    plain_state = {k: v for k, v in state.items() if k not in ("after", "before")}
    buttons = []
    if page.has_previous:
        earlier = plain_state | {"page": page.page - 1}
        if page.page > 2:  # page 1 is read from the start
            earlier["before"] = _key_value(page.rows[0][0])
        buttons.append(
            ButtonElement(
                text="← Previous", action_id=f"{LIST_PAGE}_prev", value=json.dumps(earlier)
            )
        )
    if page.has_next:
        later = plain_state | {"page": page.page + 1, "after": _key_value(page.rows[-1][0])}
        buttons.append(
            ButtonElement(text="Next →", action_id=f"{LIST_PAGE}_next", value=json.dumps(later))
        )
    return buttons


def _key_value(activity: Activity) -> list[str]:
    end, activity_id = page_key(activity)
    return [end.isoformat(), activity_id]


def page_key_of(value: Any) -> PageKey | None:
    """A page key as a button carries it, or None when it is not one (an older message)."""
    try:
        end, activity_id = value
        return (date.fromisoformat(end), str(activity_id))
    except (TypeError, ValueError):
        return None


def confirm_lower_counts(
    message: str, payload: dict[str, Any], *, higher_than_later: bool = False
) -> Message:
    """`message` is mrkdwn, user values escaped. `higher_than_later`: the counts lower nothing,
    they are higher than counts on file as of a later date."""
    question, button = (
        ("Record them as of that earlier date anyway?", "Record anyway")
        if higher_than_later
        else ("Record the lower counts anyway?", "Record lower counts")
    )
    blocks: list[Block] = [
        section(f"{message}\n{question}"),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=button,
                    action_id=CONFIRM_LOWER_COUNTS,
                    style="danger",
                    value=json.dumps(payload),
                ),
                ButtonElement(text="Cancel", action_id=CANCEL_COUNTS, value="cancel"),
            ]
        ),
    ]
    return compose(message, blocks)


def counts_recorded(result: CountsRecorded) -> Message:
    """What was recorded, and whether it is now the current figure or history."""
    parts = []
    for category, number in result.counts.items():
        name = rules.LEARNER_CATEGORIES[category]
        was = result.previous.get(category)
        if not result.is_current(category):
            parts.append(
                f"{name}: {number}, kept as history; the current count is unchanged: {was} "
                f"as of {result.previous_as_of[category]}"
            )
        else:
            parts.append(f"{name}: {number}" + (f" (was {was})" if was is not None else ""))
    named = f"`{escape(result.activity.activity_id)}`"
    lines = []
    if parts:
        lines.append(
            f"Recorded learner counts of {named} as of {result.as_of}: {'; '.join(parts)}."
        )
    if result.already:
        same = "; ".join(f"{rules.LEARNER_CATEGORIES[c]}: {n}" for c, n in result.already.items())
        lines.append(
            f"Already on file for {named} as of {result.as_of}, so not recorded again: {same}."
        )
    return plain("\n".join(lines))
