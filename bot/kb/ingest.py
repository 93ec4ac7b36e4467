"""Sources → validated documents → chunks → a new snapshot (dense + lexical), incrementally and atomically."""

from __future__ import annotations

import fcntl
import functools
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.progress import Progress

from bot.kb.bridge import Bridge, Embed
from bot.kb.chunking import CHUNKER_VERSION, Chunk, Chunker, quotable_units
from bot.kb.glossary import Glossary, GlossaryIndex
from bot.kb.jsonfile import read_json, write_json
from bot.kb.lexical import TOKENIZER_VERSION, LexicalIndex
from bot.kb.models import model_info
from bot.kb.resume import EncodedBatches
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
    write_chunks,
)
from bot.kb.vectors import release_chroma, upsert
from bot.privacy import private_dir

if TYPE_CHECKING:
    from bot.kb.embeddings import Embedder
    from bot.settings import Settings

EMBED_BATCH = 64
ENCODED_DIR = "encoded"  # a running ingest's encoded batches (`bot.kb.resume`), kept if it is killed
# Up to this many texts a run encodes with the packaged models directly (`Embedder.embed_few`):
# an edit's few documents then never wait for sentence-transformers' import.
FEW_TEXTS = 256
UPSERT_BATCH = 512
PROGRESS_THRESHOLD = 64  # chunks; smaller runs finish before a bar is worth drawing


def load_embedder(name: str, threads: int) -> Embedder:
    # Imported and loaded here: a run with nothing to embed should not pay for the models.
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
class Changes:
    """A new snapshot's documents against its base's: all of them, those whose fingerprint changed,
    the ids of those gone, and those whose file moved."""

    entries: list[Entry]
    changed: list[Entry]
    deleted: list[str]
    moved: list[Entry]

    @classmethod
    def between(cls, entries: list[Entry], base: Base | None) -> Changes:
        old = base.docs if base else {}
        ids = {entry.doc_id for entry in entries}
        return cls(
            entries,
            changed=[e for e in entries if old.get(e.doc_id, {}).get("fingerprint") != e.fingerprint],
            deleted=[doc_id for doc_id in old if doc_id not in ids],
            moved=[e for e in entries if e.doc_id in old and old[e.doc_id]["path"] != e.path],
        )

    @property
    def changed_ids(self) -> set[str]:
        return {entry.doc_id for entry in self.changed}

    @property
    def unchanged(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.doc_id not in self.changed_ids]

    @property
    def none(self) -> bool:
        return not self.changed and not self.deleted and not self.moved


@dataclass
class Units:
    """Sentence-vector rows: the chunk position and unit position of each, and its vector."""

    chunk: np.ndarray
    unit: np.ndarray
    vectors: np.ndarray


@dataclass
class IngestReport:
    documents: list[SourceDocument] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    resumed: int = 0  # texts whose vectors an earlier, interrupted run had encoded
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
        self.model_key = "+".join(model_info(name).key for name in self.models)
        self.chunker = Chunker(chunk_size)
        self.chunker_key = f"{CHUNKER_VERSION}/{chunk_size}"
        self.keep = keep_snapshots
        self.limits = limits
        self._embedder_factory = embedder_factory or (lambda name: load_embedder(name, threads))
        self._embedders: dict[str, Embedder] = {}
        self.batches = EncodedBatches(self.data.root / ENCODED_DIR)

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
        base = Base.of(previous, manifest, self.model_key)
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
        if base is not None:
            entries.extend(self._previous_versions(corpus, base, report))
        entries.sort(key=lambda entry: entry.path)
        changes = Changes.between(entries, base)
        report.skipped = sum(len(base.docs[e.doc_id]["chunk_ids"]) for e in changes.unchanged) if base else 0
        tokenized = manifest.get("tokenizer", "1") == TOKENIZER_VERSION
        if base is not None and changes.none and glossary.fingerprint == indexed.fingerprint and tokenized:
            report.snapshot = base.path.name
            self.batches.clear()
            return
        self._fill_chunks(corpus, entries, chunks, base, changes.changed_ids)

        name, staging = self.data.new_staging()
        try:
            collections = self.data.vectors.build(staging, name, base.path if base else None, self.models)
            self._write_snapshot(
                staging, collections, changes, base=base, glossary=glossary, report=report, progress=show_progress
            )
            release_chroma()
            self.data.publish(name, staging)
        except BaseException:
            release_chroma()
            self.data.abandon(name, staging)
            raise
        report.snapshot = name
        report.changed = True
        report.resumed = self.batches.resumed
        self.batches.clear()
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
        base: Base | None,
        changed: set[str],
    ) -> None:
        """Give every document left unchunked (the index held it as it is) its chunks from the
        snapshot; one that another ingest changed in the meantime is chunked now."""
        held = {doc.id: doc for doc in corpus.documents if chunks.get(doc.id) is None}
        wanted = set(held) - changed
        stored = base.chunks_of(wanted) if base is not None and wanted else {}
        for entry in entries:
            if entry.doc_id in held:
                reuse = entry.doc_id not in changed and entry.doc_id in stored
                entry.chunks = stored[entry.doc_id] if reuse else self.chunker.split(held[entry.doc_id])

    @staticmethod
    def _previous_versions(corpus: Corpus, base: Base, report: IngestReport) -> list[Entry]:
        """A file that was valid before and is rejected now keeps serving its last valid version."""
        rejected = {str(rejection.path) for rejection in corpus.rejections}
        valid_ids = {doc.id for doc in corpus.documents}
        keep = {doc_id for doc_id, info in base.docs.items() if info["path"] in rejected and doc_id not in valid_ids}
        if not keep:
            return []
        records = read_json(base.path / DOCUMENTS_FILE)
        chunks = base.chunks_of(keep)
        report.kept.extend(sorted(base.docs[doc_id]["path"] for doc_id in keep))
        return [
            Entry(
                doc_id,
                base.docs[doc_id]["path"],
                base.docs[doc_id]["fingerprint"],
                chunks.get(doc_id, []),
                IndexedDocument.model_validate(records[doc_id]),
            )
            for doc_id in sorted(keep)
        ]

    def _write_snapshot(
        self,
        staging: Path,
        collections: dict[str, Any],
        changes: Changes,
        *,
        base: Base | None,
        glossary: Glossary,
        report: IngestReport,
        progress: bool,
    ) -> None:
        all_chunks = [chunk for entry in changes.entries for chunk in entry.chunks]
        fresh, centering = self._write_vectors(
            collections, changes, all_chunks, base=base, report=report, progress=progress
        )
        self._write_units(staging, base, fresh, all_chunks, progress)
        for model, collection in collections.items():
            if collection.count() != len(all_chunks):
                raise IngestError(
                    f"{model} index holds {collection.count()} chunks but the corpus has {len(all_chunks)}; aborted"
                )
        self._write_lexical(staging, changes, all_chunks, base=base, glossary=glossary)
        write_chunks(staging / CHUNKS_FILE, all_chunks)
        records = {entry.doc_id: entry.record.model_dump(mode="json") for entry in changes.entries}
        write_json(staging / DOCUMENTS_FILE, records, indent=True)
        manifest = self._manifest(changes, centering, base=base, glossary=glossary)
        write_json(staging / MANIFEST_FILE, manifest, indent=True)

    def _write_vectors(
        self,
        collections: dict[str, Any],
        changes: Changes,
        all_chunks: list[Chunk],
        *,
        base: Base | None,
        report: IngestReport,
        progress: bool,
    ) -> tuple[list[Chunk], dict[str, Centring]]:
        """Embed what changed into the collections, which start as a copy of the base's vectors (so
        unchanged documents are not embedded again); returns the chunks embedded and the centring."""
        old_docs = base.docs if base else {}
        stale_ids: list[str] = [cid for doc_id in changes.deleted for cid in old_docs[doc_id]["chunk_ids"]]
        fresh: list[Chunk] = []
        for entry in changes.changed:
            new_ids = {chunk.id for chunk in entry.chunks}
            old_ids = set(old_docs.get(entry.doc_id, {}).get("chunk_ids", []))
            stale_ids.extend(old_ids - new_ids)
            report.updated += len(new_ids & old_ids)
            report.added += len(new_ids - old_ids)
            fresh.extend(entry.chunks)
        report.removed = len(stale_ids)
        centering: dict[str, Centring] = {}
        for model, collection in collections.items():
            if stale_ids:
                collection.delete(ids=stale_ids)
            vectors = self._embed(model, [chunk.embed_text for chunk in fresh], progress)
            if not model_info(model).center_by_language:
                upsert(collection, fresh, vectors)
                continue
            old = base.centers.get(model) if base else None
            if old is not None and old.holds(fresh, len(stale_ids), len(all_chunks)):
                centering[model] = old.moved(len(fresh) + len(stale_ids))
                upsert(collection, fresh, old.centred(fresh, vectors))
            else:
                centering[model] = self._store_centered(collection, fresh, vectors, all_chunks, old)
        return fresh, centering

    def _write_lexical(
        self, staging: Path, changes: Changes, all_chunks: list[Chunk], *, base: Base | None, glossary: Glossary
    ) -> None:
        """The lexical index and the bridge. Unchanged passages keep their tokens, unchanged
        documents their term counts when the glossary is the same, and the bridge its parts whose
        vocabulary is the same, from the base."""
        terms = {
            term
            for entry in changes.entries
            for key in ("tags", "segments", "modules")
            for term in getattr(entry.record.meta, key, [])
        }
        terms.update(term for group in glossary.groups for term in group)
        old = Bridge.load(base.path / LEXICAL_DIR) if base else None
        groups = _glossary_index(glossary, base, old)
        known: dict[str, list[str]] = {}
        counted: dict[str, dict[str, int]] = {}
        if base is not None:
            known = LexicalIndex.known_tokens(base.path / LEXICAL_DIR, terms)
            if base.glossary.fingerprint == glossary.fingerprint:
                held = LexicalIndex.known_counts(base.path / LEXICAL_DIR, terms)
                if held is not None:
                    counted = {e.doc_id: found for e in changes.unchanged if (found := held.terms_of(e.doc_id))}
        lexical = LexicalIndex.build(
            [chunk.embed_text for chunk in all_chunks],
            [chunk.doc_id for chunk in all_chunks],
            terms,
            groups.annotate,
            known=known,
            counted=counted,
        )
        lexical.save(staging / LEXICAL_DIR)
        zh_vocab, en_vocab = lexical.vocabulary()
        embed_terms = self._term_embedder(staging, base.path if base else None)
        bridge = Bridge.build(zh_vocab, en_vocab, embed_terms, groups, cache_dir=self.cache_dir, previous=old)
        bridge.save(staging / LEXICAL_DIR)

    def _manifest(
        self, changes: Changes, centering: dict[str, Centring], *, base: Base | None, glossary: Glossary
    ) -> dict[str, Any]:
        created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        old_docs = base.docs if base else {}
        changed_ids = changes.changed_ids
        return {
            "format": INDEX_FORMAT,
            "embedding_models": self.models,
            "model_key": self.model_key,
            "unit_model": self.models[0],
            "centering": {model: centring.means for model, centring in centering.items()},
            "centring_drift": {model: centring.drift for model, centring in centering.items()},
            "chunker": self.chunker_key,
            "parser": parser_key(),
            "tokenizer": TOKENIZER_VERSION,
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
                for entry in changes.entries
            },
        }

    def _embed(self, model: str, texts: list[str], show_progress: bool, dtype: type = np.float32) -> np.ndarray:
        """`texts` as rows of one array, filled batch by batch: at 100,000 chunks their sentences
        alone are hundreds of thousands of rows, too many to hold twice."""
        vectors = np.zeros((len(texts), model_info(model).dimension), dtype=dtype)
        if not texts:
            return vectors
        embed = self._encoder(model, len(texts))
        with Progress(disable=not show_progress or len(texts) < PROGRESS_THRESHOLD, transient=True) as progress:
            task = progress.add_task(f"Embedding {len(texts)} texts with {model}", total=len(texts))
            for start in range(0, len(texts), EMBED_BATCH):
                batch = texts[start : start + EMBED_BATCH]
                vectors[start : start + len(batch)] = self.batches.encoded(model, batch, embed)
                progress.advance(task, len(batch))
        return vectors

    def _encoder(self, model: str, count: int) -> Callable[[list[str]], np.ndarray]:
        """How a run embedding `count` texts with `model` encodes them: an edit's few directly,
        a larger run's through sentence-transformers."""
        embedder = self.embedder(model)
        return embedder.embed_few if count <= FEW_TEXTS else embedder.embed_documents

    def _write_units(
        self, staging: Path, base: Base | None, fresh: list[Chunk], all_chunks: list[Chunk], show_progress: bool
    ) -> None:
        """Vectors for every quotable unit (sentence, list item), so answers can pick
        the sentences closest in meaning, in either language. Unchanged chunks keep theirs."""
        model = self.models[0]
        kept = _kept_units(base, fresh, all_chunks, model_info(model).dimension)
        covered = set(kept.chunk.tolist())
        pending = [
            (chunk_pos, unit_pos, text)
            for chunk_pos, chunk in enumerate(all_chunks)
            if chunk_pos not in covered
            for unit_pos, text in enumerate(quotable_units(chunk.text))
        ]
        embedded = self._embed(model, [text for _, _, text in pending], show_progress, dtype=np.float16)
        chunk_rows = np.concatenate([kept.chunk, np.array([pos for pos, _, _ in pending], dtype=np.int32)])
        unit_rows = np.concatenate([kept.unit, np.array([unit for _, unit, _ in pending], dtype=np.int32)])
        vectors = np.concatenate([kept.vectors, embedded]) if len(kept.vectors) else embedded
        order = np.lexsort((unit_rows, chunk_rows))
        if np.any(order[1:] < order[:-1]):  # a full ingest's rows are in order already: no second copy
            chunk_rows, unit_rows, vectors = chunk_rows[order], unit_rows[order], vectors[order]
        np.savez(staging / UNITS_FILE, chunk=chunk_rows, unit=unit_rows, vectors=vectors)

    def _term_embedder(self, staging: Path, previous: Path | None) -> Embed:
        """Embeds vocabulary words with the unit model for the bridge's related terms, reusing
        the previous snapshot's vectors (a vocabulary changes little between runs). The new snapshot
        holds the previous vectors, and once it has embedded, those of the words it was given."""
        model = self.models[0]
        known: dict[str, np.ndarray] = {}
        if previous is not None and (previous / LEXICAL_DIR / TERMS_FILE).exists():
            shutil.copy2(previous / LEXICAL_DIR / TERMS_FILE, staging / LEXICAL_DIR)
            old = np.load(previous / LEXICAL_DIR / TERMS_FILE)
            known = dict(zip(old["terms"].tolist(), old["vectors"]))

        def embed(terms: Sequence[str]) -> np.ndarray:
            missing = [term for term in terms if term not in known]
            if missing:
                encode = self._encoder(model, len(missing))
                for start in range(0, len(missing), EMBED_BATCH * 4):
                    batch = missing[start : start + EMBED_BATCH * 4]
                    known.update(zip(batch, self.batches.encoded(model, batch, encode).astype(np.float16)))
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


@dataclass
class Base:
    """The served snapshot an ingest builds on, when it was built with the same models and index
    format: its vectors, chunks, sentence vectors, tokens and term counts carry over. Each of its
    files is read once, when first needed."""

    path: Path
    docs: dict[str, dict[str, Any]]
    centers: dict[str, Centring]
    glossary: Glossary
    tokenizer: str  # the tokenizer version that cut its texts

    @classmethod
    def of(cls, path: Path | None, manifest: Mapping[str, Any], model_key: str) -> Base | None:
        same = manifest.get("model_key") == model_key and manifest.get("format") == INDEX_FORMAT
        if path is None or not same or not manifest.get("documents"):
            return None
        drift = manifest.get("centring_drift", {})
        centers = {m: Centring(means, drift.get(m, 0)) for m, means in manifest.get("centering", {}).items()}
        tokenizer = manifest.get("tokenizer", "1")
        return cls(path, manifest["documents"], centers, _stored_glossary(manifest), tokenizer)

    @functools.cached_property
    def chunks(self) -> list[Chunk]:
        return read_chunks(self.path / CHUNKS_FILE)

    def chunks_of(self, doc_ids: set[str]) -> dict[str, list[Chunk]]:
        found: dict[str, list[Chunk]] = {}
        for chunk in self.chunks:
            if chunk.doc_id in doc_ids:
                found.setdefault(chunk.doc_id, []).append(chunk)
        return found

    def units(self) -> Units | None:
        if not (self.path / UNITS_FILE).exists():
            return None
        with np.load(self.path / UNITS_FILE) as stored:
            return Units(stored["chunk"], stored["unit"], stored["vectors"])


def _kept_units(base: Base | None, fresh: list[Chunk], all_chunks: list[Chunk], dimension: int) -> Units:
    """The base's sentence-vector rows of every chunk that is neither new nor changed, moved to
    that chunk's position in the new snapshot."""
    stored = base.units() if base is not None else None
    if stored is None:
        return Units(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros((0, dimension), np.float16))
    fresh_ids = {chunk.id for chunk in fresh}
    position = {chunk.id: pos for pos, chunk in enumerate(all_chunks) if chunk.id not in fresh_ids}
    moved_to = np.array([position.get(chunk.id, -1) for chunk in base.chunks], dtype=np.int32)
    target = moved_to[stored.chunk]
    keep = target >= 0
    return Units(target[keep], stored.unit[keep], stored.vectors[keep])


def _glossary_index(glossary: Glossary, base: Base | None, old: Bridge | None) -> GlossaryIndex:
    """The glossary's terms as tokens: the base's, when it is the same glossary cut by the same
    tokenizer (cutting its Chinese terms again would load jieba's dictionary, most of a second,
    for an edit of an English document)."""
    if base is None or old is None or len(old.glossary.terms) != len(glossary.groups):
        return GlossaryIndex.build(glossary.groups)
    same = (base.glossary.fingerprint, base.tokenizer) == (glossary.fingerprint, TOKENIZER_VERSION)
    return old.glossary if same else GlossaryIndex.build(glossary.groups)


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
