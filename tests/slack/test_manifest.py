"""The Slack app manifests, Socket Mode and HTTP: the scopes and events the bot uses, and one app
in two modes (the HTTP one differs only in its request URLs and mode). Slack's published manifest
schema cannot be fetched here, so the fields used are checked against their documented shapes."""

from __future__ import annotations

import re
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from bot.settings import PROJECT_ROOT

SOCKET = PROJECT_ROOT / "config" / "slack-manifest.yaml"
HTTP = PROJECT_ROOT / "config" / "slack-manifest-http.yaml"
SCOPE = re.compile(r"^[a-z_]+(:[a-z_.]+)?$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Display(Strict):
    name: str = Field(max_length=35)
    description: str = Field(max_length=140)
    background_color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")


class SlashCommand(Strict):
    command: str = Field(pattern=r"^/[a-z0-9_-]+$")
    description: str = Field(max_length=2000)
    usage_hint: str = Field(max_length=1000)
    should_escape: bool
    url: HttpUrl | None = None


class Features(Strict):
    app_home: dict[Literal["home_tab_enabled", "messages_tab_enabled", "messages_tab_read_only_enabled"], bool]
    bot_user: dict[Literal["display_name", "always_online"], Any]
    assistant_view: dict[Literal["assistant_description", "suggested_prompts"], Any]
    slash_commands: list[SlashCommand]


class Events(Strict):
    bot_events: list[str] = Field(max_length=100)
    request_url: HttpUrl | None = None


class Interactivity(Strict):
    is_enabled: bool
    request_url: HttpUrl | None = None


class Settings(Strict):
    event_subscriptions: Events
    interactivity: Interactivity
    org_deploy_enabled: bool
    socket_mode_enabled: bool
    token_rotation_enabled: bool


class Manifest(Strict):
    display_information: Display
    features: Features
    oauth_config: dict[Literal["scopes"], dict[Literal["bot"], list[str]]]
    settings: Settings


def load(path: Any) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [SOCKET, HTTP], ids=["socket", "http"])
def test_each_manifest_has_the_documented_shape(path: Any) -> None:
    manifest = Manifest.model_validate(load(path))
    assert all(SCOPE.match(scope) for scope in manifest.oauth_config["scopes"]["bot"])
    http = manifest.settings.socket_mode_enabled is False
    urls = [manifest.settings.event_subscriptions.request_url, manifest.settings.interactivity.request_url]
    urls += [command.url for command in manifest.features.slash_commands]
    assert all(url is not None for url in urls) if http else all(url is None for url in urls)
    assert all(str(url).endswith("/slack/events") for url in urls if url is not None)


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
