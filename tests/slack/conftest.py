"""The Slack app under test: a real Bolt App on the real sample index, its Web API client
pointed at a local fake of Slack's servers, driven by correctly signed requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_slack import FakeSlack
from http_mode import serving
from slack_bolt import App
from slack_payloads import DELIVERY_CHANNEL, OPEN_CHANNEL, SALES_CHANNEL, SIGNING_SECRET, InlineExecutor

from bot.answers.engine import Engine
from bot.records import Records
from bot.settings import ChannelScope, Settings
from bot.slack.app import build_app
from bot.slack.relay import Relay


@pytest.fixture(scope="session")
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.channel_names = {DELIVERY_CHANNEL: "delivery", SALES_CHANNEL: "sales", OPEN_CHANNEL: "general"}
    yield fake
    fake.close()


@pytest.fixture
def slack(fake_slack: FakeSlack) -> FakeSlack:
    """The fake with a clean record for this test."""
    with fake_slack._changed:
        fake_slack.calls.clear()
    fake_slack.thread_messages.clear()
    fake_slack.locales.clear()
    fake_slack.uploaded.clear()
    fake_slack._queued.clear()
    return fake_slack


@pytest.fixture
def slack_settings(settings: Settings, slack: FakeSlack) -> Settings:
    return settings.model_copy(
        update={
            "slack_bot_token": "xoxb-test-token",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.api_url,
            # Answers are posted, never a placeholder first, however loaded the machine is;
            # the placeholder's own tests set this to 0.
            "slack_thinking_after": 600.0,
            "channel_scopes": {
                SALES_CHANNEL: ChannelScope(audience="sales", kinds=["playbook", "case"]),
                "#delivery": ChannelScope(audience="implementation", kinds=["stage_guide"]),
            },
        }
    )


@pytest.fixture
def relay(slack_settings: Settings, engine: Engine, records: Records) -> Relay:
    return Relay(slack_settings, engine, records)


@pytest.fixture
def inline_app(slack_settings: Settings, relay: Relay) -> App:
    return build_app(slack_settings, relay, listener_executor=InlineExecutor())


@pytest.fixture
def endpoint(slack_settings: Settings, relay: Relay) -> Iterator[str]:
    with serving(slack_settings, relay) as server:
        yield f"http://127.0.0.1:{server.port}/slack/events"
