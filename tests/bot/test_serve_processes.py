"""`pars-bot serve` as processes: gunicorn's arbiter forks its workers, so it must run no thread
of ours when it does; the reminder scheduler runs in a process of its own, started and stopped
with serve, and nothing is left behind however serve ends."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bot.console import payloads
from bot.local_slack import LocalSlack
from tests.bot.serving import (
    SECRET,
    Served,
    command_line,
    descendants,
    help_command,
    is_alive,
    kill_tree,
    post,
    serving,
    start_serve,
    thread_count,
    wait_until_gone,
)

STARTS = 8
SCHEDULER_STARTED = "reminder scheduler started"


def scheduler_children(served: Served) -> list[int]:
    """Processes under serve that are not its forks: gunicorn's workers share its command
    line, a process started for the scheduler has one of its own."""
    serve = command_line(served.process.pid)
    return [p for p in descendants(served.process.pid) if command_line(p) != serve]


def wait_for_log(served: Served, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in served.log():
        assert time.monotonic() < deadline, f"no {text!r} in the log:\n{served.log()}"
        time.sleep(0.1)


def answer_at_once(served: Served, slack: LocalSlack, name: str) -> bool:
    """A signed `/pars help` sent the moment the port accepts connections: answered?"""
    served.wait_until_listening()
    body = help_command(slack.response_url(name))
    try:
        status, _ = post(served.base, body, payloads.signed(body, SECRET))
        replies = slack.wait_until(lambda c: c.path.endswith(f"/{name}"), timeout=15)
    except (OSError, AssertionError):
        return False
    return status == 200 and "Subcommands" in replies[0].params["text"]


def test_serve_answers_a_request_sent_as_it_starts_every_time_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    answered, left_behind, slow_stops = 0, [], []
    with LocalSlack() as slack:
        for start in range(STARTS):
            home = tmp_path / f"start-{start}"
            home.mkdir()  # an empty SQLite database each time, as on a first start
            served = start_serve(home, slack)
            try:
                answered += answer_at_once(served, slack, f"start-{start}")
            finally:
                family = descendants(served.process.pid)
                served.process.send_signal(signal.SIGTERM)
                try:
                    served.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    slow_stops.append(start)
                    kill_tree(served.process.pid)
                left_behind += wait_until_gone(family, timeout=5)
                for pid in left_behind:
                    os.kill(pid, signal.SIGKILL)
    assert (answered, left_behind, slow_stops) == (STARTS, [], [])


def test_the_process_that_forks_runs_no_thread_and_the_scheduler_has_its_own(
    tmp_path: Path,
) -> None:
    with LocalSlack() as slack, serving(tmp_path, slack) as served:
        wait_for_log(served, SCHEDULER_STARTED)
        arbiter = served.process.pid
        assert thread_count(arbiter) == 1, "gunicorn's arbiter runs a thread besides its own"
        (scheduler,) = scheduler_children(served)
        assert thread_count(scheduler) > 1  # APScheduler's threads, in a process that never forks
        workers = [p for p in descendants(arbiter) if p != scheduler]
        assert len(workers) == 1
        # Its start-up pass asked Slack whose token it holds, as the worker did on booting.
        slack.wait_for("auth.test", count=2)
        family = [scheduler, *workers]
        assert served.stop(timeout=15) == 0
    assert wait_until_gone(family, timeout=5) == []


def test_sigkill_of_serve_leaves_no_scheduler_or_worker_behind(tmp_path: Path) -> None:
    with LocalSlack() as slack:
        served = start_serve(tmp_path, slack)
        try:
            served.wait_until_healthy()
            wait_for_log(served, SCHEDULER_STARTED)
            family = descendants(served.process.pid)
            assert len(family) == 2  # one worker, one scheduler
            served.process.kill()
            served.process.wait(timeout=10)
            # Each notices that its parent is gone and stops by itself.
            left = wait_until_gone(family, timeout=15)
        finally:
            kill_tree(served.process.pid)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert left == []


@pytest.mark.parametrize(
    ("before", "after"),
    [((), ("--no-scheduler",)), (("--no-scheduler",), ())],
    ids=["pars-bot-serve--no-scheduler", "pars-bot--no-scheduler-serve"],
)
def test_no_scheduler_starts_no_scheduler_process(
    tmp_path: Path, before: tuple[str, ...], after: tuple[str, ...]
) -> None:
    with LocalSlack() as slack:
        served = start_serve(tmp_path, slack, *after, "--workers", "2", before=before)
        try:
            served.wait_until_healthy()
            body = help_command(slack.response_url("no-scheduler"))
            assert post(served.base, body, payloads.signed(body, SECRET))[0] == 200
            slack.wait_until(lambda c: c.path.endswith("/no-scheduler"))
            family = descendants(served.process.pid)
            assert len(family) == 2 and scheduler_children(served) == []
            assert SCHEDULER_STARTED not in served.log()
            assert served.stop(timeout=15) == 0
            assert wait_until_gone(family, timeout=5) == []
        finally:
            kill_tree(served.process.pid)
        assert not is_alive(served.process.pid)
