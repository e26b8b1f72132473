"""App Home: the user's open work at a glance."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from handlers.activity import messages as blocks
from handlers.cycle import messages as layouts
from handlers.slack.context import Deps, deps_of, team_of
from handlers.slack.messages import line_sections
from storage import checklist, queries, reminders, settings
from storage.db import session_scope
from storage.pars import calendar

HOME_ROWS = 25


def home_view(
    *, rows_unclosed: list[str], rows_open: list[str], cycle_blocks: Sequence[Block] = ()
) -> View:
    sections: list[Block] = [HeaderBlock(text="Your PARS work"), *cycle_blocks]
    sections += line_sections(["*Ended but not closed*", *(rows_unclosed or ["None — well done."])])
    sections += line_sections(["*Still running*", *(rows_open or ["None."])])
    sections.append(
        SectionBlock(text=MarkdownTextObject(text="Type `/pars help` for every command."))
    )
    return View(type="home", blocks=sections)


def _more(shown: int, page: queries.ActivityPage, command: str) -> list[str]:
    if page.more_than is not None:  # the count stopped there
        return [f"…and over {page.more_than - shown:,} more: `{command}`"]
    return [f"…and {page.total - shown} more: `{command}`"] if page.total > shown else []


def publish_home(
    event: dict[str, Any], client: WebClient, context: BoltContext, logger: logging.Logger
) -> None:
    if event.get("tab") not in (None, "home"):
        return
    publish_for(client, deps_of(context), team_of(context), event["user"])
    logger.debug("published App Home for %s", event["user"])


def _cycle_blocks(deps: Deps, team_id: str, user_id: str) -> list[Block]:
    """The reporting checklist and what of the user's needs them, with buttons."""
    with session_scope(deps.engine) as session:
        zone, today = deps.timezone, deps.today()
        year = calendar.reporting_year(
            today, settings.configured_deadlines(session=session, team_id=team_id)
        )
        steps = checklist.compute_checklist(session=session, team_id=team_id, year=year)
        needs = reminders.needs_of(session=session, team_id=team_id, user_id=user_id, today=today)
    return layouts.home_blocks(steps, zone, today, needs)


def publish_for(client: WebClient, deps: Deps, team_id: str, user_id: str) -> None:
    today = deps.today()
    with session_scope(deps.engine) as session:
        common = {
            "session": session,
            "team_id": team_id,
            "today": today,
            "owner_user_id": user_id,
        }
        unclosed = queries.list_activities(views=["unclosed", "mine"], per_page=HOME_ROWS, **common)
        running = queries.list_activities(views=["running", "mine"], per_page=HOME_ROWS, **common)
    rows_unclosed = [blocks.activity_summary_line(a, s) for a, s in unclosed.rows]
    rows_unclosed += _more(len(rows_unclosed), unclosed, "/pars list unclosed mine")
    rows_open = [blocks.activity_summary_line(a, s) for a, s in running.rows]
    # `list open mine` shows these along with the ended ones above.
    rows_open += _more(len(rows_open), running, "/pars list open mine")
    view = home_view(
        rows_unclosed=rows_unclosed,
        rows_open=rows_open,
        cycle_blocks=_cycle_blocks(deps, team_id, user_id),
    )
    client.views_publish(user_id=user_id, view=view)
