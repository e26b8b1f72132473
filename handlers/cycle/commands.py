"""`/pars status`, `checklist`, `summary`, `config` and `remind`: the annual reporting cycle."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.cycle import messages as layouts
from handlers.cycle.summary_form import summary_modal
from handlers.slack.arguments import Arguments, split_arguments
from handlers.slack.call import CommandCall
from handlers.slack.context import Deps
from handlers.slack.errors import UsageError
from handlers.slack.messages import Message, plain
from handlers.slack.mrkdwn import escape
from storage import checklist as checklists
from storage import program_summary, reminders, settings
from storage.db import session_scope
from storage.errors import NotPermitted
from storage.models import Member
from storage.pars import calendar, rules


def parse_year(args: Arguments, usage: str, today: date) -> int | None:
    """The data year of `year=`, if given: one of the years the bot accepts."""
    unknown = [k for k in args.pairs if k.lower() != "year"]
    if unknown:
        raise UsageError(f"`{unknown[0]}=` is not something this command takes.", usage)
    text = next(iter(args.pairs.values()), None)
    if text is None:
        return None
    if not re.fullmatch(r"\d{4}", text.strip()):
        raise UsageError(f"`year={text}` is not a year; give four digits, e.g. year=2025.", usage)
    years = rules.accepted_years(today)
    if int(text) not in years:
        raise UsageError(
            f"`year={text.strip()}` is outside the years pars-bot accepts: give one from "
            f"{years.start} to {years.stop - 1}.",
            usage,
        )
    return int(text)


def reported_year(session: Session, team_id: str, today: date) -> int:
    """The data year being reported today, given the workspace's deadlines."""
    configured = settings.configured_deadlines(session=session, team_id=team_id)
    return calendar.reporting_year(today, configured)


def checklist_message(deps: Deps, team_id: str, year: int | None) -> Message:
    with session_scope(deps.engine) as session:
        zone, today = deps.timezone, deps.today()
        year = year or reported_year(session, team_id, today)
        checklist = checklists.compute_checklist(session=session, team_id=team_id, year=year)
    return layouts.status_message(checklist, zone, today)


def status(call: CommandCall) -> None:
    args = split_arguments(call.args, call.usage)
    if args.positional:
        raise UsageError(f"I can't read `{args.positional[0]}`.", call.usage)
    year = parse_year(args, call.usage, call.deps.today())
    call.reply(checklist_message(call.deps, call.team_id, year))


CHECKLIST_USAGE = "/pars checklist agreement|summary|contact done|undo [year=Y]"


def checklist(call: CommandCall) -> None:
    args = split_arguments(call.args, call.usage)
    year = parse_year(args, call.usage, call.deps.today())
    if not args.positional:
        call.reply(checklist_message(call.deps, call.team_id, year))
        return
    if len(args.positional) != 2 or args.positional[1].lower() not in {"done", "undo"}:
        raise UsageError("Name a step and say `done` or `undo`.", call.usage)
    step = checklists.find_step(args.positional[0])
    deps = call.deps
    with session_scope(deps.engine) as session:
        today = deps.today()
        year = year or reported_year(session, call.team_id, today)
        set_step(
            session,
            call.team_id,
            year,
            step,
            call.actor.user_id,
            deps,
            done=args.positional[1].lower() == "done",
        )
    call.reply(checklist_message(deps, call.team_id, year))


def set_step(
    session: Session,
    team_id: str,
    year: int,
    step: checklists.Step,
    user_id: str,
    deps: Deps,
    *,
    done: bool,
) -> None:
    if done:
        checklists.mark_step(
            session=session, team_id=team_id, year=year, step=step, user_id=user_id, now=deps.now()
        )
    else:
        checklists.unmark_step(session=session, team_id=team_id, year=year, step=step)


def summary(call: CommandCall) -> None:
    args = split_arguments(call.args, call.usage)
    if args.positional:
        raise UsageError(f"I can't read `{args.positional[0]}`.", call.usage)
    year = parse_year(args, call.usage, call.deps.today())
    with session_scope(call.deps.engine) as session:
        today = call.deps.today()
        year = year or reported_year(session, call.team_id, today)
        existing = program_summary.get_summary(session=session, team_id=call.team_id, year=year)
    view = summary_modal(year=year, existing=existing, response_url=call.response_url)
    call.client.views_open(trigger_id=call.trigger_id, view=view)


# -- config ----------------------------------------------------------------------------------

CONFIG_USAGE = (
    "/pars config [timezone ZONE | channel #channel|off | deadline YYYY-MM-DD[THH:MM] [year=Y] "
    "| deadline default year=Y]"
)


def config(call: CommandCall) -> None:
    args = split_arguments(call.args, CONFIG_USAGE)
    if not args.positional and not args.pairs:
        call.reply(config_message(call.deps, call.team_id))
        return
    if not call.actor.is_admin:
        raise NotPermitted(
            "Only admins change the workspace's settings (PARS_ADMINS). `/pars config` shows them."
        )
    what = args.positional[0].lower() if args.positional else ""
    values = args.positional[1:]
    deps = call.deps
    with session_scope(deps.engine) as session:
        if what == "timezone" and len(values) == 1:
            zone = calendar.parse_zone(values[0])
            settings.update_settings(
                session=session,
                team_id=call.team_id,
                user_id=call.actor.user_id,
                now=deps.now(),
                timezone=zone.key,
            )
            done = f"Time zone set to {zone.key}."
        elif what == "channel" and len(values) == 1:
            channel = parse_channel(values[0])
            settings.update_settings(
                session=session,
                team_id=call.team_id,
                user_id=call.actor.user_id,
                now=deps.now(),
                digest_channel=channel,
            )
            done = (
                f"The weekly digest goes to <#{channel}> on Mondays at 9:00 "
                "(invite pars-bot to it)."
                if channel
                else "The weekly digest is off."
            )
        elif what == "deadline" and len(values) == 1:
            done = _deadline(
                session, call, deps, values[0], parse_year(args, CONFIG_USAGE, deps.today())
            )
        else:
            raise UsageError("I can't read that setting.", CONFIG_USAGE)
    call.reply(plain(done + "\n\n" + config_text(deps, call.team_id)))


def _deadline(session: Session, call: CommandCall, deps: Deps, text: str, year: int | None) -> str:
    zone = deps.timezone
    if text.lower() == "default":
        if year is None:
            raise UsageError("Say which year goes back to ACCME's deadline: year=Y.", CONFIG_USAGE)
        due = settings.reset_deadline(session=session, team_id=call.team_id, year=year)
    else:
        due = settings.set_deadline(
            session=session,
            team_id=call.team_id,
            user_id=call.actor.user_id,
            due_at=calendar.parse_deadline(text, zone),
            year=year,
            now=deps.now(),
        )
    return f"The PARS deadline for {due.data_year} is {layouts.deadline_when(due, zone)}."


def parse_channel(text: str) -> str | None:
    value = text.strip()
    if value.lower() in {"off", "none", "-"}:
        return None
    match = re.fullmatch(r"<#([CG][A-Z0-9]+)(\|[^>]*)?>", value) or re.fullmatch(
        r"([CG][A-Z0-9]{2,})", value
    )
    if not match:
        raise UsageError(
            f"`{escape(value)}` is not a channel I can use: pick it from Slack's list as "
            "you type `#`, or give its ID (C0123ABCD), or `off`.",
            CONFIG_USAGE,
        )
    return match.group(1)


def config_text(deps: Deps, team_id: str) -> str:
    with session_scope(deps.engine) as session:
        current = settings.workspace_settings(session=session, team_id=team_id)
        # Read again: this reply may follow `/pars config timezone` in the same request.
        zone = settings.workspace_zone(session=session, team_id=team_id, default=deps.timezone)
        today = deps.now().astimezone(zone).date()
        configured = settings.configured_deadlines(session=session, team_id=team_id)
    year = calendar.reporting_year(today, configured)
    zone_note = _zone_note(current.timezone if current else None)
    channel = current.digest_channel if current else None
    lines = [
        "*pars-bot settings for this workspace*",
        f"• Time zone: {zone.key}{zone_note} — `/pars config timezone ZONE`",
        "• Weekly digest: "
        + (f"<#{channel}>, Mondays 9:00" if channel else "off")
        + " — `/pars config channel #channel|off`",
    ]
    for y in sorted({year, *configured}):
        due = calendar.deadline_for(y, configured)
        source = f"set by <@{due.set_by}>" if due.configured else "ACCME's default"
        lines.append(f"• Deadline for {y}: {layouts.deadline_when(due, zone)} ({source})")
    lines.append("  `/pars config deadline YYYY-MM-DD[THH:MM] [year=Y]`, `deadline default year=Y`")
    admins = ", ".join(f"<@{a}>" for a in sorted(deps.admins)) or "none (set PARS_ADMINS)"
    lines.append(f"Admins, who change these: {admins}")
    return "\n".join(lines)


def _zone_note(stored: str | None) -> str:
    if not stored:
        return " (PARS_TIMEZONE)"
    if calendar.known_zone(stored) is None:
        return (
            f" (PARS_TIMEZONE: the stored `{escape(stored)}` is not a time zone of the IANA "
            "list; set one)"
        )
    return ""


def config_message(deps: Deps, team_id: str) -> Message:
    return plain(config_text(deps, team_id))


# -- remind ----------------------------------------------------------------------------------


def remind(call: CommandCall) -> None:
    word = call.args[0].lower() if len(call.args) == 1 else ""
    if word not in {"on", "off", "status"}:
        raise UsageError("Say `on`, `off` or `status`.", call.usage)
    deps = call.deps
    with session_scope(deps.engine) as session:
        if word != "status":
            reminders.set_reminders(
                session=session,
                team_id=call.team_id,
                user_id=call.actor.user_id,
                on=word == "on",
                now=deps.now(),
            )
        member = reminders.get_member(
            session=session, team_id=call.team_id, user_id=call.actor.user_id
        )
        zone, today = deps.timezone, deps.today()
        configured = settings.configured_deadlines(session=session, team_id=call.team_id)
    call.reply(plain(remind_text(member, zone, today, configured)))


def remind_text(
    member: Member | None, zone: ZoneInfo, today: date, configured: dict[int, calendar.Deadline]
) -> str:
    on = member is None or member.reminders
    if not on:
        return (
            "Your reminders are *off*: no DMs from pars-bot. `/pars remind on` turns them back on."
        )
    where = (
        f"{member.tz} (your Slack profile)"
        if member and member.tz
        else f"{zone.key} (the workspace's, until pars-bot reads your Slack profile)"
    )
    year = calendar.reporting_year(today, configured)
    due = calendar.deadline_for(year, configured)
    nxt = calendar.next_countdown_day(today, due.day)
    lines = [
        f"Your reminders are *on*. They come as DMs at 9:00 on weekdays, {where}:",
        "• the PARS deadline countdown: 60, 30, 14, 7, 3 and 1 days before and on the day"
        + (f" (next: {nxt:%a %-d %b %Y})" if nxt else ""),
        "• your activities that ended and are not closed: the first weekday after the end "
        "date, then Mondays, then daily in the last 7 days before the deadline",
        "• in January, the cumulative counts of your open enduring materials as of Dec 31",
        "`/pars remind off` stops them; *Snooze 3 days* on a reminder quiets one activity.",
    ]
    return "\n".join(lines)
