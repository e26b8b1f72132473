"""Layouts and action IDs of activities: the card, what was saved, lists and counts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
from storage import duplicates
from storage.close_offers import Offer
from storage.counts import CountsRecorded
from storage.duplicates import Other
from storage.models import Activity, LearnerCount
from storage.pars import rules
from storage.pars.fields import BY_NAME, FIELDS, label, render
from storage.pars.labels import has_labels, labels
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
    if has_labels(name):
        shown = labels(name, value)
        return shown if isinstance(shown, str) else ", ".join(shown)
    if name == "description":
        return _clip(value, 300)
    if name == "moc_boards":
        return "; ".join(_moc_entry_text(entry) for entry in value)
    return render(value)


def _moc_entry_text(entry: Mapping[str, Any]) -> str:
    """ "ABIM: 1.5 points, Medical Knowledge + Practice Assessment, claim by 2026-06-30"."""
    points = entry.get("points")
    parts = [f"{points} point{'' if points == '1' else 's'}" if points else "points —"]
    parts.append(" + ".join(entry.get("credit_types") or []) or "credit types —")
    if entry.get("claim_date"):
        parts.append(f"claim by {entry['claim_date']}")
    return f"{entry['board']}: {', '.join(parts)}"


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
