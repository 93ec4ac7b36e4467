"""Snapshots shared by bot replicas (Chroma server mode). The dense vectors are in the Chroma
server; everything else a snapshot holds (manifest, chunks, lexical index, bridge, sentence
vectors) is one archive in the records database, beside the pointer to the current snapshot.

A snapshot is published by switching that pointer in one transaction, after its collections and
archive are complete, so a replica never sees half an ingest. Replicas unpack a snapshot into their
own data dir the first time they switch to it; the archive and the collections share its name, so
the lexical side and the dense side are always of the same ingest."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from bot.kb.store import PUBLISHED_MARK, DataDir
from bot.kb.vectors import IndexUnreachable
from bot.privacy import private_dir
from bot.records import open_database
from bot.records.tables import CurrentSnapshotRow, SnapshotRow

CURRENT_SLOT = "current"
INGEST_LOCK = 0x56524958  # PostgreSQL advisory lock key held by the one ingest that may publish
FETCH_PREFIX = "fetch-"
ARCHIVE_LEVEL = 1  # gzip: most of the archive is already-dense float16 and JSON; speed over size


class SharedSnapshots:
    def __init__(self, url: str) -> None:
        self.engine = open_database(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def current(self) -> str | None:
        try:
            with self._session() as session:
                return session.scalar(select(CurrentSnapshotRow.name).where(CurrentSnapshotRow.slot == CURRENT_SLOT))
        except SQLAlchemyError as error:
            raise IndexUnreachable(f"records database: {error}") from error

    def started(self, name: str) -> None:
        """Record a snapshot being built, before anything is written for it."""
        with self._session.begin() as session:
            session.add(SnapshotRow(name=name, state="building", started_at=dt.datetime.now(dt.UTC)))

    def publish(self, name: str, folder: Path) -> None:
        """Store a built snapshot's files and make it current, in one transaction."""
        archive = pack(folder)
        with self._session.begin() as session:
            row = session.get(SnapshotRow, name)
            if row is None or row.state != "building":
                raise IndexUnreachable(f"snapshot {name} was not being built here")
            row.state, row.archive = "published", archive
            current = session.get(CurrentSnapshotRow, CURRENT_SLOT)
            if current is None:
                session.add(CurrentSnapshotRow(slot=CURRENT_SLOT, name=name))
            else:
                current.name = name

    def unpack(self, name: str, target: Path) -> None:
        with self._session() as session:
            archive = session.scalar(select(SnapshotRow.archive).where(SnapshotRow.name == name))
        if archive is None:
            raise IndexUnreachable(f"snapshot {name} is not in the shared index")
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            tar.extractall(target, filter="data")

    def unfinished(self) -> list[str]:
        """Snapshots an ingest started and never published (it was killed, or failed)."""
        with self._session() as session:
            return list(session.scalars(select(SnapshotRow.name).where(SnapshotRow.state == "building")))

    def published(self) -> list[str]:
        """Published snapshots, oldest first."""
        with self._session() as session:
            rows = session.scalars(select(SnapshotRow.name).where(SnapshotRow.state == "published"))
            return sorted(rows)

    def forget(self, names: list[str]) -> None:
        if names:
            with self._session.begin() as session:
                session.execute(delete(SnapshotRow).where(SnapshotRow.name.in_(names)))

    @contextmanager
    def lock(self) -> Iterator[bool]:
        """Held by the one ingest that may build and publish; yields False if another holds it.
        Only PostgreSQL is shared between machines; a SQLite file is guarded by the data dir's lock."""
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        with self.engine.connect() as connection:
            held = bool(connection.scalar(select(func.pg_try_advisory_lock(INGEST_LOCK))))
            try:
                yield held
            finally:
                if held:
                    connection.scalar(select(func.pg_advisory_unlock(INGEST_LOCK)))


def pack(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=ARCHIVE_LEVEL) as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    return buffer.getvalue()


@dataclass(frozen=True)
class SharedDataDir(DataDir):
    """A replica's data dir in server mode: a local cache of the shared snapshots, whose current
    one is named by the database rather than by the CURRENT file."""

    shared: SharedSnapshots = field(kw_only=True)

    def current_name(self) -> str | None:
        return self.shared.current()

    def current_path(self) -> Path | None:
        name = self.current_name()
        if name is None:
            return None
        path = self.snapshots / name
        if not path.is_dir():
            self._fetch(name, path)
        return path

    def _fetch(self, name: str, path: Path) -> None:
        # Unpacked beside its place and moved in: replicas sharing this dir may fetch it at once.
        folder = Path(tempfile.mkdtemp(prefix=FETCH_PREFIX, dir=private_dir(self.root)))
        try:
            self.shared.unpack(name, folder)
            (folder / PUBLISHED_MARK).touch()
            self.snapshots.mkdir(parents=True, exist_ok=True)
            os.replace(folder, path)
        except OSError:
            if not path.is_dir():
                raise
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def serving(self, name: str) -> None:
        """Older snapshots' files are a cache here, and a loaded snapshot holds what it needs in memory:
        a replica that moved on removes them. Newer ones may have just been fetched by a neighbour."""
        for path in self._snapshot_dirs():
            if path.name < name:
                shutil.rmtree(path, ignore_errors=True)

    def new_staging(self) -> tuple[str, Path]:
        name, path = super().new_staging()
        self.shared.started(name)
        return name, path

    def publish(self, name: str, staging: Path) -> Path:
        self.shared.publish(name, staging)
        final = self.snapshots / name
        self.snapshots.mkdir(parents=True, exist_ok=True)
        os.replace(staging, final)
        (final / PUBLISHED_MARK).touch()
        return final

    def abandon(self, name: str, staging: Path) -> None:
        super().abandon(name, staging)
        self.vectors.drop([name])
        self.shared.forget([name])

    def clean_leftovers(self) -> None:
        super().clean_leftovers()
        unfinished = self.shared.unfinished()
        self.vectors.drop(unfinished)
        self.shared.forget(unfinished)

    def clean(self, keep: int) -> None:
        super().clean(keep)
        names, current = self.shared.published(), self.current_name()
        old = [name for name in names[: max(0, len(names) - keep)] if name != current]
        self.vectors.drop(old)
        self.shared.forget(old)

    @contextmanager
    def exclusive(self) -> Iterator[bool]:
        with self.shared.lock() as held:
            yield held
