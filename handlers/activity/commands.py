"""`/pars add-activity`, `edit`, `show`, `close`, `reopen` and `counts`."""

from __future__ import annotations

from handlers.activity import messages as blocks
from handlers.activity.form import FormState, activity_modal, edit_form
from handlers.activity.replies import (
    card_message,
    close_many,
    save_activity,
    saved_message,
)
from handlers.slack.arguments import field_values, no_stray_words, split_arguments, unknown_key
from handlers.slack.call import CommandCall
from handlers.slack.errors import UsageError
from handlers.slack.mrkdwn import error_text
from storage import activities as service
from storage import counts as learner_counts
from storage.db import session_scope
from storage.errors import CountDecreaseNeedsConfirmation
from storage.pars.fields import LEARNER_KEYS


def add_activity(call: CommandCall) -> None:
    if not call.args:
        state = FormState(mode="add", response_url=call.response_url, channel_id=call.channel_id)
        view = activity_modal(state=state, values={}, owner_default=call.actor.user_id)
        call.client.views_open(trigger_id=call.trigger_id, view=view)
        return
    args = split_arguments(call.args, call.usage)
    no_stray_words(args, call.usage)
    raw = field_values(args.pairs, call.usage)
    message = save_activity(
        engine=call.deps.engine,
        team_id=call.team_id,
        actor=call.actor,
        raw=raw,
        now=call.deps.now(),
        today=call.deps.today(),
    )
    call.reply(message)


def _one_id(call: CommandCall, allowed_pairs: bool = False) -> tuple[str, dict[str, str]]:
    args = split_arguments(call.args, call.usage)
    if not args.positional:
        raise UsageError("Which activity? Give its ID.", call.usage)
    if not allowed_pairs and args.pairs:
        raise UsageError(f"`{call.usage.split()[1]}` takes only an activity ID.", call.usage)
    no_stray_words(args, call.usage, allowed=1)
    return args.positional[0], args.pairs


def edit(call: CommandCall) -> None:
    activity_id, pairs = _one_id(call, allowed_pairs=True)
    if not pairs:
        view = edit_form(
            engine=call.deps.engine,
            team_id=call.team_id,
            actor=call.actor,
            activity_id=activity_id,
            response_url=call.response_url,
            channel_id=call.channel_id,
        )
        call.client.views_open(trigger_id=call.trigger_id, view=view)
        return
    raw = field_values(pairs, call.usage)
    message = save_activity(
        engine=call.deps.engine,
        team_id=call.team_id,
        actor=call.actor,
        raw=raw,
        now=call.deps.now(),
        today=call.deps.today(),
        activity_id=activity_id,
    )
    call.reply(message)


def show(call: CommandCall) -> None:
    args = split_arguments(call.args, call.usage)
    share = "share" in [p.lower() for p in args.positional]
    call.args = [a for a in call.args if a.lower() != "share"]
    activity_id, _ = _one_id(call)
    with session_scope(call.deps.engine) as session:
        activity = service.get_activity(
            session=session, team_id=call.team_id, activity_id=activity_id
        )
        message = card_message(
            session=session,
            activity=activity,
            today=call.deps.today(),
            timezone=call.deps.timezone,
            share=share,
        )
    call.reply(message, share=share)


def close(call: CommandCall) -> None:
    args = split_arguments(call.args, call.usage)
    if args.pairs:
        raise UsageError("`close` takes activity IDs only.", call.usage)
    if not args.positional:
        raise UsageError("Which activity? Give one ID or several.", call.usage)
    call.reply(
        close_many(
            engine=call.deps.engine,
            team_id=call.team_id,
            actor=call.actor,
            activity_ids=args.positional,
            now=call.deps.now(),
            today=call.deps.today(),
        )
    )


def reopen(call: CommandCall) -> None:
    activity_id, _ = _one_id(call)
    with session_scope(call.deps.engine) as session:
        activity = service.reopen_activity(
            session=session,
            team_id=call.team_id,
            actor=call.actor,
            activity_id=activity_id,
            now=call.deps.now(),
        )
        message = saved_message(
            session=session, activity=activity, today=call.deps.today(), verb="Reopened"
        )
    call.reply(message)


AS_OF_KEYS = {"as-of", "asof", "as_of", "date"}
COUNT_KEYS = {
    **LEARNER_KEYS,
    "physician": "physician",
    "other": "other",
    "physician-learners": "physician",
    "other-learners": "other",
}


def counts(call: CommandCall) -> None:
    activity_id, pairs = _one_id(call, allowed_pairs=True)
    numbers: dict[str, str] = {}
    as_of: str | None = None
    for key, value in pairs.items():
        folded = key.lower()
        if folded in AS_OF_KEYS:
            as_of = value
        elif folded in COUNT_KEYS:
            numbers[COUNT_KEYS[folded]] = value
        else:
            raise unknown_key(key, call.usage, extra=("physicians", "others", "as-of"))
    # A lower cumulative count is answered with a confirmation instead of being saved.
    try:
        with session_scope(call.deps.engine) as session:
            result = learner_counts.record_counts(
                session=session,
                team_id=call.team_id,
                actor=call.actor,
                activity_id=activity_id,
                counts=numbers,
                as_of=as_of,
                now=call.deps.now(),
                today=call.deps.today(),
            )
    except CountDecreaseNeedsConfirmation as lower:
        payload = {
            "id": lower.activity_id,
            "counts": numbers,
            "as_of": as_of,
            "seen": lower.last_count_id,
        }
        message = blocks.confirm_lower_counts(
            error_text(lower), payload, higher_than_later=lower.higher_than_later
        )
    else:
        message = blocks.counts_recorded(result)
    call.reply(message)
