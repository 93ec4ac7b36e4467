"""A local stand-in for Slack's servers (the one part that cannot exist here), as slack-bolt's
own tests do it: an HTTP server on 127.0.0.1 that plays the Web API and response URLs and
records every request it gets."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER_ID = "UBOTVR01"
BOT_ID = "BBOTVR01"
TEAM_ID = "T0VALUE1"


@dataclass
class Call:
    method: str  # Web API method, or "response_url"
    params: dict[str, Any]
    headers: dict[str, str]
    path: str = ""  # a response URL's name is its last part
    received: float = field(default_factory=time.monotonic)


@dataclass
class Canned:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._queued: dict[str, list[Canned]] = {}
        self.thread_messages: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.channel_names: dict[str, str] = {}
        self.uploaded: dict[str, bytes] = {}  # file id -> the bytes uploaded for it
        self.locales: dict[str, str] = {}  # user id -> Slack locale (users.info include_locale); en-US otherwise
        self.socket_url: str | None = None
        self._ts = itertools.count(1)
        self._changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.do_POST()

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                path, _, query = self.path.partition("?")
                if path.startswith("/upload/"):
                    # A file's bytes, sent to the URL files.getUploadURLExternal handed out.
                    fake.uploaded[path.rsplit("/", 1)[-1]] = body
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")
                    return
                raw = body.decode("utf-8")
                params: dict[str, Any] = dict(parse_qsl(query))
                if "json" in (self.headers.get("Content-Type") or ""):
                    params.update(json.loads(raw or "{}"))
                else:
                    params.update(parse_qsl(raw))
                method = "response_url" if path.startswith("/response/") else path.rsplit("/", 1)[-1]
                canned = fake._respond(method, params)
                fake._record(Call(method, params, dict(self.headers), path))
                body = json.dumps(canned.body).encode("utf-8")
                self.send_response(canned.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in canned.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/response/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- scripting -----------------------------------------------------------
    def queue(self, method: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """The next call of `method` gets this response (e.g. a 429) instead of the normal one."""
        self._queued.setdefault(method, []).append(Canned(status, body, headers or {}))

    def _respond(self, method: str, params: dict[str, Any]) -> Canned:
        if self._queued.get(method):
            return self._queued[method].pop(0)
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return Canned(
                200, {**ok, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "team_id": TEAM_ID, "user": "valuerelay"}
            )
        if method == "chat.postMessage":
            return Canned(200, {**ok, "channel": params.get("channel"), "ts": f"1700000000.{next(self._ts):06d}"})
        if method == "chat.startStream":
            return Canned(200, {**ok, "channel": params.get("channel"), "ts": f"1700000000.{next(self._ts):06d}"})
        if method in ("chat.appendStream", "chat.stopStream"):
            return Canned(200, {**ok, "channel": params.get("channel"), "ts": params.get("ts")})
        if method == "chat.delete":
            return Canned(200, {**ok, "channel": params.get("channel"), "ts": params.get("ts")})
        if method == "chat.update":
            return Canned(200, {**ok, "channel": params.get("channel"), "ts": params.get("ts")})
        if method == "chat.postEphemeral":
            return Canned(200, {**ok, "message_ts": f"1700000000.{next(self._ts):06d}"})
        if method == "conversations.replies":
            return Canned(200, {**ok, **self._replies(params)})
        if method == "conversations.info":
            channel = params.get("channel", "")
            if channel not in self.channel_names:
                return Canned(200, {"ok": False, "error": "channel_not_found"})
            return Canned(200, {**ok, "channel": {"id": channel, "name": self.channel_names[channel]}})
        if method == "apps.connections.open" and self.socket_url:
            return Canned(200, {**ok, "url": self.socket_url})
        if method == "response_url":
            return Canned(200, ok)
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):07d}"
            return Canned(
                200,
                {
                    **ok,
                    "file_id": file_id,
                    "upload_url": f"http://127.0.0.1:{self.server.server_port}/upload/{file_id}",
                },
            )
        if method == "files.completeUploadExternal":
            files = json.loads(params.get("files", "[]"))
            return Canned(200, {**ok, "files": [{"id": f["id"], "title": f.get("title")} for f in files]})
        if method.startswith("assistant.threads."):
            return Canned(200, ok)
        if method == "users.info":
            user = params.get("user", "")
            locale = (
                {"locale": self.locales.get(user, "en-US")} if params.get("include_locale") in ("true", "1") else {}
            )
            return Canned(200, {**ok, "user": {"id": user, **locale}})
        if method == "conversations.open":
            return Canned(200, {**ok, "channel": {"id": f"D{params.get('users', 'X')}"}})
        if method == "views.publish":
            return Canned(200, {**ok, "view": {"id": "V1"}})
        return Canned(200, {"ok": False, "error": "unknown_method"})

    def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """A thread from its start, `limit` messages per page (Slack's order), up to `latest`."""
        thread = self.thread_messages.get((params.get("channel", ""), params.get("ts", "")), [])
        latest = float(params.get("latest") or "inf")
        messages = [m for m in thread if float(m["ts"]) <= latest]
        start, limit = int(params.get("cursor") or 0), int(params.get("limit") or 1000)
        page, rest = messages[start : start + limit], messages[start + limit :]
        cursor = {"response_metadata": {"next_cursor": str(start + limit)}} if rest else {}
        return {"messages": page, "has_more": bool(rest), **cursor}

    # --- what was received ---------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def received(self, method: str, where: Callable[[Call], bool] = lambda call: True) -> list[Call]:
        with self._changed:
            return [call for call in self.calls if call.method == method and where(call)]

    def wait_for(
        self, method: str, count: int = 1, where: Callable[[Call], bool] = lambda call: True, timeout: float = 60.0
    ) -> list[Call]:
        """The matching calls once there are `count` of them (answers are produced after the ack)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [call for call in self.calls if call.method == method and where(call)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} {method} call(s), got {len(found)}: {self.calls!r}"[:4000])
                self._changed.wait(remaining)
