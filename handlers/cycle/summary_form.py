"""The Program Summary modal: the form, and its submission."""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View
from slack_sdk.webhook import WebhookClient

from handlers.cycle.messages import summary_line
from handlers.slack.context import actor_of, deps_of, team_of
from handlers.slack.messages import local_date, plain
from storage import checklist, program_summary
from storage.db import session_scope
from storage.errors import ParsError, ValidationFailed
from storage.models import ProgramSummary
from storage.pars.fields import render

CALLBACK_ID = "pars_summary_form"
ACTION = "value"


def _as_typed(value: object) -> str:
    """A figure as the form shows it again: dollars always with their cents (1250.50)."""
    return f"{value:.2f}" if isinstance(value, Decimal) else render(value)


def summary_modal(*, year: int, existing: ProgramSummary | None, response_url: str | None) -> View:
    current: dict[str, str] = {
        "period_start": date(year, 1, 1).isoformat(),
        "period_end": date(year, 12, 31).isoformat(),
    }
    if existing is not None:
        current = {
            name: _as_typed(getattr(existing, name)) for name in program_summary.SUMMARY_FIELDS
        }
    blocks = []
    for name, label in program_summary.SUMMARY_FIELDS.items():
        if name in program_summary.AMOUNTS:
            element: Any = PlainTextInputElement(
                action_id=ACTION, initial_value=current.get(name) or None, placeholder="0.00"
            )
        else:
            element = DatePickerElement(action_id=ACTION, initial_date=current.get(name))
        blocks.append(InputBlock(block_id=name, label=label[:2000], element=element))
    metadata = json.dumps({"year": year, "response_url": response_url})
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=f"Program Summary {year}",
        submit="Save",
        close="Cancel",
        private_metadata=metadata,
        blocks=blocks,
    )


def read_summary(view: dict[str, Any]) -> dict[str, str]:
    state = view.get("state", {}).get("values", {})
    values = {}
    for name in program_summary.SUMMARY_FIELDS:
        element = state.get(name, {}).get(ACTION, {})
        values[name] = element.get("selected_date") or element.get("value") or ""
    return values


def submit_summary_form(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    context: BoltContext,
    logger: logging.Logger,
) -> None:
    deps, actor = deps_of(context), actor_of(context)
    meta = json.loads(view.get("private_metadata") or "{}")
    team_id = team_of(context)
    try:
        with session_scope(deps.engine) as session:
            saved = program_summary.save_summary(
                session=session,
                team_id=team_id,
                year=int(meta["year"]),
                raw=read_summary(view),
                user_id=actor.user_id,
                now=deps.now(),
            )
            done = checklist.step_mark(
                session=session, team_id=team_id, year=saved.data_year, key="summary"
            )
    except ValidationFailed as invalid:
        errors: dict[str, str] = {}
        for problem in invalid.problems:
            errors.setdefault(problem.field, problem.message[:150])
        ack(response_action="errors", errors=errors)
        return
    except ParsError as refused:
        ack(response_action="errors", errors={"period_start": refused.message[:150]})
        return
    ack()
    if done is None:
        after = "Mark it done with `/pars checklist summary done` once it is submitted in PARS."
    else:
        after = (
            f"Step 4 was marked done by <@{done.done_by}> on "
            f"{local_date(done.done_at, deps.timezone)}: if these figures differ from what was "
            "submitted, update them in PARS too."
        )
    text = f"Saved the Program Summary for {saved.data_year}: {summary_line(saved)}. {after}"
    if meta.get("response_url"):

        def confirm() -> None:
            sent = WebhookClient(meta["response_url"]).send(
                **plain(text).kwargs(), response_type="ephemeral", replace_original=False
            )
            logger.debug("summary confirmation: %s", sent.status_code)

        deps.work.light.submit(confirm)  # it waits for Slack: after the acknowledgement
