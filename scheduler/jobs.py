"""APScheduler 3 wiring: a reminder pass every quarter hour, and one at start-up.

A pass every 15 minutes meets each recipient's 9:00 on the dot (time zones differ by whole
or half hours, a few by 45 minutes) and catches up soon after the bot comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from scheduler.send import PassResult, run_pass

log = logging.getLogger("pars_bot.scheduler")

JOB_ID = "reminders"
TRIGGER = CronTrigger(minute="*/15", timezone=UTC)


def reminder_job(
    *,
    engine: Engine,
    client: WebClient,
    teams: Callable[[], Sequence[str]],
    default_zone: str,
    clock: Callable[[], datetime],
) -> dict[str, PassResult]:
    """One pass for each workspace; one workspace's failure does not stop the others."""
    instant = clock()
    results: dict[str, PassResult] = {}
    for team_id in teams():
        try:
            result = run_pass(
                engine=engine,
                client=client,
                team_id=team_id,
                default_zone=default_zone,
                instant=instant,
                now=instant,
            )
        except Exception:
            log.exception("reminder pass for %s failed", team_id)
            continue
        results[team_id] = result
        if result.sent or result.failed:
            log.info(
                "reminders for %s: %d sent, %d failed",
                team_id,
                len(result.sent),
                len(result.failed),
            )
    return results


def build_scheduler(
    *,
    engine: Engine,
    client: WebClient,
    teams: Callable[[], Sequence[str]],
    default_zone: str,
    clock: Callable[[], datetime],
    blocking: bool = False,
) -> BaseScheduler:
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
    )
    scheduler.add_job(
        reminder_job,
        TRIGGER,
        id=JOB_ID,
        kwargs={
            "engine": engine,
            "client": client,
            "teams": teams,
            "default_zone": default_zone,
            "clock": clock,
        },
        # A pass missed while the process slept is made up once, not once per missed slot.
        coalesce=True,
        max_instances=1,
        misfire_grace_time=600,
        # Right away as well: a bot started after 9:00 sends the day's reminders now.
        next_run_time=clock(),
        replace_existing=True,
    )
    return scheduler
