"""Layouts and action IDs of the reporting cycle: the checklist, reminders, config, App Home.

The scheduler renders its DMs with these, so they take plain data, never a Slack request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
)

from handlers.slack.messages import Message, compose, line_sections, section
from handlers.slack.mrkdwn import escape
from storage import program_summary
from storage.checklist import STEPS, Checklist, Named, Step
from storage.models import ProgramSummary
from storage.pars import calendar, rules
from storage.pars.needs import needs_text
from storage.reminders import SNOOZE_DAYS, Needs, OpenWork

CHECKLIST_MARK = "pars_checklist_mark"
CHECKLIST_UNDO = "pars_checklist_undo"
OPEN_SUMMARY = "pars_open_summary"
OPEN_CHECKLIST = "pars_open_checklist"
REMIND_CLOSE = "pars_remind_close"
REMIND_COUNTS = "pars_remind_counts"
REMIND_SNOOZE = "pars_remind_snooze"
ACTION_IDS = (
    CHECKLIST_MARK,
    CHECKLIST_UNDO,
    OPEN_SUMMARY,
    OPEN_CHECKLIST,
    REMIND_CLOSE,
    REMIND_COUNTS,
    REMIND_SNOOZE,
)

# A DM names this many activities with buttons; the rest are counted (Slack: 50 blocks).
DM_ACTIVITIES = 10


# Time zones as an American office names them; any other zone shows its abbreviation.
_ZONE_NAMES = {
    "America/Chicago": "Central",
    "America/New_York": "Eastern",
    "America/Denver": "Mountain",
    "America/Phoenix": "Mountain (Arizona)",
    "America/Los_Angeles": "Pacific",
    "America/Anchorage": "Alaska",
    "Pacific/Honolulu": "Hawaii",
}


def when(moment: datetime, zone: ZoneInfo) -> str:
    """An instant as an American office writes it: Tuesday, March 31, 2026, 11:59 PM Central."""
    local = moment.astimezone(zone)
    name = _ZONE_NAMES.get(zone.key) or f"{local:%Z}"
    return f"{local:%A, %B %-d, %Y}, {local:%-I:%M %p} {name}"


def deadline_when(deadline: calendar.Deadline, zone: ZoneInfo) -> str:
    """A deadline as ACCME says it, in the zone it was set in (Central for ACCME's own); for a
    workspace elsewhere, each reader's own time too, through Slack's date formatting."""
    own = ZoneInfo(deadline.zone)
    text = when(deadline.due_at, own)
    if own.key == zone.key:
        return text
    stamp = int(deadline.due_at.timestamp())
    fallback = when(deadline.due_at, zone)
    return f"{text} (<!date^{stamp}^{{date_long_pretty}} at {{time}}|{fallback}> your time)"


def days_left_text(days: int) -> str:
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} ago"
    if days == 0:
        return "today"
    return f"{days} day{'s' if days != 1 else ''} left"


def money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _named(items: Sequence[Named], total: int) -> str:
    shown = ", ".join(f"`{escape(n.activity_id)}` {escape(n.title)}" for n in items)
    more = f" and {total - len(items)} more" if total > len(items) else ""
    return f"{shown}{more}"


def step_detail(checklist: Checklist, step: Step) -> str:
    year = checklist.data_year
    if step.key == "activities":
        text = f"{checklist.started} entered that started in {year}"
        if checklist.ended_open:
            text += (
                f"; {checklist.ended_open} of {checklist.ended} that ended in {year} still open: "
                + _named(checklist.open_named, checklist.ended_open)
            )
        elif checklist.ended:
            text += f"; all {checklist.ended} that ended in {year} are closed"
        return text
    if step.key == "counts":
        if not checklist.enduring_due:
            return f"no open enduring materials ran through Dec 31, {year}"
        if not checklist.enduring_missing:
            return f"all {checklist.enduring_due} have their counts"
        return (
            f"{checklist.enduring_missing} of {checklist.enduring_due} still need counts: "
            + _named(checklist.enduring_named, checklist.enduring_missing)
        )
    mark = checklist.marks.get(step.key)
    text = f"done by <@{mark.done_by}> on {mark.done_at:%Y-%m-%d}" if mark else "not marked done"
    if step.key == "summary":
        text += "; " + summary_line(checklist.summary)
    return text


def summary_line(summary: ProgramSummary | None) -> str:
    if summary is None:
        return "figures not entered in pars-bot yet (`/pars summary`)"
    total = sum((getattr(summary, a) for a in program_summary.AMOUNTS), start=Decimal(0))
    return (
        f"figures for {summary.period_start} → {summary.period_end}: advertising and exhibits "
        f"{money(summary.advertising_income)}, registration fees "
        f"{money(summary.registration_fees)}, government grants "
        f"{money(summary.government_grants)}, private donations "
        f"{money(summary.private_donations)} (total {money(total)})"
    )


def heading(checklist: Checklist, zone: ZoneInfo, today: date) -> str:
    due = checklist.deadline
    days = (due.day - today).days
    source = "set for this workspace" if due.configured else "ACCME's deadline"
    return (
        f"*PARS reporting for {checklist.data_year}* — due {deadline_when(due, zone)} "
        f"({days_left_text(days)}; {source})"
    )


def checklist_blocks(
    checklist: Checklist, zone: ZoneInfo, today: date, *, interactive: bool = True
) -> list[Block]:
    blocks: list[Block] = [section(heading(checklist, zone, today))]
    for step in STEPS:
        done = checklist.done(step.key)
        title = step.title.format(year=checklist.data_year)
        step_section = section(
            f"{'✅' if done else '⬜'} *{step.number}. {title}*\n{step_detail(checklist, step)}"
        )
        if interactive and not step.computed:
            value = json.dumps({"year": checklist.data_year, "step": step.key})
            step_section.accessory = (
                ButtonElement(text="Undo", action_id=CHECKLIST_UNDO, value=value)
                if done
                else ButtonElement(text="Mark done", action_id=CHECKLIST_MARK, value=value)
            )
        blocks.append(step_section)
    if interactive:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Program Summary form",
                        action_id=OPEN_SUMMARY,
                        value=str(checklist.data_year),
                    )
                ]
            )
        )
    return blocks


def status_message(
    checklist: Checklist, zone: ZoneInfo, today: date, *, interactive: bool = True
) -> Message:
    left = len(checklist.left)
    text = f"PARS {checklist.data_year}: {5 - left} of 5 steps done"
    return compose(text, checklist_blocks(checklist, zone, today, interactive=interactive))


def left_lines(checklist: Checklist | None) -> list[str]:
    if checklist is None:
        return []
    return [
        f"• {s.number}. {s.title.format(year=checklist.data_year)} — {step_detail(checklist, s)}"
        for s in checklist.left
    ]


def countdown_dm(
    checklist: Checklist | None,
    deadline: calendar.Deadline,
    zone: ZoneInfo,
    days: int,
) -> Message:
    due = deadline_when(deadline, zone)
    lead = (
        f"⏰ *The PARS deadline for {deadline.data_year} is today*, {due}."
        if days == 0
        else f"⏰ *{days} day{'s' if days != 1 else ''} to the PARS deadline for "
        f"{deadline.data_year}*: {due}."
    )
    lines = left_lines(checklist)
    blocks: list[Block] = [section(lead)]
    if lines:
        blocks += line_sections(["Still to do:", *lines])
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Open checklist",
                    action_id=OPEN_CHECKLIST,
                    value=str(deadline.data_year),
                    style="primary",
                )
            ]
        )
    )
    blocks.append(_quiet_note())
    return compose(lead.replace("*", ""), blocks)


def _quiet_note() -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text="`/pars remind off` stops these messages.")]
    )


def work_line(work: OpenWork) -> str:
    needs = needs_text(work.missing, most=4) if work.missing else "ready to close"
    return (
        f"`{escape(work.activity_id)}` *{escape(work.title)}* · "
        f"{rules.format_label(work.format)} · ended {work.end} · {needs}"
    )


def work_buttons(work: OpenWork, *, close: bool = True) -> ActionsBlock:
    value = work.activity_id
    buttons = []
    if close:
        buttons.append(
            ButtonElement(
                text="Close",
                action_id=REMIND_CLOSE,
                value=value,
                style="primary" if not work.missing else None,
            )
        )
    if work.needs_counts or not close:
        buttons.append(ButtonElement(text="Enter counts", action_id=REMIND_COUNTS, value=value))
    buttons.append(
        ButtonElement(text=f"Snooze {SNOOZE_DAYS} days", action_id=REMIND_SNOOZE, value=value)
    )
    return ActionsBlock(block_id=f"work_{work.pk}", elements=buttons)


def _work_blocks(
    works: Sequence[OpenWork], *, close: bool, more_command: str, total: int | None = None
) -> list[Block]:
    """The first of `works` with buttons; `total` counts them all when `works` holds fewer."""
    blocks: list[Block] = []
    shown = works[:DM_ACTIVITIES]
    for work in shown:
        blocks += [section(work_line(work)), work_buttons(work, close=close)]
    left = max(len(works), total or 0) - len(shown)
    if left > 0:
        blocks.append(section(f"…and {left} more: `{more_command}`"))
    return blocks


def unclosed_dm(
    works: Sequence[OpenWork], deadline: calendar.Deadline, zone: ZoneInfo, days_left: int
) -> Message:
    """`deadline`: that of the oldest data year named; `days_left` until it (negative: past)."""
    count = len(works)
    them = "it" if count == 1 else "them"
    year = deadline.data_year
    # Activities of several data years: say which ones the deadline is for.
    which = them if all(w.end.year == year for w in works) else f"those that ended in {year}"
    due = (
        f"PARS needs {which} by {deadline_when(deadline, zone)} (data year {year})."
        if days_left >= 0
        else f"The PARS deadline for {year} ({deadline_when(deadline, zone)}) has passed: "
        f"report {which} in PARS as soon as you can."
    )
    lead = (
        f"📋 *{count} of your activities ended and {'is' if count == 1 else 'are'} not closed "
        f"in pars-bot.* Close {them} while the details are fresh; {due}"
    )
    blocks: list[Block] = [section(lead), DividerBlock()]
    blocks += _work_blocks(works, close=True, more_command="/pars list unclosed mine")
    blocks.append(_quiet_note())
    return compose(lead.replace("*", ""), blocks)


def enduring_dm(works: Sequence[OpenWork], year: int) -> Message:
    count = len(works)
    lead = (
        f"📈 *Time for the cumulative learner counts as of Dec 31, {year}* of "
        f"{count} enduring material{'s' if count != 1 else ''} you own. PARS needs every "
        f"learner from the start date to Dec 31, {year}."
    )
    blocks: list[Block] = [section(lead), DividerBlock()]
    for work in works[:DM_ACTIVITIES]:
        line = (
            f"`{escape(work.activity_id)}` *{escape(work.title)}* · started {work.start} · "
            f"runs to {work.end}"
        )
        blocks += [section(line), work_buttons(work, close=False)]
    if count > DM_ACTIVITIES:
        blocks.append(section(f"…and {count - DM_ACTIVITIES} more: `/pars list open mine`"))
    blocks.append(_quiet_note())
    return compose(lead.replace("*", ""), blocks)


def digest_message(
    checklist: Checklist | None,
    owners: Sequence[tuple[str, int]],
    zone: ZoneInfo,
    today: date,
) -> Message:
    lines = [heading(checklist, zone, today)] if checklist else ["*PARS weekly digest*"]
    if checklist:
        lines += [
            f"{'✅' if checklist.done(s.key) else '⬜'} {s.number}. "
            f"{s.title.format(year=checklist.data_year)}"
            for s in STEPS
        ]
    total = sum(n for _o, n in owners)
    lines.append(f"*Ended, not closed:* {total}")
    lines += [f"• {f'<@{owner}>' if owner else 'no owner'}: {n}" for owner, n in owners[:15]]
    text = "PARS weekly digest"
    return compose(text, [HeaderBlock(text="PARS weekly digest"), *line_sections(lines)])


def home_blocks(
    checklist: Checklist,
    zone: ZoneInfo,
    today: date,
    needs: Needs,
) -> list[Block]:
    """App Home's part of the cycle: the checklist, then the user's activities needing them."""
    blocks: list[Block] = checklist_blocks(checklist, zone, today)
    blocks.append(DividerBlock())
    blocks.append(section("*Needs you*"))
    needing, dec31 = needs.ended, needs.dec31
    if not needing and not dec31:
        blocks.append(section("Nothing of yours is waiting. 🎉"))
    blocks += _work_blocks(
        needing, close=True, more_command="/pars list unclosed mine", total=needs.ended_total
    )
    room = max(0, DM_ACTIVITIES - len(needing))
    for work in dec31[:room]:
        line = f"`{escape(work.activity_id)}` *{escape(work.title)}* · counts as of Dec 31 due"
        blocks += [section(line), work_buttons(work, close=False)]
    if needs.dec31_total > min(room, len(dec31)):
        left = needs.dec31_total - min(room, len(dec31))
        blocks.append(
            section(
                f"…and {left} more enduring material{'' if left == 1 else 's'} awaiting "
                "counts as of Dec 31: `/pars list open mine format=enduring`"
            )
        )
    blocks.append(DividerBlock())
    return blocks
