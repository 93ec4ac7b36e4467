"""What stands in front of Bolt in HTTP mode: a request is read only up to a size limit, and its
Slack signature is checked before anything parses it. Bolt parses a body before verifying it, so
a forged or malformed body (binary, broken JSON, a JSON array, a non-numeric timestamp) would
otherwise reach its parser and end in a 500 with a traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

REASONS = {400: "Bad Request", 401: "Unauthorized", 411: "Length Required", 413: "Content Too Large"}


class SignedRequestGate:
    """WSGI middleware: 413 past `max_bytes` (before reading the body), 401 unless the body is
    signed with the app's secret, 400 when a signed body cannot be parsed; then Bolt, as it was."""

    def __init__(self, app: WsgiApp, *, signing_secret: str, max_bytes: int) -> None:
        self.app = app
        self.verifier = SignatureVerifier(signing_secret)
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(start_response, 411)
        if length > self.max_bytes:
            return _refuse(start_response, 413)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        if not self._signed(body, environ):
            return _refuse(start_response, 401)
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        try:
            return self.app(environ, start_response)
        except Exception as error:  # only a body Bolt could not parse gets this far
            log.warning("refused a signed request Bolt cannot parse: %s: %s", type(error).__name__, error)
            return _refuse(start_response, 400)

    def _signed(self, body: bytes, environ: dict[str, Any]) -> bool:
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not timestamp.isdigit() or not signature:
            return False
        return self.verifier.is_valid(body, timestamp, signature)


def _refuse(start_response: StartResponse, status: int) -> list[bytes]:
    start_response(f"{status} {REASONS[status]}", [("Content-Type", "text/plain; charset=utf-8")])
    return [REASONS[status].encode()]
