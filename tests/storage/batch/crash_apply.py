"""Run as a process: apply a batch and hang midway, so the test can kill it (kill -9)."""

from __future__ import annotations

import sys
import time

from storage.activities import Actor
from storage.batch.apply import apply_plan
from storage.db import create_db_engine, session_scope
from tests.conftest import NOW, TODAY


def main(url: str, team_id: str, plan_id: str) -> None:
    engine = create_db_engine(url)

    def hang(done: int, total: int) -> None:
        if done >= total // 2:
            print(f"halfway {done}/{total}", flush=True)
            time.sleep(600)

    with session_scope(engine) as session:
        apply_plan(
            session=session,
            team_id=team_id,
            plan_id=plan_id,
            actor=Actor(user_id="U0ALICE"),
            now=NOW,
            today=TODAY,
            progress=hang,
        )


if __name__ == "__main__":
    main(*sys.argv[1:4])
