"""App Home: onboarding paths per role, recent changes and example questions, from the corpus."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners.replies import asker_lang, relay_of


def register(app: App) -> None:
    app.event("app_home_opened")(on_home_opened)


def on_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    relay = relay_of(context)
    client.views_publish(user_id=event["user"], view=relay.home(asker_lang(client, relay, event["user"])))
