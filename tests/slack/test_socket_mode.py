"""Socket Mode end to end: the app opens its connection through apps.connections.open on the
configured Web API, receives envelopes over a (local) WebSocket, acknowledges each one and
answers through the Web API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
from fake_slack import FakeSlack
from fake_socket_mode import FakeSocketMode
from slack_payloads import (
    OPEN_CHANNEL,
    as_blocks,
    checklist_items,
    command_body,
    event_body,
    mention_event,
)

from bot.settings import Settings
from bot.slack.app import build_app, socket_mode_handler
from bot.slack.relay import Relay


@pytest.fixture
def socket_server(slack: FakeSlack) -> Iterator[FakeSocketMode]:
    server = FakeSocketMode()
    slack.socket_url = server.url
    yield server
    slack.socket_url = None
    server.close()


def test_mention_and_command_over_socket_mode(
    slack_settings: Settings, relay: Relay, slack: FakeSlack, socket_server: FakeSocketMode
) -> None:
    handler = socket_mode_handler(build_app(slack_settings, relay), "xapp-1-socket-test")
    handler.connect()
    try:
        [opened] = slack.received("apps.connections.open")
        assert opened.headers.get("Authorization") == "Bearer xapp-1-socket-test"

        event = json.loads(
            event_body(mention_event("Give me the survey checklist", OPEN_CHANNEL, "1714000000.000100"), "EvSock1")
        )
        socket_server.push(
            {"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False, "payload": event}
        )
        assert socket_server.wait_for_reply("env-1") == {"envelope_id": "env-1"}
        [answer] = slack.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == OPEN_CHANNEL)
        assert answer.params["thread_ts"] == "1714000000.000100"
        assert checklist_items(as_blocks(answer.params))

        command = dict(parse_qsl(command_body("help", OPEN_CHANNEL, slack.response_url("sock"))))
        socket_server.push(
            {"envelope_id": "env-2", "type": "slash_commands", "accepts_response_payload": True, "payload": command}
        )
        reply = socket_server.wait_for_reply("env-2")
        assert "/relay checklist" in json.dumps(reply["payload"])
    finally:
        handler.close()
