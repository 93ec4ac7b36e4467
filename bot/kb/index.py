"""The knowledge base as the answering side holds it: the current snapshot, its searcher and
the embedders, switched to a newer snapshot when an ingest publishes one."""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from bot.kb.chunking import Chunk
from bot.kb.filters import Filters
from bot.kb.lexical import tokenize
from bot.kb.schema import IndexedDocument
from bot.kb.search import DocHit, Mode, Searcher, SearchResult
from bot.kb.store import Snapshot, data_dir_for
from bot.kb.vectors import IndexUnreachable
from bot.settings import Settings

log = logging.getLogger(__name__)
EmbedderLoader = Callable[[Sequence[str], int], dict[str, Any]]


def load_embedders(names: Sequence[str], threads: int) -> dict[str, Any]:
    from bot.kb.encoders import QueryEncoder, load_model

    return {name: QueryEncoder(load_model(name, threads)) for name in names}


class LoadedModels:
    """The embedding models this process has loaded: each once, on its first use, and kept for
    every snapshot served after (a command that stops before searching, such as an unknown stage
    or a broken data file, or that never searches, does not pay the seconds of the model stack)."""

    def __init__(self, loader: EmbedderLoader, threads: int) -> None:
        self._loader, self._threads = loader, threads
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()  # two first questions at once load the models once

    def load(self, names: Sequence[str]) -> dict[str, Any]:
        with self._lock:
            missing = [name for name in names if name not in self._loaded]
            if missing:
                self._loaded.update(self._loader(missing, self._threads))
            return {name: self._loaded[name] for name in names}


class Embedders(Mapping[str, Any]):
    """One snapshot's embedding models, all loaded on the first use of any of them."""

    def __init__(self, names: Sequence[str], models: LoadedModels) -> None:
        self._names = tuple(names)
        self._models = models
        self._ready: dict[str, Any] | None = None  # once loaded, a search no longer takes the lock

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if self._ready is None:
            self._ready = self._models.load(self._names)
        return self._ready[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class KnowledgeIndex:
    def __init__(self, settings: Settings, *, loader: EmbedderLoader = load_embedders) -> None:
        self.settings = settings
        self._data = data_dir_for(settings)
        self._models = LoadedModels(loader, settings.answer_threads)
        self._prepared: Snapshot | None = None  # a newer snapshot opened ahead of its first question
        self._preparing = threading.Lock()  # one opening at a time; a switch waits for one under way
        self._unreachable = False  # the pointer could not be read last time (logged once per outage)
        self._open(self._data.open())

    def _open(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        # Per snapshot: an answer under way on the previous one keeps searching that one's models.
        self._embedders = Embedders(snapshot.embedding_models, self._models)
        self.searcher = Searcher(
            snapshot,
            self._embedders,
            candidates=self.settings.candidates_per_list,
            rrf_k=self.settings.rrf_k,
            kind_boost=self.settings.kind_boost,
            weights=self.settings.voice_weights,
            product_names=self.settings.product_names,
        )
        for derived in ("modules", "industries", "customer_names"):  # each snapshot's own
            self.__dict__.pop(derived, None)

    def refresh(self) -> bool:
        """Switch to a newer snapshot if an ingest published one since (a file read, or with a shared
        index one query; while the database is unreachable the snapshot held keeps serving)."""
        current = self._newer()
        if current is None:
            return False
        with self._preparing:
            prepared, self._prepared = self._prepared, None
            ready = prepared is not None and prepared.name == current.name
            self._open(prepared if ready else self._data.open(current))
        self._data.serving(current.name)
        log.info("switched to index snapshot %s", current.name)
        return True

    def prepare(self) -> bool:
        """Open a newer published snapshot ahead of the question that switches to it (from a
        background job, beside the answers: a shared index downloads its files, a large one takes
        seconds to read). True when one was opened."""
        current = self._newer()
        with self._preparing:  # a switch under way may have served it meanwhile
            if current is None or current.name in (self.snapshot.name, getattr(self._prepared, "name", None)):
                return False
            self._prepared = self._data.open(current)
        log.info("opened index snapshot %s ahead of its first question", current.name)
        return True

    def _newer(self) -> Path | None:
        """The published snapshot, when it is not the one serving."""
        try:
            current = self._data.current_path()
        except IndexUnreachable as error:
            if not self._unreachable:  # the snapshot check asks every few seconds: one warning per outage
                log.warning("cannot check for a newer index snapshot: %s", error)
            self._unreachable = True
            return None
        if self._unreachable:
            log.info("the index's current snapshot can be read again")
        self._unreachable = False
        return None if current is None or current.name == self.snapshot.name else current

    def unreachable(self) -> str | None:
        """None while the snapshot's vectors can be read (a Chroma server answers); else why not."""
        return self._data.vectors.unreachable()

    # --- what the index holds -------------------------------------------------
    @property
    def documents(self) -> Mapping[str, IndexedDocument]:
        return self.snapshot.documents

    @property
    def changed(self) -> dict[str, str]:
        """When each document's current version entered the index."""
        return self.snapshot.changed

    @cached_property
    def modules(self) -> frozenset[str]:
        """Every product module a document names."""
        return frozenset().union(*(document.modules for document in self.documents.values()))

    @cached_property
    def industries(self) -> frozenset[str]:
        return frozenset(d.meta.industry for d in self.documents.values() if d.kind == "case")

    @cached_property
    def customer_names(self) -> frozenset[str]:
        """The words that name a case's customer: the head of its name, the brand people call it by,
        when no other customer's name starts with it, no document's tags, segments or industry use
        it, and at most two documents do (the case and one citing it). "Harbourline" (Harbourline
        Swim School) and "青禾" (青禾瑜伽); not "swim", "瑜伽" or a brand that is a common term."""
        described = {
            token
            for document in self.documents.values()
            for words in (
                document.meta.tags,
                getattr(document.meta, "segments", []),
                [getattr(document.meta, "industry", "")],
            )
            for token in tokenize(" ".join(words))  # an industry slug ("fast_food") also as its words
        }
        heads = Counter(
            next(iter(tokenize(document.meta.customer)), "")
            for document in self.documents.values()
            if document.kind == "case"
        )
        df = self.snapshot.lexical.doc_terms.df
        return frozenset(
            word
            for word, uses in heads.items()
            if uses == 1 and word not in described and df.get(word, 0) <= 2 and word.isalpha() and len(word) > 1
        )

    def chosen(self, filters: Filters, kind: str | None = None) -> list[IndexedDocument]:
        """The documents the filters admit (of one kind, if given), in path order."""
        documents = sorted(self.documents.values(), key=lambda d: d.path)
        return [d for d in documents if (kind is None or d.kind == kind) and filters.admits(d.meta)]

    # --- searching --------------------------------------------------------------
    def search(
        self,
        query: str,
        filters: Filters,
        *,
        mode: Mode = "hybrid",
        kind: str | None = None,
        stage: str | None = None,
    ) -> SearchResult:
        return self.searcher.search(
            query, filters, mode=mode, k=self.settings.top_k, prefer_kind=kind, prefer_stage=stage
        )

    def named_industry(self, text: str) -> str | None:
        return self.searcher.named_industry(text)

    def query_vector(self, model: str, text: str) -> np.ndarray:
        return self.searcher.query_vector(model, text)

    def embed_queries(self, model: str, texts: Sequence[str]) -> np.ndarray:
        """Many texts as questions at once (unit-normalised rows), for what is embedded ahead of time."""
        return self._embedders[model].embed_queries(texts)

    def remember(self, queries: Sequence[str], vectors: Mapping[str, np.ndarray]) -> None:
        """Questions embedded ahead of time, per model: searched without embedding them again."""
        for model, rows in vectors.items():
            self.searcher.remember(model, queries, rows)

    @property
    def models(self) -> list[str]:
        return list(self.snapshot.embedding_models)

    def unit_similarity(self, query: str) -> Callable[[Chunk], np.ndarray]:
        """Each quotable unit's closeness to `query`, per chunk (the unit model's vectors, stored at ingest)."""
        vector = self.searcher.query_vector(self.snapshot.unit_model, query)
        return lambda chunk: self.snapshot.unit_similarities(self.snapshot.position[chunk.id], vector)

    def passages(self, docs: Sequence[DocHit]) -> list[tuple[DocHit, list[Chunk]]]:
        """Each document's body passages: the retrieved ones best first, then the rest in order."""
        out = []
        for doc in docs:
            retrieved = [hit.chunk for hit in doc.chunks if hit.chunk.role == "body"]
            seen = {chunk.id for chunk in retrieved}
            rest = [c for c in self.snapshot.chunks_of(doc.doc_id) if c.role == "body" and c.id not in seen]
            out.append((doc, retrieved + rest))
        return out

    def subject_terms(self, doc_id: str) -> frozenset[str]:
        """What a document is about, as tokens: its overview (title, customer, segments, modules, tags)."""
        overview = (c.text for c in self.snapshot.chunks_of(doc_id) if c.role == "overview")
        return frozenset(token for text in overview for token in tokenize(text))

    def states(self, doc_id: str, terms: frozenset[str], amount: re.Pattern[str]) -> bool:
        """Whether a document holds one of `terms` (in either language) and its body matches `amount`."""
        body = (c.text for c in self.snapshot.chunks_of(doc_id) if c.role != "overview")
        return bool(terms & set(self.snapshot.lexical.doc_terms.terms_of(doc_id))) and any(map(amount.search, body))

    def best_unit_similarity(self, query: str, doc_id: str) -> float:
        """How close the closest sentence of a document is to the query."""
        similarity = self.unit_similarity(query)
        scores = [float(np.max(s)) for chunk in self.snapshot.chunks_of(doc_id) if len(s := similarity(chunk))]
        return max(scores, default=0.0)

    def document_similarity(self, a: str, b: str) -> float:
        return self.snapshot.document_similarity(a, b)

    def clear_cache(self) -> None:
        self.searcher.clear_cache()

    def perturb(self, noise: float, seed: int = 0) -> None:
        self.searcher.perturb(noise, seed)
