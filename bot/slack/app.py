"""Building the Bolt app and serving it: Socket Mode with an app token, HTTP otherwise."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.settings import Settings
from bot.slack.gate import SignedRequestGate
from bot.slack.listeners import register_listeners
from bot.slack.relay import Relay

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
RATE_LIMIT_RETRIES = 3


class SlackConfigError(ValueError):
    """Missing or unusable Slack credentials; the message says which."""


def web_client(settings: Settings) -> WebClient:
    """The Web API client: base URL from settings (a local server in tests), retries on 429 and
    dropped connections, as slack_sdk's retry handlers do them."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )


def check_credentials(settings: Settings, *, http: bool) -> bool:
    """Whether the bot runs in Socket Mode; the missing token named first, before anything loads."""
    if not settings.slack_bot_token:
        raise SlackConfigError("SLACK_BOT_TOKEN is not set (see config/.env.example)")
    socket_mode = bool(settings.slack_app_token) and not http
    if not socket_mode and not settings.slack_signing_secret:
        # Bolt would reject every request as unsigned; say why up front.
        raise SlackConfigError("SLACK_SIGNING_SECRET is not set; HTTP mode needs it to verify requests")
    return socket_mode


def build_app(settings: Settings, relay: Relay, listener_executor: Executor | None = None) -> App:
    """The Bolt app with every listener; `listener_executor` is Bolt's own option (default: a thread pool)."""
    if not settings.slack_bot_token:
        raise SlackConfigError("SLACK_BOT_TOKEN is not set (see config/.env.example)")
    app = App(
        client=web_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        name="valuerelay",
        listener_executor=listener_executor,
    )

    @app.middleware
    def attach_relay(context: BoltContext, next: Any) -> None:
        context["relay"] = relay
        next()

    @app.middleware
    def once_per_event(body: dict[str, Any], next: Any) -> BoltResponse | None:
        # Slack redelivers an event it thinks we missed; it has been answered already.
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not relay.records.first_delivery(event_id):
            log.info("ignoring redelivered event %s", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    register_listeners(app)
    return app


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # Connections waiting to be accepted: Slack delivers a burst of events at once, and the
    # default of 5 resets the rest.
    request_queue_size = 128


class _LoggingHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def http_server(app: App, settings: Settings, host: str, port: int) -> WSGIServer:
    """Events API, interactivity and slash commands on /slack/events, each request's size and
    signature checked before Bolt reads it."""
    gate = SignedRequestGate(
        SlackRequestHandler(app, EVENTS_PATH),
        signing_secret=settings.slack_signing_secret or "",
        max_bytes=settings.max_request_bytes,
    )
    return make_server(
        host,
        port,
        gate,
        server_class=_ThreadingWSGIServer,
        handler_class=_LoggingHandler,
    )


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    # The app's own client, so apps.connections.open goes to the configured API URL.
    return SocketModeHandler(app, app_token, web_client=app.client)


def serve(settings: Settings, relay: Relay, http: bool = False, host: str = "0.0.0.0", port: int | None = None) -> None:
    socket_mode = check_credentials(settings, http=http)
    app = build_app(settings, relay)
    if socket_mode:
        log.info("listening to Slack in Socket Mode")
        socket_mode_handler(app, settings.slack_app_token).start()
        return
    server = http_server(app, settings, host, port or settings.slack_port)
    log.info("listening for Slack on http://%s:%s%s", host, server.server_port, EVENTS_PATH)
    try:
        server.serve_forever()
    finally:
        server.server_close()
