"""The activity modal: built from text by field name, submitted, read back by field name.

Block IDs are field names, so a problem the store reports on a field lands under its input.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View
from slack_sdk.webhook import WebhookClient
from sqlalchemy.engine import Engine

from handlers.activity.replies import save_activity
from handlers.slack.context import actor_of, deps_of, team_of
from handlers.slack.messages import Message
from handlers.slack.mrkdwn import cut, error_text
from storage import activities as service
from storage import editing
from storage.db import session_scope
from storage.errors import (
    DuplicateActivityId,
    ParsError,
    StaleEdit,
    ValidationFailed,
)
from storage.models import Activity
from storage.pars import rules
from storage.pars.fields import BY_NAME, FIELDS, label, outcome_label, render

CALLBACK_ID = "pars_activity_form"
ACTION = "value"
YES_NO = {"yes": "Yes", "no": "No"}
_MULTILINE_LISTS = {"joint_providers", "supporters", "moc_boards"}
# Each measure alone, objective, subjective, or both: every value the field stores.
OUTCOME_CHOICES = {
    value: outcome_label(value)
    for code in rules.OUTCOME_MEASURES
    for value in (
        code,
        *(f"{code}:{k}" for k in (*rules.OUTCOME_KINDS, "+".join(rules.OUTCOME_KINDS))),
    )
}


@dataclass
class FormState:
    """What the modal carries in private_metadata between opening and submission."""

    mode: str  # "add" or "edit"
    activity_id: str | None = None
    # The row itself, so a form still finds its activity after someone renames the ID.
    activity_pk: int | None = None
    version: int | None = None
    response_url: str | None = None
    channel_id: str | None = None

    def dump(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def load(cls, text: str) -> FormState:
        return cls(**json.loads(text or "{}"))


def form_values(activity: Activity) -> dict[str, str]:
    """A stored activity as the text the form shows."""
    values = {}
    for spec in FIELDS:
        value = getattr(activity, spec.name)
        if spec.name in _MULTILINE_LISTS and value:
            values[spec.name] = render(value).replace("; ", "\n")
        elif spec.name in {"delivery_method", "outcome_measures", "commendation_tags"} and value:
            values[spec.name] = ",".join(value)
        else:
            values[spec.name] = render(value)
    return values


def _options(table: Mapping[str, str]) -> list[Option]:
    return [Option(value=code, label=text[:75]) for code, text in table.items()]


def _select(table: Mapping[str, str], current: str) -> StaticSelectElement:
    options = _options(table)
    initial = next((o for o in options if o.value == current), None)
    return StaticSelectElement(
        action_id=ACTION, options=options, initial_option=initial, placeholder="Choose"
    )


def _multi(table: Mapping[str, str], current: str) -> StaticMultiSelectElement:
    options = _options(table)
    chosen = [o for o in options if o.value in current.split(",")]
    return StaticMultiSelectElement(
        action_id=ACTION, options=options, initial_options=chosen or None, placeholder="Choose"
    )


def _text(
    current: str, *, multiline: bool = False, hint: str | None = None, max_length: int | None = None
) -> PlainTextInputElement:
    return PlainTextInputElement(
        action_id=ACTION,
        initial_value=current or None,
        multiline=multiline,
        placeholder=hint,
        max_length=max_length,
    )


def _element(name: str, current: str, owner_default: str) -> Any:
    if name == "format":
        return _select({c: f.label for c, f in rules.FORMATS.items()}, current)
    if name == "delivery_method":
        return _multi(rules.DELIVERY_METHODS, current)
    if name == "providership":
        return _select(rules.PROVIDERSHIP, current)
    if name in {"cme_finder", "commercial_support", "moc", "moc_attested", "mips"}:
        return _select(YES_NO, current)
    if name == "finder_fee":
        return _select(rules.PASSPORT_FEES, current)
    if name == "finder_registration":
        return _select(rules.PASSPORT_REGISTRATION, current)
    if name in {"start_date", "end_date"}:
        return DatePickerElement(action_id=ACTION, initial_date=current or None)
    if name == "outcome_measures":
        return _multi(OUTCOME_CHOICES, current)
    if name == "rems_program":
        return _select(rules.REMS_PROGRAMS, current)
    if name == "commendation_tags":
        return _multi(rules.COMMENDATION_CRITERIA, current)
    if name == "owner_user_id":
        return UserSelectElement(action_id=ACTION, initial_user=current or owner_default)
    hints = {
        "activity_id": "Leave empty and the bot assigns one, e.g. 2025-0042",
        "joint_providers": "One organization per line",
        "supporters": "One per line: Name:monetary:amount or Name:in-kind",
        "moc_boards": "One board per line: board:points:type+type:claim date, e.g. "
        "ABIM:1.5:Medical Knowledge+Practice Assessment:2026-06-30",
        "state": "2-letter code, e.g. IL",
        "country": "3-letter code, e.g. USA",
        "credits": "e.g. 1.5 (a multiple of 0.25); an RSS: the whole series, weekly 1 h ≈ 52",
        "finder_url": "https://...",
    }
    multiline = name in _MULTILINE_LISTS or name == "description"
    return _text(current, multiline=multiline, hint=hints.get(name))


REQUIRED = {"title", "format", "start_date", "end_date"}
# Asked of live courses and RSS only: PARS has no delivery method or location for the others.
_DELIVERY_FIELDS = ("delivery_method", "city", "state", "country")


def _not_asked(values: Mapping[str, str]) -> set[str]:
    """Fields the form leaves out for this activity's format (unless something is entered)."""
    fmt = rules.FORMATS.get(values.get("format", ""))
    if fmt is None or fmt.has_delivery_method:
        return set()
    return {name for name in _DELIVERY_FIELDS if not values.get(name)}


def activity_modal(
    *, state: FormState, values: Mapping[str, str], owner_default: str, notice: str | None = None
) -> View:
    """The add/edit form, pre-filled with `values` (text by field name).

    Inputs, labels and the title are plain text, shown as typed; `notice` is mrkdwn, its user
    values already escaped.
    """
    blocks: list[Block] = []
    if notice:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(notice, 3000))]))
    hidden = _not_asked(values)
    for spec in FIELDS:
        if spec.name in hidden:
            continue
        blocks.append(
            InputBlock(
                block_id=spec.name,
                label=spec.label,
                element=_element(spec.name, values.get(spec.name, ""), owner_default),
                optional=spec.name not in REQUIRED,
            )
        )
    title = "New activity" if state.mode == "add" else f"Edit {state.activity_id}"[:24]
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=title,
        submit="Save",
        close="Cancel",
        private_metadata=state.dump(),
        blocks=blocks,
    )


def read_submission(view: Mapping[str, Any]) -> dict[str, str]:
    """The submitted form as text by field name (empty text for an empty input); a field the
    form did not ask is left out, so it keeps its stored value."""
    values: dict[str, str] = {}
    state = view.get("state", {}).get("values", {})
    for spec in FIELDS:
        if spec.name not in state:
            continue
        element = state[spec.name].get(ACTION, {})
        kind = element.get("type")
        if kind == "datepicker":
            text = element.get("selected_date") or ""
        elif kind == "static_select":
            text = (element.get("selected_option") or {}).get("value", "")
        elif kind == "multi_static_select":
            text = ",".join(o["value"] for o in element.get("selected_options") or [])
        elif kind == "users_select":
            text = element.get("selected_user") or ""
        else:
            text = element.get("value") or ""
        values[spec.name] = text
    return values


def field_errors(problems: list[tuple[str, str]], shown: Collection[str]) -> dict[str, str]:
    """Problems by field -> Slack's {block_id: message}, the first problem of each field; a
    problem of a field the form does not show goes under the title."""
    errors: dict[str, str] = {}
    for name, message in problems:
        block = name if name in BY_NAME and name in shown else "title"
        errors.setdefault(block, message[:500])
    return errors


def edit_form(
    *,
    engine: Engine,
    team_id: str,
    actor: service.Actor,
    activity_id: str,
    response_url: str | None,
    channel_id: str | None,
) -> View:
    """The edit modal, filled in; refused up front when the user could not save it anyway."""
    with session_scope(engine) as session:
        activity = service.activity_to_change(
            session=session, team_id=team_id, actor=actor, activity_id=activity_id
        )
        state = FormState(
            mode="edit",
            activity_id=activity.activity_id,
            activity_pk=activity.id,
            version=activity.version,
            response_url=response_url,
            channel_id=channel_id,
        )
        return activity_modal(
            state=state, values=form_values(activity), owner_default=actor.user_id
        )


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
        is_edit = state.mode != "add"
        message = save_activity(
            engine=deps.engine,
            team_id=team_id,
            actor=actor,
            raw=raw,
            now=deps.now(),
            today=deps.today(),
            # A form finds its activity by row, whatever its ID was renamed to meanwhile.
            activity_pk=state.activity_pk if is_edit else None,
            activity_id=state.activity_id or "" if is_edit and not state.activity_pk else None,
            expected_version=state.version if is_edit else None,
        )
    except ValidationFailed as invalid:
        ack(
            response_action="errors",
            errors=field_errors(
                [(p.field, p.message) for p in invalid.problems],
                shown=view.get("state", {}).get("values", {}),
            ),
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
    # The confirmation waits for Slack: after the acknowledgement, on the pool.
    deps.work.light.submit(
        lambda: _confirm(
            client=client, state=state, user_id=actor.user_id, message=message, logger=logger
        )
    )


def _stale_form(
    engine: Engine,
    team_id: str,
    state: FormState,
    raw: dict[str, str],
    stale: StaleEdit,
    user_id: str,
) -> View:
    """The form again, on the latest version, merged by the store: their changes taken in,
    the user's kept."""
    with session_scope(engine) as session:
        current = (
            service.get_activity_by_pk(session=session, team_id=team_id, pk=state.activity_pk)
            if state.activity_pk is not None
            else service.get_activity(
                session=session, team_id=team_id, activity_id=state.activity_id or ""
            )
        )
        merged = editing.merge_stale_form(
            session=session, activity=current, version=state.version or 0, raw=raw
        )
        latest = form_values(current)
        state.version = current.version
        state.activity_id = current.activity_id
    values = dict(raw) | {name: latest[name] for name in merged.theirs}
    notice = f":warning: {error_text(stale)} Their changes are in the form below, with yours."
    if merged.both:
        notice += (
            f" You both changed {', '.join(label(n) for n in merged.both)}: the form shows your "
            "value. Save to put it over theirs, or Cancel to keep their version."
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
