"""The one slash command, /relay, with subcommands; acknowledged at once, answered after."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack import blocks
from bot.slack.blocks import Message
from bot.slack.listeners.replies import answer_safely, asker_lang, attach, relay_of
from bot.slack.relay import Where

COMMAND = "/relay"


def register(app: App) -> None:
    app.command(COMMAND)(on_relay)


def on_relay(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    text = (command.get("text") or "").strip()
    lang = asker_lang(client, relay_of(context), command["user_id"])  # looked up once per user, then cached
    if not text or text.lower() == "help":
        ack(**blocks.help_message(lang).payload())
        return
    ack(text=blocks.text(lang, "working"))
    where = Where("command", command["channel_id"], command["user_id"], None, command.get("channel_name"), lang)

    def send(messages: list[Message]) -> None:
        # Through the command's response_url: works in any channel or DM, bot member or not,
        # and stays private to the asker.
        for message in messages:
            respond(response_type="ephemeral", replace_original=False, **message.payload())
            if message.uploads:
                # A reply only the asker sees cannot carry files: its charts go to the asker's DM with the bot.
                direct = client.conversations_open(users=command["user_id"])["channel"]["id"]
                attach(client, direct, None, message.uploads)

    answer_safely(text, where, lambda: relay_of(context).command(text, where), send)
