"""The Slack app manifest declares what the bot uses: every Web API method it calls needs its scope."""

from __future__ import annotations

import yaml

from bot.settings import PROJECT_ROOT

MANIFEST = PROJECT_ROOT / "config" / "slack-manifest.yaml"


def test_the_manifest_grants_the_scopes_and_events_the_bot_uses() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    # chat.postMessage, files_upload_v2 (charts), conversations.open (a chart for a private reply),
    # conversations.replies in every kind of conversation a thread can live in.
    assert {"chat:write", "files:write", "im:write", "commands", "app_mentions:read", "users:read"} <= scopes
    assert {"channels:history", "groups:history", "im:history", "mpim:history"} <= scopes
    assert {"app_mention", "message.channels", "message.groups", "message.im", "message.mpim"} <= events
    assert "im:read" not in scopes  # nothing reads the list of DMs
    assert "assistant:write" in scopes and {"assistant_thread_started", "assistant_thread_context_changed"} <= events
    assert manifest["features"]["assistant_view"]["assistant_description"]
    assert "quantify" in manifest["features"]["slash_commands"][0]["usage_hint"]
