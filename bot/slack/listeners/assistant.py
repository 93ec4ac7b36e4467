"""The AI-app split view (Bolt's `Assistant`): suggested prompts per role when a thread opens, then
each question with a title, a status while the sources are searched, and the answer in the thread."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Assistant, BoltContext, SetStatus, SetSuggestedPrompts, SetTitle
from slack_sdk import WebClient

from bot.slack import blocks
from bot.slack.listeners.events import answer_event
from bot.slack.listeners.replies import asker_lang, question_text, relay_of

TITLE_CHARS = 80  # a thread's title in the history list: the question's opening words


def register(app: App) -> None:
    assistant = Assistant()
    assistant.thread_started(on_thread_started)
    assistant.user_message(on_user_message)
    app.use(assistant)


def on_thread_started(
    payload: dict[str, Any], set_suggested_prompts: SetSuggestedPrompts, client: WebClient, context: BoltContext
) -> None:
    relay = relay_of(context)
    lang = asker_lang(client, relay, payload["assistant_thread"]["user_id"])
    prompts = relay.suggested_prompts(lang)
    if prompts:
        set_suggested_prompts(prompts=prompts)


def on_user_message(
    payload: dict[str, Any], set_title: SetTitle, set_status: SetStatus, client: WebClient, context: BoltContext
) -> None:
    question = question_text(payload.get("text", ""))
    if not question:
        return
    set_title(question[:TITLE_CHARS])
    # Slack clears the status when the answer is posted in the thread.
    set_status(blocks.text(asker_lang(client, relay_of(context), payload.get("user", "")), "searching"))
    answer_event(payload, client, context, "assistant", payload["thread_ts"])
