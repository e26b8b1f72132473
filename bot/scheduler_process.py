"""The reminder scheduler in a process of its own, for `pars-bot serve`.

gunicorn's arbiter forks its workers. A thread that runs in a process when it forks may hold a
lock (the connection pool's, logging's, any) that then stays held forever in the child: a
worker forked during the scheduler's start-up pass never answered (issue 12). So the arbiter
runs no thread of ours, and the scheduler runs here instead: a child that serve starts once it
listens, stops when it stops, and that stops by itself should serve die without saying so.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import subprocess
import sys
import time

from bot.cli import LOG_FORMAT
from bot.reminders import start_in_process
from bot.settings import Settings
from storage.db import create_db_engine

log = logging.getLogger("pars_bot.scheduler")

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
STOP_WAIT_SECONDS = 5  # a pass being sent may finish; after this the process is killed
START_RETRY_SECONDS = 60  # Slack unreachable at start-up (auth.test): try again this often


def start() -> subprocess.Popen[bytes]:
    """Start the scheduler process; it inherits serve's environment, directory and output.

    subprocess execs at once, so this fork runs no Python code in the child."""
    command = [sys.executable, "-m", "bot.scheduler_process"]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_WAIT_SECONDS) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.warning("the reminder scheduler did not stop within %s s: killed", timeout)
        process.kill()
        process.wait()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    # Blocked before any thread starts, so every thread inherits the mask and the signals wait
    # for the main thread's sigtimedwait: no handler runs in the middle of anything.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    parent = os.getppid()
    settings = Settings()
    engine = create_db_engine(settings.database_url)
    scheduler = None
    while scheduler is None:
        try:
            scheduler = start_in_process(settings, engine)
        except Exception as error:
            log.error(
                "reminder scheduler could not start (%s); trying again in %s s",
                error,
                START_RETRY_SECONDS,
            )
            if _told_to_stop(parent, START_RETRY_SECONDS):
                return 0
    log.info("reminder scheduler running in process %d", os.getpid())
    _told_to_stop(parent, math.inf)
    # Running passes finish (the interpreter joins their threads); serve kills this process
    # if one takes longer than STOP_WAIT_SECONDS, and the delivery log keeps sends single.
    scheduler.shutdown(wait=False)
    return 0


def _told_to_stop(parent: int, seconds: float) -> bool:
    """Wait up to `seconds`: True once SIGTERM or SIGINT came, or serve is gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if signal.sigtimedwait(STOP_SIGNALS, 1.0) is not None:
            return True
        if os.getppid() != parent:
            log.warning("serve (process %d) is gone: the reminder scheduler stops", parent)
            return True
    return False


if __name__ == "__main__":
    sys.exit(main())
