"""Block Kit as terminal text, and the buttons and checkboxes a message offers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Control:
    label: str
    block_id: str
    element: dict[str, Any]


@dataclass
class Rendered:
    text: str
    buttons: list[Control] = field(default_factory=list)
    checkboxes: list[Control] = field(default_factory=list)


def text_of(obj: dict[str, Any] | str | None) -> str:
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    return str(obj.get("text", ""))


# The console's channels by ID (see session.CHANNELS), to show `<#C0CMEOFFICE>` as a name.
CHANNEL_NAMES = {"C0CONSOLE": "console", "C0CMEOFFICE": "cme-office", "C0GENERAL": "general"}


def mrkdwn_to_plain(text: str) -> str:
    text = re.sub(r"<@([A-Z0-9]+)(\|[^>]*)?>", r"@\1", text)
    text = re.sub(r"<#([A-Z0-9]+)\|([^>]+)>", r"#\2", text)
    text = re.sub(r"<!date\^[^|>]*\|([^>]*)>", r"\1", text)  # Slack's date: its fallback
    text = re.sub(r"<#([A-Z0-9]+)>", lambda m: f"#{CHANNEL_NAMES.get(m[1], m[1])}", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_blocks(blocks: list[dict[str, Any]] | None, fallback: str = "") -> Rendered:
    if not blocks:
        return Rendered(mrkdwn_to_plain(fallback))
    out = Rendered("")
    lines: list[str] = []
    for index, block in enumerate(blocks):
        block_id = block.get("block_id") or f"block{index}"
        kind = block.get("type")
        if kind in {"section", "header"}:
            if block.get("text"):
                lines.append(text_of(block["text"]))
            lines += [text_of(f) for f in block.get("fields") or []]
            accessory = block.get("accessory")
            if accessory:
                lines.append(_control(out, block_id, accessory))
        elif kind == "context":
            lines.append("  " + " ".join(text_of(e) for e in block.get("elements") or []))
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            lines.append("  ".join(_control(out, block_id, e) for e in block.get("elements") or []))
    out.text = mrkdwn_to_plain("\n".join(line for line in lines if line))
    return out


def _control(out: Rendered, block_id: str, element: dict[str, Any]) -> str:
    if element.get("type") == "button":
        label = text_of(element.get("text"))
        out.buttons.append(Control(label, block_id, element))
        return f"[{label}]"
    if element.get("type") == "checkboxes":
        out.checkboxes.append(Control("", block_id, element))
        return "\n".join(
            f"[ ] {o['value']}: {text_of(o.get('text'))}" for o in element.get("options") or []
        )
    return ""
