"""Messages in channels the bot is in.

The manifest subscribes to them for spreadsheet uploads (batch work, a later release); until
then they are acknowledged and left alone, so Slack neither retries nor disables the events.
"""

from __future__ import annotations


def ignore_message() -> None:
    return None


def ignore_file_shared() -> None:
    return None
