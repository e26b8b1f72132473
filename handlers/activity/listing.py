"""`/pars list [open|ready|closed|unclosed|mine|all] [year=Y] [format=F] [page=N]`."""

from __future__ import annotations

import difflib
import logging
from typing import Any

import sqlalchemy as sa

from handlers.activity import messages as blocks
from handlers.slack.arguments import split_arguments, unknown_key
from handlers.slack.call import CommandCall
from handlers.slack.context import Deps
from handlers.slack.errors import UsageError
from handlers.slack.messages import Message
from storage import activities as service
from storage import close_offers, queries
from storage.db import is_unreachable, session_scope
from storage.pars import rules
from storage.pars.fields import FieldError, parse_format

log = logging.getLogger(__name__)

TITLES = {
    "open": "Open activities",
    "ready": "Ready to close",
    "closed": "Closed activities",
    "unclosed": "Ended but not closed",
    "mine": "Your activities",
    "all": "All activities",
}


def parse_list_state(call: CommandCall) -> dict[str, Any]:
    """The list's filters as a small dict: the same shape the page buttons carry."""
    args = split_arguments(call.args, call.usage)
    views: list[str] = []
    share = False
    for word in (w.lower() for w in args.positional):
        if word == "share":
            share = True
        elif word in queries.LIST_VIEWS:
            views.append(word)
        else:
            close = difflib.get_close_matches(word, queries.LIST_VIEWS, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise UsageError(f"`{word}` is not a list I know.{hint}", call.usage)
    if "closed" in views and {"open", "ready", "unclosed"} & set(views):
        raise UsageError("A list can't be both closed and open; pick one.", call.usage)
    state: dict[str, Any] = {"views": views or ["open"], "page": 1, "share": share}
    for key, value in args.pairs.items():
        folded = key.lower()
        if folded == "year":
            years = rules.accepted_years(call.deps.today())
            if not value.isdigit() or int(value) not in years:
                raise UsageError(
                    f"year must be a year from {years[0]} to {years[-1]}, such as 2025, "
                    f'not "{value}".',
                    call.usage,
                )
            state["year"] = int(value)
        elif folded == "format":
            try:
                state["format"] = parse_format(value)
            except FieldError as exc:
                raise UsageError(f"format: {exc}.", call.usage) from None
        elif folded == "page":
            if not value.isdigit() or int(value) < 1:
                raise UsageError(f'page must be a number of 1 or more, not "{value}".', call.usage)
            state["page"] = int(value)
        else:
            raise unknown_key(key, call.usage, extra=("year", "format", "page"))
    return state


def _offer_close_all(
    *, deps: Deps, team_id: str, actor: service.Actor, state: dict[str, Any]
) -> close_offers.Offer | None:
    """The Close all button's offer, kept in a transaction of its own: when it cannot be
    written (an Apply holds SQLite's write lock), the list is shown without the button."""
    try:
        with session_scope(deps.engine) as session:
            return close_offers.offer_close_all(
                session=session,
                team_id=team_id,
                actor=actor,
                today=deps.today(),
                now=deps.now(),
                views=state["views"],
                year=state.get("year"),
                format_code=state.get("format"),
            )
    except sa.exc.OperationalError as error:
        if not is_unreachable(error):
            raise
        log.warning("list shown without Close all: %s", error)
        return None


def render_list(
    *, deps: Deps, team_id: str, actor: service.Actor, state: dict[str, Any]
) -> Message:
    views = state["views"]
    selectable = "ready" in views
    offer = None
    with session_scope(deps.engine) as session:
        page = queries.list_activities(
            session=session,
            team_id=team_id,
            today=deps.today(),
            views=views,
            year=state.get("year"),
            format_code=state.get("format"),
            owner_user_id=actor.user_id,
            page=state.get("page", 1),
            per_page=blocks.READY_PAGE_SIZE if selectable else blocks.LIST_PAGE_SIZE,
            after=blocks.page_key_of(state.get("after")),
            before=blocks.page_key_of(state.get("before")),
        )
        needs = service.needs_of_many(
            session=session, team_id=team_id, activities=[a for a, _s in page.rows]
        )
    if selectable and page.rows and not state.get("share"):
        offer = _offer_close_all(deps=deps, team_id=team_id, actor=actor, state=state)
    title = " · ".join(TITLES[v] for v in views)
    if state.get("year"):
        title += f" in {state['year']}"
    if state.get("format"):
        title += f" ({rules.format_label(state['format'])})"
    return blocks.list_message(
        page,
        title=title,
        state=state,
        selectable=selectable,
        needs=needs,
        close_all=offer,
    )


def list_activities(call: CommandCall) -> None:
    state = parse_list_state(call)
    message = render_list(deps=call.deps, team_id=call.team_id, actor=call.actor, state=state)
    call.reply(message, share=state["share"])
