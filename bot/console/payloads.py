"""Requests as Slack sends them: form-encoded bodies with Slack's signature headers."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier


def signed(body: str, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds to every request it sends, signing `body` with `secret`."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": signature,
    }


def bolt_request(body: str, secret: str) -> BoltRequest:
    return BoltRequest(body=body, headers=signed(body, secret))


def slash_command(
    text: str, *, user_id: str, team_id: str, channel_id: str, response_url: str, trigger_id: str
) -> str:
    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": team_id,
            "team_domain": "local",
            "channel_id": channel_id,
            "channel_name": "cme-office",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/pars",
            "text": text,
            "api_app_id": "A0PARSBOT",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interactive(payload: dict[str, Any]) -> str:
    """Interactivity requests carry their JSON in a single `payload` form field."""
    return urlencode({"payload": json.dumps(payload)})


def block_actions(
    *,
    user_id: str,
    team_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str,
    action: dict[str, Any],
    message: dict[str, Any],
    state: dict[str, Any],
) -> str:
    return interactive(
        {
            "type": "block_actions",
            "user": {"id": user_id, "team_id": team_id},
            "team": {"id": team_id, "domain": "local"},
            "api_app_id": "A0PARSBOT",
            "container": {"type": "message", "channel_id": channel_id, "is_ephemeral": True},
            "channel": {"id": channel_id, "name": "cme-office"},
            "trigger_id": trigger_id,
            "response_url": response_url,
            "message": message,
            "state": {"values": state},
            "actions": [action],
        }
    )


def view_submission(
    *, user_id: str, team_id: str, view: dict[str, Any], state: dict[str, Any]
) -> str:
    return interactive(
        {
            "type": "view_submission",
            "user": {"id": user_id, "team_id": team_id},
            "team": {"id": team_id, "domain": "local"},
            "api_app_id": "A0PARSBOT",
            "trigger_id": "",
            "view": {**view, "state": {"values": state}},
        }
    )


def event_request(
    event: dict[str, Any], *, team_id: str, secret: str, event_id: str
) -> BoltRequest:
    """An Events API request: JSON, signed like every request from Slack."""
    body = json.dumps(
        {
            "token": "legacy-unused",
            "team_id": team_id,
            "api_app_id": "A0PARSBOT",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    )
    headers = signed(body, secret) | {"content-type": "application/json"}
    return BoltRequest(body=body, headers=headers)
