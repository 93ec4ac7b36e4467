"""The answer pipeline: route → retrieve → assess → compose, then cite and record.

Each step is its own module: `router` reads the question into a `Request`, the
knowledge index retrieves, `evidence` decides whether the sources answer, and
one composer per shape builds the answer's parts in reading order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.answers.baseline import cached_baseline, measure, read_unrelated
from bot.answers.benchmark import Customer
from bot.answers.citations import stale_notes
from bot.answers.compose import UNSEARCHED, composer_for
from bot.answers.compose import checklist as checklists
from bot.answers.compose.benchmark import Quantified, describe, quantify
from bot.answers.compose.case import case_card
from bot.answers.compose.context import Context
from bot.answers.compose.general import closest, declined
from bot.answers.cues import MONEY, PRICE_TERMS, framing_terms, has_words
from bot.answers.evidence import AnswerPolicy, Baseline, Evidence, assess
from bot.answers.generate import Draft, draft, load_chat_model
from bot.answers.intent_bank import load_bank
from bot.answers.labels import label
from bot.answers.model import Answer, Heading, Status
from bot.answers.question_vectors import cached_question_vectors
from bot.answers.quotes import unit_lemmas
from bot.answers.request import Intent, Request
from bot.answers.router import Router
from bot.kb.filters import Filters
from bot.kb.index import EmbedderLoader, KnowledgeIndex, load_embedders
from bot.kb.lexical import tokenize
from bot.kb.schema import STAGES
from bot.kb.search import Mode, SearchResult, detect_lang
from bot.settings import Settings

# One question per language the engine reads: each loads its own tables on first use.
WARM_UP_QUESTIONS = ("How does the rollout work?", "上线流程是怎样的？")


class AnswerError(ValueError):
    """A request the engine cannot serve (empty question, unknown stage); the message says why."""


def require_known(value: str | None, known: Sequence[str] | frozenset[str], problem: str, plural: str) -> str | None:
    """A name (any case) as the index spells it; refused, listing the known ones, when the index has none."""
    if not value:
        return None
    spelled = {name.lower(): name for name in known}
    if value.lower() not in spelled:
        raise AnswerError(f"{problem} {value!r} ({plural} in the index: {', '.join(sorted(known)) or 'none'})")
    return spelled[value.lower()]


@dataclass(frozen=True)
class ChecklistResult:
    stage: str
    module: str | None
    answer: Answer
    items: list[dict[str, str]]


class Engine:
    def __init__(
        self,
        settings: Settings,
        *,
        policy: AnswerPolicy | None = None,
        embedder_loader: EmbedderLoader = load_embedders,
        chat_model: Any | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or AnswerPolicy()
        self.index = KnowledgeIndex(settings, loader=embedder_loader)
        self.router = self._router()
        self._unrelated = read_unrelated(settings.unrelated_questions)
        self._baselines: dict[tuple[str, str, str], Baseline] = {}
        # Generated answers only when a model is configured (or handed in); extractive otherwise.
        self.chat_model = (
            chat_model if chat_model is not None else (load_chat_model(settings) if settings.llm else None)
        )

    def _router(self) -> Router:
        bank = load_bank(
            self.settings.intent_examples, self.index.models, self.index.embed_queries, self.settings.cache_path
        )
        return Router(bank, self.index.query_vector, self.index.named_industry)

    def refresh(self) -> bool:
        """Switch to a newer snapshot if an ingest published one (the examples follow its models)."""
        models = self.index.models
        switched = self.index.refresh()
        if switched and self.index.models != models:
            self.router = self._router()
        return switched

    def prepare(self) -> bool:
        """Open a newly published snapshot ahead of the question that switches to it (see `KnowledgeIndex.prepare`)."""
        return self.index.prepare()

    def warm_up(self) -> None:
        """Answer a throwaway question in each language, so that the first user does not wait
        for what loads lazily: the sentence model's first pass, the word-frequency tables
        of both languages and the English lemma table (about 2.5 s on this machine's 2 cores).
        Records nothing."""
        for question in WARM_UP_QUESTIONS:
            self.ask(question, record=False)
            unit_lemmas(question)  # only quoting lemmatizes, and a corpus may abstain on this question
        self.index.clear_cache()

    # --- questions -------------------------------------------------------
    def ask(
        self,
        question: str,
        filters: Filters | None = None,
        *,
        mode: Mode = "hybrid",
        today: dt.date | None = None,
        record: bool = False,
        history: Sequence[str] = (),
        intent: Intent | None = None,
    ) -> Answer:
        """Answer a question; `intent` overrides the routing when the user chose the shape
        (e.g. Slack's `/relay value ...`)."""
        answer, pending = self.ask_deferred(
            question, filters, mode=mode, today=today, record=record, history=history, intent=intent
        )
        if pending is not None:
            pending.complete(self.chat_model)
        return answer

    def ask_deferred(
        self,
        question: str,
        filters: Filters | None = None,
        *,
        mode: Mode = "hybrid",
        today: dt.date | None = None,
        record: bool = False,
        history: Sequence[str] = (),
        intent: Intent | None = None,
    ) -> tuple[Answer, Draft | None]:
        """The extractive answer, and its generation still to be asked for when a model is set: a
        caller serving many users (the Slack relay) asks the model outside the engine's lock."""
        self._check(question)
        request = self.router.route(
            question, modules=self.index.modules, customers=self.index.customer_names, history=history, intent=intent
        )
        answer, ctx = self._answer(Context(request, self.index, filters or Filters(), today or dt.date.today(), mode))
        if answer.abstained and record:  # the caller puts it on record: tell the asker their gap goes to the owners
            answer.notes.insert(0, label(answer.lang, "gap_recorded"))
        composed = answer.status == "answered" and ctx.request.intent not in UNSEARCHED
        return answer, (draft(answer, ctx) if composed and self.chat_model is not None else None)

    def _check(self, question: str) -> None:
        if not has_words(question):
            raise AnswerError("the question is empty")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise AnswerError(f"the question is {len(question):,} characters long; ask it in at most {limit:,}")

    def _answer(self, ctx: Context) -> tuple[Answer, Context]:
        """The answer, and the context it was composed in (a second reading of the question has its own)."""
        request = ctx.request
        if request.intent in UNSEARCHED:
            return UNSEARCHED[request.intent](ctx), ctx
        # A checklist comes from the stage guides alone: every guide is lifted alike, so none is.
        filters, kind = (
            (replace(ctx.filters, kind="stage_guide"), None)
            if request.intent == "checklist"
            else (ctx.filters, request.kind)
        )
        ctx.result = self.index.search(request.query, filters, mode=ctx.mode, kind=kind, stage=request.stage)
        evidence = self._evidence(ctx.result, request.framing, asks_price=request.flags.price)
        ctx.confidence, ctx.uncovered = self.policy.confidence(evidence), evidence.uncovered
        baseline = self.baseline(ctx.mode, request.lang)
        status = (
            self.policy.checklist_status(evidence, baseline, named=request.stage is not None)
            if request.intent == "checklist"
            else self.policy.status(evidence, baseline)
        )
        second = self._second_reading(ctx, status) if _read_by_closeness_alone(request) else None
        if second is not None:
            return second
        if status != "answered":
            return (closest(ctx) if status == "closest" else declined(ctx)), ctx
        answer = composer_for(ctx)(ctx)
        if answer.status == "answered":
            answer.notes = stale_notes(answer.citations, ctx.documents, answer.lang)
        return answer, ctx

    def _second_reading(self, ctx: Context, status: Status) -> tuple[Answer, Context] | None:
        """The question asked again as the next likeliest searched intent, over every kind of document:
        it stands when it answers and the checklist did not, or when it answers from a document that is
        no stage guide, and better than the checklist's guides do."""
        answer, again = self._answer(Context(ctx.request.second_choice(), ctx.index, ctx.filters, ctx.today, ctx.mode))
        if answer.status != "answered":
            return None
        top = again.result.docs[0].doc_id if again.result and again.result.docs else None
        elsewhere = top is not None and ctx.documents[top].meta.kind != "stage_guide"
        return (answer, again) if status == "declined" or (elsewhere and again.confidence > ctx.confidence) else None

    def baseline(self, mode: Mode, lang: str) -> Baseline:
        """What unrelated questions in this language score on the current snapshot in this mode (measured once)."""
        key = (self.index.snapshot.name, mode, lang)
        if key not in self._baselines:

            def evidence(question: str) -> Evidence:
                framing = framing_terms(question, tokenize(question))
                return self._evidence(self.index.search(question, Filters(), mode=mode), framing)

            def measured() -> Baseline:
                # The questions' vectors outlive the snapshot: only their searches are new.
                embed = self.index.embed_queries
                vectors = cached_question_vectors(
                    questions, self.index.models, embed, cache_dir=cache, label="unrelated-questions"
                )
                self.index.remember(questions, vectors)
                return measure(questions, evidence)

            questions, cache = self._unrelated[lang], self.settings.cache_path
            self._baselines[key] = cached_baseline(questions, measured, key=":".join(key), cache_dir=cache)
        return self._baselines[key]

    def _evidence(self, result: SearchResult, framing: frozenset[str], *, asks_price: bool = False) -> Evidence:
        top = result.docs[0].doc_id if result.docs else None
        semantic = self.index.best_unit_similarity(result.query, top) if top else 0.0
        subject = self.index.subject_terms(top) if top else frozenset()
        unstated = asks_price and not (top and self.index.states(top, PRICE_TERMS, MONEY))
        snapshot = self.index.snapshot
        return assess(
            result, snapshot.lexical.doc_terms, semantic, snapshot.embedding_models, subject, framing, unstated
        )

    # --- checklists ------------------------------------------------------
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
        require_known(module, self.index.modules, "unknown module", "modules")
        question = f"checklist {stage}" + (f" {module}" if module else "")
        request = Request(question=question, query=question, lang=lang, intent="checklist", stage=stage, module=module)
        ctx = Context(request, self.index, filters or Filters(), today or dt.date.today())
        answer = checklists.checklist(ctx, stage, module)
        answer.notes = stale_notes(answer.citations, self.index.documents, lang)
        items = [
            {"text": item, "section": group.section, "doc_id": ctx.citations.doc_of(group.citation)}
            for group in answer.checklist
            for item in group.items
        ]
        return ChecklistResult(stage, module, answer, items)

    # --- quantified answers ------------------------------------------------
    def customer_in(self, text: str) -> Customer:
        """The customer a free text describes (`/relay quantify 40-store hotpot chain`)."""
        return self.router.customer(text, self.index.modules)

    def quantify(
        self, customer: Customer, filters: Filters | None = None, *, lang: str = "en", today: dt.date | None = None
    ) -> Quantified:
        """What the cases comparable to `customer` measured; a named industry or module must exist."""
        industry = require_known(customer.industry, self.index.industries, "no case in industry", "industries")
        modules = tuple(
            require_known(m, self.index.modules, "unknown module", "modules") or m for m in customer.modules
        )
        customer = replace(customer, industry=industry, modules=modules)
        question = f"quantify {describe(customer, lang)}"
        request = Request(question=question, query=question, lang=lang, intent="quantify", customer=customer)
        result = quantify(Context(request, self.index, filters or Filters(), today or dt.date.today()), customer)
        result.answer.notes += stale_notes(result.answer.citations, self.index.documents, lang)
        return result

    # --- cases -----------------------------------------------------------
    def cases(
        self,
        query: str | None = None,
        industry: str | None = None,
        filters: Filters | None = None,
        today: dt.date | None = None,
    ) -> Answer:
        """Case cards: the cases closest to `query`, or every case (of `industry`) in path order."""
        industry = require_known(industry, self.index.industries, "no case in industry", "industries")
        query = (query or "").strip()
        if query:
            self._check(query)
        lang = detect_lang(query) if query else "en"
        filters = replace(filters or Filters(), kind="case", industry=industry)
        request = Request(question=query, query=query, lang=lang, intent="case")
        ctx = Context(request, self.index, filters, today or dt.date.today())
        if query:
            ctx.result = self.index.search(query, filters)
            docs = [(d.doc_id, d.score) for d in ctx.docs]
        else:
            docs = [(document.id, 0.0) for document in self.index.chosen(filters)]
        cards = [case_card(self.index.documents[d], ctx.citations.cite(d, "", score)) for d, score in docs]
        ctx.confidence = 1.0 if cards else 0.0
        answer = ctx.answer("answered" if cards else "declined", [Heading(label(lang, "cases", n=len(cards))), *cards])
        answer.notes = stale_notes(answer.citations, self.index.documents, lang)
        return answer


def _read_by_closeness_alone(request: Request) -> bool:
    """A checklist read only by the question's closeness to example questions: no stage named, no cue
    word, not chosen by the asker. Near-ties there are common ("...what fill rate can we point to?"),
    and a checklist searches the stage guides alone, so the other reading gets its chance."""
    return request.intent == "checklist" and not (request.stage or request.chosen or "checklist" in request.cued)
