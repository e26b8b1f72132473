"""Slack's mrkdwn escaping: text that goes into Slack, and slash-command text that comes from it.

Slack reads `<...>` in mrkdwn as a mention, a channel ping (`<!channel>`) or a link, and `&` as
the start of an entity; only `&`, `<` and `>` need escaping
(https://api.slack.com/reference/surfaces/formatting#escaping). plain_text objects (modal
inputs' initial values, labels, button texts, headers) are shown as they are and must not be
escaped.
"""

from __future__ import annotations

import re

_ENTITY = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}
# A mention exactly as the store writes it (`<@U123>`, never with a `|label`), once escaped.
_ESCAPED_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")


def escape(value: object) -> str:
    """Any value as mrkdwn that shows it literally: no pings, no links."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slash-command text as the user typed it: Slack sends `&`, `<`, `>` as entities.

    One pass, so a user who typed `&lt;` literally (sent as `&amp;lt;`) gets `&lt;` back. Slack's
    own markup (`<@U123|jane>`, `<https://...|label>`) arrives unescaped and stays as it is.
    """
    return _ENTITY.sub(lambda m: _UNESCAPED[m.group(1)], text)


def escape_message(text: str) -> str:
    """A store or usage message as mrkdwn: the values it quotes escaped, its mentions kept.

    The store writes a person as `<@U123>` ("belongs to <@U123>"); those stay mentions. A user
    value that happens to look exactly like that becomes a mention too, which is harmless: these
    messages are ephemeral, so nobody is notified, and `<!channel>`, links and `<#C...>` stay
    inert.
    """
    return _ESCAPED_MENTION.sub(r"<@\1>", escape(text))


def cut(text: str, limit: int) -> str:
    """Escaped text shortened to `limit` characters with an ellipsis, never inside an entity."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + "…"
