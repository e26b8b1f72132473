"""App Home: the user's open work at a glance."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from handlers import blocks
from handlers.context import deps_of, team_of
from storage import queries
from storage.db import session_scope

HOME_ROWS = 25


def home_view(*, rows_unclosed: list[str], rows_open: list[str]) -> View:
    sections: list[Block] = [HeaderBlock(text="Your PARS work")]
    sections += blocks.line_sections(
        ["*Ended but not closed*", *(rows_unclosed or ["None — well done."])]
    )
    sections += blocks.line_sections(["*Still running*", *(rows_open or ["None."])])
    sections.append(
        SectionBlock(text=MarkdownTextObject(text="Type `/pars help` for every command."))
    )
    return View(type="home", blocks=sections)


def _more(shown: int, total: int, command: str) -> list[str]:
    return [f"…and {total - shown} more: `{command}`"] if total > shown else []


def publish_home(
    event: dict[str, Any], client: WebClient, context: BoltContext, logger: logging.Logger
) -> None:
    if event.get("tab") not in (None, "home"):
        return
    deps, user_id = deps_of(context), event["user"]
    today = deps.today()
    with session_scope(deps.engine) as session:
        common = {
            "session": session,
            "team_id": team_of(context),
            "today": today,
            "owner_user_id": user_id,
        }
        unclosed = queries.list_activities(views=["unclosed", "mine"], per_page=HOME_ROWS, **common)
        running = queries.list_activities(views=["running", "mine"], per_page=HOME_ROWS, **common)
    rows_unclosed = [blocks.activity_summary_line(a, s) for a, s in unclosed.rows]
    rows_unclosed += _more(len(rows_unclosed), unclosed.total, "/pars list unclosed mine")
    rows_open = [blocks.activity_summary_line(a, s) for a, s in running.rows]
    # `list open mine` shows these along with the ended ones above.
    rows_open += _more(len(rows_open), running.total, "/pars list open mine")
    client.views_publish(
        user_id=user_id, view=home_view(rows_unclosed=rows_unclosed, rows_open=rows_open)
    )
    logger.debug("published App Home for %s", user_id)
