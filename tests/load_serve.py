"""Load on `pars-bot serve --workers 2` (issue 15): acknowledgement latency under concurrent
clients and while exports run, beside a floor; list pages, an upload's preview and a worker's
memory. Run by hand; prints a table, asserts nothing.

    .venv/bin/python tests/load_serve.py [--quick] [--sizes 10000,100000]

For each size, one workspace is seeded directly into a fresh SQLite file (tests/bench_store.py's
mix) and served by `pars-bot serve --workers 2 --no-scheduler` on 127.0.0.1, its Slack the
local stand-in (bot/local_slack.py) in this process. Signed requests come from a separate
client process, one thread per concurrent client, each sending its requests one after the
other; a request's latency is the time to the HTTP answer (Slack's acknowledgement), and a
missed ack is any answer but 200. The floor is a bare Bolt app that only acks, behind the same
gunicorn settings (2 workers, gthread, 8 threads).

Goals (issue 15): ack p99 under 100 ms at 10 clients and under 300 ms at 50, also while five
exports run; no missed ack; every list page under 50 ms; a 10,000-row preview under 3 s; a
worker's peak under 300 MB for 10,000 rows and under 500 MB for 100,000.
`--quick` runs the 10,000 workspace with fewer requests and no 100,000-row upload (a few
minutes); `--acks-only` measures the acks table alone (no exports, list pages or uploads).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
TEAM = "T0BENCH"  # tests/bench_store.py seeds this workspace
USERS = [f"U0LOAD{n:02d}" for n in range(10)]
EXPORTS = 5
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


# -- the floor: a bare Bolt app that only acks --------------------------------------------------


def floor_app() -> Any:
    """`gunicorn 'tests.load_serve:floor_app()'`: what any Bolt app costs, and nothing more."""
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from tests.bot.serving import SECRET

    # Bolt asks auth.test once, of the local stand-in (SLACK_API_URL), as the served bot does.
    client = WebClient(token="xoxb-floor", base_url=os.environ["SLACK_API_URL"])
    app = App(client=client, signing_secret=SECRET)

    @app.command("/pars")
    def only_ack(ack: Ack) -> None:
        ack()

    return SlackRequestHandler(app)


# -- clients: a process of their own ------------------------------------------------------------


def _send(base: str, body: str, headers: dict[str, str]) -> tuple[int, float]:
    request = urllib.request.Request(
        f"{base}/slack/events", data=body.encode(), headers=headers, method="POST"
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    return status, (time.perf_counter() - started) * 1000


def _clients(base: str, per_client: list[list[tuple[str, dict[str, str]]]]) -> list[Any]:
    """In the client process: one thread per client, each sending its requests in turn."""

    def client(requests: list[tuple[str, dict[str, str]]]) -> list[tuple[int, float]]:
        return [_send(base, body, headers) for body, headers in requests]

    with ThreadPoolExecutor(max_workers=len(per_client)) as pool:
        return [r for results in pool.map(client, per_client) for r in results]


class Load:
    """Signed /pars commands, sent from a client process at a given concurrency."""

    def __init__(self, slack: Any, secret: str) -> None:
        self.slack, self.secret = slack, secret
        self._ids = itertools.count(1)
        self._made = 0
        self._pool = multiprocessing.get_context("spawn").Pool(1)

    @property
    def sent(self) -> int:
        """How many commands were made so far."""
        return self._made

    def command(self, text: str, user: str) -> tuple[str, str, dict[str, str]]:
        from bot.console import payloads

        self._made += 1
        name = f"load{next(self._ids)}"
        body = payloads.slash_command(
            text,
            user_id=user,
            team_id=TEAM,
            channel_id="C0LOAD",
            response_url=self.slack.response_url(name),
            trigger_id=f"trig-{name}",
        )
        return name, body, payloads.signed(body, self.secret)

    def burst(self, base: str, text: str, clients: int, each: int) -> list[tuple[int, float]]:
        per_client = [
            [self.command(text, USERS[c % len(USERS)])[1:] for _ in range(each)]
            for c in range(clients)
        ]
        return self._pool.apply(_clients, (base, per_client))

    def close(self) -> None:
        self._pool.close()
        self._pool.join()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(results: list[tuple[int, float]]) -> tuple[float, float, int, int]:
    latencies = [ms for _, ms in results]
    missed = sum(1 for status, _ in results if status != 200)
    return percentile(latencies, 50), percentile(latencies, 99), missed, len(results)


# -- the served bot ---------------------------------------------------------------------------


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # Linux: VmHWM := VmRSS


def seeded_database(folder: Path, size: int) -> None:
    from storage.db import create_db_engine, upgrade
    from tests.bench_batch import analyze_all
    from tests.bench_store import seed

    engine = create_db_engine(f"sqlite:///{folder / 'pars.db'}")
    upgrade(engine)
    seed(engine, size)
    analyze_all(engine)
    engine.dispose()


def reply_seconds(slack: Any, name: str, started: float, contains: str = "") -> float:
    slack.wait_until(
        lambda c: (
            c.method == "response_url" and c.path.endswith(f"/{name}") and contains in str(c.params)
        ),
        timeout=600,
    )
    return time.perf_counter() - started


def post_signed(base: str, body: str, headers: dict[str, str]) -> int:
    return _send(base, body, headers)[0]


# -- the table ----------------------------------------------------------------------------------


class Table:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(line, flush=True)

    def ack_row(self, label: str, clients: int, served: list[Any], floor: list[Any] | None) -> None:
        p50, p99, missed, count = summary(served)
        floor_text = ""
        if floor is not None:
            f50, f99, _, _ = summary(floor)
            floor_text = f"{f50:>7.0f} {f99:>7.0f}"
        self.say(
            f"| {label:<44} | {clients:>3} | {count:>4} | {p50:>6.0f} | {p99:>6.0f} | "
            f"{missed:>4} | {floor_text:>15} |"
        )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_size(
    size: int,
    quick: bool,
    floor: dict[int, list[Any]],
    table: Table,
    uploads: list[int],
    acks_only: bool = False,
) -> None:
    from bot.console import payloads
    from bot.local_slack import LocalSlack
    from tests.bench_batch import workbook_bytes
    from tests.bot.serving import SECRET, children, serving

    each = 3 if quick else 9
    with tempfile.TemporaryDirectory() as directory, LocalSlack() as slack:
        folder = Path(directory)
        started = time.perf_counter()
        seeded_database(folder, size)
        table.say(
            f"\n### {size:,} activities (SQLite; seeded in {time.perf_counter() - started:.0f} s)"
            f", load average at start {load_average()}\n"
        )
        slack.bot_token = "xoxb-1"
        with serving(folder, slack, "--workers", "2", "--no-scheduler") as served:
            workers = children(served.process.pid)
            load = Load(slack, SECRET)
            try:
                _measure(served.base, load, slack, workers, each, floor, table, acks_only)
                for rows in [] if acks_only else uploads:
                    _upload(served.base, slack, workers, rows, table, workbook_bytes, payloads)
            finally:
                load.close()
        table.say(f"\nload average at the end: {load_average()}")


def _measure(
    base: str,
    load: Load,
    slack: Any,
    workers: list[int],
    each: int,
    floor: dict[int, list[Any]],
    table: Table,
    acks_only: bool,
) -> None:
    show = "show ACT-0000042"
    replies_before = len(slack.of("response_url"))
    for text in ("help", show, "list ready") * 2:  # each user known to each worker
        load.burst(base, text, len(USERS), 1)
    idle = {pid: memory_kb(pid, "VmRSS") // 1024 for pid in workers}
    table.say(f"workers' RSS when idle: {', '.join(f'{mb} MB' for mb in idle.values())}\n")
    table.say(
        "| ack latency (ms)                             | clients | requests | p50 | p99 | "
        "missed | floor p50 p99 |"
    )
    table.say("|---|--:|--:|--:|--:|--:|--:|")
    for clients in (10, 50):
        for text in ("help", show, "list ready"):
            served = load.burst(base, text, clients, each)
            table.ack_row(f"/pars {text}", clients, served, floor.get(clients))
    if acks_only:
        # Every reply in before serve is stopped: its workers finish their queued work first.
        expected = replies_before + load.sent
        slack.wait_until(lambda c: c.method == "response_url", expected, timeout=900)
        return

    # Five exports of data year 2025, then the same commands while they run.
    sent: list[tuple[str, float]] = []
    for n in range(EXPORTS):
        name, body, headers = load.command("export year=2025", USERS[n])
        sent.append((name, time.perf_counter()))
        status = post_signed(base, body, headers)
        if status != 200:
            table.say(f"export {n + 1} missed its ack: HTTP {status}")
    during: list[tuple[str, int, list[Any]]] = []
    for clients, text in ((10, "help"), (10, show), (10, "list ready"), (50, show)):
        during.append((text, clients, load.burst(base, text, clients, each)))
    finished_during = len(
        [c for c in slack.of("response_url") if "The export of data year" in str(c.params)]
    )
    for text, clients, served in during:
        table.ack_row(f"/pars {text}, {EXPORTS} exports running", clients, served, None)
    with ThreadPoolExecutor(max_workers=EXPORTS) as waiting:  # each timed as it arrives
        export_seconds = list(
            waiting.map(lambda s: reply_seconds(slack, *s, "The export of data year"), sent)
        )
    table.say(
        f"\n{EXPORTS} exports of data year 2025: {finished_during} finished while the above ran; "
        f"each posted after {', '.join(f'{s:.1f}' for s in export_seconds)} s"
    )

    # List pages as a user waits for them: command to reply, one at a time (median of 3).
    table.say("\n| list page (command to reply, no other load) | median ms |\n|---|--:|")
    for view in ("open", "ready", "unclosed", "closed", "all", "mine", "unclosed year=2025"):
        times = []
        for _ in range(3):
            name, body, headers = load.command(f"list {view}", USERS[0])
            at = time.perf_counter()
            post_signed(base, body, headers)
            times.append(reply_seconds(slack, name, at) * 1000)
        table.say(f"| /pars list {view:<32} | {statistics.median(times):>9.0f} |")


def _upload(
    base: str,
    slack: Any,
    workers: list[int],
    rows: int,
    table: Table,
    workbook_bytes: Callable[[int], bytes],
    payloads: Any,
) -> None:
    import json

    data = workbook_bytes(rows)
    name = f"load {rows}.xlsx"
    before = {pid: memory_kb(pid, "VmRSS") // 1024 for pid in workers}
    for pid in workers:
        reset_peak(pid)
    uploaded = len(slack.of("files.completeUploadExternal"))
    info = slack.host_file(name, data, user=USERS[0])
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "C0LOAD",
        "user": USERS[0],
        "text": "",
        "files": [info],
        "ts": f"{time.time():.6f}",
    }
    body = json.dumps(
        {
            "token": "legacy-unused",
            "team_id": TEAM,
            "api_app_id": "A0PARSBOT",
            "type": "event_callback",
            "event_id": f"EvLOAD{rows}",
            "event_time": int(time.time()),
            "event": event,
        }
    )
    from tests.bot.serving import SECRET

    headers = payloads.signed(body, SECRET) | {"content-type": "application/json"}
    started = time.perf_counter()
    status = post_signed(base, body, headers)

    slack.wait_until(
        lambda c: c.method == "chat.update" and f"Preview of {name}" in str(c.params),
        timeout=900,
    )
    preview = time.perf_counter() - started
    slack.wait_until(lambda c: c.method == "files.completeUploadExternal", uploaded + 1, 900)
    annotated = time.perf_counter() - started
    peaks = {pid: memory_kb(pid, "VmHWM") // 1024 for pid in workers}
    busiest = max(peaks, key=lambda pid: peaks[pid] - before[pid])
    time.sleep(3)
    after = memory_kb(busiest, "VmRSS") // 1024
    table.say(
        f"\nupload of {rows:,} rows (ack HTTP {status}): preview after {preview:.1f} s, "
        f"annotated copy after {annotated:.1f} s; the worker that read it: {before[busiest]} MB "
        f"before, peak {peaks[busiest]} MB, {after} MB 3 s after"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k only, fewer requests")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument(
        "--acks-only", action="store_true", help="only the acks table (no exports, pages, uploads)"
    )
    args = parser.parse_args()
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    table = Table()
    table.say(f"# pars-bot serve --workers 2 under load ({os.cpu_count()} CPUs)")
    table.say(f"load average at start: {load_average()}")
    floor = measure_floor(3 if args.quick else 9)
    for size in sizes:
        uploads = [10_000] + ([100_000] if size == max(sizes) and not args.quick else [])
        run_size(size, args.quick, floor, table, uploads, args.acks_only)


def measure_floor(each: int) -> dict[int, list[Any]]:
    """The floor's acks at 10 and 50 clients (gunicorn as `serve` runs it)."""
    from bot.local_slack import LocalSlack
    from tests.bot.serving import SECRET, free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with LocalSlack() as slack:
        process = subprocess.Popen(
            [GUNICORN, "--chdir", str(ROOT), "-w", "2", "-k", "gthread", "--threads", "8",
             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "tests.load_serve:floor_app()"],
            env=os.environ | {"SLACK_API_URL": slack.api_url},
        )  # fmt: skip
        try:
            load = Load(slack, SECRET)
            try:
                for _ in range(100):
                    if post_signed(base, *load.command("help", USERS[0])[1:]) == 200:
                        break
                    time.sleep(0.1)
                load.burst(base, "help", 10, 2)
                return {c: load.burst(base, "help", c, each) for c in (10, 50)}
            finally:
                load.close()
        finally:
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
