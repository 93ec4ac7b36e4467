"""A real Chroma server for the tests, on 127.0.0.1: the `chroma run` command of the pinned chromadb
package, persisting to a temporary folder, telemetry off, stopped at the end of the session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 60.0


class NoChroma(Exception):
    """The Chroma server cannot be started here; the reason says why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _command() -> str:
    # The console script installed beside this interpreter, whether or not its folder is on PATH.
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if found is None:
        raise NoChroma("no `chroma` command (from the chromadb package) beside the interpreter or on PATH")
    return found


@dataclass
class ChromaServer:
    folder: Path
    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, folder: Path) -> ChromaServer:
        port = free_port()
        log = (folder / "log").open("wb")
        process = subprocess.Popen(
            [_command(), "run", "--path", str(folder / "db"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        server = cls(folder, port, process)
        server._wait()
        return server

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NoChroma(f"`chroma run` exited with {self.process.returncode}: {self._log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise NoChroma(f"`chroma run` did not answer within {START_TIMEOUT:.0f} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        return (self.folder / "log").read_text(encoding="utf-8", errors="replace")[-500:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
