"""Reading a thread for context, against the local Web API: Slack pages a thread from its start."""

from __future__ import annotations

from fake_slack import BOT_USER_ID, FakeSlack
from slack_payloads import OPEN_CHANNEL, USER
from slack_sdk import WebClient

from bot.slack.listeners.replies import THREAD_HISTORY, thread_history


def test_a_long_threads_latest_messages_are_its_context(slack: FakeSlack) -> None:
    root = "1713000000.000000"
    thread = [{"ts": f"1713000000.{n:06d}", "user": USER, "text": f"message {n}"} for n in range(450)]
    thread[430] = {"ts": thread[430]["ts"], "user": BOT_USER_ID, "bot_id": "B1", "text": "the bot's answer"}
    slack.thread_messages[(OPEN_CHANNEL, root)] = thread
    client = WebClient(token="xoxb-test-token", base_url=slack.api_url)

    history = thread_history(client, OPEN_CHANNEL, root, thread[440]["ts"], BOT_USER_ID)

    # The 20 people's messages just before message 440: not the thread's first ones, not the bot's.
    expected = [f"message {n}" for n in range(419, 440) if n != 430]
    assert list(history) == expected and len(history) == THREAD_HISTORY
    assert len(slack.received("conversations.replies")) == 3  # 441 messages in pages of 200
