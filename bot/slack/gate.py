"""What stands in front of Bolt in HTTP mode, as ASGI middleware: a request is read only up to a
size limit, and its Slack signature is checked before anything parses it. Bolt parses a body
before verifying it, so a forged or malformed body (binary, broken JSON, a JSON array, a
non-numeric timestamp) would otherwise reach its parser and end in a 500 with a traceback.

It also answers `GET /healthz` for load balancers, refuses new work with a retryable 503 once the
server is shutting down, and at shutdown waits for the answers still being written."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any

from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Health = Callable[[], str | None]  # None when healthy, else what is wrong

HEALTH_PATH = "/healthz"
RETRY_AFTER_SECONDS = 5
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    411: "Length Required",
    413: "Content Too Large",
    503: "Service Unavailable",
}


class SignedRequestGate:
    """413 past `max_bytes` (before reading past it), 401 unless the body is signed with the app's
    secret, 400 when a signed body cannot be parsed; then Bolt, as it was."""

    def __init__(
        self, app: AsgiApp, *, signing_secret: str, max_bytes: int, health: Health, answering: Executor
    ) -> None:
        self.app = app
        self.verifier = SignatureVerifier(signing_secret)
        self.max_bytes = max_bytes
        self.health = health
        self.answering = answering  # Bolt's listener executor: the answers acknowledged and in progress
        self.draining = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            problem = self.health()
            await respond(send, 503 if problem else 200, problem or "ok")
        elif self.draining:
            await respond(send, 503, REASONS[503], [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())])
        else:
            await self._slack(scope, receive, send)

    async def _slack(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        declared = headers.get("content-length", "0")
        if not declared.isdigit():
            return await respond(send, 411, REASONS[411])
        body = await read_body(receive, self.max_bytes) if int(declared) <= self.max_bytes else None
        if body is None:
            return await respond(send, 413, REASONS[413])
        if not self._signed(body, headers):
            return await respond(send, 401, REASONS[401])
        started = False

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, replay, tracked)
        except Exception as error:  # only a body Bolt could not parse gets this far
            log.warning("refused a signed request Bolt cannot parse: %s: %s", type(error).__name__, error)
            if not started:
                await respond(send, 400, REASONS[400])

    def _signed(self, body: bytes, headers: dict[str, str]) -> bool:
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not timestamp.isdigit() or not signature:
            return False
        return self.verifier.is_valid(body, timestamp, signature)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.draining = True
                # Every acknowledged question gets its answer before the process ends.
                await asyncio.to_thread(self.answering.shutdown, True)
                await send({"type": "lifespan.shutdown.complete"})
                return


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit`."""
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.extend(message.get("body", b""))
        if len(chunks) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(chunks)


async def respond(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})
