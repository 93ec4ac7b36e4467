"""Events API: @mentions in channels (answered in the thread), follow-ups in those threads, DMs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.blocks import Message
from bot.slack.listeners.replies import (
    Reply,
    answer_safely,
    asker_lang,
    channel_name,
    mentions,
    question_text,
    relay_of,
    thread_history,
)
from bot.slack.relay import Where

# Message subtypes that are people writing; edits, joins, bot posts and the like are not questions.
QUESTION_SUBTYPES = {None, "thread_broadcast", "file_share"}


def register(app: App) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)


def is_from_bot(event: dict[str, Any], context: BoltContext) -> bool:
    return (
        bool(event.get("bot_id")) or event.get("subtype") == "bot_message" or event.get("user") == context.bot_user_id
    )


def answer_event(
    event: dict[str, Any], client: WebClient, context: BoltContext, surface: str, thread_ts: str | None
) -> None:
    relay = relay_of(context)
    channel = event["channel"]
    question = question_text(event.get("text", ""))
    user = event.get("user", "")
    where = Where(surface, channel, user, thread_ts, lang=asker_lang(client, relay, user) if user else "en")

    # The split view shows its own status while searching: no "Looking that up…" line there.
    after = 600.0 if surface == "assistant" else relay.settings.slack_thinking_after
    reply = Reply(client, where, after, context.team_id)

    def produce() -> list[Message]:
        scoped = replace(where, channel_name=channel_name(client, relay, channel))
        history: tuple[str, ...] = ()
        if event.get("thread_ts"):
            history = thread_history(client, channel, event["thread_ts"], event["ts"], context.bot_user_id)
        return relay.ask(question, scoped, history, on_text=reply.append if thread_ts else None)

    answer_safely(question, where, produce, reply.deliver)


def on_mention(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if is_from_bot(event, context) or not question_text(event.get("text", "")):
        return
    # Answer in the thread: the existing one, or a new one under the question.
    answer_event(event, client, context, "mention", event.get("thread_ts") or event["ts"])


def on_message(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if is_from_bot(event, context) or event.get("subtype") not in QUESTION_SUBTYPES:
        return
    text = event.get("text", "")
    if not question_text(text):
        return
    if event.get("channel_type") == "im":
        answer_event(event, client, context, "dm", event.get("thread_ts"))
        return
    thread_ts = event.get("thread_ts")
    relay = relay_of(context)
    if (
        thread_ts
        and relay.settings.slack_follow_up == "thread"
        and not mentions(text, context.bot_user_id)  # app_mention answers those
        and relay.records.answered_in_thread(event["channel"], thread_ts)
    ):
        answer_event(event, client, context, "thread", thread_ts)
