"""The collector pause: back on after the last holder, and only if it was on before."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from storage.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_as_it_was() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_two_threads_the_collector_comes_back_after_the_last() -> None:
    gc.enable()
    inside, leave_first = threading.Event(), threading.Event()

    def first() -> None:
        with collector_paused():
            inside.set()
            leave_first.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(10)
    with collector_paused():
        leave_first.set()
        thread.join(10)
        assert not gc.isenabled()  # the first is done, this one still holds it
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_an_error_inside_still_turns_it_back_on() -> None:
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("a damaged file")
    assert gc.isenabled()


def test_what_was_made_meanwhile_is_still_collected() -> None:
    gc.enable()

    class Node:
        pass

    with collector_paused():
        node = Node()
        node.me = node  # type: ignore[attr-defined]  # a cycle: only the collector frees it
        watcher = __import__("weakref").ref(node)
        del node
        assert watcher() is not None
    gc.collect()
    assert watcher() is None
