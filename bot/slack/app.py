"""Building the Bolt app and serving it: Socket Mode with an app token, HTTP otherwise."""

from __future__ import annotations

import logging
import socket
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import uvicorn
from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.settings import Settings
from bot.slack.digest import DigestConfigError, digest_trigger
from bot.slack.gate import SignedRequestGate
from bot.slack.jobs import schedule_jobs
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
    if settings.digest_cron:
        try:
            digest_trigger(settings.digest_cron)
        except DigestConfigError as error:
            raise SlackConfigError(str(error)) from error
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


# Connections waiting to be accepted: Slack delivers a burst of events at once.
BACKLOG = 128
ANSWER_THREADS = 10  # Bolt's own default for its listener executor


class HttpServer:
    """Bolt's ASGI adapter behind the gate, under uvicorn. On SIGTERM uvicorn stops accepting,
    the gate answers 503 with Retry-After, and shutdown waits for the answers in progress."""

    def __init__(self, gate: SignedRequestGate, host: str, port: int) -> None:
        self.socket = socket.create_server((host, port), backlog=BACKLOG)
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(gate, lifespan="on", log_config=None, access_log=False, timeout_graceful_shutdown=60)
        self.server = _DrainingServer(config, gate)

    def serve_forever(self) -> None:
        self.server.run(sockets=[self.socket])

    def shutdown(self) -> None:
        self.server.should_exit = True


class _DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, gate: SignedRequestGate) -> None:
        super().__init__(config)
        self.gate = gate

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.gate.draining = True  # requests still arriving on open connections: retry later
        super().handle_exit(sig, frame)


def http_server(app: App, settings: Settings, host: str, port: int, answering: Executor, relay: Relay) -> HttpServer:
    """Events API, interactivity and slash commands on /slack/events, each request's size and
    signature checked before Bolt reads it; `GET /healthz` for load balancers."""
    gate = SignedRequestGate(
        SlackRequestHandler(app, EVENTS_PATH),
        signing_secret=settings.slack_signing_secret or "",
        max_bytes=settings.max_request_bytes,
        health=relay.health,
        answering=answering,
    )
    return HttpServer(gate, host, port)


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    # The app's own client, so apps.connections.open goes to the configured API URL.
    return SocketModeHandler(app, app_token, web_client=app.client)


def serve(settings: Settings, relay: Relay, http: bool = False, host: str = "0.0.0.0", port: int | None = None) -> None:
    socket_mode = check_credentials(settings, http=http)
    answering = ThreadPoolExecutor(ANSWER_THREADS, thread_name_prefix="answer")
    app = build_app(settings, relay, listener_executor=answering)
    schedule_jobs(relay, app.client)
    if socket_mode:
        log.info("listening to Slack in Socket Mode")
        socket_mode_handler(app, settings.slack_app_token).start()
        return
    server = http_server(app, settings, host, port or settings.slack_port, answering, relay)
    log.info("listening for Slack on http://%s:%s%s", host, server.port, EVENTS_PATH)
    server.serve_forever()
