"""Bolt listeners, one module per Slack surface, each with a `register(app)`."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners import actions, commands, events, home


def register_listeners(app: App) -> None:
    events.register(app)
    commands.register(app)
    actions.register(app)
    home.register(app)
