"""`pars-bot serve` as a subprocess, and what the tests need around it: a clean environment,
signed and raw requests, the process tree under /proc, a listener that records any request."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.console import payloads
from bot.local_slack import TEAM_ID, LocalSlack
from tests.bot.test_console import PARS_BOT

SECRET = "cli-test-secret"
EVENTS = "/slack/events"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARS_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'pars.db'}"
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    """A running `pars-bot serve`: its process, its address and its combined log."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1)
                return
            except OSError:  # URLError, a refused connection, or a slow answer (timeout)
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(self.log()) from None
                time.sleep(0.1)

    def wait_until_listening(self, timeout: float = 30) -> None:
        """Until the port accepts connections: gunicorn's arbiter has bound it, and its worker
        may still be booting."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(self.log()) from None
                time.sleep(0.02)

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(self.process.pid)
            self.process.wait(timeout=10)
            raise AssertionError(f"serve ignored SIGTERM for {timeout} s:\n{self.log()}") from None


def start_serve(
    tmp_path: Path, slack: LocalSlack, *args: str, before: Sequence[str] = ()
) -> Served:
    """`pars-bot [before...] serve [args...]` on a free port of 127.0.0.1."""
    port = free_port()
    env = clean_env(
        tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:  # a file, not a pipe nobody reads: the log never blocks
        process = subprocess.Popen(
            [PARS_BOT, *before, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Served(process, port, log_path)


@contextmanager
def serving(tmp_path: Path, slack: LocalSlack, *args: str) -> Iterator[Served]:
    served = start_serve(tmp_path, slack, *args)
    try:
        served.wait_until_healthy()
        yield served
    finally:
        pids = descendants(served.process.pid)
        served.stop()
        for pid in pids:  # never leave a process of a failed test behind
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)


# -- requests ---------------------------------------------------------------------------------


def help_command(response_url: str) -> str:
    return payloads.slash_command(
        "help",
        user_id="U0ALICE",
        team_id=TEAM_ID,
        channel_id="C1",
        response_url=response_url,
        trigger_id="t1",
    )


def post(
    base: str, body: str | bytes, headers: dict[str, str], path: str = EVENTS
) -> tuple[int, bytes]:
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get(base: str, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"{base}{path}", timeout=15) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def raw_exchange(port: int, head: bytes, body_parts: Iterator[bytes]) -> bytes:
    """Send a request as raw bytes and read the answer until the server closes or 15 s pass.

    The server may refuse before the body is all sent: a send that fails then is expected,
    and what the server answered is still read."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        try:
            sock.sendall(head)
            for part in body_parts:
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and _complete(answer):
                    break
        except (ConnectionResetError, TimeoutError):
            pass
        return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer (0 when there was none)."""
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


# -- processes --------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name, in parentheses, may hold spaces: split after its closing one.
    return text[text.rindex(")") + 2 :].split()


def is_alive(pid: int) -> bool:
    """Running, that is: present and not a zombie waiting to be reaped."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[1] == str(pid) and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        for child in children(pending.pop()):
            found.append(child)
            pending.append(child)
    return found


def thread_count(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def kill_tree(pid: int) -> None:
    for each in [*descendants(pid), pid]:
        if is_alive(each):
            os.kill(each, signal.SIGKILL)


def wait_until_gone(pids: list[int], timeout: float = 15) -> list[int]:
    """The processes still running after `timeout` seconds (none, we hope)."""
    deadline = time.monotonic() + timeout
    while (left := [p for p in pids if is_alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


# -- a listener that must stay silent ---------------------------------------------------------


@dataclass
class Listener:
    """An HTTP server on 127.0.0.1 that records every request it gets, whatever its path."""

    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _record(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode(errors="replace")
                listener.requests.append(f"{self.command} {self.path} {body}")
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = _record

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
