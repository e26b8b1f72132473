"""The learner-counts modal behind a reminder's Enter counts button, and its submission."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from handlers.activity.messages import counts_recorded
from handlers.slack.context import actor_of, deps_of, team_of
from handlers.slack.mrkdwn import escape
from storage import activities as service
from storage import counts as learner_counts
from storage.db import session_scope
from storage.errors import CountDecreaseNeedsConfirmation, ParsError, ValidationFailed
from storage.models import Activity

CALLBACK_ID = "pars_counts_form"
ACTION = "value"
INPUTS = {"physician": "Physician learners", "other": "Other learners"}


def counts_modal(activity: Activity, *, as_of: str, current: dict[str, int]) -> View:
    note = f"`{escape(activity.activity_id)}` *{escape(activity.title)}*" + (
        " — cumulative: every learner since the start date."
        if activity.format == "enduring"
        else ""
    )
    blocks: list[Any] = [ContextBlock(elements=[MarkdownTextObject(text=note[:3000])])]
    for category, label in INPUTS.items():
        shown = current.get(category)
        blocks.append(
            InputBlock(
                block_id=category,
                label=label,
                element=PlainTextInputElement(
                    action_id=ACTION, initial_value=str(shown) if shown is not None else None
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id="as_of",
            label="As of",
            element=DatePickerElement(action_id=ACTION, initial_date=as_of),
        )
    )
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="Learner counts",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"pk": activity.id}),
        blocks=blocks,
    )


def submit_counts_form(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    logger: logging.Logger,
) -> None:
    deps, actor = deps_of(context), actor_of(context)
    team_id = team_of(context)
    state = view.get("state", {}).get("values", {})
    counts = {c: (state.get(c, {}).get(ACTION, {}).get("value") or "") for c in INPUTS}
    as_of = state.get("as_of", {}).get(ACTION, {}).get("selected_date")
    pk = json.loads(view.get("private_metadata") or "{}").get("pk")
    try:
        with session_scope(deps.engine) as session:
            activity = service.get_activity_by_pk(session=session, team_id=team_id, pk=pk)
            result = learner_counts.record_counts(
                session=session,
                team_id=team_id,
                actor=actor,
                activity_id=activity.activity_id,
                counts=counts,
                as_of=as_of,
                now=deps.now(),
                today=deps.today(),
            )
    except ValidationFailed as invalid:
        errors: dict[str, str] = {}
        for problem in invalid.problems:
            block = problem.field.removeprefix("learners_")
            errors.setdefault(
                block if block in {*INPUTS, "as_of"} else "physician", problem.message
            )
        ack(response_action="errors", errors=errors)
        return
    except CountDecreaseNeedsConfirmation as lower:
        ack(
            response_action="errors",
            errors={"physician": lower.message + " Use `/pars counts` to record them anyway."},
        )
        return
    except ParsError as refused:
        ack(response_action="errors", errors={"physician": refused.message[:150]})
        return
    ack()
    message = counts_recorded(result)

    def confirm() -> None:
        channel = client.conversations_open(users=actor.user_id)["channel"]["id"]
        client.chat_postMessage(channel=channel, **message.kwargs())
        logger.debug("counts recorded from the modal for %s", result.activity.activity_id)

    deps.work.light.submit(confirm)  # it waits for Slack: after the acknowledgement
