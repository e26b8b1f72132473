"""What pars-bot wrote into its own buttons, option lists and forms, as Slack hands it back.

Button values, the values of the options of a checkbox or menu, and a form's
private_metadata are made by the bot, and read back as IDs, keys and JSON. One holding an
invisible control character (storage.pars.fields.control_character, the one rule for every
value) was not made by the bot: the request is refused before any handler reads it, rather
than an ID with a NUL reaching PostgreSQL, or a bidirectional override reaching a reply.
Text a person typed into a form is not looked at here: the validator names its field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from storage.pars.fields import control_character

REFUSED = (
    "This {what}'s data is damaged or was not made by pars-bot: it {problem}. Nothing was "
    "done; run the command again for a new one."
)


def _options(element: dict[str, Any]) -> Iterator[Any]:
    """The values of an element's chosen options (a checkbox, a menu)."""
    chosen = element.get("selected_options") or []
    if isinstance(element.get("selected_option"), dict):
        chosen = [*chosen, element["selected_option"]]
    for option in chosen:
        if isinstance(option, dict):
            yield option.get("value")


def _bot_made(body: dict[str, Any]) -> Iterator[Any]:
    for action in body.get("actions") or []:
        if isinstance(action, dict):
            yield action.get("value")
            yield from _options(action)
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    yield view.get("private_metadata")
    for container in (body.get("state"), view.get("state")):
        blocks = (container or {}).get("values") if isinstance(container, dict) else None
        for elements in (blocks or {}).values():
            for element in (elements or {}).values():
                if isinstance(element, dict):
                    yield from _options(element)


def _texts(value: Any) -> Iterator[str]:
    """A value's text, and the texts of the JSON it holds (most of the bot's values are JSON,
    where a control character arrives escaped: `\\u0000`)."""
    if isinstance(value, str):
        yield value
        if value[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except ValueError:
                return
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _texts(key)
            yield from _texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _texts(inner)


def refusal(body: dict[str, Any]) -> str | None:
    """Why a click or a form's submission is refused, if what the bot made holds a control
    character; None for anything else (a command, an event)."""
    if body.get("type") not in {"block_actions", "view_submission", "block_suggestion"}:
        return None
    for value in _bot_made(body):
        for text in _texts(value):
            if (problem := control_character(text)) is not None:
                what = "form" if body.get("type") == "view_submission" else "button"
                return REFUSED.format(what=what, problem=problem.split(";")[0])
    return None


def visible(text: str) -> str:
    """`text` with each control character shown as U+FFFD, to name it in a reply."""
    return "".join("\N{REPLACEMENT CHARACTER}" if control_character(c) else c for c in text)
