"""What `pars-bot serve` does with requests Slack did not sign, and with bodies too large for
any Slack request: refused at the door, before anything reads them as Slack's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.console import payloads
from bot.local_slack import LocalSlack
from tests.bot.serving import (
    SECRET,
    Listener,
    Served,
    get,
    help_command,
    post,
    raw_exchange,
    serving,
    status_of,
)

LIMIT = 1024 * 1024  # README: Slack's requests are a few kB; anything over 1 MB is refused


@dataclass
class Setup:
    served: Served
    slack: LocalSlack
    listener: Listener

    def signed_help_is_answered(self) -> None:
        """A signed request sent after the others: once its reply is in, the others would
        have been answered too, had the bot taken them."""
        body = help_command(self.slack.response_url("barrier"))
        assert post(self.served.base, body, payloads.signed(body, SECRET))[0] == 200
        reply = self.slack.wait_until(lambda c: c.path.endswith("/barrier"))[-1]
        assert "Subcommands" in reply.params["text"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    listener = Listener()
    with LocalSlack() as slack, serving(tmp_path_factory.mktemp("serve"), slack) as served:
        yield Setup(served, slack, listener)
    listener.close()


@pytest.fixture
def fresh_log(setup: Setup) -> Iterator[None]:
    """Whatever a test sends, the bot logs no traceback for it."""
    setup.listener.requests.clear()
    start = len(setup.served.log())
    yield
    written = setup.served.log()[start:]
    assert "Traceback" not in written, written


def forged_command(listener: Listener) -> str:
    # The request of issue 12: a response_url of the attacker's choosing.
    return (
        f"command=/pars&text=x&team_id=T1&user_id=U1&response_url={listener.url('/x')}&trigger_id=t"
    )


def form(stamp: str | None, signature: str | None) -> dict[str, str]:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if stamp is not None:
        headers["x-slack-request-timestamp"] = stamp
    if signature is not None:
        headers["x-slack-signature"] = signature
    return headers


def now() -> str:
    return str(int(time.time()))


@pytest.mark.parametrize(
    ("stamp", "signature"),
    [
        pytest.param("abc", "v0=deadbeef", id="timestamp-abc"),
        pytest.param("", "v0=deadbeef", id="timestamp-empty"),
        pytest.param("1e9", "v0=deadbeef", id="timestamp-1e9"),
        pytest.param(" 1700000000", "v0=deadbeef", id="timestamp-padded"),
        pytest.param("-5", "v0=deadbeef", id="timestamp-negative"),
        pytest.param("9" * 400, "v0=deadbeef", id="timestamp-huge"),
        pytest.param(None, "v0=deadbeef", id="timestamp-absent"),
        pytest.param(None, None, id="no-headers"),
        pytest.param("now", "v0=deadbeef", id="bad-signature"),
        pytest.param("now", None, id="signature-absent"),
    ],
)
@pytest.mark.usefixtures("fresh_log")
def test_an_unsigned_command_gets_401_and_nothing_is_sent_to_its_response_url(
    setup: Setup, stamp: str | None, signature: str | None
) -> None:
    stamp = now() if stamp == "now" else stamp
    status, _ = post(setup.served.base, forged_command(setup.listener), form(stamp, signature))
    assert status == 401
    setup.signed_help_is_answered()
    assert setup.listener.requests == []


@pytest.mark.usefixtures("fresh_log")
def test_a_request_signed_with_another_secret_or_too_long_ago_gets_401(setup: Setup) -> None:
    body = forged_command(setup.listener)
    other = payloads.signed(body, "not-the-secret")
    stale = payloads.signed(body, SECRET, timestamp=int(time.time()) - 6 * 60)
    future = payloads.signed(body, SECRET, timestamp=int(time.time()) + 6 * 60)
    assert [post(setup.served.base, body, h)[0] for h in (other, stale, future)] == [401] * 3
    setup.signed_help_is_answered()
    assert setup.listener.requests == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"payload=%7Bnot-json", "application/x-www-form-urlencoded", id="payload"),
        pytest.param(b'{"type": "event_callback"', "application/json", id="json"),
        pytest.param(
            b"command=/pars&text=\xff\xfe", "application/x-www-form-urlencoded", id="utf8"
        ),
    ],
)
@pytest.mark.usefixtures("fresh_log")
def test_a_malformed_unsigned_body_gets_401_not_500(
    setup: Setup, body: bytes, content_type: str
) -> None:
    for stamp in ("abc", now()):
        headers = {**form(stamp, "v0=deadbeef"), "content-type": content_type}
        assert post(setup.served.base, body, headers)[0] == 401


def request_head(port: int, framing: str, headers: dict[str, str]) -> bytes:
    lines = ["POST /slack/events HTTP/1.1", f"Host: 127.0.0.1:{port}", framing]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        piece = data[start : start + size]
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


@pytest.mark.usefixtures("fresh_log")
def test_a_declared_60_mb_body_is_refused_before_it_is_sent(setup: Setup) -> None:
    body = help_command(setup.slack.response_url("big"))
    headers = payloads.signed(body, SECRET)
    head = request_head(setup.served.port, f"Content-Length: {60 * 1024 * 1024}", headers)
    # Only 16 kB of the 60 MB are sent: an answer means the bot did not wait for the rest.
    answer = raw_exchange(setup.served.port, head, iter([body.encode().ljust(16 * 1024, b"&")]))
    assert status_of(answer) == 413
    assert b"1 MB" in answer
    setup.signed_help_is_answered()
    assert not any(c.path.endswith("/big") for c in setup.slack.calls)


@pytest.mark.usefixtures("fresh_log")
def test_a_chunked_body_over_the_limit_is_refused(setup: Setup) -> None:
    body = help_command(setup.slack.response_url("chunked-big"))
    padded = (body + "&pad=").encode().ljust(LIMIT + 32 * 1024, b"a")
    head = request_head(
        setup.served.port, "Transfer-Encoding: chunked", payloads.signed(padded.decode(), SECRET)
    )
    assert status_of(raw_exchange(setup.served.port, head, chunked(padded))) == 413
    setup.signed_help_is_answered()
    assert not any(c.path.endswith("/chunked-big") for c in setup.slack.calls)


@pytest.mark.usefixtures("fresh_log")
def test_a_signed_chunked_body_within_the_limit_is_answered(setup: Setup) -> None:
    body = help_command(setup.slack.response_url("chunked-small"))
    head = request_head(
        setup.served.port, "Transfer-Encoding: chunked", payloads.signed(body, SECRET)
    )
    answer = raw_exchange(setup.served.port, head, chunked(body.encode(), size=100))
    assert status_of(answer) == 200
    reply = setup.slack.wait_until(lambda c: c.path.endswith("/chunked-small"))[0]
    assert "Subcommands" in reply.params["text"]


@pytest.mark.usefixtures("fresh_log")
def test_health_and_unknown_paths_answer_as_before(setup: Setup) -> None:
    base = setup.served.base
    assert get(base, "/healthz") == (200, b"ok\n")
    assert get(base, "/nowhere") == (404, b"not found\n")
    assert get(base, "/slack/events") == (404, b"not found\n")
    assert post(base, b"x" * 10, {}, path="/other") == (404, b"not found\n")
