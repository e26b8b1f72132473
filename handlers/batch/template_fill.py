"""A blank template shared in Slack: answered with a Fill button per data year; a click posts
the template filled with that year's activities in the file's thread.

The template's bytes are not kept: a click downloads the file from Slack again, so the copy
filled is the one in the channel, and a template deleted there fills nothing.
"""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.batch import messages as layouts
from handlers.slack.context import deps_of, team_of
from handlers.slack.files import download, upload
from handlers.slack.messages import Message
from storage.batch.export import fill_year, shared_template, template_shared
from storage.db import session_scope
from storage.errors import ParsError
from storage.sheets.fill import report_lines
from storage.sheets.read import FileRefused, Limits

LIMITS = Limits()
# Misfits named in the thread, grouped by column and value; the file highlights them all.
MISFITS_SHOWN = 10


def template_answer(*, engine: Any, team_id: str, plan_id: str, file_name: str) -> Message:
    """What the thread gets when the shared file is a blank template."""
    years = template_shared(engine=engine, team_id=team_id, plan_id=plan_id)
    return layouts.template_message(file_name=file_name, plan_id=plan_id, years=years)


def filled_name(template_name: str, year: int) -> str:
    path = PurePath(template_name)
    return f"{path.stem} - {year} filled by pars-bot{path.suffix}"


def _template_file(client: WebClient, file_id: str, name: str) -> dict[str, Any]:
    try:
        return dict(client.files_info(file=file_id)["file"])
    except SlackApiError as error:
        if error.response.get("error") in {"file_not_found", "file_deleted"}:
            raise FileRefused(
                f"{name} is no longer in Slack, so there is nothing to fill: share it again."
            ) from None
        raise


def fill_clicked(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    logger: logging.Logger,
) -> None:
    ack()
    deps = deps_of(context)
    team_id = team_of(context)
    plan_id, _, year_text = str(action.get("value", "")).partition(":")
    if not year_text.isdigit():
        raise ParsError("This button no longer fills anything: share the template again.")
    year = int(year_text)
    with session_scope(deps.engine) as session:
        plan = shared_template(session, team_id=team_id, plan_id=plan_id)
    # A file shared again keeps its old plan under "<file ID>/<plan ID>".
    file_id = (plan.file_id or "").split("/")[0]
    data = download(_template_file(client, file_id, plan.file_name), client=client, limits=LIMITS)
    with session_scope(deps.engine) as session:
        filled = fill_year(
            session=session,
            team_id=team_id,
            year=year,
            today=deps.today(),
            template=data,
            file_name=plan.file_name,
            limits=LIMITS,
        )
    user_id = (body.get("user") or {}).get("id", "")
    logger.info("template %s filled with %s for %s", plan.id, year, user_id)
    upload(
        client,
        data=filled.data,
        file_name=filled_name(plan.file_name, year),
        channel=plan.channel_id,
        thread_ts=plan.thread_ts,
        comment=layouts.filled_comment(
            file_name=plan.file_name,
            year=year,
            user_id=user_id,
            activities=filled.report.activities,
            report=report_lines(filled.report, most=MISFITS_SHOWN),
        ),
    )
