"""Spreadsheets shared in a channel or DM: read, checked and previewed in a thread; a blank
template (a header row, no activities) is answered with buttons to fill it (template_fill.py).

Both the `message` (subtype file_share) and the `file_shared` events lead here; the file is
claimed in the database by its Slack file ID first, so it is previewed once however often
Slack delivers it. The work runs after the event is acknowledged, on the heavy pool
(registered in handlers/batch/__init__.py; handlers/slack/work.py).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from handlers.batch import messages as layouts
from handlers.batch.template_fill import template_answer
from handlers.slack import bot_values
from handlers.slack.context import Deps, deps_of, team_of
from handlers.slack.errors import UNEXPECTED
from handlers.slack.files import download, upload
from handlers.slack.messages import Message, local_date
from storage.activities import Actor
from storage.batch.preview import Preview, annotated_name, preview_file
from storage.batch.store import REFUSED, claim_file, update_plan
from storage.errors import ParsError
from storage.pars.fields import control_character
from storage.sheets.read import Limits, kind_of

LIMITS = Limits()


def _actor(context: BoltContext, deps: Deps, user_id: str) -> Actor:
    actor = context.get("actor")
    if isinstance(actor, Actor) and actor.user_id == user_id:
        return actor
    return Actor(user_id=user_id, is_admin=user_id in deps.admins)


def _from_bot(event: dict[str, Any], context: BoltContext, user_id: str | None) -> bool:
    return bool(event.get("bot_id")) or (user_id is not None and user_id == context.bot_user_id)


def on_message(event: dict[str, Any], client: WebClient, context: BoltContext, logger) -> None:  # type: ignore[no-untyped-def]
    """A message with files (subtype file_share); every other message is left alone."""
    if event.get("subtype") != "file_share" or not event.get("files"):
        return
    user_id = event.get("user")
    if not user_id or _from_bot(event, context, user_id):
        return
    for file in event["files"]:
        preview_upload(
            client=client,
            context=context,
            file=file,
            user_id=user_id,
            channel_id=event.get("channel"),
            thread_ts=event.get("thread_ts") or event.get("ts"),
            logger=logger,
        )


def on_file_shared(event: dict[str, Any], client: WebClient, context: BoltContext, logger) -> None:  # type: ignore[no-untyped-def]
    user_id = event.get("user_id")
    file_id = event.get("file_id") or (event.get("file") or {}).get("id")
    if not user_id or not file_id or _from_bot(event, context, user_id):
        return
    file = {"id": file_id, **(event.get("file") or {})}
    if not file.get("name"):
        file = client.files_info(file=file_id)["file"]
    channel_id = event.get("channel_id")
    preview_upload(
        client=client,
        context=context,
        file=file,
        user_id=user_id,
        channel_id=channel_id,
        thread_ts=_share_ts(file, channel_id),
        logger=logger,
    )


def _share_ts(file: dict[str, Any], channel_id: str | None) -> str | None:
    """The ts of the message that shared the file in that channel, to answer in its thread."""
    for scope in ("public", "private"):
        shares = ((file.get("shares") or {}).get(scope) or {}).get(channel_id or "") or []
        if shares:
            return shares[0].get("ts")
    return None


def preview_upload(
    *,
    client: WebClient,
    context: BoltContext,
    file: dict[str, Any],
    user_id: str,
    channel_id: str | None,
    thread_ts: str | None,
    logger: logging.Logger,
) -> None:
    name = file.get("name") or file.get("title") or ""
    if kind_of(name) is None or not channel_id:
        return  # images, PDFs...: not ours, and not worth a word
    # A name with a control character (a bidirectional override makes "xlsx.exe" read as
    # "exe.xlsx") is refused by the rule every value follows; claimed under the name shown,
    # so Slack delivering it again is refused once.
    problem = control_character(name)
    if problem is not None:
        name = bot_values.visible(name)
    deps = deps_of(context)
    team_id = team_of(context)
    claim = claim_file(
        engine=deps.engine,
        team_id=team_id,
        user_id=user_id,
        file_id=file.get("id"),
        file_name=name,
        now=deps.now(),
        channel_id=channel_id,
        thread_ts=thread_ts,
    )
    if not claim.fresh:
        logger.info("file %s already claimed by batch %s", file.get("id"), claim.plan_id)
        return
    if problem is not None:
        update_plan(deps.engine, claim.plan_id, status=REFUSED)
        refused = f"The name of {name} {problem.split(';')[0]}: rename the file and share it again."
        client.chat_postMessage(
            channel=channel_id, thread_ts=thread_ts, **layouts.progress_message(refused).kwargs()
        )
        return
    posted = client.chat_postMessage(
        channel=channel_id,
        thread_ts=thread_ts,
        **layouts.progress_message(f"Reading {name}…").kwargs(),
    )
    message_ts = posted.get("ts")
    update_plan(deps.engine, claim.plan_id, message_ts=message_ts)

    def show(message: Message) -> None:
        client.chat_update(
            channel=posted.get("channel") or channel_id, ts=message_ts, **message.kwargs()
        )

    try:
        preview = preview_file(
            engine=deps.engine,
            plan_id=claim.plan_id,
            team_id=team_id,
            actor=_actor(context, deps, user_id),
            # Not kept here: the file's bytes are let go of once it is checked (the annotated
            # copy is made from the cells the check kept).
            data=download(file, client=client, limits=LIMITS),
            file_name=name,
            today=deps.today(),
            limits=LIMITS,
            progress=lambda text: show(layouts.progress_message(text)),
        )
    except ParsError as refused:
        logger.info("batch %s refused: %s", claim.plan_id, refused.message)
        update_plan(deps.engine, claim.plan_id, status=REFUSED)
        show(layouts.progress_message(refused.message))
        return
    except Exception:
        logger.exception("batch %s failed", claim.plan_id)
        update_plan(deps.engine, claim.plan_id, status=REFUSED)
        show(layouts.progress_message(UNEXPECTED))
        return
    if preview.blank_template:
        show(
            template_answer(
                engine=deps.engine, team_id=team_id, plan_id=claim.plan_id, file_name=name
            )
        )
        return
    # The preview first (with its Apply button); the annotated copy follows in the thread.
    show(preview_layout(deps, preview))
    if preview.annotate is None:
        return
    try:
        upload(
            client,
            data=preview.annotate(),
            file_name=annotated_name(name),
            channel=channel_id,
            thread_ts=thread_ts,
            comment="Each row checked: see the pars-bot messages column; cells with errors are "
            "highlighted.",
        )
    except Exception:  # the preview and its Apply stand; only the extra copy is missing
        logger.exception("batch %s: the annotated copy could not be posted", claim.plan_id)


def preview_layout(deps: Deps, preview: Preview) -> Message:
    return layouts.preview_message(
        batch_id=preview.batch_id,
        file_name=preview.file_name,
        summary=preview.summary,
        first_errors=preview.first_errors,
        unknown=preview.unknown,
        not_used=preview.not_used,
        expires=local_date(preview.expires_at, deps.timezone),
        warnings=preview.warnings,
    )
