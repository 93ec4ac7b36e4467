"""Shared by the listeners: reading a message's question, its thread, and posting replies."""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.chat_stream import ChatStream

from bot.answers.cues import has_words
from bot.answers.engine import AnswerError
from bot.slack import blocks
from bot.slack.blocks import Message, Upload
from bot.slack.relay import Relay, Where

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
THREAD_HISTORY = 20  # earlier messages of a thread read as context
REPLIES_PAGE = 200  # Slack's recommended most per conversations.replies page


def relay_of(context: BoltContext) -> Relay:
    return context["relay"]


def question_text(raw: str) -> str:
    """The message without user mentions (the bot's own included); empty when no words remain
    (a "👍" or an emoji reaction typed as text asks nothing)."""
    text = MENTION.sub(" ", raw or "").strip()
    return text if has_words(text) else ""


def mentions(raw: str, user_id: str | None) -> bool:
    return bool(user_id) and f"<@{user_id}" in (raw or "")


def thread_history(
    client: WebClient, channel: str, thread_ts: str, before_ts: str, bot_user_id: str | None
) -> tuple[str, ...]:
    """The people's latest messages in a thread before this one, oldest first: what a follow-up
    refers to. Slack returns a thread from its start, page by page, so every page is read."""
    texts: deque[str] = deque(maxlen=THREAD_HISTORY)
    for page in client.conversations_replies(channel=channel, ts=thread_ts, latest=before_ts, limit=REPLIES_PAGE):
        for message in page.get("messages", []):
            if message.get("ts") == before_ts or message.get("bot_id") or message.get("user") == bot_user_id:
                continue
            if text := question_text(message.get("text", "")):
                texts.append(text)
    return tuple(texts)


def post(client: WebClient, channel: str, thread_ts: str | None, messages: Sequence[Message]) -> None:
    for message in messages:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message.payload())
        attach(client, channel, thread_ts, message.uploads)


class Reply:
    """How an answer reaches its thread. A "Looking that up…" line when it keeps the asker waiting
    past `after` seconds; a generated answer streamed as the model writes it (`chat.startStream`,
    in threads); then the answer's messages, the first replacing the line or closing the stream."""

    def __init__(self, client: WebClient, where: Where, after: float, team: str | None = None) -> None:
        self.client, self.where, self.team = client, where, team
        self.ts: str | None = None  # the "Looking that up…" line
        self.stream: ChatStream | None = None
        self._lock = threading.Lock()
        self._delivered = self._refused = False
        self._timer = threading.Timer(after, self._show)
        if after > 0:
            self._timer.start()
        else:
            self._show()  # 0: the line always comes first

    def _show(self) -> None:
        with self._lock:
            if self._delivered or self.stream is not None:
                return
            text = blocks.text(self.where.lang, "working")
            try:
                posted = self.client.chat_postMessage(
                    channel=self.where.channel, thread_ts=self.where.thread_ts, text=text
                )
                self.ts = posted["ts"]
            except (SlackApiError, SlackRequestError, OSError) as error:  # the answer will be posted as usual
                log.warning("could not post the placeholder in %s: %s", self.where.channel, error)

    def append(self, text: str) -> bool:
        """Streams a verified piece of a generated answer; False when Slack cannot stream it here
        (then nothing more is streamed, and the answer comes whole at the end)."""
        with self._lock:
            if self._refused:
                return False
            try:
                if self.stream is None:
                    self._start()
                assert self.stream is not None
                self.stream.append(markdown_text=text)
                return True
            except (SlackApiError, SlackRequestError, OSError) as error:
                log.warning("could not stream in %s: %s", self.where.channel, error)
                self._refused = True
                return False

    def _start(self) -> None:
        if not self.where.thread_ts:
            raise SlackRequestError("a stream replies in a thread")
        self._timer.cancel()
        if self.ts is not None:  # the stream takes the line's place
            self.client.chat_delete(channel=self.where.channel, ts=self.ts)
            self.ts = None
        self.stream = self.client.chat_stream(
            channel=self.where.channel,
            thread_ts=self.where.thread_ts,
            recipient_team_id=self.team,
            recipient_user_id=self.where.user,
            buffer_size=1,  # each verified sentence shows as soon as it is written
        )

    def deliver(self, messages: Sequence[Message]) -> None:
        self._timer.cancel()
        with self._lock:
            self._delivered = True
        channel, thread_ts = self.where.channel, self.where.thread_ts
        if self.stream is not None:
            self._close_stream(messages)
        elif self.ts is None:
            post(self.client, channel, thread_ts, messages)
        elif not messages:  # nothing to say after all (thanks between people): the line goes too
            self.client.chat_delete(channel=channel, ts=self.ts)
        else:
            first, *rest = messages
            self.client.chat_update(channel=channel, ts=self.ts, **first.payload())
            attach(self.client, channel, thread_ts, first.uploads)
            post(self.client, channel, thread_ts, rest)

    def _close_stream(self, messages: Sequence[Message]) -> None:
        """The answer's first message below the streamed text; or, when the guard rejected the
        generation after part of it was shown, in place of that text."""
        assert self.stream is not None
        channel, thread_ts = self.where.channel, self.where.thread_ts
        first, *rest = messages or [Message("")]
        if first.after_stream:
            self.stream.stop(blocks=first.blocks)
        else:
            self.stream.stop()
            self.client.chat_update(channel=channel, ts=self.stream.ts, **first.payload())
        attach(self.client, channel, thread_ts, first.uploads)
        post(self.client, channel, thread_ts, rest)


def attach(client: WebClient, channel: str, thread_ts: str | None, uploads: Sequence[Upload]) -> None:
    """Post files after their message. A file that cannot be posted (no files:write scope, a channel
    the bot is not in) costs the picture only: the message already states every figure it shows."""
    for upload in uploads:
        try:
            client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                content=upload.content,
                filename=upload.filename,
                title=upload.title,
            )
        except (SlackApiError, SlackRequestError, OSError) as error:
            log.warning("could not post %s in %s: %s", upload.filename, channel, error)


def asker_lang(client: WebClient, relay: Relay, user: str) -> str:
    """The language of a user's Slack locale ("zh-CN" → zh), looked up once per user; English
    when Slack does not say (no users:read scope, an unknown user)."""
    if user not in relay.user_langs:
        try:
            locale = client.users_info(user=user, include_locale=True)["user"].get("locale") or ""
        except (SlackApiError, SlackRequestError, OSError, KeyError) as error:
            log.warning("no locale for %s: %s", user, error)
            locale = ""
        relay.user_langs[user] = "zh" if locale.lower().startswith("zh") else "en"
    return relay.user_langs[user]


def answer_safely(
    question: str, where: Where, produce: Callable[[], list[Message]], send: Callable[[list[Message]], Any]
) -> None:
    """Produce and send an answer; on failure, log it and send a short apology in the asker's language."""
    apology = [blocks.notice(blocks.text(where.lang, "apology"))]
    try:
        messages = produce()
    except AnswerError as error:
        messages = [blocks.notice(str(error))]
    except Exception:
        log.exception("answering failed (%s in %s): %r", where.surface, where.channel, question)
        messages = apology
    try:
        send(messages)
    except Exception:
        log.exception("posting the answer failed (%s in %s)", where.surface, where.channel)
        if messages is not apology:
            send(apology)


def channel_name(client: WebClient, relay: Relay, channel: str) -> str | None:
    """A channel's name, looked up only when some channel scope is keyed by name.

    A failed lookup raises: a channel whose scope cannot be determined gets an
    apology, never documents its audience may exclude.
    """
    if not relay.scopes_by_name or relay.scoped_by_id(channel) or channel.startswith("D"):
        return None  # no name-keyed scope, a scope by id, or a DM (no name, no scope)
    if channel not in relay.channel_names:
        relay.channel_names[channel] = client.conversations_info(channel=channel)["channel"].get("name")
    return relay.channel_names[channel]
