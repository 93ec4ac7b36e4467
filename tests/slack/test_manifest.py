"""The Slack app manifests, Socket Mode and HTTP: both pass Slack's published manifest schema
(vendored from github.com/slackapi/manifest-schema, MIT), grant the scopes and events the bot uses,
and describe one app in two modes (the HTTP one differs only in its request URLs and mode)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.settings import PROJECT_ROOT

SOCKET = PROJECT_ROOT / "config" / "slack-manifest.yaml"
HTTP = PROJECT_ROOT / "config" / "slack-manifest-http.yaml"
SCHEMA = Path(__file__).parent / "manifest_schema" / "manifest.schema.1.0.0.json"


def load(path: Any) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def slack_schema() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema, format_checker=validator.FORMAT_CHECKER)


@pytest.mark.parametrize("path", [SOCKET, HTTP], ids=["socket", "http"])
def test_each_manifest_passes_slacks_published_schema(path: Path, slack_schema: jsonschema.protocols.Validator) -> None:
    errors = [f"{'.'.join(map(str, error.path))}: {error.message}" for error in slack_schema.iter_errors(load(path))]
    assert errors == []


def test_the_schema_check_catches_what_slack_would_refuse(slack_schema: jsonschema.protocols.Validator) -> None:
    manifest = load(SOCKET)
    manifest["display_information"]["name"] = "a name far longer than the thirty-five characters Slack allows"
    manifest["features"]["bot_user"]["always_online"] = "yes"
    manifest["settings"]["interactivity"]["request_url"] = "slack/events"
    failed = {".".join(map(str, error.path)) for error in slack_schema.iter_errors(manifest)}
    assert failed == {
        "display_information.name",
        "features.bot_user.always_online",
        "settings.interactivity.request_url",
    }


@pytest.mark.parametrize("path", [SOCKET, HTTP], ids=["socket", "http"])
def test_only_the_http_manifest_sends_requests_to_urls(path: Path) -> None:
    manifest = load(path)
    settings, commands = manifest["settings"], manifest["features"]["slash_commands"]
    urls = [settings["event_subscriptions"].get("request_url"), settings["interactivity"].get("request_url")]
    urls += [command.get("url") for command in commands]
    if settings["socket_mode_enabled"]:
        assert urls == [None] * len(urls)
    else:
        assert all(url.startswith("https://") and url.endswith("/slack/events") for url in urls)


def test_the_http_manifest_is_the_same_app_with_request_urls() -> None:
    socket, http = load(SOCKET), load(HTTP)
    for manifest in (socket, http):
        manifest["settings"].pop("socket_mode_enabled")
        manifest["settings"]["event_subscriptions"].pop("request_url", None)
        manifest["settings"]["interactivity"].pop("request_url", None)
        for command in manifest["features"]["slash_commands"]:
            command.pop("url", None)
    assert socket == http


def test_the_manifest_grants_the_scopes_and_events_the_bot_uses() -> None:
    manifest = load(SOCKET)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    # chat.postMessage, files_upload_v2 (charts), conversations.open (a chart for a private reply),
    # users.info (the asker's language), conversations.replies wherever a thread can live.
    assert {"chat:write", "files:write", "im:write", "commands", "app_mentions:read", "users:read"} <= scopes
    assert {"channels:history", "groups:history", "im:history", "mpim:history"} <= scopes
    assert {"app_mention", "message.channels", "message.groups", "message.im", "message.mpim"} <= events
    assert "im:read" not in scopes  # nothing reads the list of DMs
    assert "assistant:write" in scopes and {"assistant_thread_started", "assistant_thread_context_changed"} <= events
    assert "quantify" in manifest["features"]["slash_commands"][0]["usage_hint"]
