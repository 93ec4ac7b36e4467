"""Where a snapshot's dense vectors live: an embedded Chroma inside the snapshot folder, or a Chroma
server every bot replica reaches, with one collection per model and snapshot.

Collections are always created without an embedding function, so Chroma's default (which downloads
a model) never runs, and with telemetry off."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError, NotFoundError

from bot.kb.chunking import Chunk

if TYPE_CHECKING:
    from bot.settings import Settings

CHROMA_DIR = "chroma"
COPY_BATCH = 512
TOKEN_PROVIDER = "chromadb.auth.token_authn.TokenAuthClientProvider"


class IndexUnreachable(RuntimeError):
    """A shared index's Chroma server or database cannot be reached, or lacks what a snapshot names."""


def chroma_settings(**extra: Any) -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False, **extra)


def chroma_client(path: Path) -> Any:
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings())


def collection_name(model: str) -> str:
    return f"chunks-{model}"


def release_chroma() -> None:
    """Drop Chroma's per-path client cache so a folder can be renamed or reopened cleanly."""
    chromadb.api.client.SharedSystemClient.clear_system_cache()


def chroma_metadata(chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {"doc_id": chunk.doc_id, "section": chunk.section, "role": chunk.role}
    for key, value in chunk.filters.items():
        if isinstance(value, list):
            if value:  # Chroma rejects empty lists
                meta[key] = [str(v) for v in value]
        elif value is not None:
            meta[key] = value
    return meta


def upsert(collection: Any, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
    for start in range(0, len(chunks), COPY_BATCH):
        batch = chunks[start : start + COPY_BATCH]
        collection.upsert(
            ids=[chunk.id for chunk in batch],
            embeddings=np.asarray(vectors[start : start + COPY_BATCH], dtype=np.float32).tolist(),
            documents=[chunk.text for chunk in batch],
            metadatas=[chroma_metadata(chunk) for chunk in batch],
        )


def _create(client: Any, name: str, model: str) -> Any:
    return client.get_or_create_collection(
        name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}, metadata={"embedding_model": model}
    )


class VectorStore(Protocol):
    def build(self, staging: Path, name: str, previous: Path | None, models: Sequence[str]) -> dict[str, Any]:
        """Writable collections for a snapshot being built, holding the previous snapshot's vectors."""

    def open(self, path: Path, models: Sequence[str]) -> dict[str, Any]:
        """The collections of a published snapshot, for reading."""

    def drop(self, names: Iterable[str]) -> None:
        """Remove the collections of snapshots no longer kept."""

    def unreachable(self) -> str | None:
        """None while the vectors can be read; else why not."""


class LocalVectors:
    """Embedded Chroma in each snapshot's folder: copied per snapshot, removed with the folder."""

    def build(self, staging: Path, name: str, previous: Path | None, models: Sequence[str]) -> dict[str, Any]:
        if previous is not None:
            shutil.copytree(previous / CHROMA_DIR, staging / CHROMA_DIR)
        client = chroma_client(staging / CHROMA_DIR)
        return {model: _create(client, collection_name(model), model) for model in models}

    def open(self, path: Path, models: Sequence[str]) -> dict[str, Any]:
        client = chroma_client(path / CHROMA_DIR)
        return {model: client.get_collection(collection_name(model), embedding_function=None) for model in models}

    def drop(self, names: Iterable[str]) -> None:
        """Nothing outside the snapshot folders to remove."""

    def unreachable(self) -> str | None:
        return None  # on local disk, opened with the snapshot


class ServerVectors:
    """A Chroma server: the snapshot `name`'s vectors for `model` are the collection
    `<prefix>-<model>-<name>`, so a snapshot never changes once published and replicas switch
    between snapshots by name."""

    def __init__(self, client: Any, prefix: str, where: str = "") -> None:
        self.client = client
        self.prefix = prefix
        self.where = where

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerVectors:
        extra: dict[str, Any] = {}
        if settings.chroma_token is not None:
            extra = {
                "chroma_client_auth_provider": TOKEN_PROVIDER,
                "chroma_client_auth_credentials": settings.chroma_token.get_secret_value(),
                "chroma_auth_token_transport_header": settings.chroma_token_header,
            }
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host or "localhost",
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                settings=chroma_settings(**extra),
                tenant=settings.chroma_tenant,
                database=settings.chroma_database,
            )
        except (ChromaError, ValueError, OSError) as error:
            raise IndexUnreachable(f"Chroma server {where}: {error}") from error
        return cls(client, settings.chroma_collection_prefix, where)

    def unreachable(self) -> str | None:
        try:
            self.client.heartbeat()
        except Exception as error:  # noqa: BLE001 - whatever the transport raises, the answer is "not serving"
            return f"Chroma server {self.where}: {error}"
        return None

    def name(self, model: str, snapshot: str) -> str:
        return f"{self.prefix}-{model}-{snapshot}"

    def build(self, staging: Path, name: str, previous: Path | None, models: Sequence[str]) -> dict[str, Any]:
        return {model: self._copy(model, previous.name if previous else None, name) for model in models}

    def _copy(self, model: str, source: str | None, target: str) -> Any:
        if source is None:
            return _create(self.client, self.name(model, target), model)
        old = self.client.get_collection(self.name(model, source), embedding_function=None)
        try:  # a managed Chroma forks a collection without copying it
            return old.fork(self.name(model, target))
        except ChromaError:
            new = _create(self.client, self.name(model, target), model)
        for offset in range(0, old.count(), COPY_BATCH):
            got = old.get(include=["embeddings", "documents", "metadatas"], limit=COPY_BATCH, offset=offset)
            new.add(
                ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"], metadatas=got["metadatas"]
            )
        return new

    def open(self, path: Path, models: Sequence[str]) -> dict[str, Any]:
        try:
            return {
                model: self.client.get_collection(self.name(model, path.name), embedding_function=None)
                for model in models
            }
        except NotFoundError as error:
            raise IndexUnreachable(f"the Chroma server has no vectors for snapshot {path.name}: {error}") from error

    def drop(self, names: Iterable[str]) -> None:
        suffixes = tuple(f"-{name}" for name in names)
        if not suffixes:
            return
        doomed = [name for name in self._names() if name.startswith(f"{self.prefix}-") and name.endswith(suffixes)]
        for name in doomed:
            self.client.delete_collection(name)

    def _names(self) -> list[str]:
        """Every collection's name on the server, page by page (a server may cap one listing)."""
        names: list[str] = []
        while page := self.client.list_collections(limit=COPY_BATCH, offset=len(names)):
            names.extend(collection.name for collection in page)
            if len(page) < COPY_BATCH:
                break
        return names
