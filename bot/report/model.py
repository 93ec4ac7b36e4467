"""The content owners' report as typed parts: what was not answered, what users voted, what is
stale, and how the bot is used. Built once; the Markdown, HTML, CSV and Slack renderers walk it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.answers.catalog import StaleDocument


@dataclass(frozen=True)
class GapGroup:
    """Questions the sources did not answer that mean about the same thing."""

    count: int
    examples: tuple[str, ...]  # up to 3, newest first; none when only metadata is kept
    closest_doc: str | None  # the document most often closest to them
    closest_title: str | None
    closest_section: str | None
    owner: str | None
    uncovered: tuple[str, ...]  # the question words no source used, most frequent first


@dataclass(frozen=True)
class GlossarySuggestion:
    """A line for `glossary.yaml` joining users' words to the closest document's own."""

    asked: str  # the users' word
    source: str  # the closest document's nearest term
    doc_id: str
    similarity: float
    questions: int  # how many gap questions used the word

    def line(self) -> str:
        return f"- [{self.asked}, {self.source}]"


@dataclass(frozen=True)
class DocumentVotes:
    doc_id: str
    title: str
    owner: str
    not_helpful: int
    outdated: int
    questions: tuple[str, ...]  # the questions voted on, newest first


@dataclass(frozen=True)
class Usage:
    per_day: tuple[tuple[dt.date, int], ...]
    per_intent: tuple[tuple[str, int], ...]
    outcomes: tuple[tuple[str, int], ...]  # answered / closest / declined
    most_cited: tuple[tuple[str, int], ...]
    never_cited: tuple[str, ...]
    p50_ms: int | None
    p95_ms: int | None

    @property
    def total(self) -> int:
        return sum(count for _, count in self.outcomes)


@dataclass(frozen=True)
class Report:
    since: dt.datetime
    until: dt.datetime
    gaps: tuple[GapGroup, ...]
    suggestions: tuple[GlossarySuggestion, ...]
    votes: tuple[DocumentVotes, ...]
    stale: tuple[StaleDocument, ...]
    usage: Usage
    titles: dict[str, str]  # doc id -> title, for every table that names a document
    owners_in_slack: dict[str, tuple[str, str]]  # owner -> (Slack id, language), for the digest
