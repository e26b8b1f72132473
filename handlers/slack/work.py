"""Where a listener's work runs once Slack has its acknowledgement.

Slack wants every request acknowledged within 3 seconds. The acknowledgement is sent from the
thread the request arrived on (Bolt's process_before_response), before any work of its own or
of another request: the work goes to a pool. Light work (a reply, a page) runs on one pool;
heavy work (exports, uploads and their preview, workbooks) on a small pool of its own, so a
burst of exports waits its turn instead of taking every thread the light work needs. Work that
opens a form (views.open) has a pool nothing else uses: its trigger_id lasts 3 s, and a form
queued behind busy light threads (pages, or writes waiting out a lock) would come too late.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt.kwargs_injection.args import Args

log = logging.getLogger(__name__)

# Per serving process. Light: two. Threads share one interpreter lock, so more light threads
# answer no faster on two cores, and each one busy is another the ack waits its turn behind:
# at 50 clients, 2 instead of 4 cut the ack's p50 two to three times (README: Under load).
# Forms have their own pool, so two replies waiting out a lock delay only other replies.
# Heavy: two, so one upload's preview need not wait out a long export.
LIGHT_WORKERS = 2
HEAVY_WORKERS = 2
# Forms: one person's click each, a read and one Web API call; two let a form whose read waits
# on the database not hold up the next. Not the request's own thread: with
# process_before_response Bolt sends the acknowledgement only once the listener returns, so
# work there would delay the ack itself.
FORM_WORKERS = 2


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, where the C library is glibc (elsewhere None)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def give_memory_back() -> None:
    """Hand the memory a finished batch job used back to the system. A 100,000-row preview
    leaves a worker 100 MB or more above its idle size otherwise: Python keeps freed blocks in
    its heap, and glibc keeps freed pages unless asked to return them."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class Runner(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any) -> int: ...


class Pool:
    """A fixed number of threads and a queue in front of them."""

    def __init__(self, name: str, workers: int, *, release: bool = False) -> None:
        self.workers = workers
        # Heavy work: give memory back each time the pool falls idle.
        self._release = release
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._unfinished = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> int:
        """Run `fn(*args)` on the pool; returns how many unfinished jobs it waits behind
        (0: it starts at once)."""
        with self._lock:
            ahead = self._unfinished if self._unfinished >= self.workers else 0
            self._unfinished += 1
        self._executor.submit(self._run, fn, args)
        return ahead

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception:  # the executor would keep it in a Future nobody reads
            log.exception("work of %s failed", getattr(fn, "__name__", fn))
        finally:
            with self._lock:
                self._unfinished -= 1
                idle = self._unfinished == 0
            if idle and self._release:
                give_memory_back()


class AtOnce:
    """Runs the work before submit() returns: the console answers each line in order."""

    workers = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> int:
        try:
            fn(*args)
        except Exception:
            log.exception("work of %s failed", getattr(fn, "__name__", fn))
        return 0


@dataclass(frozen=True)
class Work:
    light: Runner
    heavy: Runner
    # One thread: writes that must land in the order their requests came (who used the bot,
    # and their names: a first command's record before the profile change that follows it).
    ordered: Runner
    # Listeners that open a form, which must call views.open within 3 s of the request.
    forms: Runner

    @classmethod
    def pools(cls) -> Work:
        return cls(
            light=Pool("pars-light", LIGHT_WORKERS),
            heavy=Pool("pars-heavy", HEAVY_WORKERS, release=True),
            ordered=Pool("pars-ordered", 1),
            forms=Pool("pars-forms", FORM_WORKERS),
        )


AT_ONCE = Work(light=AtOnce(), heavy=AtOnce(), ordered=AtOnce(), forms=AtOnce())

# Does this request open a form (views.open with its trigger_id)? Asked of the request's body
# on its own thread, so it must be cheap: no database, no Web API.
OpensForm = Callable[[dict[str, Any]], bool]


def acknowledged(
    listener: Callable[[Args], None],
    *,
    heavy: bool = False,
    ordered: bool = False,
    opens_form: bool | OpensForm = False,
) -> Callable[[Args], None]:
    """Acknowledge on the request's own thread, then run `listener` (already wrapped in
    answering_errors) on the light, heavy, ordered or forms pool. Its own ack() call, if it
    makes one, repeats the acknowledgement to no effect: Slack has had its answer."""

    def run(args: Args) -> None:
        args.ack()
        work: Work = args.context["deps"].work
        form = opens_form(args.body) if callable(opens_form) else opens_form
        if form:
            runner = work.forms
        else:
            runner = work.ordered if ordered else work.heavy if heavy else work.light
        runner.submit(listener, args)

    run.__name__ = run.__qualname__ = listener.__name__
    run.reads_settings = getattr(listener, "reads_settings", False)  # type: ignore[attr-defined]
    return run
