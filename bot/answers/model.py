"""What an answer is, independent of where it is shown (CLI, JSON, Slack)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.answers.quantify import MetricChange


@dataclass(frozen=True)
class Citation:
    number: int
    doc_id: str
    title: str
    section: str
    kind: str
    owner: str
    verified: str
    stale: bool
    url: str | None = None
    score: float = 0.0


@dataclass(frozen=True)
class Quote:
    """A sentence or list item copied verbatim from a source."""

    text: str
    citation: int


@dataclass(frozen=True)
class QuoteGroup:
    heading: str
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class ChecklistGroup:
    section: str
    items: tuple[str, ...]
    citation: int


@dataclass(frozen=True)
class CaseCard:
    doc_id: str
    customer: str
    industry: str
    size: str
    modules: tuple[str, ...]
    metrics: tuple[MetricChange, ...]
    quote: str | None
    citation: int


@dataclass(frozen=True)
class SourceRef:
    """A ranked source document for the JSON contract."""

    doc_id: str
    title: str
    section: str
    kind: str
    score: float
    stale: bool


@dataclass
class Answer:
    question: str
    intent: str
    lang: str
    abstained: bool
    confidence: float
    headline: str = ""
    groups: list[QuoteGroup] = field(default_factory=list)
    checklist: list[ChecklistGroup] = field(default_factory=list)
    stage: str | None = None
    module: str | None = None
    cards: list[CaseCard] = field(default_factory=list)
    # Set when the cards back up a pitch: they follow the quotes, under this heading,
    # instead of leading the answer as they do when the question asks for cases.
    proof_headline: str = ""
    citations: list[Citation] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    generated: str | None = None  # an LLM answer that passed the guard
    guard_problems: list[str] = field(default_factory=list)  # why a generated answer was not shown
    uncovered: tuple[str, ...] = ()  # question terms the sources did not cover (for gap reports)
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "answer": self.text,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 4),
            "sources": [
                {
                    "doc_id": s.doc_id,
                    "title": s.title,
                    "section": s.section,
                    "kind": s.kind,
                    "score": round(s.score, 6),
                    "stale": s.stale,
                }
                for s in self.sources[:10]
            ],
        }
