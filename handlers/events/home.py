"""App Home: the user's open work at a glance."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from handlers import blocks
from handlers.context import deps_of
from storage import activities as service
from storage.db import session_scope


def home_view(*, rows_unclosed: list[str], rows_open: list[str]) -> View:
    sections = [HeaderBlock(text="Your PARS work")]
    sections.append(
        SectionBlock(
            text=MarkdownTextObject(
                text="*Ended but not closed*\n" + ("\n".join(rows_unclosed) or "None — well done.")
            )
        )
    )
    sections.append(
        SectionBlock(
            text=MarkdownTextObject(text="*Still running*\n" + ("\n".join(rows_open) or "None."))
        )
    )
    sections.append(
        SectionBlock(text=MarkdownTextObject(text="Type `/pars help` for every command."))
    )
    return View(type="home", blocks=sections)


def publish_home(
    event: dict[str, Any], client: WebClient, context: BoltContext, logger: logging.Logger
) -> None:
    if event.get("tab") not in (None, "home"):
        return
    deps, user_id = deps_of(context), event["user"]
    with session_scope(deps.engine) as session:
        common = {
            "session": session,
            "team_id": context.team_id or "",
            "today": deps.today(),
            "owner_user_id": user_id,
            "per_page": 25,
        }
        unclosed = service.list_activities(views=["unclosed", "mine"], **common)
        running = service.list_activities(views=["open", "mine"], **common)
    rows_unclosed = [blocks.activity_summary_line(a, s) for a, s in unclosed.rows]
    rows_open = [
        blocks.activity_summary_line(a, s)
        for a, s in running.rows
        if not (a.end_date < deps.today())
    ]
    client.views_publish(
        user_id=user_id, view=home_view(rows_unclosed=rows_unclosed, rows_open=rows_open)
    )
    logger.debug("published App Home for %s", user_id)
