"""Sources → validated documents → chunks → a new snapshot (dense + lexical), incrementally and atomically."""

from __future__ import annotations

import fcntl
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.progress import Progress

from bot.kb.bridge import Bridge, Embed
from bot.kb.chunking import CHUNKER_VERSION, Chunk, Chunker, quotable_units
from bot.kb.glossary import Glossary, GlossaryIndex
from bot.kb.lexical import LexicalIndex
from bot.kb.models import model_info
from bot.kb.schema import IndexedDocument
from bot.kb.sources import (
    DEFAULT_LIMITS,
    Corpus,
    Rejection,
    SourceDocument,
    SourceLimits,
    Validated,
    load_corpus,
    parser_key,
)
from bot.kb.store import (
    CHUNKS_FILE,
    DOCUMENTS_FILE,
    INDEX_FORMAT,
    LEXICAL_DIR,
    MANIFEST_FILE,
    TERMS_FILE,
    UNITS_FILE,
    DataDir,
    data_dir_for,
    read_chunks,
    read_json,
    write_chunks,
    write_json,
)
from bot.kb.vectors import release_chroma, upsert
from bot.privacy import private_dir

if TYPE_CHECKING:
    from bot.kb.embeddings import Embedder
    from bot.settings import Settings

EMBED_BATCH = 64
UPSERT_BATCH = 512
PROGRESS_THRESHOLD = 64  # chunks; smaller runs finish before a bar is worth drawing


def load_embedder(name: str, threads: int) -> Embedder:
    # Imported here: torch and sentence-transformers take seconds to import,
    # and a run with nothing to embed should not pay for them.
    from bot.kb.embeddings import Embedder

    return Embedder(name, threads)


# A document with more chunks than this many median documents weighs as much as that many in the
# language means (see `language_means`).
OUTSIZED_DOCUMENT = 3
# Re-centring rewrites every stored vector. A mean moves by about the share of chunks changed, so
# until that share reaches this, new vectors are stored against the current means instead.
RECENTRE_SHARE = 0.1


class IngestError(RuntimeError):
    """The ingest stopped; the previous index is untouched."""


@dataclass
class Entry:
    """One document as it goes into a snapshot."""

    doc_id: str
    path: str
    fingerprint: str
    chunks: list[Chunk]
    record: IndexedDocument


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
    kept: list[str] = field(default_factory=list)  # rejected files whose previous version still serves
    glossary_groups: int = 0  # groups of equivalent terms the index holds
    aborted: str | None = None

    @property
    def by_kind_and_lang(self) -> Counter[tuple[str, str]]:
        return Counter((d.meta.kind, d.meta.lang) for d in self.documents)

    @property
    def rejected_files(self) -> int:
        """Files rejected (one file may have several problems)."""
        return len({rejection.path for rejection in self.rejections})

    @property
    def ok(self) -> bool:
        return not self.rejections and self.aborted is None


def fingerprint(document: SourceDocument, chunker: str, model: str) -> str:
    """Anything that changes a document's chunks or vectors changes its fingerprint."""
    return f"{document.content_hash}:{chunker}:{model}"


def content_hash(fingerprint: str) -> str:
    """The hash of the file's bytes a fingerprint starts with."""
    return fingerprint.split(":", 1)[0]


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


def document_record(document: SourceDocument) -> IndexedDocument:
    return IndexedDocument(
        path=document.rel_path,
        meta=document.meta,
        quote=first_block_quote(document.body),
        checklist=list(document.checklist),
    )


@contextmanager
def ingest_lock(data: DataDir) -> Iterator[None]:
    private_dir(data.root)
    with open(data.root / "ingest.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise IngestError(f"another ingest is running on {data.root}") from error
        with data.exclusive() as held:
            if not held:
                raise IngestError("another ingest is publishing to the shared index")
            yield


class Ingestor:
    def __init__(
        self,
        data_dir: Path | DataDir,
        embedding_models: list[str],
        chunk_size: int = 900,
        threads: int = 2,
        keep_snapshots: int = 2,
        embedder_factory: Callable[[str], Embedder] | None = None,
        limits: SourceLimits = DEFAULT_LIMITS,
        cache_dir: Path | None = None,
    ) -> None:
        self.data = data_dir if isinstance(data_dir, DataDir) else DataDir(data_dir)
        self.cache_dir = cache_dir or self.data.root / "cache"  # the parsed dictionaries, between ingests
        self.models = list(embedding_models)
        self.model_key = "+".join(self.models)
        self.chunker = Chunker(chunk_size)
        self.chunker_key = f"{CHUNKER_VERSION}/{chunk_size}"
        self.keep = keep_snapshots
        self.limits = limits
        self._embedder_factory = embedder_factory or (lambda name: load_embedder(name, threads))
        self._embedders: dict[str, Embedder] = {}

    @classmethod
    def from_settings(cls, settings: Settings, embedder_factory: Callable[[str], Embedder] | None = None) -> Ingestor:
        """The ingest the settings describe: their data dir, models, chunk size, limits and caches."""
        return cls(
            data_dir_for(settings),
            settings.embedding_models,
            chunk_size=settings.chunk_size,
            threads=settings.embedding_threads,
            keep_snapshots=settings.snapshots_to_keep,
            embedder_factory=embedder_factory,
            limits=SourceLimits(
                settings.max_file_bytes, settings.max_chunks_per_document, settings.max_checklist_items
            ),
            cache_dir=settings.cache_path,
        )

    def embedder(self, name: str) -> Embedder:
        # Loaded only when something needs embedding: a no-op run stays fast.
        if name not in self._embedders:
            self._embedders[name] = self._embedder_factory(name)
        return self._embedders[name]

    def run(self, sources: list[Path], strict: bool = False, show_progress: bool = False) -> IngestReport:
        started = time.perf_counter()
        served = self.data.current_path()  # a published snapshot's files never change: read together
        manifest = read_json(served / MANIFEST_FILE) if served is not None else {}
        indexed = manifest.get("documents", {})
        corpus = load_corpus(
            sources,
            indexed={doc_id: info["path"] for doc_id, info in indexed.items()},
            validated=_validated(served, manifest),
            limits=self.limits,
        )
        chunks = self._chunk(corpus, indexed)
        report = IngestReport(documents=corpus.documents, rejections=corpus.rejections)
        if strict and corpus.rejections:
            report.aborted = f"--strict: {report.rejected_files} file(s) rejected, index left unchanged"
        elif not corpus.documents:
            report.aborted = "no valid documents in the sources, index left unchanged"
        else:
            with ingest_lock(self.data):
                self.data.clean_leftovers()
                self._build(corpus, chunks, report, show_progress)
        report.seconds = time.perf_counter() - started
        return report

    def _chunk(self, corpus: Corpus, indexed: Mapping[str, Mapping[str, Any]]) -> dict[str, list[Chunk] | None]:
        """Each changed document's chunks; None for one the index holds as it is (its chunks are read
        from the snapshot if needed). A document with more chunks than the limit is rejected instead."""
        chunks: dict[str, list[Chunk] | None] = {}
        limit = self.limits.max_chunks
        for document in list(corpus.documents):
            held = indexed.get(document.id, {})
            same = held.get("fingerprint") == fingerprint(document, self.chunker_key, self.model_key)
            split = None if same else self.chunker.split(document)
            count = len(held["chunk_ids"]) if split is None else len(split)
            if count <= limit:
                chunks[document.id] = split
                continue
            corpus.documents.remove(document)
            reason = self.limits.too_many("chunks", count, limit, "max_chunks_per_document")
            corpus.rejections.append(Rejection(Path(document.rel_path), reason))
        return chunks

    def _build(
        self, corpus: Corpus, chunks: dict[str, list[Chunk] | None], report: IngestReport, show_progress: bool
    ) -> None:
        previous = self.data.current_path()
        manifest = read_json(previous / MANIFEST_FILE) if previous is not None else {}
        old_docs: dict[str, dict[str, Any]] = {}
        old_centers: dict[str, Centring] = {}
        if manifest.get("embedding_models") == self.models and manifest.get("format") == INDEX_FORMAT:
            old_docs = manifest["documents"]
            drift = manifest.get("centring_drift", {})
            old_centers = {m: Centring(means, drift.get(m, 0)) for m, means in manifest.get("centering", {}).items()}

        indexed = _stored_glossary(manifest)
        glossary = self._glossary(corpus, indexed if previous is not None else None, report)
        report.glossary_groups = len(glossary.groups)
        entries = [
            Entry(
                doc.id,
                doc.rel_path,
                fingerprint(doc, self.chunker_key, self.model_key),
                chunks[doc.id] or [],
                document_record(doc),
            )
            for doc in corpus.documents
        ]
        if previous is not None and old_docs:
            entries.extend(self._previous_versions(corpus, previous, old_docs, report))
        entries.sort(key=lambda entry: entry.path)
        ids = {entry.doc_id for entry in entries}
        changed = [e for e in entries if old_docs.get(e.doc_id, {}).get("fingerprint") != e.fingerprint]
        deleted = [doc_id for doc_id in old_docs if doc_id not in ids]
        moved = [e for e in entries if e.doc_id in old_docs and old_docs[e.doc_id]["path"] != e.path]

        report.skipped = sum(len(old_docs[e.doc_id]["chunk_ids"]) for e in entries if e not in changed)
        unchanged = not changed and not deleted and not moved
        if previous is not None and old_docs and unchanged and glossary.fingerprint == indexed.fingerprint:
            report.snapshot = previous.name
            return
        self._fill_chunks(corpus, entries, chunks, previous, {entry.doc_id for entry in changed})

        name, staging = self.data.new_staging()
        try:
            collections = self.data.vectors.build(staging, name, previous if old_docs else None, self.models)
            self._write_snapshot(
                staging,
                collections,
                entries,
                changed,
                deleted,
                old_docs,
                old_centers,
                previous,
                glossary,
                report,
                show_progress,
            )
            release_chroma()
            self.data.publish(name, staging)
        except BaseException:
            release_chroma()
            self.data.abandon(name, staging)
            raise
        report.snapshot = name
        report.changed = True
        self.data.clean(self.keep)

    @staticmethod
    def _glossary(corpus: Corpus, indexed: Glossary | None, report: IngestReport) -> Glossary:
        """The corpus glossary; while a glossary file is rejected, the one the index already has."""
        rejected = {str(rejection.path) for rejection in corpus.rejections}
        broken = [path for path in corpus.glossary_files if path in rejected]
        if not broken or indexed is None:
            return corpus.glossary
        report.kept.extend(broken)
        return indexed

    def _fill_chunks(
        self,
        corpus: Corpus,
        entries: list[Entry],
        chunks: Mapping[str, list[Chunk] | None],
        previous: Path | None,
        changed: set[str],
    ) -> None:
        """Give every document left unchunked (the index held it as it is) its chunks from the
        snapshot; one that another ingest changed in the meantime is chunked now."""
        held = {doc.id: doc for doc in corpus.documents if chunks.get(doc.id) is None}
        stored: dict[str, list[Chunk]] = {}
        if previous is not None and set(held) - changed:
            for chunk in read_chunks(previous / CHUNKS_FILE):
                if chunk.doc_id in held:
                    stored.setdefault(chunk.doc_id, []).append(chunk)
        for entry in entries:
            if entry.doc_id in held:
                reuse = entry.doc_id not in changed and entry.doc_id in stored
                entry.chunks = stored[entry.doc_id] if reuse else self.chunker.split(held[entry.doc_id])

    @staticmethod
    def _previous_versions(
        corpus: Corpus, previous: Path, old_docs: dict[str, dict[str, Any]], report: IngestReport
    ) -> list[Entry]:
        """A file that was valid before and is rejected now keeps serving its last valid version."""
        rejected = {str(rejection.path) for rejection in corpus.rejections}
        valid_ids = {doc.id for doc in corpus.documents}
        keep = {doc_id for doc_id, info in old_docs.items() if info["path"] in rejected and doc_id not in valid_ids}
        if not keep:
            return []
        records = read_json(previous / DOCUMENTS_FILE)
        chunks: dict[str, list[Chunk]] = {}
        for chunk in read_chunks(previous / CHUNKS_FILE):
            if chunk.doc_id in keep:
                chunks.setdefault(chunk.doc_id, []).append(chunk)
        report.kept.extend(sorted(old_docs[doc_id]["path"] for doc_id in keep))
        return [
            Entry(
                doc_id,
                old_docs[doc_id]["path"],
                old_docs[doc_id]["fingerprint"],
                chunks.get(doc_id, []),
                IndexedDocument.model_validate(records[doc_id]),
            )
            for doc_id in sorted(keep)
        ]

    def _write_snapshot(
        self,
        staging: Path,
        collections: dict[str, Any],
        entries: list[Entry],
        changed: list[Entry],
        deleted: list[str],
        old_docs: dict[str, dict[str, Any]],
        old_centers: dict[str, Centring],
        previous: Path | None,
        glossary: Glossary,
        report: IngestReport,
        show_progress: bool,
    ) -> None:
        # The collections start as a copy of the previous vectors, so unchanged documents are not embedded again.
        stale_ids: list[str] = [cid for doc_id in deleted for cid in old_docs[doc_id]["chunk_ids"]]
        fresh: list[Chunk] = []
        for entry in changed:
            new_ids = {chunk.id for chunk in entry.chunks}
            old_ids = set(old_docs.get(entry.doc_id, {}).get("chunk_ids", []))
            stale_ids.extend(old_ids - new_ids)
            report.updated += len(new_ids & old_ids)
            report.added += len(new_ids - old_ids)
            fresh.extend(entry.chunks)
        report.removed = len(stale_ids)
        all_chunks = [chunk for entry in entries for chunk in entry.chunks]
        centering: dict[str, Centring] = {}
        for model, collection in collections.items():
            if stale_ids:
                collection.delete(ids=stale_ids)
            vectors = self._embed(model, fresh, show_progress)
            if model_info(model).center_by_language:
                old = old_centers.get(model)
                if old is not None and old.holds(fresh, len(stale_ids), len(all_chunks)):
                    centering[model] = old.moved(len(fresh) + len(stale_ids))
                    upsert(collection, fresh, old.centred(fresh, vectors))
                else:
                    centering[model] = self._store_centered(collection, fresh, vectors, all_chunks, old)
            else:
                upsert(collection, fresh, vectors)

        self._write_units(staging, previous if old_docs else None, fresh, all_chunks, show_progress)
        for model, collection in collections.items():
            if collection.count() != len(all_chunks):
                raise IngestError(
                    f"{model} index holds {collection.count()} chunks but the corpus has {len(all_chunks)}; aborted"
                )
        terms = {
            term
            for entry in entries
            for key in ("tags", "segments", "modules")
            for term in getattr(entry.record.meta, key, [])
        }
        terms.update(term for group in glossary.groups for term in group)
        groups = GlossaryIndex.build(glossary.groups)
        known = LexicalIndex.known_tokens(previous / LEXICAL_DIR, terms) if previous is not None and old_docs else {}
        lexical = LexicalIndex.build(
            [chunk.embed_text for chunk in all_chunks],
            [chunk.doc_id for chunk in all_chunks],
            terms,
            groups.annotate,
            known=known,
        )
        lexical.save(staging / LEXICAL_DIR)
        zh_vocab, en_vocab = lexical.vocabulary()
        embed_terms = self._term_embedder(staging, previous if old_docs else None)
        Bridge.build(zh_vocab, en_vocab, embed_terms, groups, cache_dir=self.cache_dir).save(staging / LEXICAL_DIR)
        write_chunks(staging / CHUNKS_FILE, all_chunks)
        write_json(staging / DOCUMENTS_FILE, {entry.doc_id: entry.record.model_dump(mode="json") for entry in entries})
        created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        changed_ids = {entry.doc_id for entry in changed}
        write_json(
            staging / MANIFEST_FILE,
            {
                "format": INDEX_FORMAT,
                "embedding_models": self.models,
                "unit_model": self.models[0],
                "centering": {model: centring.means for model, centring in centering.items()},
                "centring_drift": {model: centring.drift for model, centring in centering.items()},
                "chunker": self.chunker_key,
                "parser": parser_key(),
                "created": created,
                "glossary": {"fingerprint": glossary.fingerprint, "groups": glossary.groups},
                "documents": {
                    entry.doc_id: {
                        "fingerprint": entry.fingerprint,
                        "path": entry.path,
                        "chunk_ids": [chunk.id for chunk in entry.chunks],
                        # When this version entered the index: what "changed recently" means to readers.
                        "changed": created
                        if entry.doc_id in changed_ids
                        else old_docs.get(entry.doc_id, {}).get("changed", created),
                    }
                    for entry in entries
                },
            },
        )

    def _embed(
        self,
        model: str,
        chunks: list[Chunk],
        show_progress: bool,
        text: Callable[[Chunk], str] = lambda chunk: chunk.embed_text,
    ) -> np.ndarray:
        vectors: list[np.ndarray] = []
        with Progress(disable=not show_progress or len(chunks) < PROGRESS_THRESHOLD, transient=True) as progress:
            task = progress.add_task(f"Embedding {len(chunks)} chunks with {model}", total=len(chunks))
            for start in range(0, len(chunks), EMBED_BATCH):
                batch = chunks[start : start + EMBED_BATCH]
                vectors.append(self.embedder(model).embed_documents([text(chunk) for chunk in batch]))
                progress.advance(task, len(batch))
        return np.concatenate(vectors) if vectors else np.zeros((0, model_info(model).dimension), dtype=np.float32)

    def _write_units(
        self, staging: Path, previous: Path | None, fresh: list[Chunk], all_chunks: list[Chunk], show_progress: bool
    ) -> None:
        """Vectors for every quotable unit (sentence, list item), so answers can pick
        the sentences closest in meaning, in either language. Unchanged chunks keep theirs."""
        model = self.models[0]
        reused: dict[tuple[str, int], np.ndarray] = {}
        if previous is not None and (previous / UNITS_FILE).exists():
            old = np.load(previous / UNITS_FILE)
            old_ids = [chunk.id for chunk in read_chunks(previous / CHUNKS_FILE)]
            for chunk_pos, unit_pos, vector in zip(old["chunk"], old["unit"], old["vectors"]):
                reused[(old_ids[int(chunk_pos)], int(unit_pos))] = vector
        fresh_ids = {chunk.id for chunk in fresh}
        rows: list[tuple[int, int]] = []
        vectors: list[np.ndarray | None] = []
        pending: list[tuple[int, Chunk, str]] = []
        for chunk_pos, chunk in enumerate(all_chunks):
            for unit_pos, text in enumerate(quotable_units(chunk.text)):
                rows.append((chunk_pos, unit_pos))
                vector = None if chunk.id in fresh_ids else reused.get((chunk.id, unit_pos))
                vectors.append(vector)
                if vector is None:
                    pending.append((len(vectors) - 1, chunk, text))
        if pending:
            as_chunks = [replace(chunk, text=text, section="", title="") for _, chunk, text in pending]
            embedded = self._embed(model, as_chunks, show_progress, text=lambda c: c.text)
            for (slot, _, _), vector in zip(pending, embedded):
                vectors[slot] = vector.astype(np.float16)
        matrix = np.stack(vectors) if vectors else np.zeros((0, model_info(model).dimension), dtype=np.float16)
        np.savez(
            staging / UNITS_FILE,
            chunk=np.array([r[0] for r in rows], dtype=np.int32),
            unit=np.array([r[1] for r in rows], dtype=np.int32),
            vectors=matrix.astype(np.float16),
        )

    def _term_embedder(self, staging: Path, previous: Path | None) -> Embed:
        """Embeds vocabulary words with the unit model for the bridge's related terms, reusing
        the previous snapshot's vectors (a vocabulary changes little between runs); writes
        what it embedded into the new snapshot for the next run."""
        model = self.models[0]
        known: dict[str, np.ndarray] = {}
        if previous is not None and (previous / LEXICAL_DIR / TERMS_FILE).exists():
            old = np.load(previous / LEXICAL_DIR / TERMS_FILE)
            known = dict(zip(old["terms"].tolist(), old["vectors"]))

        def embed(terms: Sequence[str]) -> np.ndarray:
            missing = [term for term in terms if term not in known]
            for start in range(0, len(missing), EMBED_BATCH * 4):
                batch = missing[start : start + EMBED_BATCH * 4]
                known.update(zip(batch, self.embedder(model).embed_documents(batch).astype(np.float16)))
            matrix = np.stack([known[term] for term in terms]) if terms else np.zeros((0, 1), dtype=np.float16)
            np.savez(staging / LEXICAL_DIR / TERMS_FILE, terms=np.array(list(terms)), vectors=matrix)
            return matrix.astype(np.float32)

        return embed

    @staticmethod
    def _store_centered(
        collection: Any,
        fresh: list[Chunk],
        fresh_vectors: np.ndarray,
        all_chunks: list[Chunk],
        old: Centring | None,
    ) -> Centring:
        """Store every vector minus its language's mean; returns the means.

        Kept vectors are recovered from the stored ones and the previous means,
        so a changed corpus re-centres everything without re-embedding."""
        raw: dict[str, np.ndarray] = {chunk.id: vector for chunk, vector in zip(fresh, fresh_vectors)}
        fresh_ids = set(raw)
        kept = [chunk for chunk in all_chunks if chunk.id not in fresh_ids]
        if kept:
            if old is None:
                raise IngestError("the previous index has no centring data; delete the data dir and ingest again")
            lang_of = {chunk.id: chunk.lang for chunk in kept}
            for start in range(0, len(kept), UPSERT_BATCH):
                ids = [chunk.id for chunk in kept[start : start + UPSERT_BATCH]]
                got = collection.get(ids=ids, include=["embeddings"])
                for chunk_id, vector in zip(got["ids"], got["embeddings"]):
                    raw[chunk_id] = np.asarray(vector, dtype=np.float32) + old.mean(lang_of[chunk_id])
        means = language_means(all_chunks, raw)
        upsert(
            collection,
            all_chunks,
            np.stack([raw[c.id] - means[c.lang] for c in all_chunks]) if all_chunks else np.zeros((0, 1)),
        )
        return Centring({lang: mean.astype(np.float32).tolist() for lang, mean in means.items()}, drift=0)


@dataclass(frozen=True)
class Centring:
    """A language-centred model's means, and how many chunks were embedded or removed since."""

    means: dict[str, list[float]]
    drift: int

    def mean(self, lang: str) -> np.ndarray:
        return np.asarray(self.means[lang], dtype=np.float32)

    def centred(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> np.ndarray:
        means = np.array([self.means[chunk.lang] for chunk in chunks], dtype=np.float32)
        return vectors - means.reshape(len(chunks), vectors.shape[1])

    def holds(self, fresh: Sequence[Chunk], removed: int, total: int) -> bool:
        """Whether new vectors can be stored against these means: every language has one, and
        the chunks changed since they were computed stay under RECENTRE_SHARE of the corpus."""
        known = all(chunk.lang in self.means for chunk in fresh)
        return known and self.drift + len(fresh) + removed <= RECENTRE_SHARE * total

    def moved(self, changed: int) -> Centring:
        return Centring(self.means, self.drift + changed)


def language_means(chunks: Sequence[Chunk], vectors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each language's mean vector over its chunks, where no document weighs more than
    OUTSIZED_DOCUMENT typical documents: one junk or giant document would otherwise pull the
    centre, and with it every answer, its way. Ordinary documents count chunk by chunk."""
    by_document: dict[str, list[np.ndarray]] = {}
    lang_of: dict[str, str] = {}
    for chunk in chunks:
        by_document.setdefault(chunk.doc_id, []).append(vectors[chunk.id])
        lang_of[chunk.doc_id] = chunk.lang
    cap = OUTSIZED_DOCUMENT * statistics.median(len(rows) for rows in by_document.values()) if chunks else 0
    sums: dict[str, np.ndarray] = {}
    weights: dict[str, float] = {}
    for doc_id, rows in by_document.items():
        weight = min(len(rows), cap)
        lang = lang_of[doc_id]
        sums[lang] = sums.get(lang, 0) + weight * np.mean(rows, axis=0)
        weights[lang] = weights.get(lang, 0.0) + weight
    return {lang: sums[lang] / weights[lang] for lang in sorted(sums)}


def _validated(served: Path | None, manifest: Mapping[str, Any]) -> Validated:
    """The served documents' front matter and glossary, when this parser validated them. `manifest`
    describes the documents (per document: its file, fingerprint and chunk ids) of `served`."""
    if served is None or manifest.get("parser") != parser_key():
        return Validated()
    records = read_json(served / DOCUMENTS_FILE)
    metas = {
        content_hash(info["fingerprint"]): IndexedDocument.model_validate(records[doc_id]).meta
        for doc_id, info in manifest["documents"].items()
        if doc_id in records
    }
    return Validated(metas, _stored_glossary(manifest))


def _stored_glossary(manifest: Mapping[str, Any]) -> Glossary:
    stored = manifest.get("glossary") or {}
    return Glossary(tuple(tuple(group) for group in stored.get("groups", [])), stored.get("fingerprint", ""))
