"""A real PostgreSQL server for the tests, on 127.0.0.1: Debian's `postgresql` binaries, a cluster
of the test session's own in a temporary folder, stopped at the end. PostgreSQL will not run as
root, so under root the cluster belongs to the `postgres` system user the package creates."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg


class NoPostgres(Exception):
    """PostgreSQL cannot be started here; the reason says why."""


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl") or shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not candidates:
        raise NoPostgres("no PostgreSQL server binaries (Debian's `postgresql` package) on this machine")
    return candidates[-1].parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    folder: Path
    port: int
    user: str | None  # the system user the server runs as, when not ourselves

    @classmethod
    def start(cls, folder: Path) -> PostgresServer:
        user = "postgres" if os.geteuid() == 0 else None
        if user is not None:
            try:
                account = pwd.getpwnam(user)
            except KeyError as error:
                raise NoPostgres("running as root and there is no `postgres` user to run the server as") from error
            os.chown(folder, account.pw_uid, account.pw_gid)
        server = cls(folder, _free_port(), user)
        bin_dir = _bin_dir()
        server._run(bin_dir / "initdb", "-D", str(folder / "data"), "-U", "valuerelay", "--auth=trust", "-E", "UTF8")
        options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {folder} -c fsync=off"
        server._run(
            bin_dir / "pg_ctl", "-D", str(folder / "data"), "-o", options, "-l", str(folder / "log"), "-w", "start"
        )
        return server

    def _run(self, *command: str | Path) -> None:
        done = subprocess.run(
            [str(part) for part in command], user=self.user, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise NoPostgres(f"{Path(command[0]).name} failed: {(done.stderr or done.stdout).strip()[-500:]}")

    def database(self) -> str:
        """A new, empty database; its SQLAlchemy URL."""
        name = f"records_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=valuerelay dbname=postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://valuerelay@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self._run(_bin_dir() / "pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
