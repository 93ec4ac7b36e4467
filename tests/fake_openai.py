"""A local OpenAI-compatible server on 127.0.0.1 playing chat completions (plain and streamed),
for testing the real langchain-openai client: each request is answered by a responder the test
sets, which sees the request and returns the reply's text, an HTTP error, or a delay first."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import SecretStr

from bot.settings import Settings

# A numbered source as the prompt lists it: "[n] title — section" then its text.
SOURCE = re.compile(r"^\[(\d+)\] [^\n]*\n(.+)$", re.MULTILINE)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up waiting (the timeout test) closed its end first


@dataclass(frozen=True)
class Reply:
    content: str = ""
    status: int = 200
    delay: float = 0.0


Responder = Callable[[dict[str, Any]], Reply]


class FakeOpenAI:
    def __init__(self) -> None:
        self.responder: Responder = lambda request: Reply("I don't know from our sources.")
        self.requests: list[dict[str, Any]] = []
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def settings(self, settings: Settings, **overrides: Any) -> Settings:
        """`settings` with the model set to this server, through the OpenAI-compatible client."""
        model = {"llm": "openai:gpt-test", "llm_base_url": self.base_url, "llm_api_key": SecretStr("sk-test")}
        return settings.model_copy(update={**model, **overrides})

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                fake.requests.append(request)
                reply = fake.responder(request)
                time.sleep(reply.delay)
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": "upstream failed", "type": "server_error"}})
                elif request.get("stream"):
                    self._stream(request, reply.content)
                else:
                    self._send(200, _completion(request, reply.content))

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, request: dict[str, Any], content: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = content.split(" ")
                for i, word in enumerate(words):
                    delta = {"content": word + (" " if i < len(words) - 1 else "")}
                    chunk = {**_envelope(request, "chat.completion.chunk"), "choices": [{"index": 0, "delta": delta}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        return Handler


def _envelope(request: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"id": "chatcmpl-test", "object": kind, "created": int(time.time()), "model": request.get("model", "")}


def _completion(request: dict[str, Any], content: str) -> dict[str, Any]:
    return {
        **_envelope(request, "chat.completion"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
