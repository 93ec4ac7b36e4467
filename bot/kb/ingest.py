"""Sources → validated documents → chunks → a new snapshot (dense + lexical), incrementally and atomically."""

from __future__ import annotations

import fcntl
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import Progress

from bot.kb.bridge import Bridge
from bot.kb.chunking import CHUNKER_VERSION, Chunk, Chunker
from bot.kb.lexical import LexicalIndex
from bot.kb.sources import Corpus, Rejection, SourceDocument, load_corpus
from bot.kb.store import (
    CHROMA_DIR,
    CHUNKS_FILE,
    DOCUMENTS_FILE,
    LEXICAL_DIR,
    MANIFEST_FILE,
    DataDir,
    chroma_client,
    chroma_metadata,
    collection_name,
    read_json,
    release_chroma,
    write_chunks,
    write_json,
)

if TYPE_CHECKING:
    from bot.kb.embeddings import Embedder

EMBED_BATCH = 64
PROGRESS_THRESHOLD = 64  # chunks; smaller runs finish before a bar is worth drawing


def load_embedder(name: str, threads: int) -> "Embedder":
    # Imported here: torch and sentence-transformers take seconds to import,
    # and a run with nothing to embed should not pay for them.
    from bot.kb.embeddings import Embedder

    return Embedder(name, threads)


class IngestError(RuntimeError):
    """The ingest stopped; the previous index is untouched."""


@dataclass
class IngestReport:
    documents: list[SourceDocument] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    snapshot: str | None = None
    changed: bool = False
    aborted: str | None = None

    @property
    def by_kind_and_lang(self) -> Counter[tuple[str, str]]:
        return Counter((d.meta.kind, d.meta.lang) for d in self.documents)

    @property
    def ok(self) -> bool:
        return not self.rejections and self.aborted is None


def fingerprint(document: SourceDocument, chunker: str, model: str) -> str:
    """Anything that changes a document's chunks or vectors changes its fingerprint."""
    return f"{document.content_hash}:{chunker}:{model}"


def first_block_quote(body: str) -> str | None:
    """The first `>` quotation of a body (a case's customer quote), as written."""
    lines: list[str] = []
    for line in body.splitlines():
        if line.lstrip().startswith(">"):
            lines.append(line.lstrip()[1:].strip())
        elif lines:
            break
    text = " ".join(part for part in lines if part)
    return text or None


def document_record(document: SourceDocument) -> dict[str, Any]:
    return {
        "meta": document.meta.model_dump(mode="json"),
        "path": document.rel_path,
        "quote": first_block_quote(document.body),
        "checklist": [
            {"text": item.text, "section": item.section, "line": item.line} for item in document.checklist
        ],
    }


@contextmanager
def ingest_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise IngestError(f"another ingest is running on {root}") from error
        yield


class Ingestor:
    def __init__(
        self,
        data_dir: Path,
        embedding_models: list[str],
        chunk_size: int = 900,
        threads: int = 2,
        keep_snapshots: int = 2,
        embedder_factory: Callable[[str], "Embedder"] | None = None,
    ) -> None:
        self.data = DataDir(data_dir)
        self.models = list(embedding_models)
        self.model_key = "+".join(self.models)
        self.chunker = Chunker(chunk_size)
        self.chunker_key = f"{CHUNKER_VERSION}/{chunk_size}"
        self.keep = keep_snapshots
        self._embedder_factory = embedder_factory or (lambda name: load_embedder(name, threads))
        self._embedders: dict[str, Embedder] = {}

    def embedder(self, name: str) -> "Embedder":
        # Loaded only when something needs embedding: a no-op run stays fast.
        if name not in self._embedders:
            self._embedders[name] = self._embedder_factory(name)
        return self._embedders[name]

    def run(self, sources: list[Path], strict: bool = False, show_progress: bool = False) -> IngestReport:
        started = time.perf_counter()
        corpus = load_corpus(sources)
        report = IngestReport(documents=corpus.documents, rejections=corpus.rejections)
        if strict and corpus.rejections:
            report.aborted = f"--strict: {len(corpus.rejections)} file(s) rejected, index left unchanged"
        elif not corpus.documents:
            report.aborted = "no valid documents in the sources, index left unchanged"
        else:
            with ingest_lock(self.data.root):
                self._build(corpus, report, show_progress)
        report.seconds = time.perf_counter() - started
        return report

    def _build(self, corpus: Corpus, report: IngestReport, show_progress: bool) -> None:
        previous = self.data.current_path()
        old_docs: dict[str, dict[str, Any]] = {}
        if previous is not None:
            manifest = read_json(previous / MANIFEST_FILE)
            if manifest.get("embedding_models") == self.models:
                old_docs = manifest["documents"]

        chunks_by_doc = {doc.id: self.chunker.split(doc) for doc in corpus.documents}
        prints = {doc.id: fingerprint(doc, self.chunker_key, self.model_key) for doc in corpus.documents}
        changed = [doc for doc in corpus.documents if old_docs.get(doc.id, {}).get("fingerprint") != prints[doc.id]]
        deleted = [doc_id for doc_id in old_docs if doc_id not in prints]
        moved = [doc for doc in corpus.documents if doc.id in old_docs and old_docs[doc.id]["path"] != doc.rel_path]

        report.skipped = sum(len(chunks_by_doc[d.id]) for d in corpus.documents if d not in changed)
        if previous is not None and old_docs and not changed and not deleted and not moved:
            report.snapshot = previous.name
            return

        name, staging = self.data.new_staging()
        try:
            self._write_snapshot(staging, corpus, chunks_by_doc, prints, changed, deleted, old_docs, previous, report, show_progress)
            release_chroma()
            self.data.publish(name, staging)
        except BaseException:
            release_chroma()
            shutil.rmtree(staging, ignore_errors=True)
            raise
        report.snapshot = name
        report.changed = True
        self.data.clean(self.keep)

    def _write_snapshot(
        self,
        staging: Path,
        corpus: Corpus,
        chunks_by_doc: dict[str, list[Chunk]],
        prints: dict[str, str],
        changed: list[SourceDocument],
        deleted: list[str],
        old_docs: dict[str, dict[str, Any]],
        previous: Path | None,
        report: IngestReport,
        show_progress: bool,
    ) -> None:
        # Start from a copy of the previous vectors so unchanged documents are not embedded again.
        if previous is not None and old_docs:
            shutil.copytree(previous / CHROMA_DIR, staging / CHROMA_DIR)
        client = chroma_client(staging / CHROMA_DIR)
        collections = {
            model: client.get_or_create_collection(
                collection_name(model),
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedding_model": model},
            )
            for model in self.models
        }

        stale_ids: list[str] = [cid for doc_id in deleted for cid in old_docs[doc_id]["chunk_ids"]]
        fresh: list[Chunk] = []
        for doc in changed:
            new_ids = {chunk.id for chunk in chunks_by_doc[doc.id]}
            old_ids = set(old_docs.get(doc.id, {}).get("chunk_ids", []))
            stale_ids.extend(old_ids - new_ids)
            report.updated += len(new_ids & old_ids)
            report.added += len(new_ids - old_ids)
            fresh.extend(chunks_by_doc[doc.id])
        report.removed = len(stale_ids)
        for model, collection in collections.items():
            if stale_ids:
                collection.delete(ids=stale_ids)
            self._embed_into(model, collection, fresh, show_progress)

        all_chunks = [chunk for doc in corpus.documents for chunk in chunks_by_doc[doc.id]]
        for model, collection in collections.items():
            if collection.count() != len(all_chunks):
                raise IngestError(
                    f"{model} index holds {collection.count()} chunks but the corpus has {len(all_chunks)}; aborted"
                )
        terms = {
            term
            for doc in corpus.documents
            for term in [*doc.meta.tags, *getattr(doc.meta, "segments", []), *getattr(doc.meta, "modules", [])]
        }
        lexical = LexicalIndex.build(
            [chunk.embed_text for chunk in all_chunks], [chunk.doc_id for chunk in all_chunks], terms
        )
        lexical.save(staging / LEXICAL_DIR)
        Bridge.build(*lexical.vocabulary()).save(staging / LEXICAL_DIR)
        write_chunks(staging / CHUNKS_FILE, all_chunks)
        write_json(staging / DOCUMENTS_FILE, {doc.id: document_record(doc) for doc in corpus.documents})
        write_json(
            staging / MANIFEST_FILE,
            {
                "embedding_models": self.models,
                "chunker": self.chunker_key,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "documents": {
                    doc.id: {
                        "fingerprint": prints[doc.id],
                        "path": doc.rel_path,
                        "chunk_ids": [chunk.id for chunk in chunks_by_doc[doc.id]],
                    }
                    for doc in corpus.documents
                },
            },
        )

    def _embed_into(self, model: str, collection: Any, chunks: list[Chunk], show_progress: bool) -> None:
        if not chunks:
            return
        with Progress(disable=not show_progress or len(chunks) < PROGRESS_THRESHOLD, transient=True) as progress:
            task = progress.add_task(f"Embedding {len(chunks)} chunks with {model}", total=len(chunks))
            for start in range(0, len(chunks), EMBED_BATCH):
                batch = chunks[start : start + EMBED_BATCH]
                vectors = self.embedder(model).embed_documents([chunk.embed_text for chunk in batch])
                collection.upsert(
                    ids=[chunk.id for chunk in batch],
                    embeddings=vectors.tolist(),
                    documents=[chunk.text for chunk in batch],
                    metadatas=[chroma_metadata(chunk) for chunk in batch],
                )
                progress.advance(task, len(batch))
