"""The `/pars` slash command: reads the subcommand and hands the rest to it."""

from __future__ import annotations

import difflib
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from handlers.activity import commands as activity
from handlers.activity import listing
from handlers.batch import commands as batch
from handlers.cycle import commands as cycle
from handlers.slack.arguments import tokenize
from handlers.slack.call import CommandCall, Subcommand
from handlers.slack.context import actor_of, deps_of, team_of
from handlers.slack.errors import UsageError, answering_errors, handle_error
from handlers.slack.messages import plain, plural
from handlers.slack.mrkdwn import unescape
from handlers.slack.work import acknowledged
from storage.pars import rules
from storage.pars.fields import FIELDS


def help_command(call: CommandCall) -> None:
    if call.args and call.args[0].lower() == "fields":
        call.reply(plain(fields_help()))
        return
    call.reply(plain(help_text()))


def _no_arguments(args: list[str]) -> bool:
    return not args


def _only_an_id(args: list[str]) -> bool:
    return len(args) == 1 and "=" not in args[0]


def _always(_args: list[str]) -> bool:
    return True


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "add-activity",
        "/pars add-activity [key=value ...]",
        '/pars add-activity id=GR-2025 title="Medicine Grand Rounds" format=rss '
        "start=2025-01-07 end=2025-12-16",
        "Add an activity (no arguments opens a form; without id= the bot assigns one)",
        activity.add_activity,
        ("add",),
        opens_form=_no_arguments,
    ),
    Subcommand(
        "edit",
        "/pars edit ID [key=value ...]",
        "/pars edit GR-2025 credits=1 delivery=in-person city=Chicago state=IL country=USA",
        "Change fields (only an ID opens the form, filled in)",
        activity.edit,
        opens_form=_only_an_id,
    ),
    Subcommand(
        "close",
        "/pars close ID [ID ...]",
        "/pars close GR-2025 EM-2024-03",
        "Close activities that ended and have everything PARS needs",
        activity.close,
    ),
    Subcommand(
        "counts",
        "/pars counts ID physicians=N others=N [as-of=DATE]",
        "/pars counts GR-2025 physicians=1040 others=212",
        "Record learner counts (cumulative for enduring materials, as of the last Dec 31)",
        activity.counts,
        ("count",),
    ),
    Subcommand(
        "show",
        "/pars show ID [share]",
        "/pars show GR-2025",
        "Every field, the PARS status and what the next status still needs",
        activity.show,
    ),
    Subcommand(
        "list",
        "/pars list [open|ready|closed|unclosed|mine|all] [year=Y] [format=F] [page=N] [share]",
        "/pars list unclosed year=2025",
        "A compact list; `ready` lets you tick activities and close them together, or all at once",
        listing.list_activities,
        ("ls",),
    ),
    Subcommand(
        "reopen",
        "/pars reopen ID",
        "/pars reopen GR-2025",
        "Reopen a closed activity (admins only)",
        activity.reopen,
    ),
    Subcommand(
        "status",
        "/pars status [year=Y]",
        "/pars status year=2025",
        "The five-step PARS checklist of a data year, with the deadline and days left",
        cycle.status,
    ),
    Subcommand(
        "checklist",
        cycle.CHECKLIST_USAGE,
        "/pars checklist agreement done",
        "Mark a step done in PARS itself (agreement, summary, contact), or undo it",
        cycle.checklist,
    ),
    Subcommand(
        "summary",
        "/pars summary [year=Y]",
        "/pars summary year=2025",
        "The Program Summary's figures for a data year, in a form",
        cycle.summary,
        opens_form=_always,
    ),
    Subcommand(
        "remind",
        "/pars remind off|on|status",
        "/pars remind status",
        "Your reminder DMs: when they come, and turning them off or on",
        cycle.remind,
    ),
    Subcommand(
        "config",
        cycle.CONFIG_USAGE,
        "/pars config deadline 2026-03-17",
        "Show the workspace's settings; admins set the deadline, time zone and digest channel",
        cycle.config,
    ),
    Subcommand(
        "template",
        "/pars template [activities|counts]",
        "/pars template counts",
        "A blank batch workbook with PARS field names, drop-downs and instructions",
        batch.template,
        heavy=True,
    ),
    Subcommand(
        "export",
        "/pars export [year=Y]",
        "/pars export year=2025",
        "The PARS-ready workbook of a data year, with what is still missing (sent as a DM); "
        "to fill ACCME's own template, share the blank template with me",
        batch.export,
        heavy=True,
    ),
    Subcommand(
        "undo-batch",
        "/pars undo-batch ID",
        "/pars undo-batch B-7K3M9QX2",
        "Undo an applied spreadsheet batch while its activities are unchanged (admins only)",
        batch.undo_batch,
        heavy=True,
    ),
    Subcommand(
        "help",
        "/pars help [fields]",
        "/pars help fields",
        "This list; `help fields` lists every field you can set",
        help_command,
    ),
)

_BY_NAME = {name: sub for sub in SUBCOMMANDS for name in (sub.name, *sub.aliases)}


def help_text() -> str:
    lines = ["*pars-bot* keeps your CME activities ready for PARS. Subcommands:"]
    for sub in SUBCOMMANDS:
        lines.append(f"• `{sub.usage}` — {sub.summary}\n    e.g. `{sub.example}`")
    lines.append(
        "Dates are YYYY-MM-DD or M/D/YYYY. Put values with spaces in double quotes. "
        "An activity is named by your activity ID."
    )
    return "\n".join(lines)


def fields_help() -> str:
    formats = ", ".join(f"`{code}` ({f.label})" for code, f in rules.FORMATS.items())
    lines = ["*Fields* for `add-activity` and `edit` (key=value):"]
    lines += [f"• `{f.key}` — {f.label}, e.g. `{f.example}`" for f in FIELDS]
    lines.append(
        f"Formats: {formats}. Old PARS activity-type codes (C, IL, RSS, EM, ...) work too."
    )
    lines.append(
        "Credits of a regularly scheduled series (RSS) are for the whole series, not one "
        "session: a weekly one-hour series is about 52 credits."
    )
    lines.append(
        "MOC boards: one entry per certifying board ("
        + ", ".join(rules.MOC_BOARDS)
        + "), separated by `;`: board, then its points (steps of 0.25), credit types joined "
        "by `+` and an optional claim date, e.g. "
        '`moc-boards="ABIM:1.5:Medical Knowledge+Practice Assessment:2026-06-30; '
        'ABP:1:Lifelong Learning and Self-Assessment"`. `moc-board=`, `moc-credit-type=` and '
        "`moc-credits=` still work: they change the first board's entry."
    )
    lines.append("Give a key with nothing after `=` to clear that field, e.g. `city=`.")
    return "\n".join(lines)


def find_subcommand(word: str) -> Subcommand:
    name = word.lower()
    if name in _BY_NAME:
        return _BY_NAME[name]
    close = difflib.get_close_matches(name, list(_BY_NAME), n=1)
    hint = f" Did you mean `/pars {close[0]}`?" if close else ""
    raise UsageError(f"`{word}` is not a /pars subcommand.{hint} `/pars help` lists them all.")


def pars_command(
    ack: Ack,
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
    logger: logging.Logger,
) -> None:
    ack()
    # Slack sends a typed & < > as entities; values are stored as the user typed them.
    tokens = tokenize(unescape(command.get("text") or ""), "/pars help")
    sub = find_subcommand(tokens[0]) if tokens else _BY_NAME["help"]
    call = CommandCall(
        args=tokens[1:],
        usage=sub.usage,
        deps=deps_of(context),
        actor=actor_of(context),
        team_id=team_of(context),
        channel_id=command.get("channel_id", ""),
        trigger_id=command.get("trigger_id", ""),
        response_url=command.get("response_url", ""),
        respond=respond,
        client=client,
    )
    logger.debug("/pars %s by %s", sub.name, call.actor.user_id)
    if not sub.heavy:
        sub.run(call)
        return
    ahead = call.deps.work.heavy.submit(_run_heavy, sub, call, command, logger)
    if ahead:
        waiting = plural(ahead, "other job", "other jobs")
        call.reply(plain(f"Queued behind {waiting} (exports, uploads): yours follows shortly."))


def _run_heavy(
    sub: Subcommand, call: CommandCall, command: dict[str, Any], logger: logging.Logger
) -> None:
    try:
        sub.run(call)
    except Exception as error:  # answered as from any listener: one clear ephemeral message
        handle_error(error, command, call.respond, None, logger)


def opens_form(body: dict[str, Any]) -> bool:
    """Does this `/pars` open a form? Read from its words alone, before any work."""
    text = body.get("text") or ""
    first = _BY_NAME.get(text.split(maxsplit=1)[0].lower()) if text.strip() else None
    if first is None or first.opens_form is None:
        return False  # most commands: no quotes to read
    try:
        tokens = tokenize(unescape(body.get("text") or ""))
    except UsageError:
        return False  # answered on the light pool, as any other mistake
    sub = _BY_NAME.get(tokens[0].lower()) if tokens else None
    return sub is not None and sub.opens_form is not None and sub.opens_form(tokens[1:])


def register(app: App) -> None:
    # Acknowledged at once; the subcommand runs on the light pool, the forms one (a form opens
    # within its trigger's life), or the heavy one.
    app.command("/pars")(acknowledged(answering_errors(pars_command), opens_form=opens_form))
