"""What every composer gets: the request, the index, what was retrieved and what the evidence says."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.answers.citations import Citations
from bot.answers.cues import REQUEST_TERMS
from bot.answers.evidence import content_weights
from bot.answers.model import Answer, Citation, Part, SourceRef, Status
from bot.answers.quotes import Scorer
from bot.answers.request import Request
from bot.kb.chunking import Chunk
from bot.kb.filters import Filters
from bot.kb.index import KnowledgeIndex
from bot.kb.schema import IndexedDocument
from bot.kb.search import DocHit, Mode, SearchResult

MAX_SOURCES = 10
RELATED_DOC_RATIO = 0.85  # a second source is quoted only when it scores this close to the first


@dataclass
class Context:
    request: Request
    index: KnowledgeIndex
    filters: Filters
    today: dt.date
    mode: Mode = "hybrid"
    result: SearchResult | None = None
    confidence: float = 0.0
    uncovered: tuple[str, ...] = ()
    citations: Citations = field(init=False)
    documents: Mapping[str, IndexedDocument] = field(init=False)

    def __post_init__(self) -> None:
        # The snapshot's documents as the answer began: an ingest may publish another meanwhile.
        self.documents = self.index.documents
        self.citations = Citations(self.documents, self.today, self.index.settings.source_base_url)

    @property
    def docs(self) -> list[DocHit]:
        return self.result.docs if self.result else []

    def kind_of(self, doc: DocHit) -> str:
        return self.documents[doc.doc_id].kind

    def scorer(self) -> Scorer:
        """How quotes are valued for this question: its terms, and whether it asks for a number,
        a whole list or our limitations."""
        assert self.result is not None
        flags = self.request.flags
        # A source need not say when or to whom the question is asked to answer it, but among the lines
        # that do answer, one stating the asked "Saturday afternoon" is the closer quote. Words asking
        # for a shape of answer ("pitch", "案例") stay out: sources use them in other senses.
        shape_words = self.request.framing & REQUEST_TERMS
        weights = content_weights(self.result.concepts, self.index.snapshot.lexical.doc_terms, shape_words)
        return Scorer(
            self.result.concepts,
            weights,
            flags.wants_numbers,
            listing=flags.listing,
            weakness=flags.weakness,
        )

    def similarity(self) -> Callable[[Chunk], np.ndarray]:
        """A unit's closeness to the whole query or to any one part of the question, whichever
        is higher: when a question first describes the customer and then asks for a gain,
        the sentence stating the gain matches the asking part far better than the whole."""
        assert self.result is not None
        whole = self.index.unit_similarity(self.result.query)
        parts = [self.index.unit_similarity(part) for part in self.request.parts]
        if not parts:
            return whole
        return lambda chunk: np.max([np.asarray(s(chunk)) for s in (whole, *parts)], axis=0)

    def answer(self, status: Status, body: list[Part], **fields: object) -> Answer:
        """The finished answer: its parts, and every source numbered by the body (sources cited first)."""
        return Answer(
            question=self.request.question,
            intent=self.request.intent,
            lang=self.request.lang,
            status=status,
            confidence=self.confidence,
            body=body,
            citations=list(self.citations.items),
            sources=self.sources(self.citations.items),
            uncovered=self.uncovered,
            **fields,  # type: ignore[arg-type]
        )

    def sources(self, citations: Sequence[Citation]) -> list[SourceRef]:
        """Ranked sources for the JSON contract: the documents the answer cites first (in
        citation order), then the rest of the retrieved ones."""
        by_id = {doc.doc_id: doc for doc in self.docs}
        cited = list(dict.fromkeys(c.doc_id for c in citations))
        ordered = [by_id.get(doc_id) or DocHit(doc_id, 0.0) for doc_id in cited]
        ordered += [doc for doc in self.docs if doc.doc_id not in set(cited)]
        refs = []
        for doc in ordered[:MAX_SOURCES]:
            meta = self.documents[doc.doc_id].meta
            refs.append(
                SourceRef(doc.doc_id, meta.title, lead_section(doc), meta.kind, doc.score, meta.is_stale(self.today))
            )
        return refs


def lead_section(doc: DocHit) -> str:
    """The section of a document's best body passage (what its citation points at)."""
    return next((hit.chunk.section for hit in doc.chunks if hit.chunk.role == "body"), "")


def relevant(docs: Sequence[DocHit], limit: int = 3, ratio: float = RELATED_DOC_RATIO) -> list[DocHit]:
    """The top document, and the next ones only while they score close to it."""
    if not docs:
        return []
    return [doc for doc in docs[:limit] if doc.score >= ratio * docs[0].score]
