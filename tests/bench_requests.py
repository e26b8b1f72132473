"""Peak memory (RSS) of a `pars-bot serve` worker: a normal signed request, a signed body at the
limit, then a 60 MB body declared by Content-Length and one sent chunked, in the same run, on
one worker.

    .venv/bin/python tests/bench_requests.py [--mb 60]

The worker's peak is reset before each request (`/proc/PID/clear_refs`), so each line is the
peak of that request alone; the last line shows the worker still answers afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

# Run as a script, tests/ comes first on sys.path, and its handlers/ would shadow the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.console import payloads
from bot.guard import MAX_BODY_BYTES
from bot.local_slack import TEAM_ID, LocalSlack
from tests.bot.serving import (
    SECRET,
    children,
    help_command,
    post,
    raw_exchange,
    serving,
    status_of,
)

PIECE = 64 * 1024


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # Linux: VmHWM := VmRSS


def pieces(size: int) -> Iterator[bytes]:
    piece = b"a" * PIECE
    for _ in range(size // PIECE):
        yield piece


def chunked(size: int) -> Iterator[bytes]:
    for piece in pieces(size):
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


def head(port: int, extra: str) -> bytes:
    stamp = str(int(time.time()))
    return (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {stamp}\r\nX-Slack-Signature: v0=deadbeef\r\n{extra}\r\n"
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=60)
    size = parser.parse_args().mb * 1024 * 1024
    with (
        tempfile.TemporaryDirectory() as directory,
        LocalSlack() as slack,
        serving(Path(directory), slack, "--workers", "1", "--no-scheduler") as served,
    ):
        (worker,) = children(served.process.pid)

        def signed_help() -> str:
            body = help_command(slack.response_url("bench"))
            status, _ = post(served.base, body, payloads.signed(body, SECRET))
            slack.wait_until(lambda c: c.path.endswith("/bench"))
            return str(status)

        def signed_at_the_limit() -> str:
            event = {"type": "event_callback", "team_id": TEAM_ID, "event": {"type": "x"}}
            filler = MAX_BODY_BYTES - len(json.dumps(event)) - len(', "filler": ""')
            body = json.dumps({**event, "filler": "a" * filler})
            headers = payloads.signed(body, SECRET) | {"content-type": "application/json"}
            return str(post(served.base, body, headers)[0])

        def declared() -> str:
            top = head(served.port, f"Content-Length: {size}\r\n")
            return str(status_of(raw_exchange(served.port, top, pieces(size))))

        def sent_chunked() -> str:
            top = head(served.port, "Transfer-Encoding: chunked\r\n")
            return str(status_of(raw_exchange(served.port, top, chunked(size))))

        signed_help()  # the first request loads what every later one uses
        print(f"worker {worker}, {size // 2**20} MB bodies")
        print(f"{'request':<40} {'status':>6} {'peak RSS':>10} {'seconds':>8}")
        cases = [
            ("signed /pars help", signed_help),
            ("signed event of 1 MB (the limit)", signed_at_the_limit),
            (f"{size // 2**20} MB, Content-Length, bad signature", declared),
            (f"{size // 2**20} MB, chunked, bad signature", sent_chunked),
            ("signed /pars help, afterwards", signed_help),
        ]
        for name, send in cases:
            slack.calls.clear()
            reset_peak(worker)
            started = time.perf_counter()
            status = send()
            elapsed = time.perf_counter() - started
            peak = memory_kb(worker, "VmHWM") / 1024
            print(f"{name:<40} {status:>6} {peak:>7.1f} MB {elapsed:>8.2f}")


if __name__ == "__main__":
    main()
