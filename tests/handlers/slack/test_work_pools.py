"""The pools listeners' work runs on: heavy work hands its memory back once the pool is idle."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from handlers.slack.work import Pool


@pytest.fixture
def full_collections() -> Iterator[list[str]]:
    """The threads that ran a full (generation 2) collection, as the collector reports it."""
    seen: list[str] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append(threading.current_thread().name)

    gc.callbacks.append(note)
    yield seen
    gc.callbacks.remove(note)


def run_and_wait(pool: Pool, jobs: int) -> None:
    done = threading.Barrier(jobs + 1, timeout=10)
    for _ in range(jobs):
        pool.submit(done.wait)
    done.wait()


def test_a_heavy_pool_collects_once_it_falls_idle(full_collections: list[str]) -> None:
    pool = Pool("heavy-test", 2, release=True)
    run_and_wait(pool, 2)
    pool._executor.shutdown(wait=True)
    # Both jobs ended on the pool's threads; the last one to end found the pool idle.
    assert [name for name in full_collections if name.startswith("heavy-test")] != []


def test_a_light_pool_leaves_the_collector_alone(full_collections: list[str]) -> None:
    pool = Pool("light-test", 2)
    run_and_wait(pool, 2)
    pool._executor.shutdown(wait=True)
    assert [name for name in full_collections if name.startswith("light-test")] == []
