"""Bolt listeners, one module per Slack surface, each with a `register(app)`."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import actions, assistant, commands, events, home


def register_listeners(app: App) -> None:
    assistant.register(app)  # a middleware: the split view's messages go to it, not to the DM listener
    events.register(app)
    commands.register(app)
    actions.register(app)
    home.register(app)
