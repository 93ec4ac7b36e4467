"""A question as the router read it: one typed object, built once, that carries everything
retrieval, assessment and composing need. Nothing downstream reads the question's words again."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from bot.answers.benchmark import Customer

Intent = Literal["checklist", "case", "value", "general", "overview", "smalltalk", "quantify"]
# Routed by meaning, from the example bank; "quantify" is read from what the question says of the customer.
BANK_INTENTS: tuple[Intent, ...] = ("checklist", "case", "value", "general", "overview", "smalltalk")
INTENTS: tuple[Intent, ...] = (*BANK_INTENTS, "quantify")
KIND_FOR_INTENT: dict[str, str] = {"checklist": "stage_guide", "case": "case", "value": "playbook"}
SECOND_CHOICES = ("case", "value", "general")  # what a question that is no checklist may ask, searched over every kind


@dataclass(frozen=True)
class Flags:
    """What the question asks for beyond its subject, read from its cue words."""

    pitch: bool = False  # what to pitch: the value points, which state what changes by how much
    position: bool = False  # an objection, a competitor or a weakness: where we stand
    weakness: bool = False  # what we do not do well, what not to promise
    proof: bool = False  # customer proof beside a pitch
    how_much: bool = False  # a magnitude: quotes should carry the sources' numbers
    listing: bool = False  # a whole list ("what are the risks"), not its best item
    asks_questions: bool = False  # what to ask the customer: the sources' own questions answer it
    what_to_ask: bool = False  # only that: the questions alone are the answer
    prep: bool = False  # getting ready: for a customer meeting when the intent is value, else for a stage
    thanks: bool = False  # thanks, an acknowledgement, praise or a goodbye, when the message is small talk
    price: bool = False  # what something costs: only a source stating a price answers it

    @property
    def wants_numbers(self) -> bool:
        """A magnitude, or a pitch (which states what changes by how much) unless the user also asks
        what to ask the customer: then the questions must not be crowded out by numbers."""
        return self.how_much or (self.pitch and not self.asks_questions)


@dataclass(frozen=True)
class Request:
    question: str  # as asked
    query: str  # what retrieval reads: the question, with the thread's last turns when it is a short follow-up
    lang: str  # the question's language, which the answer's framing follows
    intent: Intent
    flags: Flags = Flags()
    stage: str | None = None  # an implementation stage the question names
    module: str | None = None  # a product module the question names
    kinds: tuple[str, ...] = ()  # the kinds of document the question names ("our cases", "the stages")
    parts: tuple[str, ...] = ()  # the question's sentences, when it asks in several
    # Words that frame the question or ask for a shape of answer, not what it is about: no evidence either way.
    framing: frozenset[str] = frozenset()
    customer: Customer | None = None  # who a quantify question describes: industry, size, modules
    scores: tuple[tuple[str, float], ...] = field(default=(), compare=False)  # the routing evidence, per intent
    chosen: bool = False  # the asker chose the intent (Slack's `/relay value …`): it is never second-guessed
    cued: frozenset[str] = frozenset()  # the intents a cue word of the question points to

    def second_choice(self) -> Request:
        """The request as the next likeliest searched intent would have it, after a checklist its guides did not back."""
        ranked = sorted((score, intent) for intent, score in self.scores if intent in SECOND_CHOICES)
        return replace(self, intent=ranked[-1][1] if ranked else "general")

    @property
    def kind(self) -> str | None:
        """The kind of document the intent calls for."""
        return KIND_FOR_INTENT.get(self.intent)
