"""`/pars template`, `/pars export` and `/pars undo-batch`."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from handlers.batch.messages import HOW_TO_FILL
from handlers.slack.arguments import split_arguments
from handlers.slack.call import CommandCall
from handlers.slack.errors import UsageError
from handlers.slack.files import upload
from handlers.slack.messages import plain, plural
from storage.batch.export import default_year, export_workbook
from storage.batch.undo import undo_batch as undo
from storage.db import session_scope
from storage.pars.rules import accepted_years
from storage.sheets.workbooks import template_workbook

TEMPLATE_KINDS = {"activities": "activities", "activity": "activities", "counts": "counts"}


def _post_file(call: CommandCall, data: bytes, file_name: str, comment: str, private: bool) -> str:
    """Upload into the channel of the command (or a DM with the user); where it went."""
    if not private:
        try:
            upload(
                call.client,
                data=data,
                file_name=file_name,
                channel=call.channel_id,
                comment=comment,
            )
            return "here"
        except SlackApiError as error:
            if error.response.get("error") not in {"not_in_channel", "channel_not_found"}:
                raise
    dm = call.client.conversations_open(users=call.actor.user_id)["channel"]["id"]
    upload(call.client, data=data, file_name=file_name, channel=dm, comment=comment)
    return "in a DM"


def template(call: CommandCall) -> None:
    args = split_arguments(call.args, call.usage)
    words = [w.lower() for w in args.positional]
    if args.pairs or len(words) > 1 or (words and words[0] not in TEMPLATE_KINDS):
        raise UsageError("Which template: `activities` (the default) or `counts`?", call.usage)
    kind = TEMPLATE_KINDS[words[0]] if words else "activities"
    name = (
        "pars-bot learner counts template.xlsx"
        if kind == "counts"
        else ("pars-bot activities template.xlsx")
    )
    where = _post_file(
        call,
        template_workbook(kind),
        name,
        "Fill it in and share it here: I answer with a preview before changing anything.",
        private=False,
    )
    call.reply(plain(f"The {kind} template is posted {where}."))


def export(call: CommandCall) -> None:
    args = split_arguments(call.args, call.usage)
    unknown = [k for k in args.pairs if k.lower() != "year"] + args.positional
    if unknown:
        raise UsageError(f"`export` takes only `year=Y`, not `{unknown[0]}`.", call.usage)
    text = next((v for k, v in args.pairs.items() if k.lower() == "year"), None)
    today = call.deps.today()
    if text is None:
        year = default_year(today)
    elif text.strip().isdigit() and int(text) in accepted_years(today):
        year = int(text)
    else:
        years = accepted_years(today)
        raise UsageError(
            f'"{text}" is not a data year such as {default_year(today)} '
            f"(the bot takes {years[0]} to {years[-1]}).",
            call.usage,
        )
    with session_scope(call.deps.engine) as session:
        made = export_workbook(session=session, team_id=call.team_id, year=year, today=today)
    if not made.activities:
        call.reply(plain(f"No activities in data year {year}: nothing to export."))
        return
    where = _post_file(
        call,
        made.data,
        f"PARS export {year}.xlsx",
        f"Data year {year}: {plural(made.activities, 'activity', 'activities')} (those that "
        f"started in {year}, and enduring materials open in {year}). The sheet Still missing "
        "lists what PARS needs.",
        private=True,
    )
    call.reply(
        plain(
            f"The export of data year {year} "
            f"({plural(made.activities, 'activity', 'activities')}) is posted {where}. "
            f"{HOW_TO_FILL}"
        )
    )


def undo_batch(call: CommandCall) -> None:
    args = split_arguments(call.args, call.usage)
    if args.pairs or len(args.positional) != 1:
        raise UsageError("Give the batch ID, as the Apply message shows it.", call.usage)
    with session_scope(call.deps.engine) as session:
        result = undo(
            session=session,
            team_id=call.team_id,
            batch_id=args.positional[0],
            actor=call.actor,
            now=call.deps.now(),
        )
    parts = []
    if result.removed:
        parts.append(f"removed {plural(len(result.removed), 'activity', 'activities')} it added")
    if result.restored:
        restored = plural(len(result.restored), "activity", "activities")
        parts.append(f"put {restored} back as they were")
    done = " and ".join(parts) or "nothing needed changing"
    call.reply(plain(f"Undid batch `{result.batch_id}`: {done}."))
