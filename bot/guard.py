"""The door of the HTTP face: a request reaches Bolt only once its body is known to be small
and signed by Slack.

Bolt verifies signatures too, but only after its adapter has read the whole body into memory
and parsed it, and its verifier raises on a timestamp that is not a number, which sent the
unverified body to the error handler and a reply to the body's `response_url`. Here the body
is read in small pieces up to a limit, and the signature is checked (slack_sdk's
SignatureVerifier) before anything else looks at the body.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, BinaryIO

from slack_sdk.signature import SignatureVerifier

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Slack's requests are a few kilobytes: a slash command, a button's payload, an event, a view
# submission with its state (Slack caps a view at 100 blocks of at most 3,000 characters
# each, well under 1 MB even escaped). Files never come in a request: the bot downloads them.
MAX_BODY_BYTES = 1024 * 1024
READ_SIZE = 64 * 1024
# As SignatureVerifier: a signature is good for five minutes, so a recorded request cannot be
# replayed later.
MAX_AGE_SECONDS = 5 * 60
# Unix time in seconds has 10 digits until the year 2286; anything longer is not a timestamp
# (and int() of thousands of digits is itself refused by Python).
MAX_STAMP_DIGITS = 12

log = logging.getLogger("pars_bot.guard")


class Refused(Exception):
    def __init__(self, status: HTTPStatus, reason: str, answer: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason  # for the log
        self.answer = answer  # for the client: says what, never why a signature failed


def guarded(
    inner: WSGIApp,
    signing_secret: str,
    *,
    limit: int = MAX_BODY_BYTES,
) -> WSGIApp:
    """`inner`, for requests whose body is at most `limit` bytes and carries Slack's
    signature; any other gets 413 or 401, and `inner` never sees it."""
    verifier = SignatureVerifier(signing_secret)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            body = read_body(environ, limit)
            check_signature(verifier, environ, body)
        except Refused as refused:
            # One line, no traceback: an attacker's request is not an error of ours.
            log.warning(
                "refused a request from %s: %s", environ.get("REMOTE_ADDR", "?"), refused.reason
            )
            return plain_answer(start_response, refused.status, refused.answer)
        verified = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        return inner(verified, start_response)

    return application


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The body, read in small pieces and never past `limit` bytes, whatever the headers say."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise Refused(HTTPStatus.BAD_REQUEST, "Content-Length is not a number", "bad request")
        if int(declared) > limit:
            raise Refused(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"a body of {declared} bytes declared",
                too_large(limit),
            )
        wanted = int(declared)
    elif environ.get("wsgi.input_terminated"):
        wanted = limit + 1  # chunked: the server ends the stream; one byte more tells "over"
    else:
        return b""  # no length and no end marked: PEP 3333 says there is no body to read
    body = _read_at_most(environ["wsgi.input"], wanted)
    if len(body) > limit:
        raise Refused(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"a body over {limit} bytes sent without a length",
            too_large(limit),
        )
    return body


def _read_at_most(stream: BinaryIO, wanted: int) -> bytes:
    pieces: list[bytes] = []
    left = wanted
    while left > 0:
        piece = stream.read(min(READ_SIZE, left))
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


def check_signature(verifier: SignatureVerifier, environ: dict[str, Any], body: bytes) -> None:
    stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
    signature = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
    if not stamp or not signature:
        raise _unverified("no X-Slack-Request-Timestamp or X-Slack-Signature")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= MAX_STAMP_DIGITS):
        raise _unverified(f"X-Slack-Request-Timestamp {stamp[:20]!r} is not a Unix time")
    skew = int(verifier.clock.now()) - int(stamp)
    if abs(skew) > MAX_AGE_SECONDS:
        raise _unverified(f"X-Slack-Request-Timestamp is {skew} s off this host's clock")
    try:
        valid = verifier.is_valid(body, stamp, signature)
    except UnicodeDecodeError:  # Slack's bodies are UTF-8; the verifier decodes them as such
        raise _unverified("a body that is not UTF-8") from None
    if not valid:
        raise _unverified("a signature that does not match SLACK_SIGNING_SECRET")


def _unverified(reason: str) -> Refused:
    return Refused(HTTPStatus.UNAUTHORIZED, reason, "invalid request signature")


def too_large(limit: int) -> str:
    return f"request body too large: over {limit / 2**20:g} MB, more than any Slack request"


def plain_answer(
    start_response: Callable[..., Any], status: HTTPStatus, text: str
) -> Iterable[bytes]:
    body = (text + "\n").encode()
    start_response(
        f"{status.value} {status.phrase}",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
