"""Requests as Slack sends them (signed), and reading what the bot posted."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any
from urllib.parse import urlencode

from fake_slack import BOT_USER_ID, TEAM_ID
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret-0123456789"
SALES_CHANNEL = "CSALES0001"  # scoped by id
DELIVERY_CHANNEL = "CDELIV0001"  # scoped by name ("delivery")
OPEN_CHANNEL = "COPEN00001"  # no scope
DM_CHANNEL = "DDIRECT001"
USER = "UASKER0001"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class InlineExecutor(Executor):
    """Runs each listener before dispatch returns, so a test can check what did *not* happen."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 (handed to the future, as a pool would)
            future.set_exception(error)
        return future


# --- request bodies, as Slack sends them ------------------------------------------
def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "AVALUE0001",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )


def mention_event(text: str, channel: str, ts: str, thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "app_mention", "user": USER, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts, "channel": channel}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_event(text: str, channel: str, ts: str, channel_type: str = "channel", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "user": USER,
        "text": text,
        "ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        **extra,
    }


def command_body(text: str, channel: str, response_url: str, channel_name: str = "general") -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": USER,
            "command": "/relay",
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def vote_body(
    action_id: str, answer_id: str, channel: str, message_ts: str, response_url: str, thread_ts: str | None = None
) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": USER},
        "team": {"id": TEAM_ID},
        "api_app_id": "AVALUE0001",
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": message_ts, "is_ephemeral": False},
        "message": {"ts": message_ts, **({"thread_ts": thread_ts} if thread_ts else {})},
        "response_url": response_url,
        "trigger_id": "1.2.3",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "feedback", "value": answer_id}],
    }
    return urlencode({"payload": json.dumps(payload)})


def signed_headers(
    body: str, content_type: str, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body),
    }


def post(url: str, body: str, content_type: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """POST a request the way Slack does: signed with the app's secret unless headers are given."""
    sent = headers if headers is not None else signed_headers(body, content_type)
    request = urllib.request.Request(url, data=body.encode("utf-8"), headers=sent, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def dispatch(app: App, body: str, content_type: str) -> Any:
    """Through app.dispatch, signed like a real request."""
    headers = signed_headers(body, content_type)
    return app.dispatch(BoltRequest(body=body, headers={k.lower(): v for k, v in headers.items()}))


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """All text of a message's blocks, in order."""
    parts = []
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for row in block.get("rows", []):  # a table block
            parts.append(" | ".join(cell.get("text", "") for cell in row))
        for element in block.get("elements", []):
            if isinstance(element.get("text"), dict):
                parts.append(element["text"]["text"])
            elif isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)


def checklist_items(blocks: list[dict[str, Any]]) -> list[str]:
    """The checklist items a message shows, each the text beside its checkbox."""
    return [b["text"]["text"] for b in blocks if (b.get("accessory") or {}).get("action_id") == "tick_item"]


def as_blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks", [])
    return json.loads(blocks) if isinstance(blocks, str) else blocks
