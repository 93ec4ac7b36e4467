"""Hybrid retrieval over one snapshot: lexical and dense voices, fused by
weighted reciprocal rank fusion, ranking documents first and passages within them.

Cross-lingual questions need care. BM25 only matches documents in the
question's language, and e5 on its own prefers them too, so in a plain fusion
every same-language document buries the right other-language one. So:
  - BM25 ranks only documents in the question's language;
  - the bridge voice ranks the other language's documents by the question's
    terms translated through a corpus-restricted dictionary (plus, for words
    no dictionary has, the nearest corpus words under a cross-lingual model);
  - the coverage voice ranks every document by the share of the question's
    specific terms (in either language) it contains;
  - dense models rank everything together; e5's vectors are language-centred
    at ingest so its similarities are comparable across languages.
Documents are ranked on whole-document evidence (each voice votes with a
document's best passage, the bridge and coverage voices with whole documents),
then passages within them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from bot.kb.chunking import Chunk
from bot.kb.filters import Filters
from bot.kb.glossary import is_group_token
from bot.kb.lexical import HAN_CHAR, DocTerms, concept_weights, specificity, tokenize
from bot.kb.schema import PlaybookMeta
from bot.kb.store import Snapshot

Mode = Literal["lexical", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("lexical", "dense", "hybrid")
LANGS = ("zh", "en")
# A playbook's segment word names its customers only when few documents use it ("火锅", not "menu")
# and it says something in general language (not "small", "chain", "大").
SEGMENT_DOC_SHARE = 0.15
SEGMENT_SPECIFICITY = 2.5
# Of the best named stage's or industry's document score: ranked after it, and not quoted beside it.
OTHER_VALUE_SHARE = 0.8
MAX_SCOPES = 64  # distinct filters whose admitted documents are kept


def detect_lang(text: str) -> str:
    """zh when Chinese characters carry a fair share of the text."""
    han = len(HAN_CHAR.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    return "zh" if han and han >= latin_words else "en"


def product_pattern(names: Sequence[str]) -> re.Pattern[str] | None:
    """Matches any of the product's names as a whole word, in any case."""
    names = [name.strip() for name in names if name.strip()]  # an empty name would match everywhere
    if not names:
        return None
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)


@dataclass
class ChunkHit:
    chunk: Chunk
    score: float
    # Raw score per voice family: "lexical", "bridge", and one per dense model.
    raw: dict[str, float] = field(default_factory=dict)


@dataclass
class DocHit:
    doc_id: str
    score: float
    chunks: list[ChunkHit] = field(default_factory=list)


@dataclass
class SearchResult:
    query: str
    query_lang: str
    mode: Mode
    docs: list[DocHit]
    concepts: list[list[str]] = field(default_factory=list)

    @property
    def doc_ids(self) -> list[str]:
        return [doc.doc_id for doc in self.docs]


Ranked = list[tuple[int, float]]  # (chunk position, raw score), best first


class Searcher:
    def __init__(
        self,
        snapshot: Snapshot,
        embedders: Mapping[str, Any],
        candidates: int = 40,
        rrf_k: int = 60,
        kind_boost: float = 1.0,
        weights: Mapping[str, float] | None = None,
        product_names: Sequence[str] = (),
    ) -> None:
        self.snapshot = snapshot
        self.embedders = embedders
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.kind_boost = kind_boost
        self.weights = dict(weights or {})
        self._product = product_pattern(product_names)
        self._meta = {doc_id: document.meta for doc_id, document in snapshot.documents.items()}
        self._vectors: dict[tuple[str, str], np.ndarray] = {}
        self._noise, self._rng = 0.0, np.random.default_rng(0)
        self._lang = np.array([c.lang for c in snapshot.chunks])
        self._doc_of = [c.doc_id for c in snapshot.chunks]
        # Document-level arrays are in the lexical index's document order (every document has chunks).
        self._doc_ids = snapshot.lexical.doc_terms.doc_ids
        number = {doc_id: i for i, doc_id in enumerate(self._doc_ids)}
        self._chunk_doc = np.array([number[c.doc_id] for c in snapshot.chunks], dtype=np.int64)
        doc_lang = {c.doc_id: c.lang for c in snapshot.chunks}
        self._doc_in = {lang: np.array([doc_lang[d] == lang for d in self._doc_ids], dtype=bool) for lang in LANGS}
        self._admitted: dict[Filters, tuple[np.ndarray, np.ndarray]] = {}
        industries = {industry for meta in self._meta.values() if (industry := getattr(meta, "industry", None))}
        self._industry_terms = {
            industry: (tokens, frozenset(snapshot.bridge.glossary.annotate(tokens)))
            for industry in industries
            if (tokens := frozenset(tokenize(industry.replace("_", " "))))
        }
        self._segment_terms = segment_terms(self._meta, snapshot.lexical.doc_terms)

    def admitted(self, filters: Filters) -> tuple[np.ndarray, np.ndarray]:
        """(documents, chunks) the filters admit, decided once per document and kept per filters:
        a bot sees few distinct scopes, and deciding them per question grows with the corpus."""
        if filters not in self._admitted:
            if len(self._admitted) >= MAX_SCOPES:
                self._admitted.pop(next(iter(self._admitted)))
            docs = np.array([filters.admits(self._meta[doc_id]) for doc_id in self._doc_ids], dtype=bool)
            self._admitted[filters] = (docs, docs[self._chunk_doc] if len(self._chunk_doc) else docs[:0])
        return self._admitted[filters]

    def _attribute(self, doc: str, name: str) -> str | None:
        return getattr(self._meta[doc], name, None)

    def _top(self, scores: np.ndarray, allowed: np.ndarray) -> Ranked:
        """The best `candidates` allowed positions scoring above 0, best first, ties in position order."""
        valid = np.flatnonzero(allowed & (scores > 0))
        if len(valid) > self.candidates:
            values = scores[valid]
            kth = np.partition(values, len(values) - self.candidates)[len(values) - self.candidates]
            valid = valid[values >= kth]  # the top candidates, and whatever ties the last of them
        order = valid[np.lexsort((valid, -scores[valid]))][: self.candidates]
        return [(int(i), float(scores[i])) for i in order]

    def lexical_voices(
        self, query: str, lang: str, filters: Filters, concepts: list[list[str]]
    ) -> tuple[dict[str, Ranked], dict[str, list[str]]]:
        """Passage lists (BM25 in the question's language, BM25 of the translated
        terms in the other) and document lists (bridge, coverage)."""
        other = "en" if lang == "zh" else "zh"
        docs, mask = self.admitted(filters)
        own = self._top(self.snapshot.lexical.scores(query), mask & (self._lang == lang))
        # A term the other language's documents hold as it is (a name's spelling, a product
        # code) is matched as it is; the rest through its translations.
        translated_query = " ".join(form for forms in concepts for form in forms if not is_group_token(form))
        translated = self._top(self.snapshot.lexical.scores(translated_query), mask & (self._lang == other))
        doc_terms = self.snapshot.lexical.doc_terms
        bridge = doc_terms.scores(concepts, docs & self._doc_in[other])
        coverage = doc_terms.coverage(concepts, concept_weights(concepts, doc_terms), docs)
        doc_voices = {
            "bridge": _ranked_docs(bridge, self.candidates),
            "coverage": _ranked_docs(coverage, self.candidates),
        }
        return {"lexical": own, "bridge": translated}, doc_voices

    def query_vector(self, model: str, query: str) -> np.ndarray:
        # One question is often searched twice (e.g. once more for case proof): embed it once.
        if (model, query) not in self._vectors:
            self._remember(model, query, self.embedders[model].embed_query(query))
        return self._vectors[(model, query)]

    def remember(self, model: str, queries: Sequence[str], vectors: np.ndarray) -> None:
        """Questions embedded ahead of time (read from a cache): searched as if embedded now."""
        for query, vector in zip(queries, vectors, strict=True):
            self._remember(model, query, vector)

    def _remember(self, model: str, query: str, vector: np.ndarray) -> None:
        key = (model, query)
        if key not in self._vectors and len(self._vectors) >= 256:  # a vector stored again evicts nothing
            self._vectors.pop(next(iter(self._vectors)))
        self._vectors[key] = self._nudged(vector)

    def clear_cache(self) -> None:
        self._vectors.clear()

    def perturb(self, noise: float, seed: int = 0) -> None:
        """From now on, nudge every query vector at random by `noise` (its norm; 0 for none), to see
        which outcomes rest on near-ties. Only the eval does this."""
        self._noise, self._rng = noise, np.random.default_rng(seed)
        self.clear_cache()

    def _nudged(self, vector: np.ndarray) -> np.ndarray:
        if not self._noise:
            return vector
        step = self._rng.normal(size=vector.shape)
        moved = vector + self._noise * step / np.linalg.norm(step)
        return (moved / np.linalg.norm(moved)).astype(vector.dtype)

    def dense_voices(self, query: str, filters: Filters) -> dict[str, Ranked]:
        where = filters.where()
        return {
            f"dense:{name}": self.snapshot.dense(name, self.query_vector(name, query), self.candidates, where)
            for name in self.embedders
        }

    def search(
        self,
        query: str,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        k: int = 10,
        prefer_kind: str | None = None,
        prefer_stage: str | None = None,
    ) -> SearchResult:
        """Documents best first (at most k), each with its passages best first.

        `prefer_kind` and `prefer_stage` lift documents of that kind (the kind the
        question's intent calls for) or stage (one the question names) without
        hiding the others; so does a case industry the question names, when it
        asks for cases. A named stage's guides and a named industry's cases also
        come before those of other stages and industries."""
        filters = filters or Filters()
        lang = detect_lang(query)
        # Every document is about the product: naming it says nothing about which one answers,
        # yet as a rare word of a few documents it would outweigh the question's real terms.
        terms = self._product.sub(" ", query) if self._product else query
        concepts, respelled = self.concepts(terms)
        terms = " ".join([terms, *respelled])
        chunk_voices: dict[str, Ranked] = {}
        doc_voices: dict[str, list[str]] = {}
        if mode in ("lexical", "hybrid"):
            # Retrieval casts the wider net (related terms too); the result carries the
            # dictionary concepts, which is what answerability and quoting weigh.
            wide = self.snapshot.bridge.widen(concepts)
            lexical_chunks, lexical_docs = self.lexical_voices(terms, lang, filters, wide)
            chunk_voices.update(lexical_chunks)
            doc_voices.update(lexical_docs)
        if mode in ("dense", "hybrid"):
            chunk_voices.update(self.dense_voices(query, filters))
        stages = frozenset([prefer_stage] if prefer_stage else [])
        industries, touched = self.named_industries(concepts)
        stated = {form for forms in concepts for form in forms}
        segments = frozenset(doc for doc, words in self._segment_terms.items() if not stated.isdisjoint(words))
        named = {"stage": (stages, stages), "industry": (industries, touched)}
        docs = self._fuse(
            chunk_voices,
            doc_voices,
            k,
            lambda doc: self._lift(doc, prefer_kind, prefer_stage, industries | segments),
            named,
        )
        # Answerability and quoting read the whole question, the product's name included: they
        # were calibrated on it, and leaving it out of them too made the eval set answer one
        # unanswerable question and refuse one answerable one, for no gain.
        asked = concepts if terms == query else self.concepts(query)[0]
        return SearchResult(query, lang, mode, docs, asked)

    def concepts(self, text: str) -> tuple[list[list[str]], list[str]]:
        """The question's terms with their equivalents and translations (`Bridge.concepts`) and the
        corpus words that write the same name in the other script; a term the corpus never uses that
        plainly misspells one of its words also counts as that word, and those words are returned
        too, for the search of the question's own language."""
        doc_terms = self.snapshot.lexical.doc_terms
        concepts, respelled = self.snapshot.bridge.concepts(text), []
        for forms in concepts:
            if not any(form in doc_terms.df for form in forms) and (word := doc_terms.respelling(forms[0])):
                forms.extend([word, *self.snapshot.bridge.concepts(word)[0][1:]])
                respelled.append(word)
            forms.extend(name for name in doc_terms.transliterations(forms[0]) if name not in forms)
        return concepts, respelled

    def named_industries(self, concepts: list[list[str]]) -> tuple[frozenset[str], frozenset[str]]:
        """The case industries a question names, and those it touches.

        An industry is named by all its words ("fast_food": fast, food) or by a glossary term of
        its group (快餐); when both "dental" and "pediatric_dental" are named, the question names
        the narrower one. It touches every industry it shares a word with: a question naming
        "dental" may well be answered by a "pediatric_dental" case."""
        stated = {form for forms in concepts for form in forms}
        terms = self._industry_terms
        stating = {
            i for i, (words, groups) in terms.items() if stated.issuperset(words) or not stated.isdisjoint(groups)
        }
        named = frozenset(i for i in stating if not any(terms[i][0] < terms[j][0] for j in stating))
        touched = frozenset(i for i, (words, _) in terms.items() if not stated.isdisjoint(words))
        return named, named | touched

    def named_industry(self, text: str) -> str | None:
        """The one case industry a text names; failing that, the one whose first word it states
        ("a tea chain" is tea_drinks). None when it names none, or several."""
        concepts, _ = self.concepts(text)
        named, _ = self.named_industries(concepts)
        if named:
            return next(iter(named)) if len(named) == 1 else None
        stated = {form for forms in concepts for form in forms}
        heads = [industry for industry in self._industry_terms if tokenize(industry.replace("_", " "))[0] in stated]
        return heads[0] if len(heads) == 1 else None

    def _lift(self, doc: str, kind: str | None, stage: str | None, named: frozenset[str]) -> int:
        """How many times a document is lifted: for being of the kind the question's intent calls
        for, of the stage it names, and for the customer it names when it is of that kind too: a
        case of the industry, a playbook written for the segment (a question asking for a hotpot
        customer wants the hotpot case; a pitch for hotpot chains wants the hotpot playbook, not
        the case lifted past it). `named`: the industries and the playbooks' ids named."""
        of_kind = kind is not None and self._attribute(doc, "kind") == kind
        named_stage = stage is not None and self._attribute(doc, "stage") == stage
        customer = self._attribute(doc, "industry") in named or doc in named
        return of_kind + named_stage + (of_kind and customer)

    def _rrf(self, rank: int) -> float:
        return 1.0 / (self.rrf_k + rank + 1)

    def _fuse(
        self,
        chunk_voices: dict[str, Ranked],
        doc_voices: dict[str, list[str]],
        k: int,
        lift: Callable[[str], int],
        named: Mapping[str, tuple[frozenset[str], frozenset[str]]],
    ) -> list[DocHit]:
        doc_score: dict[str, float] = defaultdict(float)
        chunk_score: dict[int, float] = defaultdict(float)
        raw: dict[int, dict[str, float]] = defaultdict(dict)
        for name, ranked in chunk_voices.items():
            family = name.split(":")[1] if name.startswith("dense:") else name
            weight = self.weights.get(family, 1.0)
            # The bridge's passage list only picks passages; its document vote is document-level.
            votes_for_docs = name != "bridge"
            doc_rank: dict[str, int] = {}
            for rank, (position, score) in enumerate(ranked):
                chunk_score[position] += weight * self._rrf(rank)
                raw[position][family] = max(score, raw[position].get(family, float("-inf")))
                doc_rank.setdefault(self._doc_of[position], len(doc_rank))
            if votes_for_docs:
                for doc, rank in doc_rank.items():
                    doc_score[doc] += weight * self._rrf(rank)
        for name, ranked_docs in doc_voices.items():
            weight = self.weights.get(name, 1.0)
            for rank, doc in enumerate(ranked_docs):
                doc_score[doc] += weight * self._rrf(rank)
        for doc in doc_score:
            doc_score[doc] += lift(doc) * self.kind_boost * self._rrf(0)
        for attribute, (values, spared) in named.items():
            self._named_first(doc_score, attribute, values, spared)
        best = sorted(doc_score, key=lambda d: (-doc_score[d], d))[:k]
        by_doc: dict[str, list[ChunkHit]] = defaultdict(list)
        for position, score in chunk_score.items():
            by_doc[self._doc_of[position]].append(ChunkHit(self.snapshot.chunks[position], score, dict(raw[position])))
        return [
            DocHit(doc, doc_score[doc], sorted(by_doc[doc], key=lambda hit: (-hit.score, hit.chunk.order)))
            for doc in best
        ]

    def _named_first(
        self, doc_score: dict[str, float], attribute: str, values: frozenset[str], spared: frozenset[str]
    ) -> None:
        """A question naming a stage is answered from that stage's guide, one naming an industry
        from that industry's cases: documents with a value neither named nor `spared` (every
        guide has, say, exit criteria; every case has figures) stay well below the best named
        one. Documents without the attribute (playbooks have no stage) are left where they are."""
        named = max(
            (score for doc, score in doc_score.items() if self._attribute(doc, attribute) in values), default=None
        )
        if named is None:
            return
        for doc, score in doc_score.items():
            other = self._attribute(doc, attribute)
            if other and other not in values and other not in spared:
                doc_score[doc] = min(score, OTHER_VALUE_SHARE * named)


def segment_terms(metas: Mapping[str, object], doc_terms: DocTerms) -> dict[str, frozenset[str]]:
    """Each playbook's words for the customers it is written for that no other playbook's segments
    use and few documents use at all ("火锅", not "连锁", "menu" or "100")."""
    words = {
        doc: frozenset(tokenize(" ".join(meta.segments)))
        for doc, meta in metas.items()
        if isinstance(meta, PlaybookMeta)
    }
    uses = Counter(word for found in words.values() for word in found)
    rare = max(1.0, SEGMENT_DOC_SHARE * len(doc_terms.doc_ids))
    return {
        doc: frozenset(w for w in found if uses[w] == 1 and _names_customers(w) and doc_terms.df.get(w, 0) <= rare)
        for doc, found in words.items()
    }


def _names_customers(word: str) -> bool:
    return word.isalpha() and len(word) >= 2 and specificity(word) >= SEGMENT_SPECIFICITY


def _ranked_docs(scores: Mapping[str, float], limit: int) -> list[str]:
    return [doc for doc in sorted(scores, key=lambda d: (-scores[d], d)) if scores[doc] > 0][:limit]
