"""Apply and Cancel under a batch preview."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from sqlmodel import Session

from handlers.batch import messages as layouts
from handlers.slack.context import deps_of, team_of
from handlers.slack.messages import Message, local_date
from storage.activities import Actor
from storage.batch.apply import apply_plan
from storage.batch.plan import Tally, row_text
from storage.batch.store import cancel_plan, ensure_may_apply, get_plan
from storage.db import session_scope
from storage.models import BatchPlan


def _actor(body: dict[str, Any], context: BoltContext) -> Actor:
    actor = context.get("actor")
    if isinstance(actor, Actor):
        return actor
    user_id = (body.get("user") or {}).get("id", "")
    return Actor(user_id=user_id, is_admin=user_id in deps_of(context).admins)


def _show(client: WebClient, plan: BatchPlan, body: dict[str, Any], message: Message) -> None:
    """Replace the thread message the buttons are in."""
    channel = plan.channel_id or (body.get("channel") or {}).get("id")
    ts = plan.message_ts or (body.get("message") or {}).get("ts")
    if channel and ts:
        client.chat_update(channel=channel, ts=ts, **message.kwargs())


def apply_batch(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    respond: Respond,
    logger: logging.Logger,
) -> None:
    ack()
    deps = deps_of(context)
    team_id = team_of(context)
    actor = _actor(body, context)
    with Session(deps.engine) as session:
        plan = get_plan(session, team_id=team_id, plan_id=action["value"], rows=False)
        ensure_may_apply(plan, actor.user_id, actor.is_admin)
    # The preview's outcome of each row counts them, without reading the rows themselves;
    # then only their number is kept (as Tally.load reads it), as Apply reads its own copy:
    # 100,000 rows' outcomes are 33 MB each. (`plan` is detached: nothing is written.)
    kept = plan.summary or {}
    total = len(kept.get("rows", []))
    plan.summary = {**kept, "rows": total}
    del kept
    shown: list[bool] = []
    try:
        # Progress goes to Slack from a thread of its own: the apply holds the database's
        # write lock, and must not hold it while Slack answers. The first report comes only
        # once the apply has claimed the plan, so a refused click leaves the preview alone.
        with ThreadPoolExecutor(max_workers=1) as slack_calls:
            pending: list[Future[None]] = []

            def progress(done: int, of: int) -> None:
                shown.append(True)
                if pending and not pending[-1].done():
                    return  # Slack is still showing the last figure: skip, never queue up
                text = f"Applying {plan.file_name}: {done:,} of {of:,} rows…"
                pending.append(
                    slack_calls.submit(_show, client, plan, body, layouts.progress_message(text))
                )

            with session_scope(deps.engine) as session:
                result = apply_plan(
                    session=session,
                    team_id=team_id,
                    plan_id=plan.id,
                    actor=actor,
                    now=deps.now(),
                    today=deps.today(),
                    progress=progress if total > 1000 else None,
                    admins=deps.admins,
                )
    except Exception:
        if shown:  # nothing was applied: the preview and its buttons come back to retry
            _show(client, plan, body, _preview_again(plan, deps.timezone))
        raise
    message = layouts.applied_message(
        batch_id=result.batch_id,
        file_name=plan.file_name,
        user_id=actor.user_id,
        summary=result.summary,
        errors=[row_text(row, aid, text) for row, aid, text in result.errors],
        since_preview=result.since_preview,
    )
    # The batch is applied and committed: a Slack failure from here on must never reach the
    # error handler, which would tell the user nothing was changed.
    try:
        _show(client, plan, body, message)
    except Exception:
        logger.exception("applied %s, but could not show the result in the thread", plan.id)
        try:
            respond(text=message.text, response_type="ephemeral", replace_original=False)
        except Exception:
            logger.exception("applied %s, and could not tell %s", plan.id, actor.user_id)


def _preview_again(plan: BatchPlan, zone: ZoneInfo) -> Message:
    """The preview as it was first shown, from what the plan kept of it."""
    kept = plan.summary or {}
    return layouts.preview_message(
        batch_id=plan.id,
        file_name=plan.file_name,
        summary=Tally.load(kept),
        first_errors=kept.get("first_errors") or [],
        unknown=kept.get("unknown") or [],
        not_used=kept.get("not_used") or [],
        expires=local_date(plan.expires_at, zone),
        warnings=kept.get("first_warnings") or [],
    )


def cancel_batch(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    actor = _actor(body, context)
    plan = cancel_plan(
        engine=deps.engine,
        team_id=team_of(context),
        plan_id=action["value"],
        user_id=actor.user_id,
        is_admin=actor.is_admin,
        now=deps.now(),
    )
    _show(
        client,
        plan,
        body,
        layouts.cancelled_message(
            batch_id=plan.id, file_name=plan.file_name, user_id=actor.user_id
        ),
    )
