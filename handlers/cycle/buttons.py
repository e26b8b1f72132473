"""Buttons of reminders, the checklist and App Home: Close, Enter counts, Snooze, Mark done.

A click in App Home carries no response URL: its answer opens as a small modal instead, and
the Home tab is published again so that it shows the change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from handlers.activity.counts_form import counts_modal
from handlers.activity.replies import close_many
from handlers.cycle import messages as layouts
from handlers.cycle.commands import checklist_message, set_step
from handlers.cycle.home import publish_for
from handlers.cycle.summary_form import summary_modal
from handlers.slack.context import actor_of, deps_of, team_of
from handlers.slack.messages import Message, plain
from storage import activities as service
from storage import checklist, program_summary, reminders
from storage import counts as learner_counts
from storage.db import session_scope
from storage.errors import ParsError
from storage.pars.validation import default_as_of

Listener = Callable[..., None]


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


def answers_in_a_modal(body: dict[str, Any]) -> bool:
    """A click with no response URL (App Home's): tell() answers it in a modal."""
    return not body.get("response_url")


def tell(
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    message: Message,
    *,
    replace: bool = False,
) -> None:
    """Answer a click where the user made it: the message's thread, or a modal from Home."""
    if body.get("response_url"):
        respond(**message.kwargs(), replace_original=replace)
        return
    blocks = [b for b in message.blocks if b.get("type") != "actions"][:100]
    view = View(type="modal", title="pars-bot", close="OK", blocks=blocks)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def refreshing_home(listener: Listener) -> Listener:
    """Tell a refusal the same way as an answer, then bring App Home up to date."""

    def run(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        try:
            listener(ack, body, action, respond, client, context)
        except ParsError as refused:
            if body.get("response_url"):
                raise  # the global handler answers with the message, ephemeral
            tell(body, respond, client, plain(refused.message))
        finally:
            if _from_home(body):
                publish_for(client, deps_of(context), team_of(context), actor_of(context).user_id)

    run.__name__ = listener.__name__
    return run


def close_from_reminder(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    deps = deps_of(context)
    message = close_many(
        engine=deps.engine,
        team_id=team_of(context),
        actor=actor_of(context),
        activity_ids=[action["value"]],
        now=deps.now(),
        today=deps.today(),
    )
    tell(body, respond, client, message)


def counts_from_reminder(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    deps = deps_of(context)
    with session_scope(deps.engine) as session:
        activity = service.activity_to_change(
            session=session,
            team_id=team_of(context),
            actor=actor_of(context),
            activity_id=action["value"],
        )
        current = learner_counts.current_counts(session=session, activity=activity)
        view = counts_modal(
            activity,
            as_of=default_as_of(activity, deps.today()).isoformat(),
            current={c: row.count for c, row in current.items()},
        )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def snooze_from_reminder(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    deps = deps_of(context)
    with session_scope(deps.engine) as session:
        activity, until = reminders.snooze(
            session=session,
            team_id=team_of(context),
            activity_id=action["value"],
            user_id=actor_of(context).user_id,
            today=deps.today(),
            now=deps.now(),
        )
        activity_id = activity.activity_id
    tell(
        body,
        respond,
        client,
        plain(f"Snoozed `{activity_id}`: no reminders about it until after {until:%a %-d %b}."),
    )


def open_checklist(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    message = checklist_message(deps_of(context), team_of(context), int(action["value"]))
    tell(body, respond, client, message)


def change_step(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    deps, team_id = deps_of(context), team_of(context)
    chosen = json.loads(action["value"])
    step = checklist.find_step(chosen["step"])
    with session_scope(deps.engine) as session:
        set_step(
            session,
            team_id,
            int(chosen["year"]),
            step,
            actor_of(context).user_id,
            deps,
            done=action["action_id"] == layouts.CHECKLIST_MARK,
        )
    if body.get("response_url"):
        respond(
            **checklist_message(deps, team_id, int(chosen["year"])).kwargs(), replace_original=True
        )


def open_summary(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    year = int(action["value"])
    with session_scope(deps_of(context).engine) as session:
        existing = program_summary.get_summary(session=session, team_id=team_of(context), year=year)
    view = summary_modal(year=year, existing=existing, response_url=body.get("response_url"))
    client.views_open(trigger_id=body["trigger_id"], view=view)
