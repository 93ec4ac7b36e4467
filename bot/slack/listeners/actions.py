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
    app.action(blocks.TICK)(on_tick)


def on_tick(ack: Ack, action: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A checklist item ticked or unticked: stored for the thread, and the message updated so the
    whole team sees it. A reply only its asker sees carries no message: Slack keeps their ticks."""
    ack()
    message = body.get("message")
    if not message:
        return
    channel = body["container"]["channel_id"]
    block = next(b for b in message["blocks"] if b.get("block_id") == action["block_id"])
    item = block["accessory"]["options"][0]["value"]
    scope = message.get("thread_ts") or message["ts"]
    ticked = relay_of(context).records.tick(
        channel, scope, item, body["user"]["id"], ticked=bool(action.get("selected_options"))
    )
    client.chat_update(
        channel=channel,
        ts=message["ts"],
        text=message.get("text", ""),
        blocks=blocks.with_ticks(message["blocks"], ticked),
    )


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
