"""What an answer is, independent of where it is shown (CLI, JSON, Slack).

An answer is a list of parts in reading order. A composer builds the body once;
`Answer.parts` adds the notes and the sources after it, so the layout lives
here and the text and Block Kit renderers only walk the parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.answers.quantify import MetricChange

Status = Literal["answered", "closest", "declined"]


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
class Heading:
    """A line that frames what follows: the answer's headline, or the heading of its proof."""

    text: str


@dataclass(frozen=True)
class Paragraph:
    """Text of the bot's own: a reply to small talk, or a generated answer that passed the guard."""

    text: str


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
class Entry:
    """One document in a catalog: a line written from its front matter."""

    text: str
    citation: int


@dataclass(frozen=True)
class Listing:
    heading: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Table:
    """Rows under a header: the text shows a Markdown table, Slack a table block."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Bar:
    label: str  # the customer, with its citation: "[2] 蜀渝小馆火锅"
    value: float
    text: str  # the value as the tables write it


@dataclass(frozen=True)
class Panel:
    title: str
    bars: tuple[Bar, ...]
    median: float
    median_text: str


@dataclass(frozen=True)
class Chart:
    """A picture of figures the tables already state: Slack attaches it as an image, text leaves it out."""

    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Sources:
    citations: tuple[Citation, ...]


Part = Heading | Paragraph | QuoteGroup | ChecklistGroup | CaseCard | Listing | Table | Chart | Note | Sources


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
    status: Status
    confidence: float
    body: list[Part] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stage: str | None = None
    module: str | None = None
    generated: str | None = None  # an LLM answer that passed the guard, shown instead of the quotes
    guard_problems: list[str] = field(default_factory=list)  # why a generated answer was not shown
    uncovered: tuple[str, ...] = ()  # question terms the sources did not cover (for gap reports)

    @property
    def abstained(self) -> bool:
        return self.status != "answered"

    @property
    def parts(self) -> Iterator[Part]:
        """Everything shown, in reading order: the body, then the notes, then the sources."""
        yield from self.body
        yield from (Note(note) for note in self.notes)
        if self.citations:
            yield Sources(tuple(self.citations))

    @property
    def headline(self) -> str:
        return next((part.text for part in self.body if isinstance(part, Heading)), "")

    @property
    def groups(self) -> list[QuoteGroup]:
        return [part for part in self.body if isinstance(part, QuoteGroup)]

    @property
    def checklist(self) -> list[ChecklistGroup]:
        return [part for part in self.body if isinstance(part, ChecklistGroup)]

    @property
    def cards(self) -> list[CaseCard]:
        return [part for part in self.body if isinstance(part, CaseCard)]

    @property
    def text(self) -> str:
        from bot.answers.render import render_text

        return render_text(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "status": self.status,
            "answer": self.text,
            "abstained": self.abstained,
            "generated": self.generated is not None,  # the text is the model's, after the guard passed it
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
