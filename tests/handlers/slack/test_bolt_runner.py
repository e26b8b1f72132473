"""What handlers/slack/errors.py's answering_errors relies on in Bolt, checked on Bolt itself.

Bolt's threaded runner forgets an ack() when the listener raises right after it, and answers
Slack 404 once its 3-second wait is over; answering_errors keeps errors inside the listener,
reading Bolt's internal Args (the listener's arguments by name, `ack.response`). A Bolt
upgrade that fixes the first (the workaround may go) or changes the second (the workaround
breaks) fails a test here.

Listeners run in the dispatching thread, at once: what a busy machine may do, made certain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any

import pytest
from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.console import payloads
from bot.local_slack import LocalSlack
from handlers.slack import errors
from handlers.slack.errors import UNEXPECTED, UsageError, answering_errors
from tests.handlers.conftest import ALICE, SECRET, Reply


class RunAtOnce(Executor):
    """Runs each listener before submit() returns, so it acks and raises before Bolt first
    looks whether the ack came."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


@pytest.fixture
def app(slack: LocalSlack) -> Iterator[App]:
    bolt = App(
        client=WebClient(token="xoxb-test", base_url=slack.api_url),
        signing_secret=SECRET,
        listener_executor=RunAtOnce(),
    )
    errors.register(bolt)
    yield bolt


def command(app: App, slack: LocalSlack, name: str) -> tuple[int, Any]:
    body = payloads.slash_command(
        "anything",
        user_id=ALICE,
        team_id="T0LOCAL",
        channel_id="C0CME",
        response_url=slack.response_url(name),
        trigger_id=f"trig-{name}",
    )
    response = app.dispatch(payloads.bolt_request(body, SECRET))
    return response.status, response.body


def answer(slack: LocalSlack, name: str) -> Reply:
    calls = slack.wait_until(lambda c: c.method == "response_url" and c.path.endswith(name))
    return Reply(calls[0].params)


def test_bolt_still_forgets_the_ack_of_a_listener_that_raises_after_it(
    app: App, slack: LocalSlack
) -> None:
    @app.command("/pars")
    def refuse(ack: Ack) -> None:
        ack()
        raise UsageError("refused right after the ack")

    status, _ = command(app, slack, "bare")
    assert status == 404, (
        "Bolt now keeps the ack of a listener that raises after it: answering_errors in "
        "handlers/slack/errors.py may no longer be needed"
    )


def test_a_refusal_right_after_the_ack_is_acknowledged_and_shown(
    app: App, slack: LocalSlack
) -> None:
    def refuse(ack: Ack) -> None:
        ack()
        raise UsageError("`frobnicate` is not a /pars subcommand.")

    app.command("/pars")(answering_errors(refuse))
    status, _ = command(app, slack, "refused")
    assert status == 200
    shown = answer(slack, "refused")
    assert shown.text == "`frobnicate` is not a /pars subcommand."
    assert shown.ephemeral


def test_a_listener_that_fails_before_its_ack_is_still_acknowledged(
    app: App, slack: LocalSlack
) -> None:
    def crash(respond: Respond) -> None:
        raise RuntimeError("a bug")

    app.command("/pars")(answering_errors(crash))
    status, _ = command(app, slack, "crashed")
    assert status == 200
    assert answer(slack, "crashed").text == UNEXPECTED


def test_a_form_that_fails_before_its_ack_stays_open_with_the_reason(
    app: App, slack: LocalSlack
) -> None:
    def crash(view: dict[str, Any]) -> None:
        raise RuntimeError(f"a bug in {view['callback_id']}")

    app.view("some_form")(answering_errors(crash))
    body = payloads.view_submission(
        user_id=ALICE,
        team_id="T0LOCAL",
        view={"id": "V1", "type": "modal", "callback_id": "some_form", "private_metadata": ""},
        state={},
    )
    response = app.dispatch(payloads.bolt_request(body, SECRET))
    assert (response.status, response.body) == (
        200,
        '{"response_action": "errors", "errors": {"title": "' + UNEXPECTED + '"}}',
    )
