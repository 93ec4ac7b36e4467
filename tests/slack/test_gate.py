"""Hostile and bursty HTTP traffic against the real server `serve --http` runs: sizes and
signatures are checked before Bolt parses anything, and a burst of events is acknowledged whole."""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fake_slack import FakeSlack
from http_mode import serving
from slack_payloads import (
    FORM,
    JSON,
    OPEN_CHANNEL,
    as_blocks,
    checklist_items,
    event_body,
    mention_event,
    post,
    signed_headers,
)

from bot.settings import Settings
from bot.slack.relay import Relay

MALFORMED = {
    "broken JSON": ('{"type": "event_callback", "event": ', JSON),
    "a JSON array": ('[{"type": "event_callback"}]', JSON),
    "binary": ("\udcff\udcfe\x00\x01".encode("utf-8", "surrogateescape").decode("latin-1"), JSON),
    "a form without a payload": ("payload=%7Bnot-json", FORM),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_signed_body_bolt_cannot_parse_is_a_400_without_a_traceback(
    endpoint: str, slack: FakeSlack, capfd: pytest.CaptureFixture[str], name: str
) -> None:
    body, content_type = MALFORMED[name]
    assert post(endpoint, body, content_type)[0] == 400
    assert "Traceback" not in capfd.readouterr().err
    assert slack.received("chat.postMessage") == []


@pytest.mark.parametrize("name", list(MALFORMED))
def test_an_unsigned_or_badly_stamped_body_is_refused_before_it_is_parsed(
    endpoint: str, capfd: pytest.CaptureFixture[str], name: str
) -> None:
    body, content_type = MALFORMED[name]
    assert post(endpoint, body, content_type, {"Content-Type": content_type})[0] == 401
    stamped = {**signed_headers(body, content_type), "X-Slack-Request-Timestamp": "yesterday"}
    assert post(endpoint, body, content_type, stamped)[0] == 401
    assert "Traceback" not in capfd.readouterr().err


@pytest.fixture
def small_endpoint(slack_settings: Settings, relay: Relay) -> Iterator[str]:
    settings = slack_settings.model_copy(update={"max_request_bytes": 4096})
    with serving(settings, relay) as server:
        yield f"http://127.0.0.1:{server.port}/slack/events"


def test_a_body_past_the_size_limit_is_a_413_even_when_signed(small_endpoint: str, slack: FakeSlack) -> None:
    question = "what do we pitch to a hotpot chain? " + "x" * 4096
    body = event_body(mention_event(question, OPEN_CHANNEL, "1711000000.009000"), "EvHuge1")
    assert post(small_endpoint, body, JSON)[0] == 413
    small = event_body(mention_event("thanks!", OPEN_CHANNEL, "1711000000.009100"), "EvSmall1")
    assert post(small_endpoint, small, JSON)[0] == 200
    slack.wait_for("chat.postMessage")


def test_a_burst_of_fifty_signed_events_is_acknowledged_whole(
    endpoint: str, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    bodies = [
        event_body(mention_event("thanks, that helps!", OPEN_CHANNEL, f"1711000001.{i:06d}"), f"EvBurst{i}")
        for i in range(50)
    ]
    start = threading.Barrier(len(bodies))

    def send(body: str) -> int:
        start.wait()
        return post(endpoint, body, JSON)[0]

    began = time.monotonic()
    with ThreadPoolExecutor(len(bodies)) as pool:
        statuses = list(pool.map(send, bodies))
    logging.getLogger(__name__).info("50 acks in %.2f s", time.monotonic() - began)
    assert statuses == [200] * len(bodies)
    # Every one is answered too (and nothing is still posting when the next test starts).
    assert len(slack.wait_for("chat.postMessage", count=len(bodies))) == len(bodies)


def get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8"), dict(error.headers)


def test_healthz_says_ok_while_the_index_and_the_records_serve(slack_settings: Settings, relay: Relay) -> None:
    with serving(slack_settings, relay) as server:
        health = f"http://127.0.0.1:{server.port}/healthz"
        assert get(health)[:2] == (200, "ok")
        # The records database stops being writable (here: a folder where its file was).
        records_file = Path(str(relay.records.engine.url.database))
        records_file.unlink()
        records_file.mkdir()
        status, reason, _ = get(health)
        assert status == 503 and reason.startswith("records database: ")


def test_a_server_shutting_down_finishes_its_answers_and_asks_slack_to_retry_new_events(
    slack_settings: Settings, relay: Relay, slack: FakeSlack
) -> None:
    with serving(slack_settings, relay) as server:
        url = f"http://127.0.0.1:{server.port}/slack/events"
        body = event_body(
            mention_event("Give me the training checklist", OPEN_CHANNEL, "1711000002.000100"), "EvDrain1"
        )
        assert post(url, body, JSON)[0] == 200  # acknowledged: its answer is now in progress
        server.server.gate.draining = True  # as on SIGTERM
        late = event_body(mention_event("Give me the survey checklist", OPEN_CHANNEL, "1711000002.000200"), "EvDrain2")
        request = urllib.request.Request(url, data=late.encode(), headers=signed_headers(late, JSON), method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 503 and refused.value.headers["Retry-After"] == "5"
    # Leaving `serving` shut the server down: the acknowledged answer was posted before it ended.
    [answer] = slack.received("chat.postMessage", lambda c: c.params.get("thread_ts") == "1711000002.000100")
    assert checklist_items(as_blocks(answer.params))
    assert not slack.received("chat.postMessage", lambda c: c.params.get("thread_ts") == "1711000002.000200")
