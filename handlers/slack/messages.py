"""What every reply is made of: a message (fallback text and blocks) and its sections.

Layouts of each feature build on these; they take plain data, never a Slack request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from handlers.slack.mrkdwn import cut
from storage.db import stored_utc

# Slack's limit on the text of one section block.
SECTION_LIMIT = 3000


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[dict[str, Any]]

    def kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def compose(text: str, blocks: Sequence[Block]) -> Message:
    return Message(text=text, blocks=[b.to_dict() for b in blocks])


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=cut(text, SECTION_LIMIT)))


def line_sections(lines: Sequence[str]) -> list[SectionBlock]:
    """Lines in as few sections as Slack's 3,000 characters per section allow, none cut."""
    chunks: list[list[str]] = []
    for line in lines:
        if not chunks or len("\n".join([*chunks[-1], line])) > SECTION_LIMIT:
            chunks.append([])
        chunks[-1].append(line)
    return [section("\n".join(chunk)) for chunk in chunks]


def plural(n: int, one: str, many: str | None = None) -> str:
    """`1 activity`, `2 activities`: a count with its noun."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def plain(text: str) -> Message:
    """A message of mrkdwn the bot wrote; user values in it must already be escaped."""
    return compose(text, [section(text)])


def context_note(text: str) -> dict[str, Any]:
    return ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()


def local_date(moment: datetime, timezone: ZoneInfo) -> str:
    """The provider's calendar date of a stored instant (stored in UTC; SQLite drops the zone)."""
    return f"{stored_utc(moment).astimezone(timezone):%Y-%m-%d}"
