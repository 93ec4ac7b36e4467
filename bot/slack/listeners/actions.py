"""Interactivity: the Helpful / Not helpful / Outdated buttons under every answer."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack import blocks
from bot.slack.listeners.replies import asker_lang, relay_of

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.action(re.compile("^(" + "|".join(blocks.VOTES) + ")$"))(on_vote)
    app.action(blocks.SHARE)(on_share)


def on_share(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Posts a private /relay answer in its channel, for its asker only."""
    ack()
    user = body["user"]["id"]
    relay = relay_of(context)
    lang = asker_lang(client, relay, user)
    try:
        found = relay.shared(int(action["value"]), user, lang)
    except ValueError:
        found = None
    if found is None:
        respond(text=blocks.text(lang, "share_refused"), response_type="ephemeral", replace_original=False)
        return
    channel, message = found
    try:
        client.chat_postMessage(channel=channel, **message.payload())
        reply = blocks.text(lang, "shared")
    except SlackApiError as error:  # e.g. not_in_channel: the bot posts only where it was invited
        reply = blocks.text(lang, "share_failed", error=error.response.get("error", "error"))
    respond(text=reply, response_type="ephemeral", replace_original=False)


def on_vote(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    vote = blocks.VOTES[action["action_id"]]
    user = body["user"]["id"]
    try:
        stored = relay_of(context).vote(int(action["value"]), user, vote)
    except ValueError:
        stored = False
    reply = blocks.text(asker_lang(client, relay_of(context), user), f"thanks_{vote}" if stored else "vote_unknown")
    container = body.get("container", {})
    channel = container.get("channel_id") or body.get("channel", {}).get("id")
    message = body.get("message") or {}
    # Only the voter sees the acknowledgement.
    if channel and not container.get("is_ephemeral"):
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=reply, thread_ts=message.get("thread_ts"))
            return
        except SlackApiError:
            log.warning("chat.postEphemeral failed in %s; answering through response_url", channel, exc_info=True)
    respond(text=reply, response_type="ephemeral", replace_original=False)
