"""The on-disk index: immutable snapshots and an atomic CURRENT pointer.

    <data_dir>/CURRENT                 name of the snapshot readers use
    <data_dir>/snapshots/<name>/       manifest.json, documents.json, chunks.jsonl,
                                       chroma/ (dense vectors, unless a Chroma server
                                       holds them: see vectors.py), lexical/ (BM25)
    <data_dir>/staging-<name>/         a snapshot being built; never read

An ingest builds a complete new snapshot in a staging folder and only then
switches CURRENT with an atomic rename, so readers never see a half-built index
and a failed or killed ingest leaves the previous one serving.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.kb.bridge import Bridge
from bot.kb.chunking import Chunk
from bot.kb.jsonfile import read_json, read_json_lines, write_json_lines
from bot.kb.lexical import LexicalIndex
from bot.kb.schema import IndexedDocument
from bot.kb.vectors import LocalVectors, VectorStore

if TYPE_CHECKING:
    from bot.settings import Settings

# Bump when what a snapshot holds changes shape: older snapshots are then rebuilt, not patched.
INDEX_FORMAT = 6
CURRENT_FILE = "CURRENT"
SNAPSHOTS_DIR = "snapshots"
PUBLISHED_MARK = ".published"
STAGING_PREFIX = "staging-"
MANIFEST_FILE = "manifest.json"
DOCUMENTS_FILE = "documents.json"
CHUNKS_FILE = "chunks.jsonl"
LEXICAL_DIR = "lexical"
UNITS_FILE = "units.npz"
TERMS_FILE = "terms.npz"  # vocabulary vectors of the unit model, in LEXICAL_DIR


class IndexMissing(RuntimeError):
    """There is no index yet in the data directory."""


@dataclass(frozen=True)
class DataDir:
    root: Path
    vectors: VectorStore = field(default_factory=LocalVectors)

    @property
    def current_file(self) -> Path:
        return self.root / CURRENT_FILE

    def current_name(self) -> str | None:
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name if name and (self.snapshots / name).is_dir() else None

    @property
    def snapshots(self) -> Path:
        return self.root / SNAPSHOTS_DIR

    def current_path(self) -> Path | None:
        name = self.current_name()
        return self.snapshots / name if name else None

    def new_staging(self) -> tuple[str, Path]:
        # Names sort in creation order (down to the nanosecond), which clean() relies on.
        now = time.time_ns()
        name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}-{uuid.uuid4().hex[:4]}"
        path = self.root / f"{STAGING_PREFIX}{name}"
        path.mkdir(parents=True)
        return name, path

    def publish(self, name: str, staging: Path) -> Path:
        """Move a finished staging folder into place and point CURRENT at it atomically."""
        self.snapshots.mkdir(parents=True, exist_ok=True)
        final = self.snapshots / name
        os.replace(staging, final)
        pointer = self.root / f".{CURRENT_FILE}.{name}.tmp"
        pointer.write_text(name + "\n", encoding="utf-8")
        with open(pointer, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(pointer, self.current_file)
        # Marked once served: a snapshot moved into place by an ingest killed before CURRENT
        # pointed at it was never served, and must not take a kept slot.
        (final / PUBLISHED_MARK).touch()
        return final

    def abandon(self, name: str, staging: Path) -> None:
        """Remove what a failed ingest wrote for snapshot `name`."""
        shutil.rmtree(staging, ignore_errors=True)

    def clean_leftovers(self) -> None:
        """What a killed ingest left behind: staging folders, CURRENT pointers never moved into
        place, and snapshots moved into place but never published. Run under the ingest lock."""
        for leftover in self.root.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for pointer in self.root.glob(f".{CURRENT_FILE}.*.tmp"):
            pointer.unlink(missing_ok=True)
        current = self.current_name()
        for path in self._snapshot_dirs():
            if path.name != current and not (path / PUBLISHED_MARK).exists():
                shutil.rmtree(path, ignore_errors=True)

    def clean(self, keep: int) -> None:
        """Remove leftovers and all but the newest `keep` published snapshots."""
        self.clean_leftovers()
        current = self.current_name()
        names = sorted(path.name for path in self._snapshot_dirs())
        for name in names[: max(0, len(names) - keep)]:
            if name != current:
                shutil.rmtree(self.snapshots / name, ignore_errors=True)

    def open(self, path: Path | None = None) -> Snapshot:
        """The snapshot at `path`, by default the current one."""
        path = path or self.current_path()
        if path is None:
            raise IndexMissing(f"no index in {self.root}: run `python ingest.py` first")
        return Snapshot(path, self.vectors)

    def serving(self, name: str) -> None:
        """A reader now serves snapshot `name`. Here snapshots are the index itself, and only the ingest
        removes them (under its lock)."""

    @contextmanager
    def exclusive(self) -> Iterator[bool]:
        """Held while an ingest builds and publishes, beyond the data dir's own lock; False if another
        ingest holds it. A data dir alone has nothing beyond its lock."""
        yield True

    def _snapshot_dirs(self) -> list[Path]:
        return [path for path in self.snapshots.iterdir() if path.is_dir()] if self.snapshots.is_dir() else []


def write_chunks(path: Path, chunks: list[Chunk]) -> None:
    write_json_lines(path, (chunk.to_record() for chunk in chunks))


def read_chunks(path: Path) -> list[Chunk]:
    return [Chunk(**record) for record in read_json_lines(path)]


class Snapshot:
    """A read-only view of one published snapshot."""

    def __init__(self, path: Path, vectors: VectorStore | None = None) -> None:
        self.path = path
        self.name = path.name
        self.manifest: dict[str, Any] = read_json(path / MANIFEST_FILE)
        self.documents: dict[str, IndexedDocument] = {
            doc_id: IndexedDocument.model_validate(record)
            for doc_id, record in read_json(path / DOCUMENTS_FILE).items()
        }
        self.chunks: list[Chunk] = read_chunks(path / CHUNKS_FILE)
        self.position = {chunk.id: i for i, chunk in enumerate(self.chunks)}
        self._by_doc: dict[str, list[Chunk]] = {}
        for chunk in self.chunks:
            self._by_doc.setdefault(chunk.doc_id, []).append(chunk)
        self.lexical = LexicalIndex.load(path / LEXICAL_DIR)
        self.bridge = Bridge.load(path / LEXICAL_DIR)
        self.embedding_models: list[str] = list(self.manifest["embedding_models"])
        self.unit_model: str = self.manifest["unit_model"]
        units = np.load(path / UNITS_FILE)
        # Kept as stored, in float16: at 100,000 chunks float32 would add 0.4 GB. A chunk's few rows
        # are widened when compared.
        self._unit_vectors = units["vectors"]
        # Rows of each chunk's units in _unit_vectors (units are stored chunk by chunk).
        owner = units["chunk"]
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else np.zeros(0, dtype=np.int64)
        ends = np.r_[starts[1:], len(owner)]
        self._unit_rows: dict[int, tuple[int, int]] = dict(
            zip(owner[starts].tolist(), zip(starts.tolist(), ends.tolist()))
        )
        # Language-centred models: queries are shifted by the mean of the language means.
        self.query_shift: dict[str, np.ndarray] = {
            model: np.mean([np.asarray(v, dtype=np.float32) for v in means.values()], axis=0)
            for model, means in self.manifest.get("centering", {}).items()
        }
        self._centroids: dict[str, np.ndarray] = {}
        self._collections = (vectors or LocalVectors()).open(path, self.embedding_models)

    def dense(
        self, model: str, vector: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[int, float]]:
        """(chunk position, cosine similarity), best first."""
        n = min(n, len(self.chunks))
        if n <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32)
        if model in self.query_shift:
            query = query - self.query_shift[model]
        result = self._collections[model].query(
            query_embeddings=[query.tolist()],
            n_results=n,
            where=where,
            include=["distances"],
        )
        ids, distances = result["ids"][0], result["distances"][0]
        return [(self.position[i], 1.0 - float(d)) for i, d in zip(ids, distances) if i in self.position]

    @property
    def changed(self) -> dict[str, str]:
        """When each document's current version entered the index (ISO time)."""
        created = self.manifest.get("created", "")
        return {doc_id: info.get("changed", created) for doc_id, info in self.manifest["documents"].items()}

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return self._by_doc.get(doc_id, [])

    def document_similarity(self, a: str, b: str) -> float:
        """How close two documents are in content: the cosine of the means of their body
        sentences' vectors (the unit model's, stored at ingest). Overviews and metric tables are
        left out: they are written to one template, which makes every case look alike."""
        return float(self._centroid(a) @ self._centroid(b))

    def _centroid(self, doc_id: str) -> np.ndarray:
        if doc_id not in self._centroids:
            rows = [
                row
                for chunk in self.chunks_of(doc_id)
                if chunk.role == "body"
                for row in range(*self._unit_rows.get(self.position[chunk.id], (0, 0)))
            ]
            vectors = self._unit_vectors[rows].astype(np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            unit = vectors / np.where(norms == 0, 1.0, norms)
            mean = unit.mean(axis=0) if rows else np.zeros(self._unit_vectors.shape[1], dtype=np.float32)
            self._centroids[doc_id] = mean / (np.linalg.norm(mean) or 1.0)
        return self._centroids[doc_id]

    def unit_similarities(self, chunk_position: int, query_vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of each quotable unit of a chunk to a query (of the unit model)."""
        start, end = self._unit_rows.get(chunk_position, (0, 0))
        block = self._unit_vectors[start:end].astype(np.float32)
        if not len(block):
            return np.zeros(0, dtype=np.float32)
        query = np.asarray(query_vector, dtype=np.float32)
        norms = np.linalg.norm(block, axis=1) * (np.linalg.norm(query) or 1.0)
        return (block @ query) / np.where(norms == 0, 1.0, norms)


def data_dir_for(settings: Settings) -> DataDir:
    """The data dir the settings describe: alone, or a replica's cache of the snapshots shared
    through a Chroma server and the records database."""
    if not settings.chroma_host:
        return DataDir(settings.data_dir)
    # Imported only when shared: the records database's engine and migrations.
    from bot.kb.shared import SharedDataDir, SharedSnapshots
    from bot.kb.vectors import ServerVectors
    from bot.records import database_url

    return SharedDataDir(
        settings.data_dir, ServerVectors.from_settings(settings), shared=SharedSnapshots(database_url(settings))
    )


def open_snapshot(data_dir: Path) -> Snapshot:
    return DataDir(data_dir).open()
