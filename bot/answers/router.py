"""Route a question to the shape of answer the user needs, and read it once into a `Request`.

The intent is decided by meaning: the question's nearest examples in a labelled bank
(`config/intent_examples.yaml`), under both sentence models. Cue words are a second
signal, added with a small weight: they settle near-ties ("checklist" said outright) and
carry what a whole sentence's meaning blurs (a named stage, a pitch that also asks for proof).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from bot.answers import cues
from bot.answers.benchmark import Customer
from bot.answers.intent_bank import IntentBank
from bot.answers.request import Flags, Intent, Request
from bot.answers.sizes import Size, parse_size
from bot.kb.lexical import tokenize
from bot.kb.search import detect_lang

FOLLOW_UP_TERMS = 4  # a follow-up this short ("and for bakeries?") borrows the thread's terms
MIN_PART_TERMS = 2  # a sentence with fewer search terms ("How would we do it?") means nothing alone
# A cue weighs 1.0-3.0; example similarities differ between intents by a few hundredths. At this
# weight a strong cue settles a near-tie and no more. Set on the field sets' development halves.
CUE_WEIGHT = 0.03
# Naming one of the customers whose case we hold is a strong cue that the question is about that case.
NAMED_CUSTOMER_CUE = 2.0
# Where a question breaks into parts: after a question mark or full stop (either script), or a semicolon.
_PART_END = re.compile(r"(?<=[?？!！。；;])\s*|(?<=\.)\s+")
QueryVector = Callable[[str, str], np.ndarray]  # (model, text) -> the text's unit-normalised vector as a question
IndustryOf = Callable[[str], str | None]  # the one case industry a text names


def read_flags(question: str) -> Flags:
    position = cues.found(cues.POSITION_CUE, question)
    what_to_ask = cues.found(cues.WHAT_TO_ASK_CUE, question)
    return Flags(
        pitch=cues.found(cues.PITCH_CUE, question) and not position,
        position=position,
        weakness=cues.found(cues.WEAKNESS_CUE, question),
        proof=cues.cue_scores(question)["case"] > 0,
        how_much=cues.found(cues.QUANTITY_CUE, question),
        listing=cues.found(cues.LIST_CUE, question),
        asks_questions=what_to_ask or cues.found(cues.ASKS_FOR_QUESTIONS_CUE, question),
        what_to_ask=what_to_ask,
        prep=cues.found(cues.PREP_CUE, question),
        thanks=cues.found(cues.THANKS_CUE, question),
        price=cues.found(cues.PRICE_CUE, question),
    )


def question_parts(question: str) -> tuple[str, ...]:
    """The sentences of a question asked in several ("Lunch lines are long. What gain is
    realistic?"), or none for a one-sentence question."""
    parts = [part.strip() for part in _PART_END.split(question)]
    parts = [part for part in parts if len(set(tokenize(part))) >= MIN_PART_TERMS]
    return tuple(parts) if len(parts) > 1 else ()


def named_module(question: str, modules: Iterable[str]) -> str | None:
    """The longest product module the question names ("kds", "supply_chain" as "supply chain")."""
    for module in sorted(modules, key=len, reverse=True):
        pattern = r"(?<![A-Za-z])" + re.escape(module).replace("_", "[ _-]") + r"(?![A-Za-z])"
        if re.search(pattern, question, re.IGNORECASE):
            return module
    return None


def cue_evidence(
    question: str, flags: Flags, stage: str | None, customers: frozenset[str] = frozenset()
) -> dict[str, float]:
    """Each intent's cue weight: a named stage strengthens a checklist cue, a customer named
    (`customers`: the words naming our cases' customers) is a case cue, and a pitch that also asks
    for proof or names a customer stays a pitch ("What do we pitch …? Any reference customer?")."""
    scores = cues.cue_scores(question)
    if not customers.isdisjoint(tokenize(question)):
        scores["case"] += NAMED_CUSTOMER_CUE
    if stage and scores["checklist"] >= 1.0:
        scores["checklist"] += 1.0
    if flags.pitch:
        scores["value"] += scores["case"]
    return scores


def quantifies(question: str, flags: Flags, size: Size, stage: str | None) -> bool:
    """What a customer described by its size or likeness can expect ("what results can a 30-store
    tea chain expect?"): the comparable cases' figures answer it. What one case measured ("从多少降到了
    多少"), how long a task usually takes, a pitch, a price or a stage is asked of the sources instead."""
    described = bool(size) or cues.found(cues.LIKENESS_CUE, question)
    expects = cues.found(cues.EXPECT_CUE, question) and cues.found(cues.OUTCOME_CUE, question)
    return expects and described and not (flags.pitch or flags.price or stage)


def _best(scores: dict[str, float]) -> str:
    return max(scores, key=lambda name: scores[name])


class Router:
    def __init__(self, bank: IntentBank, vector: QueryVector, industry_of: IndustryOf = lambda text: None) -> None:
        self.bank = bank
        self._vector = vector
        self._industry_of = industry_of

    def scores(self, question: str, cue_scores: dict[str, float]) -> dict[str, float]:
        """Closeness to each intent's examples, plus the weighted cues."""
        vectors = {model: self._vector(model, question) for model in self.bank.vectors}
        nearest = self.bank.scores(vectors)
        return {intent: score + CUE_WEIGHT * cue_scores.get(intent, 0.0) for intent, score in nearest.items()}

    def customer(self, text: str, modules: Iterable[str]) -> Customer:
        """The customer a text describes: the industry, size and module it names."""
        module = named_module(text, modules)
        return Customer(self._industry_of(text), parse_size(text), (module,) if module else ())

    def route(
        self,
        question: str,
        *,
        modules: Iterable[str] = (),
        customers: frozenset[str] = frozenset(),
        history: Sequence[str] = (),
        intent: Intent | None = None,
    ) -> Request:
        """`intent` overrides the routing when the user chose the shape (Slack's `/relay value …`);
        `modules` and `customers` (the words naming our cases' customers) are the index's."""
        question = question.strip()
        flags = read_flags(question)
        stage = cues.detect_stage(question)
        follow_up = bool(history) and len(tokenize(question)) <= FOLLOW_UP_TERMS
        # A short follow-up ("and for bakeries?") asks what the thread asked, about something else;
        # unless it is small talk on its own ("thanks!"), which is said to the people, not asked.
        query, evidence = question, cue_evidence(question, flags, stage, customers)
        scores = self.scores(query, evidence)
        if follow_up and _best(scores) != "smalltalk":
            query = " ".join([*history[-2:], question])
            evidence = cue_evidence(query, flags, stage, customers)
            scores = self.scores(query, evidence)
        if not cues.found(cues.CATALOG_CUE, question):
            scores.pop("overview")  # nothing in the question asks for the catalog itself
        chosen = intent or ("quantify" if quantifies(query, flags, parse_size(query), stage) else _best(scores))
        return Request(
            question=question,
            query=query,
            lang=detect_lang(question),
            intent=chosen,  # type: ignore[arg-type]
            flags=flags,
            stage=stage,
            module=named_module(question, modules),
            customer=self.customer(query, modules) if chosen == "quantify" else None,
            kinds=cues.named_kinds(question),
            parts=question_parts(question),
            framing=cues.framing_terms(question, tokenize(question)),
            scores=tuple(sorted(scores.items())),
            chosen=intent is not None,
            cued=frozenset(name for name, weight in evidence.items() if weight > 0),
        )
