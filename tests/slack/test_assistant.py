"""The AI-app split view through app.dispatch: suggested prompts when a thread opens, then a title,
a status while searching and the answer in the thread."""

from __future__ import annotations

import json
from typing import Any

from fake_slack import FakeSlack
from slack_bolt import App
from slack_payloads import JSON, USER, as_blocks, checklist_items, dispatch, event_body

from bot.answers.catalog import ROLES, example_questions
from bot.answers.engine import Engine

DM = "D0ASSIST01"
THREAD = "1714000000.000100"


def send(app: App, event: dict[str, Any], event_id: str) -> None:
    assert dispatch(app, event_body(event, event_id), JSON).status == 200


def thread_started(user: str = USER) -> dict[str, Any]:
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {"user_id": user, "channel_id": DM, "thread_ts": THREAD, "context": {}},
        "event_ts": "1714000000.000101",
    }


def user_message(text: str, ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": DM,
        "user": USER,
        "text": text,
        "ts": ts,
        "thread_ts": THREAD,
    }


def test_an_opened_thread_suggests_one_question_per_role_from_the_corpus(
    inline_app: App, slack: FakeSlack, engine: Engine
) -> None:
    slack.locales[USER] = "zh-CN"
    send(inline_app, thread_started(), "EvAssist1")
    [call] = slack.received("assistant.threads.setSuggestedPrompts")
    assert (call.params["channel_id"], call.params["thread_ts"]) == (DM, THREAD)
    prompts = json.loads(call.params["prompts"]) if isinstance(call.params["prompts"], str) else call.params["prompts"]
    assert [p["title"] for p in prompts] == ["销售拜访前", "实施上线中", "新同事入门"]
    for prompt, role in zip(prompts, ROLES, strict=True):
        assert prompt["message"] in example_questions(engine.index.documents, role)
        assert not prompt["message"].startswith("/")  # a prompt is a question, not a command


def test_a_question_gets_a_title_a_status_and_the_answer_in_its_thread(inline_app: App, slack: FakeSlack) -> None:
    question = "Give me the go-live checklist"
    send(inline_app, user_message(question, "1714000000.000200"), "EvAssist2")
    [title] = slack.received("assistant.threads.setTitle")
    [status] = slack.received("assistant.threads.setStatus")
    assert title.params["title"] == question and status.params["status"].startswith("Searching")
    answers = slack.received("chat.postMessage", lambda c: c.params.get("channel") == DM)
    assert answers and all(a.params["thread_ts"] == THREAD for a in answers)
    order = [c.method for c in slack.calls if c.method in ("assistant.threads.setStatus", "chat.postMessage")]
    assert order[0] == "assistant.threads.setStatus"  # the status shows while the sources are searched
    assert checklist_items(as_blocks(answers[0].params))
    # The split view's messages go to the assistant alone: one answer, not a second from the DM listener.
    assert len({a.params["thread_ts"] for a in answers}) == 1 and len(answers) == len(
        slack.received("chat.postMessage")
    )
