"""Slack's Socket Mode endpoint, played on 127.0.0.1: a minimal WebSocket server (RFC 6455,
text/ping/close frames) that says hello, pushes envelopes and records the app's replies."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Any

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes) -> bytes:
    """A server frame: final, unmasked."""
    size = len(payload)
    if size < 126:
        header = struct.pack(">BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        header = struct.pack(">BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack(">BBQ", 0x80 | opcode, 127, size)
    return header + payload


class FakeSocketMode:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.replies: list[dict[str, Any]] = []
        self._conn: socket.socket | None = None
        self._changed = threading.Condition()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.listener.getsockname()[1]}/link/?ticket=test"

    def close(self) -> None:
        self.listener.close()
        if self._conn is not None:
            self._conn.close()

    # --- the connection ----------------------------------------------------------
    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        headers = dict(line.split(": ", 1) for line in request.decode("latin-1").split("\r\n")[1:] if ": " in line)
        accept = base64.b64encode(hashlib.sha1((headers["Sec-WebSocket-Key"] + WEBSOCKET_GUID).encode()).digest())
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        with self._changed:
            self._conn = conn
            self._changed.notify_all()
        self.push({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "AVALUE0001"}})
        try:
            while True:
                opcode, payload = self._read_frame(conn)
                if opcode == CLOSE:
                    return
                if opcode == PING:
                    conn.sendall(frame(PONG, payload))
                elif opcode == TEXT:
                    with self._changed:
                        self.replies.append(json.loads(payload))
                        self._changed.notify_all()
        except OSError:
            return

    @staticmethod
    def _read_exact(conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise OSError("connection closed")
            data += chunk
        return data

    def _read_frame(self, conn: socket.socket) -> tuple[int, bytes]:
        first, second = self._read_exact(conn, 2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack(">H", self._read_exact(conn, 2))
        elif size == 127:
            (size,) = struct.unpack(">Q", self._read_exact(conn, 8))
        mask = self._read_exact(conn, 4) if second & 0x80 else b"\0\0\0\0"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read_exact(conn, size)))
        return first & 0x0F, payload

    # --- what the test does ------------------------------------------------------
    def push(self, envelope: dict[str, Any]) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._conn is not None, timeout=30)
            assert self._conn is not None, "the app never connected"
            self._conn.sendall(frame(TEXT, json.dumps(envelope).encode("utf-8")))

    def wait_for_reply(self, envelope_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """The app's acknowledgement of an envelope."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for reply in self.replies:
                    if reply.get("envelope_id") == envelope_id:
                        return reply
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no reply to envelope {envelope_id}: {self.replies!r}")
                self._changed.wait(remaining)
