"""A Slack modal as a terminal form: one prompt per input, the answers as Slack's view state."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


class LeftForm(Exception):
    """The user left the form; `line` is a command typed instead of an answer, if any."""

    def __init__(self, line: str | None) -> None:
        super().__init__(line)
        self.line = line


def _is_time(line: str) -> bool:
    """`time` or `time 2026-03-30T09:00`: the console's clock, never a field's value."""
    return re.fullmatch(r"time(\s+\d{4}-\d{2}-\d{2}\S*)?", line) is not None


def _text(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else str(obj or "")


class Form:
    def __init__(
        self, view: dict[str, Any], read: Callable[[str], str | None], say: Callable[[str], None]
    ) -> None:
        self.view = view
        self._read, self._say = read, say
        self.inputs = [b for b in view.get("blocks") or [] if b.get("type") == "input"]

    def label(self, block_id: str) -> str:
        for block in self.inputs:
            if block["block_id"] == block_id:
                return _text(block["label"])
        return block_id

    def fill(
        self, *, only: set[str] | None = None, previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        title = _text(self.view.get("title"))
        notes = [
            " ".join(_text(e) for e in b.get("elements") or [])
            for b in self.view.get("blocks") or []
            if b.get("type") == "context"
        ]
        self._say(f"== {title} ==  (Enter keeps a value, - clears it)")
        for note in notes:
            self._say(note)
        state: dict[str, Any] = {}
        for block in self.inputs:
            block_id = block["block_id"]
            element = block["element"]
            current = (previous or {}).get(block_id, {}).get(element["action_id"])
            if current is None:
                current = self._initial(element)
            if only is None or block_id in only:
                current = self._ask(block, element, current)
            state[block_id] = {element["action_id"]: current}
        return state

    @staticmethod
    def _initial(element: dict[str, Any]) -> dict[str, Any]:
        kind = element["type"]
        if kind == "static_select":
            return {"type": kind, "selected_option": element.get("initial_option")}
        if kind == "multi_static_select":
            return {"type": kind, "selected_options": element.get("initial_options") or []}
        if kind == "datepicker":
            return {"type": kind, "selected_date": element.get("initial_date")}
        if kind == "users_select":
            return {"type": kind, "selected_user": element.get("initial_user")}
        return {"type": kind, "value": element.get("initial_value")}

    @staticmethod
    def _shown(value: dict[str, Any]) -> str:
        if "selected_option" in value:
            return _text((value["selected_option"] or {}).get("text"))
        if "selected_options" in value:
            return ", ".join(_text(o.get("text")) for o in value["selected_options"])
        for key in ("selected_date", "selected_user", "value"):
            if key in value:
                return str(value[key] or "")
        return ""

    def _ask(
        self, block: dict[str, Any], element: dict[str, Any], current: dict[str, Any]
    ) -> dict[str, Any]:
        name = _text(block["label"]) + ("" if block.get("optional") else " *")
        options = element.get("options") or []
        if options:
            self._say(
                "  " + "  ".join(f"{i}) {_text(o['text'])}" for i, o in enumerate(options, 1))
            )
        while True:
            answer = self._read(f"{name} [{self._shown(current)}]: ")
            if answer is None:
                raise LeftForm(None)
            answer = answer.strip()
            if answer == "cancel":
                raise LeftForm(None)
            if answer.startswith("/pars") or answer in {"quit", "exit"} or _is_time(answer):
                raise LeftForm(answer)  # a console line, not a value: run it
            if not answer:
                if not block.get("optional") and not self._shown(current):
                    self._say("  This field is required.")
                    continue
                return current
            if answer == "-":
                return self._initial({"type": element["type"], "action_id": element["action_id"]})
            chosen = self._answer(element, answer)
            if chosen is not None:
                return chosen
            self._say("  Pick by number or name from the list (several: 1,3).")

    @staticmethod
    def _answer(element: dict[str, Any], answer: str) -> dict[str, Any] | None:
        kind = element["type"]
        options = element.get("options") or []

        def pick(word: str) -> dict[str, Any] | None:
            word = word.strip()
            if word.isdigit() and 1 <= int(word) <= len(options):
                return options[int(word) - 1]
            for option in options:
                if word.lower() in {option["value"].lower(), _text(option["text"]).lower()}:
                    return option
            return None

        if kind == "static_select":
            option = pick(answer)
            return None if option is None else {"type": kind, "selected_option": option}
        if kind == "multi_static_select":
            picked = [pick(w) for w in answer.split(",") if w.strip()]
            if any(p is None for p in picked):
                return None
            return {"type": kind, "selected_options": picked}
        if kind == "datepicker":
            return {"type": kind, "selected_date": answer}
        if kind == "users_select":
            return {"type": kind, "selected_user": answer.strip("<@>").split("|")[0]}
        return {"type": kind, "value": answer}
