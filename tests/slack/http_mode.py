"""HTTP mode for real in tests: Bolt behind the gate under uvicorn, in a thread, as `python -m bot
serve --http` runs it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from bot.settings import Settings
from bot.slack.app import HttpServer, build_app, http_server
from bot.slack.relay import Relay


@contextmanager
def serving(settings: Settings, relay: Relay) -> Iterator[HttpServer]:
    """HTTP mode for real: Bolt behind the gate under uvicorn, as `python -m bot serve --http` runs it."""
    answering = ThreadPoolExecutor(4, thread_name_prefix="answer")
    server = http_server(
        build_app(settings, relay, listener_executor=answering), settings, "127.0.0.1", 0, answering, relay
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield server
    server.shutdown()
    thread.join(timeout=60)
