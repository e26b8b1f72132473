"""Submission of the add/edit activity modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlmodel import Session

from handlers.activity_form import (
    FormState,
    activity_modal,
    field_errors,
    form_values,
    read_submission,
)
from handlers.blocks import Message
from handlers.context import actor_of, deps_of, team_of
from handlers.mrkdwn import escape_message
from handlers.summaries import save_activity
from storage import activities as service
from storage.db import session_scope
from storage.errors import DuplicateActivityId, ParsError, StaleEdit, ValidationFailed
from storage.fields import label, parse_values
from storage.models import Activity


def submit_activity_form(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    logger: logging.Logger,
) -> None:
    deps, actor = deps_of(context), actor_of(context)
    state = FormState.load(view.get("private_metadata", ""))
    raw = read_submission(view)
    team_id = team_of(context)
    try:
        if state.mode == "add":
            message = save_activity(
                engine=deps.engine,
                team_id=team_id,
                actor=actor,
                raw=raw,
                now=deps.now(),
                today=deps.today(),
            )
        else:
            message = save_activity(
                engine=deps.engine,
                team_id=team_id,
                actor=actor,
                raw=raw,
                now=deps.now(),
                today=deps.today(),
                activity_id=None if state.activity_pk is not None else state.activity_id or "",
                activity_pk=state.activity_pk,
                expected_version=state.version,
            )
    except ValidationFailed as invalid:
        ack(
            response_action="errors",
            errors=field_errors([(p.field, p.message) for p in invalid.problems]),
        )
        return
    except DuplicateActivityId as duplicate:
        ack(response_action="errors", errors={"activity_id": duplicate.message})
        return
    except StaleEdit as stale:
        ack(
            response_action="update",
            view=_stale_form(deps.engine, team_id, state, raw, stale, actor.user_id),
        )
        return
    except ParsError as refused:
        ack(response_action="errors", errors={"title": refused.message[:500]})
        return
    ack()
    _confirm(client=client, state=state, user_id=actor.user_id, message=message, logger=logger)


def _form_activity(session: Session, team_id: str, state: FormState) -> Activity:
    if state.activity_pk is not None:
        return service.get_activity_by_pk(session=session, team_id=team_id, pk=state.activity_pk)
    return service.get_activity(
        session=session, team_id=team_id, activity_id=state.activity_id or ""
    )


def _stale_form(
    engine: Any, team_id: str, state: FormState, raw: dict[str, str], stale: StaleEdit, user_id: str
) -> Any:
    """The form again, on the latest version: their changes taken in, the user's kept.

    A field only the other person changed shows their value; a field both changed shows the
    user's, and saving again deliberately puts it over theirs.
    """
    with session_scope(engine) as session:
        current = _form_activity(session, team_id, state)
        original = service.values_before(
            session=session, activity=current, version=state.version or 0
        )
        latest = form_values(current)
        state.version = current.version
        state.activity_id = current.activity_id
    mine, _problems = parse_values(raw)
    values, both = dict(raw), []
    for name, was in original.items():
        if name in mine and mine[name] == was:
            values[name] = latest[name]  # untouched by the user: take the other change
        else:
            both.append(label(name))
    notice = (
        f":warning: {escape_message(stale.message)} "
        "Their changes are in the form below, with yours."
    )
    if both:
        notice += (
            f" You both changed {', '.join(both)}: the form shows your value. Save to put it "
            "over theirs, or Cancel to keep their version."
        )
    else:
        notice += " Save to keep both."
    return activity_modal(state=state, values=values, owner_default=user_id, notice=notice)


def _confirm(
    *,
    client: WebClient,
    state: FormState,
    user_id: str,
    message: Message,
    logger: logging.Logger,
) -> None:
    """Tell the user what was saved: where they typed the command, else in a DM."""
    if state.response_url:
        response = WebhookClient(state.response_url).send(
            **message.kwargs(), response_type="ephemeral", replace_original=False
        )
        if response.status_code == 200:
            return
        logger.info("response_url expired (%s); confirming by DM", response.status_code)
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.chat_postMessage(channel=channel, **message.kwargs())
    except SlackApiError as error:
        logger.warning("could not confirm a saved activity to %s: %s", user_id, error)
