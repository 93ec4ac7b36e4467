"""The answering engine: route, search, decide whether the sources answer, compose, cite."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.answers.compose import (
    Citations,
    Scorer,
    case_card,
    checklist_groups,
    is_stale,
    quantity_question,
    question_parts,
    quote_groups,
    stale_notes,
    unit_lemmas,
    unit_tokens,
    visible,
)
from bot.answers.evidence import AbstentionPolicy, Evidence, assess, concept_weights, content_weights
from bot.answers.generate import Passage, generate, load_chat_model
from bot.answers.intent import (
    Intent,
    Route,
    asks_about_weaknesses,
    asks_for_a_list,
    asks_for_questions,
    asks_where_we_stand,
    classify,
    pitch_question,
)
from bot.answers.labels import label
from bot.answers.model import Answer, CaseCard, SourceRef
from bot.kb.chunking import Chunk
from bot.kb.lexical import tokenize
from bot.answers.render import render_text
from bot.kb.schema import STAGES
from bot.kb.search import DocHit, Filters, Mode, SearchResult, Searcher, detect_lang
from bot.kb.store import DataDir, Snapshot, open_snapshot
from bot.records import Records
from bot.settings import Settings

log = logging.getLogger(__name__)
MAX_CASE_CARDS = 3
PROOF_CARDS = 1
PROOF_KINSHIP = 0.5  # a case whose content matched the pitched playbook's exactly would score 50% higher
GENERATION_PASSAGES_PER_DOC = 3
FOLLOW_UP_TERMS = 4
RELATED_DOC_RATIO = 0.85  # a second source is quoted only when it scores this close to the first
# One question per language the engine reads: each loads its own tables on first use.
WARM_UP_QUESTIONS = ("How does the rollout work?", "上线流程是怎样的？")


class AnswerError(ValueError):
    """A request the engine cannot serve (empty question, unknown stage); the message says why."""


def require_known(value: str | None, known: set[str], problem: str, plural: str) -> None:
    """Refuse a name (any case) the index does not hold, listing those it does."""
    if value and value.lower() not in {name.lower() for name in known}:
        raise AnswerError(f"{problem} {value!r} ({plural} in the index: {', '.join(sorted(known)) or 'none'})")


@dataclass(frozen=True)
class ChecklistResult:
    stage: str
    module: str | None
    answer: Answer
    items: list[dict[str, str]]


def load_embedders(names: Sequence[str], threads: int) -> dict[str, Any]:
    from bot.kb.embeddings import Embedder

    return {name: Embedder(name, threads) for name in names}


def lead_section(doc: DocHit) -> str:
    """The section of a document's best body passage (what its citation points at)."""
    return next((hit.chunk.section for hit in doc.chunks if hit.chunk.role == "body"), "")


class Engine:
    def __init__(
        self,
        settings: Settings,
        policy: AbstentionPolicy | None = None,
        embedder_loader: Callable[[Sequence[str], int], dict[str, Any]] = load_embedders,
        records: Records | None = None,
        chat_model: Any | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or AbstentionPolicy()
        self._data = DataDir(settings.data_dir)
        self._loader = embedder_loader
        self._embedders: dict[str, Any] = {}
        self.records = records
        # Generated answers only when a model is configured (or handed in); extractive otherwise.
        self.chat_model = chat_model if chat_model is not None else (load_chat_model(settings.llm) if settings.llm else None)
        self.snapshot: Snapshot = open_snapshot(settings.data_dir)
        self.searcher = self._make_searcher()

    # --- index lifecycle -------------------------------------------------
    def _make_searcher(self) -> Searcher:
        missing = [m for m in self.snapshot.embedding_models if m not in self._embedders]
        if missing:
            self._embedders.update(self._loader(missing, self.settings.embedding_threads))
        embedders = {m: self._embedders[m] for m in self.snapshot.embedding_models}
        return Searcher(
            self.snapshot,
            embedders,
            candidates=self.settings.candidates_per_list,
            rrf_k=self.settings.rrf_k,
            kind_boost=self.settings.kind_boost,
            weights=self.settings.voice_weights,
            weigh=concept_weights,
            product_names=self.settings.product_names,
        )

    def refresh(self) -> bool:
        """Switch to a newer snapshot if an ingest published one since (a cheap file read)."""
        current = self._data.current_path()
        if current is None or current.name == self.snapshot.name:
            return False
        self.snapshot = Snapshot(current)
        self.searcher = self._make_searcher()
        log.info("switched to index snapshot %s", current.name)
        return True

    def warm_up(self) -> None:
        """Answer a throwaway question in each language, so that the first user does not wait
        for what loads lazily: the sentence model's first pass, the word-frequency tables
        of both languages and the English lemma table (about 2.5 s on this machine's 2 cores).
        Records nothing."""
        for question in WARM_UP_QUESTIONS:
            self.ask(question, record=False)
            unit_lemmas(question)  # only quoting lemmatizes, and a corpus may abstain on this question
        self.searcher.clear_cache()

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        return self.snapshot.documents

    @property
    def changed(self) -> dict[str, str]:
        """When each document's current version entered the index."""
        return self.snapshot.changed

    def _evidence(self, query: str, result: SearchResult) -> Evidence:
        semantic = 0.0
        if result.docs:
            similarity = self._unit_similarity(query)
            semantic = max(
                (float(np.max(s)) for c in self.snapshot.chunks_of(result.docs[0].doc_id) if len(s := similarity(c))),
                default=0.0,
            )
        subject = self._subject_terms(result.docs[0].doc_id) if result.docs else frozenset()
        return assess(result, self.snapshot.lexical.doc_terms, semantic, self.snapshot.embedding_models, subject)

    def _subject_terms(self, doc_id: str) -> frozenset[str]:
        """What a document is about, as tokens: its overview (title, customer, segments, modules, tags)."""
        return frozenset().union(*(unit_tokens(c.text) for c in self.snapshot.chunks_of(doc_id) if c.role == "overview"))

    # --- questions -------------------------------------------------------
    def search(
        self,
        question: str,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        prefer_kind: str | None = None,
        prefer_stage: str | None = None,
    ) -> SearchResult:
        return self.searcher.search(
            question, filters, mode=mode, k=self.settings.top_k, prefer_kind=prefer_kind, prefer_stage=prefer_stage
        )

    def ask(
        self,
        question: str,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        today: dt.date | None = None,
        record: bool = True,
        surface: str = "cli",
        history: Sequence[str] = (),
        intent: Intent | None = None,
    ) -> Answer:
        """Answer a question; `intent` overrides the routing when the user chose the shape
        (e.g. Slack's `/relay value ...`)."""
        question = question.strip()
        if not question:
            raise AnswerError("the question is empty")
        today = today or dt.date.today()
        filters = filters or Filters()
        lang = detect_lang(question)
        route = classify(question)
        if intent is not None and intent != route.intent:
            route = replace(route, intent=intent)
        # A short follow-up ("and for bakeries?") borrows the terms of the conversation so far;
        # a full question stands on its own.
        follow_up = bool(history) and len(tokenize(question)) <= FOLLOW_UP_TERMS
        query = " ".join([*history[-2:], question]) if follow_up else question
        if route.intent == "checklist":
            answer = self._checklist_answer(question, query, route, filters, lang, today, mode)
        else:
            result = self.search(query, filters, mode, prefer_kind=route.kind, prefer_stage=route.stage)
            evidence = self._evidence(query, result)
            if self.policy.answerable(evidence):
                answer = self._compose(question, route, result, evidence, filters, lang, today, mode)
            else:
                answer = self._abstain(question, route.intent, result, evidence, lang, today)
        if answer.abstained and record and self.records is not None:
            answer.notes.insert(0, label(lang, "gap_recorded"))
            self.records.record_gap(
                question,
                lang,
                answer.intent,
                surface,
                [s.doc_id for s in answer.sources[:3]],
                list(answer.uncovered),
            )
        answer.text = render_text(answer)
        return answer

    def _sources(self, docs: Sequence[DocHit], today: dt.date, used: Sequence[str] = ()) -> list[SourceRef]:
        """Ranked sources for the JSON contract: the documents the answer is built from
        first (in citation order), then the rest of the retrieved ones."""
        by_id = {doc.doc_id: doc for doc in docs}
        first = list(dict.fromkeys(used))
        chosen = set(first)
        ordered = [by_id.get(doc_id) or DocHit(doc_id, 0.0) for doc_id in first]
        ordered += [doc for doc in docs if doc.doc_id not in chosen]
        refs = []
        for doc in ordered[:10]:
            meta = self.documents[doc.doc_id]["meta"]
            section = lead_section(doc)
            refs.append(SourceRef(doc.doc_id, meta["title"], section, meta["kind"], doc.score, is_stale(meta, today)))
        return refs

    def _scorer(self, question: str, result: SearchResult) -> Scorer:
        weights = content_weights(result.concepts, self.snapshot.lexical.doc_terms)
        # A pitch states what changes by how much, so its quotes should carry numbers, unless the
        # user also asks what to ask the customer: then the questions must not be crowded out.
        pitch = pitch_question(question) and not asks_for_questions(question)
        return Scorer(
            result.concepts,
            weights,
            quantity_question(question) or pitch,
            listing=asks_for_a_list(question),
            weakness=asks_about_weaknesses(question),
        )

    def _compose(
        self,
        question: str,
        route: Route,
        result: SearchResult,
        evidence: Evidence,
        filters: Filters,
        lang: str,
        today: dt.date,
        mode: Mode,
    ) -> Answer:
        citations = Citations(self.documents, today, self.settings.source_base_url)
        answer = Answer(
            question=question,
            intent=route.intent,
            lang=lang,
            abstained=False,
            confidence=self.policy.confidence(evidence),
            sources=self._sources(result.docs, today),
        )
        scorer = self._scorer(question, result)
        similarity = self._quote_similarity(result.query, question)
        top_kind = self.documents[result.docs[0].doc_id]["meta"]["kind"]
        # A question after a case's figures gets its card (the metrics as numbers) even when
        # it reads like a general question ("what happened to food cost per meal?").
        if top_kind == "case" and (route.intent == "case" or scorer.quantity):
            answer.cards = self._cards(result.docs, citations)
            answer.headline = label(lang, "cases", n=len(answer.cards))
            answer.groups = quote_groups(self._passages(result.docs[:1]), scorer, citations, similarity, max_quotes=3)
        elif route.intent == "value" and top_kind == "playbook":
            playbooks = [d for d in self._relevant(result.docs) if self.documents[d.doc_id]["meta"]["kind"] == "playbook"][:2]
            answer.headline = label(lang, "position" if asks_where_we_stand(question) else "value")
            # A pitch is told to the customer, not asked of them. A discovery question shares the
            # user's question's shape and words, so it is closest in meaning to it and would crowd
            # out the value points that answer it.
            scorer = replace(scorer, statements_only=not asks_for_questions(question))
            answer.groups = quote_groups(self._passages(playbooks), scorer, citations, similarity)
            if dict(route.scores).get("case", 0) > 0:
                proof = self.search(question, replace(filters, kind="case"), mode)
                answer.cards = self._cards(self._backing(playbooks[0].doc_id, proof.docs), citations, limit=PROOF_CARDS)
                if answer.cards:
                    answer.proof_headline = label(lang, "cases", n=len(answer.cards))
        else:
            answer.groups = quote_groups(self._passages(self._relevant(result.docs)), scorer, citations, similarity)
            answer.headline = label(lang, "from_sources", n=len({q.citation for g in answer.groups for q in g.quotes}))
        answer.citations = citations.items
        if self.chat_model is not None:
            self._generate(answer, result, today)
        answer.sources = self._sources(result.docs, today, [c.doc_id for c in answer.citations])
        answer.notes = stale_notes(answer, self.documents)
        return answer

    def _generate(self, answer: Answer, result: SearchResult, today: dt.date) -> None:
        """Replace the quoted passages with a generated answer if, and only if, it passes the guard."""
        citations = Citations(self.documents, today, self.settings.source_base_url)

        def numbered_cards() -> list[CaseCard]:
            return [replace(card, citation=citations.cite(card.doc_id, "")) for card in answer.cards]

        # Numbers follow reading order: cards that lead the answer before the passages,
        # proof cards (shown after the text) after them.
        cards = [] if answer.proof_headline else numbered_cards()
        passages: list[Passage] = []
        for doc, chunks in self._passages(self._relevant(result.docs)):
            for chunk in chunks[:GENERATION_PASSAGES_PER_DOC]:
                number = citations.cite(doc.doc_id, chunk.section, doc.score)
                passages.append(Passage(number, chunk.title, chunk.section, chunk.text))
        if answer.proof_headline:
            cards = numbered_cards()
        generation = generate(self.chat_model, answer.question, passages, answer.lang)
        if generation is None or not generation.guard.ok:
            answer.guard_problems = generation.guard.problems if generation else ["the model failed"]
            return
        answer.generated = generation.text
        answer.groups = []
        answer.cards = cards
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", generation.text)} | {c.citation for c in cards}
        answer.citations = [c for c in citations.items if c.number in cited]

    def _unit_similarity(self, query: str) -> Callable[[Chunk], Sequence[float]]:
        model = self.snapshot.unit_model
        vector = self.searcher.query_vector(model, query)
        return lambda chunk: self.snapshot.unit_similarities(self.snapshot.position[chunk.id], vector)

    def _quote_similarity(self, query: str, question: str) -> Callable[[Chunk], Sequence[float]]:
        """A unit's closeness to the whole query or to any one part of the question, whichever
        is higher: when a question first describes the customer and then asks for a gain,
        the sentence stating the gain matches the asking part far better than the whole."""
        whole = self._unit_similarity(query)
        parts = [self._unit_similarity(part) for part in question_parts(question)]
        if not parts:
            return whole
        return lambda chunk: np.max([np.asarray(s(chunk)) for s in (whole, *parts)], axis=0)

    def _passages(self, docs: Sequence[DocHit]) -> list[tuple[DocHit, list[Chunk]]]:
        """Each document's body passages: the retrieved ones best first, then the rest in order."""
        out = []
        for doc in docs:
            retrieved = [hit.chunk for hit in doc.chunks if hit.chunk.role == "body"]
            seen = {chunk.id for chunk in retrieved}
            rest = [c for c in self.snapshot.chunks_of(doc.doc_id) if c.role == "body" and c.id not in seen]
            out.append((doc, retrieved + rest))
        return out

    @staticmethod
    def _relevant(docs: Sequence[DocHit], limit: int = 3, ratio: float = RELATED_DOC_RATIO) -> list[DocHit]:
        """The top document, and the next ones only while they score close to it."""
        if not docs:
            return []
        return [doc for doc in docs[:limit] if doc.score >= ratio * docs[0].score]

    def _backing(self, playbook: str, cases: Sequence[DocHit]) -> list[DocHit]:
        """Cases best first as proof for a pitch from `playbook`: their closeness to the question,
        lifted by how close each case's content is to the playbook's, since proof shows the
        product being pitched doing that work. A question's wording alone can miss the right
        case when its words for the problem are not the case's (a "no-show" is a 爽约)."""

        def kinship(doc: DocHit) -> float:
            return max(0.0, self.snapshot.document_similarity(playbook, doc.doc_id))

        lifted = [replace(doc, score=doc.score * (1.0 + PROOF_KINSHIP * kinship(doc))) for doc in cases]
        return sorted(lifted, key=lambda doc: -doc.score)

    def _cards(self, docs: Sequence[DocHit], citations: Citations, limit: int = MAX_CASE_CARDS) -> list[CaseCard]:
        cases = [d for d in docs if self.documents[d.doc_id]["meta"]["kind"] == "case"]
        if not cases:
            return []
        chosen = self._relevant(cases, limit=limit)
        return [
            case_card(d.doc_id, self.documents[d.doc_id], citations.cite(d.doc_id, "", d.score)) for d in chosen
        ]

    def _abstain(
        self, question: str, intent: str, result: SearchResult, evidence: Evidence, lang: str, today: dt.date
    ) -> Answer:
        citations = Citations(self.documents, today, self.settings.source_base_url)
        for doc in result.docs[:3]:
            section = lead_section(doc)
            citations.cite(doc.doc_id, section, doc.score)
        answer = Answer(
            question=question,
            intent=intent,
            lang=lang,
            abstained=True,
            confidence=self.policy.confidence(evidence),
            headline=label(lang, "dont_know"),
            citations=citations.items,
            sources=self._sources(result.docs, today),
            uncovered=evidence.uncovered,
        )
        if citations.items:
            answer.notes = [label(lang, "closest")]
        return answer

    # --- checklists ------------------------------------------------------
    @property
    def modules(self) -> set[str]:
        """Every product module a document names, in its front matter or for one of its sections."""
        named: set[str] = set()
        for record in self.documents.values():
            meta = record["meta"]
            named.update(meta.get("modules") or [])
            for section_modules in (meta.get("section_modules") or {}).values():
                named.update(section_modules)
        return named

    def detect_module(self, question: str) -> str | None:
        for module in sorted(self.modules, key=len, reverse=True):
            pattern = r"(?<![A-Za-z])" + re.escape(module).replace("_", "[ _-]") + r"(?![A-Za-z])"
            if re.search(pattern, question, re.IGNORECASE):
                return module
        return None

    def _checklist_answer(
        self, question: str, query: str, route: Route, filters: Filters, lang: str, today: dt.date, mode: Mode
    ) -> Answer:
        result = self.search(query, replace(filters, kind="stage_guide"), mode, prefer_stage=route.stage)
        stage = route.stage
        if stage is None and result.docs:
            stage = self.documents[result.docs[0].doc_id]["meta"].get("stage")
        if stage is None:
            evidence = self._evidence(query, result)
            return self._abstain(question, "checklist", result, evidence, lang, today)
        found = self.checklist(stage, self.detect_module(question), filters, today, lang=lang)
        found.answer.question = question
        found.answer.sources = self._sources(result.docs, today, [c.doc_id for c in found.answer.citations])
        return found.answer

    def checklist(
        self,
        stage: str,
        module: str | None = None,
        filters: Filters | None = None,
        today: dt.date | None = None,
        lang: str = "en",
    ) -> ChecklistResult:
        if stage not in STAGES:
            raise AnswerError(f"unknown stage {stage!r} (expected one of {', '.join(STAGES)})")
        # A mistyped module would otherwise narrow the list to its general sections, silently.
        require_known(module, self.modules, "unknown module", "modules")
        today = today or dt.date.today()
        filters = filters or Filters()
        wanted = filters.as_dict()
        records = [
            (doc_id, record)
            for doc_id, record in sorted(self.documents.items(), key=lambda item: item[1]["path"])
            if record["meta"]["kind"] == "stage_guide"
            and record["meta"].get("stage") == stage
            and visible(record, wanted)
        ]
        citations = Citations(self.documents, today, self.settings.source_base_url)
        groups = checklist_groups(records, module, citations)
        count = sum(len(group.items) for group in groups)
        stage_name = label(lang, stage)
        answer = Answer(
            question=f"checklist {stage}",
            intent="checklist",
            lang=lang,
            abstained=count == 0,
            confidence=1.0 if count else 0.0,
            headline=(
                label(lang, "checklist_module", stage=stage_name, module=module, count=count)
                if module
                else label(lang, "checklist", stage=stage_name, count=count)
            )
            if count
            else label(lang, "no_checklist", stage=stage_name),
            checklist=groups,
            stage=stage,
            module=module,
            citations=citations.items,
        )
        answer.notes = stale_notes(answer, self.documents)
        answer.text = render_text(answer)
        items = [
            {"text": item, "section": group.section, "doc_id": citations.items[group.citation - 1].doc_id}
            for group in groups
            for item in group.items
        ]
        return ChecklistResult(stage, module, answer, items)

    # --- cases -----------------------------------------------------------
    def cases(
        self, query: str | None = None, industry: str | None = None, filters: Filters | None = None,
        today: dt.date | None = None,
    ) -> Answer:
        industries = {r["meta"]["industry"] for r in self.documents.values() if r["meta"]["kind"] == "case"}
        require_known(industry, industries, "no case in industry", "industries")
        today = today or dt.date.today()
        filters = replace(filters or Filters(), kind="case", industry=industry or None)
        lang = detect_lang(query) if query else "en"
        citations = Citations(self.documents, today, self.settings.source_base_url)
        if query and query.strip():
            result = self.search(query, filters)
            docs = result.docs
            sources = self._sources(docs, today)
            cards = [case_card(d.doc_id, self.documents[d.doc_id], citations.cite(d.doc_id, "", d.score)) for d in docs]
        else:
            wanted = filters.as_dict()
            chosen = [
                (doc_id, record)
                for doc_id, record in sorted(self.documents.items(), key=lambda item: item[1]["path"])
                if record["meta"]["kind"] == "case"
                and (not industry or record["meta"]["industry"].lower() == industry.lower())
                and visible(record, wanted)
            ]
            cards = [case_card(doc_id, record, citations.cite(doc_id, "")) for doc_id, record in chosen]
            sources = []
        answer = Answer(
            question=query or "",
            intent="case",
            lang=lang,
            abstained=not cards,
            confidence=1.0 if cards else 0.0,
            headline=label(lang, "cases", n=len(cards)),
            cards=cards,
            citations=citations.items,
            sources=sources,
        )
        answer.notes = stale_notes(answer, self.documents)
        answer.text = render_text(answer)
        return answer


def open_engine(settings: Settings, with_records: bool = True) -> Engine:
    records = Records(Path(settings.data_dir)) if with_records else None
    return Engine(settings, records=records)
