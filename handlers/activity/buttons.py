"""Buttons and checkboxes in the bot's messages."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from slack_bolt import Ack, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from handlers.activity import messages as blocks
from handlers.activity.form import edit_form
from handlers.activity.listing import render_list
from handlers.activity.replies import close_all, close_many
from handlers.slack.context import actor_of, deps_of, team_of
from handlers.slack.errors import UsageError
from storage import counts as learner_counts
from storage.db import session_scope
from storage.pars import rules
from storage.pars.fields import parse_activity_id
from storage.queries import LIST_VIEWS


def open_edit_form(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    view = edit_form(
        engine=deps_of(context).engine,
        team_id=team_of(context),
        actor=actor_of(context),
        activity_id=action["value"],
        response_url=body.get("response_url"),
        channel_id=(body.get("channel") or {}).get("id"),
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def acknowledge_selection(ack: Ack) -> None:
    """Ticking a checkbox sends an action too; the choice is read when Close selected is clicked."""
    ack()


def _selected(body: dict[str, Any]) -> list[str]:
    values = (body.get("state") or {}).get("values") or {}
    chosen: list[str] = []
    for block in values.values():
        element = block.get(blocks.SELECT_READY) or {}
        chosen += [o["value"] for o in element.get("selected_options") or []]
    return chosen


def close_selected(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    chosen = _selected(body)
    if not chosen:
        raise UsageError("Tick at least one activity, then click Close selected.")
    deps = deps_of(context)
    message = close_many(
        engine=deps.engine,
        team_id=team_of(context),
        actor=actor_of(context),
        activity_ids=chosen,
        now=deps.now(),
        today=deps.today(),
    )
    respond(**message.kwargs(), replace_original=True)


def close_all_ready(
    ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Close all N ready, after Slack's confirmation: what that list offered, as it is now."""
    ack()
    try:
        value = json.loads(str(action.get("value") or ""))
        offer_id = str(value["offer"])
        views = [str(v) for v in value.get("views") or ["ready"]]
        year, format_code = value.get("year"), value.get("format")
    except (ValueError, TypeError, KeyError):
        raise UsageError(
            "This button's data is damaged or was not made by pars-bot, so nothing was closed. "
            "Run `/pars list ready` again."
        ) from None
    deps = deps_of(context)
    message = close_all(
        engine=deps.engine,
        team_id=team_of(context),
        actor=actor_of(context),
        offer_id=offer_id,
        views=[v for v in views if v in LIST_VIEWS],
        year=year if isinstance(year, int) else None,
        format_code=format_code if isinstance(format_code, str) else None,
        now=deps.now(),
        today=deps.today(),
    )
    respond(**message.kwargs(), replace_original=True)


def turn_page(ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    state = json.loads(action["value"])
    message = render_list(
        deps=deps_of(context),
        team_id=team_of(context),
        actor=actor_of(context),
        state=state,
    )
    respond(**message.kwargs(), replace_original=True)


class LowerCounts(BaseModel):
    """The value of a Record lower counts button, exactly as `/pars counts` writes it.

    Anyone can post a click with any value: what is not this shape was not made by the bot.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str
    counts: dict[str, str] = Field(min_length=1)
    as_of: str | None
    seen: int  # the newest count the user was shown: required, or a double click records twice

    @field_validator("id")
    @classmethod
    def _an_activity_id(cls, value: str) -> str:
        return parse_activity_id(value)  # its FieldError is a ValueError pydantic reports

    @field_validator("counts")
    @classmethod
    def _known_categories(cls, value: dict[str, str]) -> dict[str, str]:
        if unknown := sorted(set(value) - set(rules.LEARNER_CATEGORIES)):
            raise ValueError(f"unknown learner categories {unknown}")
        return value


DAMAGED_BUTTON = (
    "This button's data is damaged or was not made by pars-bot, so nothing was recorded. "
    "Run `/pars counts` again to be asked afresh."
)


def _lower_counts(value: str) -> LowerCounts:
    try:
        return LowerCounts.model_validate_json(value)
    except ValidationError:
        raise UsageError(DAMAGED_BUTTON) from None


def confirm_lower_counts(
    ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    payload = _lower_counts(str(action.get("value") or ""))
    deps = deps_of(context)
    with session_scope(deps.engine) as session:
        result = learner_counts.record_counts(
            session=session,
            team_id=team_of(context),
            actor=actor_of(context),
            activity_id=payload.id,
            counts=payload.counts,
            as_of=payload.as_of,
            now=deps.now(),
            today=deps.today(),
            confirm_lower=True,
            seen_count_id=payload.seen,
        )
    message = blocks.counts_recorded(result)
    respond(**message.kwargs(), replace_original=True)


def cancel_counts(ack: Ack, respond: Respond) -> None:
    ack()
    respond(text="Cancelled: the learner counts were not changed.", replace_original=True)
