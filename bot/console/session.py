"""`pars-bot console`: the real Bolt app driven from a terminal or a script, with no Slack.

Each line becomes the request Slack would send (signed, dispatched to the same app); what
the bot sends back to the local stand-in for Slack is printed as text. A modal is shown as
a form filled in line by line.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from slack_bolt import App, BoltResponse

from bot.console import payloads
from bot.console.render import (
    CHANNEL_NAMES,
    Control,
    Rendered,
    mrkdwn_to_plain,
    render_blocks,
    text_of,
)
from bot.local_slack import Call, LocalSlack
from handlers.slack.mrkdwn import escape
from storage.pars.rules import accepted_years

HELP = """Type a slash command as in Slack, e.g. /pars help, or:
  click LABEL [VALUE]   click a button of the last message (VALUE picks among equal labels)
  click #N LABEL [VALUE]  click a button of message #N (messages with buttons are numbered);
                        a confirmation Slack would ask first is shown and answered yes
  check ID [ID ...]     tick checkboxes of the last message (again to untick)
  time ISO-DATETIME     pretend it is that moment (later commands see it too) and run the
                        reminder pass due then, e.g. time 2026-03-30T09:00 (DMs are shown)
  upload FILE           share a spreadsheet: the bot answers with a preview to Apply
  quit                  leave
Files the bot posts (exports, templates, checked copies) are saved in the files folder.
Channels: #console (where you type), #cme-office, #general.
In a form: Enter keeps the value shown, - clears it; a /pars, time or quit line leaves it."""

# The console's channels, by name, as Slack would link `#name` in a command.
CHANNELS = {name: channel_id for channel_id, name in CHANNEL_NAMES.items()}
_CHANNEL = re.compile(r"(?<![\w<&#])#([a-z0-9][a-z0-9_-]*)")


TIME_USAGE = "Give a date and time such as 2026-04-01T09:00 (provider's time zone)."


class YearOutOfRange(ValueError):
    """A `time` the bot could not compute with (its dates end at the calendar's end)."""


class ConsoleClock:
    """The console's notion of now: the real clock until `time` sets it."""

    def __init__(self, timezone: ZoneInfo) -> None:
        self.timezone = timezone
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)

    def set(self, text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        years = accepted_years(datetime.now(self.timezone).date())
        if moment.year not in years:
            raise YearOutOfRange(f"{TIME_USAGE[:-1]}, in a year from {years[0]} to {years[-1]}.")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.timezone)
        self.fixed = moment
        return moment


class Console:
    def __init__(
        self,
        *,
        app: App,
        slack: LocalSlack,
        secret: str,
        clock: ConsoleClock,
        user_id: str,
        team_id: str,
        read: Callable[[str], str | None],
        out: TextIO,
        on_time: Callable[[datetime], str] | None = None,
        files: Path | None = None,
    ) -> None:
        self.app, self.slack, self.secret, self.clock = app, slack, secret, clock
        self.user_id, self.team_id = user_id, team_id
        self.channel_id = "C0CONSOLE"
        self._read, self._out = read, out
        self._ids = itertools.count(1)
        self._last: Rendered | None = None
        self._last_message: dict[str, Any] = {}
        # Every message shown with buttons, by number, so that any of them can be clicked.
        self._numbered: dict[int, tuple[Rendered, dict[str, Any]]] = {}
        self._files = files
        self._checked: set[str] = set()
        self._on_time = on_time  # a reminder pass at the new moment; returns a summary

    # -- the loop -----------------------------------------------------------------------------
    def run(self) -> None:
        pending: str | None = None
        while True:
            line = pending if pending is not None else self._read("pars> ")
            pending = None
            if line is None:
                return
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line in {"quit", "exit"}:
                return
            pending = self.handle(line)

    def handle(self, line: str) -> str | None:
        """Act on one line; returns a line typed inside a form that is to be run next."""
        word, _, rest = line.partition(" ")
        if word == "/pars":
            return self._command(rest)
        if word == "click":
            return self._click(rest)
        if word == "check":
            self._check(rest)
            return None
        if word == "time":
            self._time(rest)
            return None
        if word == "upload":
            self._upload(rest)
            return None
        if word in {"help", "?"}:
            self._say(HELP)
            return None
        self._say(f"I don't know `{word}`. Type help for what the console understands.")
        return None

    # -- lines --------------------------------------------------------------------------------
    def _command(self, text: str) -> str | None:
        body = payloads.slash_command(
            _link_channels(escape(text)),  # as Slack sends it: & < > as entities, #channel linked
            user_id=self.user_id,
            team_id=self.team_id,
            channel_id=self.channel_id,
            response_url=self.slack.response_url(f"cmd{next(self._ids)}"),
            trigger_id=f"trigger-{next(self._ids)}",
        )
        return self._dispatch(body)

    def _click(self, rest: str) -> str | None:
        words = rest.replace('"', " ").split()
        if words and re.fullmatch(r"#\d+", words[0]):
            number = int(words.pop(0)[1:])
            if number not in self._numbered:
                self._say(f"There is no message #{number} with buttons.")
                return None
            self._last, self._last_message = self._numbered[number]
            self._checked = set()
        if self._last is None or not self._last.buttons:
            self._say("The last message has no buttons to click.")
            return None
        buttons = self._last.buttons
        # `click Close selected` names a label; `click Open edit form GR-1` adds a value.
        tries = [(" ".join(words), None)]
        if len(words) > 1:
            tries.append((" ".join(words[:-1]), words[-1]))
        matches: list[Control] = []
        for label, value in tries:
            matches = [
                b
                for b in buttons
                if label
                and b.label.lower().startswith(label.lower())
                and (value is None or b.element.get("value") == value)
            ]
            if matches:
                break
        if not matches:
            labels = ", ".join(f'"{b.label}"' for b in buttons)
            self._say(f"Click one of: {labels}")
            return None
        if len({(b.label, b.element.get("value")) for b in matches}) > 1:
            choices = ", ".join(f"{b.label} {b.element.get('value')}" for b in matches)
            self._say(f"Several buttons match; say which: click LABEL VALUE (one of: {choices})")
            return None
        return self._press(matches[0])

    def _press(self, button: Control) -> str | None:
        confirm = button.element.get("confirm")
        if confirm:
            # Slack shows this dialog before it sends the click; `click` answers it as well.
            title, question = (mrkdwn_to_plain(text_of(confirm.get(k))) for k in ("title", "text"))
            yes = text_of(confirm.get("confirm")) or "Yes"
            no = text_of(confirm.get("deny")) or "No"
            self._say(f"Slack asks first: {title} {question} [{yes}] [{no}] — clicked [{yes}].")
        action = {
            "type": "button",
            "block_id": button.block_id,
            "action_id": button.element["action_id"],
            "value": button.element.get("value", ""),
            "text": button.element.get("text"),
            "action_ts": "1",
        }
        body = payloads.block_actions(
            user_id=self.user_id,
            team_id=self.team_id,
            channel_id=self.channel_id,
            response_url=self.slack.response_url(f"act{next(self._ids)}"),
            trigger_id=f"trigger-{next(self._ids)}",
            action=action,
            message=self._last_message,
            state=self._checkbox_state(),
        )
        return self._dispatch(body)

    def _checkbox_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for box in self._last.checkboxes if self._last else []:
            options = [o for o in box.element.get("options") or [] if o["value"] in self._checked]
            state[box.block_id] = {
                box.element["action_id"]: {"type": "checkboxes", "selected_options": options}
            }
        return state

    def _check(self, rest: str) -> None:
        offered = {
            o["value"]
            for box in (self._last.checkboxes if self._last else [])
            for o in box.element.get("options") or []
        }
        for value in rest.split():
            if value not in offered:
                self._say(f"`{value}` is not a checkbox of the last message.")
                continue
            self._checked ^= {value}
        ticked = ", ".join(sorted(self._checked)) or "nothing"
        self._say(f"Ticked: {ticked}")

    def _time(self, rest: str) -> None:
        if not rest.strip():
            self._say(f"It is {self.clock().astimezone(self.clock.timezone):%Y-%m-%d %H:%M %Z}.")
            return
        try:
            moment = self.clock.set(rest.strip())
        except ValueError as error:
            self._say(f"{error}" if isinstance(error, YearOutOfRange) else TIME_USAGE)
            return
        self._say(f"It is now {moment.astimezone(self.clock.timezone):%Y-%m-%d %H:%M %Z}.")
        if self._on_time is not None:
            mark = self.slack.mark()
            summary = self._on_time(moment)
            self._show_calls(self.slack.since(mark))
            self._say(summary)

    def _upload(self, rest: str) -> None:
        path = Path(rest.strip().strip('"').strip("'")).expanduser()
        if not rest.strip() or not path.is_file():
            self._say(
                f"No file {rest.strip() or '(none given)'}: give a path, e.g. upload sheet.xlsx"
            )
            return
        shared = self.slack.host_file(path.name, path.read_bytes(), user=self.user_id)
        event = {
            "type": "message",
            "subtype": "file_share",
            "channel": self.channel_id,
            "channel_type": "channel",
            "user": self.user_id,
            "text": "",
            "files": [shared],
            "ts": f"{time.time():.6f}",
        }
        mark = self.slack.mark()
        request = payloads.event_request(
            event, team_id=self.team_id, secret=self.secret, event_id=f"Ev{next(self._ids):08d}"
        )
        self._show_ack(self.app.dispatch(request))
        self._show_calls(self.slack.since(mark))

    # -- requests and what came back ----------------------------------------------------------
    def _dispatch(self, body: str) -> str | None:
        mark = self.slack.mark()
        response = self.app.dispatch(payloads.bolt_request(body, self.secret))
        self._show_ack(response)
        return self._show_calls(self.slack.since(mark))

    def _show_ack(self, response: BoltResponse) -> dict[str, Any]:
        if response.status >= 400:
            self._say(f"(the bot answered HTTP {response.status}: {response.body})")
            return {}
        if not response.body:
            return {}
        try:
            answer = json.loads(response.body)
        except ValueError:
            self._say(response.body)
            return {}
        if isinstance(answer, dict) and answer.get("text"):
            self._show_message(answer)
        return answer if isinstance(answer, dict) else {}

    def _show_calls(self, calls: list[Call]) -> str | None:
        for call in calls:
            if call.method == "response_url" or call.method == "chat.postMessage":
                prefix = ""
                if call.method == "chat.postMessage":
                    in_dm = str(call.params.get("channel", "")).startswith("D")
                    prefix = "(DM) " if in_dm else "(in the thread) "
                self._show_message(call.params, prefix)
            elif call.method == "chat.update":
                self._show_message(call.params | {"replace_original": True}, "(updated) ")
            elif call.method == "files.completeUploadExternal":
                for upload in self.slack.uploads.values():
                    if upload.get("complete") and not upload.get("shown"):
                        upload["shown"] = True
                        self._say(self._saved(upload))
            elif call.method == "views.open":
                return self._fill_form(call.params["view"])
            elif call.method == "views.publish":
                self._say("(App Home updated)")
        return None

    def _show_message(self, params: dict[str, Any], prefix: str = "") -> None:
        rendered = render_blocks(params.get("blocks"), params.get("text", ""))
        if rendered.buttons or rendered.checkboxes or not params.get("replace_original"):
            self._last, self._last_message = rendered, {"blocks": params.get("blocks") or []}
            self._checked = set()
        if rendered.buttons:
            number = len(self._numbered) + 1
            self._numbered[number] = (rendered, self._last_message)
            prefix = f"#{number} {prefix}"
        self._say(prefix + rendered.text)

    def _saved(self, upload: dict[str, Any]) -> str:
        """A file the bot posted, written to the files folder: where it is."""
        name = str(upload.get("name") or upload.get("title") or "file")
        if self._files is None:
            return f"(file posted: {name})"
        self._files.mkdir(parents=True, exist_ok=True)
        path = self._files / Path(name).name  # a name from Slack's side is never a path
        stem, suffix, n = path.stem, path.suffix, 1
        while path.exists():
            n += 1
            path = path.with_name(f"{stem} ({n}){suffix}")
        path.write_bytes(upload.get("data") or b"")
        return f"(file posted: {name}; saved as {path})"

    def _say(self, text: str) -> None:
        self._line(text + "\n")

    def _line(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    # -- modals -------------------------------------------------------------------------------
    def _fill_form(self, view: dict[str, Any]) -> str | None:
        from bot.console.form import Form, LeftForm

        asking: set[str] | None = None  # None: every field
        while True:
            form = Form(view, self._read, self._line)
            try:
                state = form.fill(only=asking, previous=getattr(self, "_form_state", None))
            except LeftForm as left:
                self._form_state = None
                self._say("(form closed without saving)")
                return left.line
            self._form_state = state
            body = payloads.view_submission(
                user_id=self.user_id, team_id=self.team_id, view=view, state=state
            )
            mark = self.slack.mark()
            answer = self._show_ack(self.app.dispatch(payloads.bolt_request(body, self.secret)))
            action = answer.get("response_action")
            if action == "errors":
                for block_id, message in answer.get("errors", {}).items():
                    self._line(f"✗ {form.label(block_id)}: {message}")
                asking = set(answer.get("errors", {}))
                continue
            if action == "update":
                view, asking, self._form_state = answer["view"], None, None
                continue
            self._form_state = None
            return self._show_calls(self.slack.since(mark))


def _link_channels(text: str) -> str:
    """`#cme-office` as Slack sends a channel typed in a command: `<#C0CMEOFFICE|cme-office>`."""
    return _CHANNEL.sub(
        lambda m: f"<#{CHANNELS[m.group(1)]}|{m.group(1)}>" if m.group(1) in CHANNELS else m[0],
        text,
    )
