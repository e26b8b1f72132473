"""Slack's mrkdwn escaping: text that goes into Slack, and slash-command text that comes from it.

Slack reads `<...>` in mrkdwn as a mention, a channel ping (`<!channel>`) or a link, and `&` as
the start of an entity; only `&`, `<` and `>` need escaping
(https://api.slack.com/reference/surfaces/formatting#escaping). plain_text objects (modal
inputs' initial values, labels, button texts, headers) are shown as they are and must not be
escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from storage.errors import ParsError

_ENTITY = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}


def escape(value: object) -> str:
    """Any value as mrkdwn that shows it literally: no pings, no links."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slash-command text as the user typed it: Slack sends `&`, `<`, `>` as entities.

    One pass, so a user who typed `&lt;` literally (sent as `&amp;lt;`) gets `&lt;` back. Slack's
    own markup (`<@U123|jane>`, `<https://...|label>`) arrives unescaped and stays as it is.
    """
    return _ENTITY.sub(lambda m: _UNESCAPED[m.group(1)], text)


# Slack's own markup in slash-command text: a mention `<@U123|jane>`, a link `<https://x|x>`.
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]*)(?:\|[^>]*)?>", re.IGNORECASE)


def mention_id(text: str) -> str:
    """Slack's mention of a person (`owner=@jane` arrives as `<@U123|jane>`) as the member ID;
    any other text as it is."""
    match = _MENTION.fullmatch(text.strip())
    return match.group(1) if match else text


def link_url(text: str) -> str:
    """Slack's link markup (a typed address arrives as `<https://...|...>`) as the address;
    any other text as it is."""
    match = _LINK.fullmatch(text.strip())
    return match.group(1) if match else text


def escape_message(text: str, people: Iterable[str] = ()) -> str:
    """A store or usage message as mrkdwn: the values it quotes escaped, its people mentioned.

    The store names a person as `@U123` and lists the ID in the error's `people`; only those
    become mentions, so a value the user typed that looks like one stays text.
    """
    escaped = escape(text)
    for user_id in people:
        escaped = re.sub(rf"@{re.escape(user_id)}\b", f"<@{user_id}>", escaped)
    return escaped


def error_text(error: ParsError) -> str:
    """A store error as mrkdwn (see `escape_message`)."""
    return escape_message(error.message, error.people)


def cut(text: str, limit: int) -> str:
    """Escaped text shortened to `limit` characters with an ellipsis, never inside an entity."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + "…"
