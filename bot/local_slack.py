"""A stand-in for Slack on 127.0.0.1: the Web API and response URLs, recording every call.

The console talks to it so that the real Bolt app runs with no Slack and no tokens; the tests
use it the same way to see what the bot sent.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

TEAM_ID = "T0LOCAL"
BOT_USER_ID = "U0PARSBOT"


@dataclass
class Call:
    method: str  # a Web API method such as "views.open", or "response_url"
    params: dict[str, Any]
    path: str = ""


@dataclass
class LocalSlack:
    guests: set[str] = field(default_factory=set)
    # A method's canned answer, overriding the default one (e.g. to make it fail).
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Response URLs that answer 404, as Slack does once one has expired.
    expired_response_urls: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    # Slack profile time zones (users.info `tz`) by user; others have none.
    timezones: dict[str, str] = field(default_factory=dict)
    # Real names (users.info `real_name`) by user; others get one made of their ID: U0ALICE is
    # "Alice".
    names: dict[str, str] = field(default_factory=dict)
    # Deactivated accounts (users.info `deleted`).
    deleted: set[str] = field(default_factory=set)
    # Users whose DMs fail (chat.postMessage answers an error), e.g. to test retries.
    failing_dms: set[str] = field(default_factory=set)
    # Files people shared (served to the bot's token), and files the bot uploaded (v2 flow).
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    bot_token: str | None = None  # when set, file downloads need this token
    # HTTP statuses the next calls of a method answer before a normal answer, e.g.
    # {"chat.postMessage": [429, 503]}; a 429 comes with `Retry-After: 1`, as Slack sends it.
    http_errors: dict[str, list[int]] = field(default_factory=dict)
    # How long a trigger from trigger() opens a view, as Slack's do (3 s); others never expire.
    trigger_life: float = 3.0

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._triggers: dict[str, float] = {}
        self._server: ThreadingHTTPServer | None = None
        self._views = 0
        self._file_ids = 0
        # Slack never gives two files one ID; a stand-in restarted on the same database must
        # not either, or the bot takes a new share for one it has already read.
        self._file_prefix = secrets.token_hex(3).upper()

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> LocalSlack:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/response/{name}"

    def trigger(self, name: str) -> str:
        """A trigger_id issued now: views.open with it fails once `trigger_life` has passed."""
        trigger_id = f"trig-{name}"
        with self._lock:
            self._triggers[trigger_id] = time.monotonic()
        return trigger_id

    def _expired(self, trigger_id: str) -> bool:
        with self._lock:
            issued = self._triggers.get(trigger_id)
        return issued is not None and time.monotonic() - issued > self.trigger_life

    # -- files ---------------------------------------------------------------------------------
    def host_file(
        self, name: str, data: bytes, *, user: str = "U0CONSOLE", url: str | None = None
    ) -> dict[str, Any]:
        """Share a file: Slack's file object, its download URL served here unless `url` says."""
        with self._lock:
            self._file_ids += 1
            file_id = f"F{self._file_prefix}{self._file_ids:05d}"
        download = url or f"{self.base}/files-pri/{file_id}/{quote(name)}"
        info = {
            "id": file_id,
            "name": name,
            "title": name,
            "filetype": name.rsplit(".", 1)[-1].lower() if "." in name else "",
            "size": len(data),
            "user": user,
            "url_private": download,
            "url_private_download": download,
        }
        with self._lock:
            self.files[file_id] = {"info": info, "data": data}
        return info

    def uploaded(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Files the bot uploaded and completed, oldest first: name, data, channel, thread."""
        self.wait_for("files.completeUploadExternal", count, timeout)
        with self._lock:
            return [u for u in self.uploads.values() if u.get("complete")]

    # -- what was called ----------------------------------------------------------------------
    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """The calls of `method` once there are `count` of them (listeners may run in threads)."""
        return self.wait_until(lambda c: c.method == method, count, timeout)

    def wait_until(
        self, matches: Callable[[Call], bool], count: int = 1, timeout: float = 10.0
    ) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self.calls if matches(c)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.method, c.path) for c in self.calls]
                    raise AssertionError(f"expected {count} matching call(s); saw {seen}")
                self._lock.wait(remaining)

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def since(self, mark: int) -> list[Call]:
        with self._lock:
            return list(self.calls[mark:])

    # -- answers ------------------------------------------------------------------------------
    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method in self.answers:
            return self.answers[method]
        if method == "auth.test":
            return {
                "ok": True,
                "team_id": TEAM_ID,
                "team": "Local",
                "user_id": BOT_USER_ID,
                "bot_id": "B0PARSBOT",
                "url": f"{self.base}/",
            }
        if method == "users.info":
            user = str(params.get("user", ""))
            guest = user in self.guests
            real_name = self.names.get(user) or user.removeprefix("U0").title()
            profile = {
                "id": user,
                "team_id": TEAM_ID,
                "name": user.lower(),
                "real_name": real_name,
                "profile": {"real_name": real_name, "display_name": real_name.split(" ")[0]},
                "is_restricted": guest,
                "is_ultra_restricted": False,
                "deleted": user in self.deleted,
            }
            if user in self.timezones:
                profile["tz"] = self.timezones[user]
            return {"ok": True, "user": profile}
        if method in {"views.open", "views.push"} and self._expired(str(params.get("trigger_id"))):
            return {"ok": False, "error": "expired_trigger_id"}
        if method in {"views.open", "views.update", "views.push", "views.publish"}:
            with self._lock:
                self._views += 1
                view_id = f"V{self._views:06d}"
            view = params.get("view") or {}
            return {"ok": True, "view": {**view, "id": view_id}}
        if method == "files.info":
            with self._lock:
                hosted = self.files.get(str(params.get("file", "")))
            if hosted is None:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": hosted["info"]}
        if method == "files.getUploadURLExternal":
            with self._lock:
                self._file_ids += 1
                file_id = f"F{self._file_prefix}{self._file_ids:05d}"
                self.uploads[file_id] = {"name": params.get("filename"), "data": b""}
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = params.get("files") or []
            if isinstance(files, str):
                files = json.loads(files)
            with self._lock:
                for f in files:
                    upload = self.uploads.setdefault(f["id"], {"name": None, "data": b""})
                    upload |= {
                        "complete": True,
                        "title": f.get("title"),
                        "channel": params.get("channel_id"),
                        "thread_ts": params.get("thread_ts"),
                        "initial_comment": params.get("initial_comment"),
                    }
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "")).lstrip("U")}}
        if method == "chat.postMessage" and str(params.get("channel", "")) in {
            "D" + u.lstrip("U") for u in self.failing_dms
        }:
            return {"ok": False, "error": "channel_not_found"}
        if method in {"chat.postMessage", "chat.postEphemeral", "chat.update"}:
            return {"ok": True, "channel": params.get("channel"), "ts": f"{time.time():.6f}"}
        return {"ok": True}


def _decode(body: bytes, content_type: str) -> dict[str, Any]:
    if not body:
        return {}
    if "json" in content_type:
        return json.loads(body)
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        # Block Kit and views travel as JSON text inside form fields.
        if value[:1] in "[{":
            try:
                params[key] = json.loads(value)
                continue
            except ValueError:
                pass
        params[key] = value
    return params


def _handler_for(slack: LocalSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None  # quiet: the console prints what matters

        def do_GET(self) -> None:
            if self.path.startswith("/api/"):  # files.info and other reads
                method = self.path.removeprefix("/api/").split("?")[0]
                query = self.path.split("?", 1)[1] if "?" in self.path else ""
                params = dict(parse_qsl(query, keep_blank_values=True))
                slack.record(Call(method, params, self.path))
                answer = slack.answer(method, params)
                self._send(200, json.dumps(answer).encode(), "application/json")
                return
            # A shared file's download URL: needs the bot token, as files.slack.com does.
            if not self.path.startswith("/files-pri/"):
                self._send(404, b"not found", "text/plain")
                return
            file_id = self.path.split("/")[2]
            auth = self.headers.get("Authorization", "")
            slack.record(Call("file_download", {"authorization": auth}, self.path))
            hosted = slack.files.get(file_id)
            if hosted is None:
                self._send(404, b"not found", "text/plain")
            elif slack.bot_token and auth != f"Bearer {slack.bot_token}":
                self._send(200, b"<html>sign in</html>", "text/html")  # as Slack does
            else:
                self._send(200, hosted["data"], "application/octet-stream")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.startswith("/upload/"):
                file_id = self.path.removeprefix("/upload/")
                with slack._lock:
                    slack.uploads.setdefault(file_id, {"name": None})["data"] = raw
                slack.record(Call("file_upload", {"length": len(raw)}, self.path))
                self._send(200, b"OK - " + str(len(raw)).encode(), "text/plain")
                return
            params = _decode(raw, self.headers.get("Content-Type", ""))
            if "?" in self.path:
                params |= dict(parse_qsl(self.path.split("?", 1)[1], keep_blank_values=True))
            if self.path.startswith("/response/"):
                slack.record(Call("response_url", params, self.path))
                if slack.response_url(self.path.removeprefix("/response/")) in (
                    slack.expired_response_urls
                ):
                    self._send(404, b"expired_url", "text/plain")
                else:
                    self._send(200, b"ok", "text/plain")
                return
            method = self.path.removeprefix("/api/").split("?")[0]
            slack.record(Call(method, params, self.path))
            with slack._lock:
                pending = slack.http_errors.get(method)
                status = pending.pop(0) if pending else 200
            if status != 200:
                body = json.dumps({"ok": False, "error": "ratelimited"}).encode()
                retry_after = {"Retry-After": "1"} if status == 429 else {}
                self._send(status, body, "application/json", retry_after)
                return
            answer = slack.answer(method, params)
            self._send(200, json.dumps(answer).encode(), "application/json")

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
