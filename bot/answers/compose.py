"""Extractive answers: sentences and list items quoted verbatim from the
retrieved passages, each with a numbered citation, in the shape the intent needs."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.answers.labels import label
from bot.answers.model import Answer, CaseCard, ChecklistGroup, Citation, Quote, QuoteGroup
from bot.answers.quantify import MetricChange
from bot.kb.chunking import Chunk, quotable_units
from bot.kb.lexical import tokenize
from bot.kb.search import DocHit

# Questions about a magnitude: the answer should carry the sources' numbers.
_QUANTITY = re.compile(
    r"\bhow (much|many|long|far|fast|often)\b|\bwhat (rate|ratio|percentage|share|level)\b|\bnumbers?\b|\bfigures?\b|"
    r"\b(gains?|improve(ment)?s?|reduc(e|tion)s?|savings?|increases?|decreases?|faster|cheaper|lower|higher|"
    r"per (hour|day|week|month|store|person|order|meal)|target|threshold|bar|rate)\b|"
    r"多少|几|比例|百分|多久|多长|降到|降了|提升|提高|降低|减少|节省|省下|改善|增加|数字|数据|标准|门槛|达标",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
MAX_QUOTES = 6
MAX_QUOTES_PER_DOC = 4
RETRIEVED_PASSAGES = 6
QUANTITY_BONUS = 0.5
SEMANTIC_WEIGHT = 1.0


def is_stale(meta: dict[str, Any], today: dt.date) -> bool:
    verified = dt.date.fromisoformat(str(meta["verified"]))
    return today > verified + dt.timedelta(days=int(meta.get("review_days", 180)))


def source_url(base: str | None, path: str) -> str | None:
    return f"{base.rstrip('/')}/{path}" if base else None


class Citations:
    """Numbers sources in the order they are first cited."""

    def __init__(self, documents: dict[str, dict[str, Any]], today: dt.date, base_url: str | None) -> None:
        self._documents = documents
        self._today = today
        self._base = base_url
        self.items: list[Citation] = []
        self._index: dict[tuple[str, str], int] = {}

    def cite(self, doc_id: str, section: str, score: float = 0.0) -> int:
        key = (doc_id, section)
        if key not in self._index:
            record = self._documents[doc_id]
            meta = record["meta"]
            self.items.append(
                Citation(
                    number=len(self.items) + 1,
                    doc_id=doc_id,
                    title=meta["title"],
                    section=section,
                    kind=meta["kind"],
                    owner=meta["owner"],
                    verified=str(meta["verified"]),
                    stale=is_stale(meta, self._today),
                    url=source_url(self._base, record["path"]),
                    score=score,
                )
            )
            self._index[key] = len(self.items)
        return self._index[key]


@functools.lru_cache(maxsize=65536)
def unit_tokens(text: str) -> frozenset[str]:
    # Sources are quoted again and again; segment each sentence once.
    return frozenset(tokenize(text))


@dataclass
class Scorer:
    """How well a unit of text covers the question's terms (in either language)."""

    concepts: list[list[str]]
    weights: list[float]
    quantity: bool

    def score(self, text: str) -> float:
        tokens = unit_tokens(text)
        covered = sum(w for forms, w in zip(self.concepts, self.weights) if tokens.intersection(forms))
        total = sum(self.weights) or 1.0
        bonus = QUANTITY_BONUS if self.quantity and _DIGIT.search(text) else 0.0
        return covered / total + bonus


def quote_groups(
    docs: list[tuple[DocHit, list[Chunk]]],
    scorer: Scorer,
    citations: Citations,
    unit_similarity: Callable[[Chunk], Sequence[float]],
    max_quotes: int = MAX_QUOTES,
) -> list[QuoteGroup]:
    """The best units from the best passages, grouped by document section, in document order.

    A unit's score is its closeness in meaning to the question (a cross-lingual
    model), how much of the question's terms it covers, a prior for its
    passage's retrieval rank, and a bonus for stating a number when the
    question asks for one. `docs` pairs each document with its passages, the
    retrieved ones first (best first), then the rest of the document."""
    candidates: list[tuple[float, int, int, str, DocHit, str]] = []
    for doc_rank, (doc, passages) in enumerate(docs):
        for passage_rank, chunk in enumerate(passages):
            prior = 0.3 / (1 + doc_rank) + (0.2 / (1 + passage_rank) if passage_rank < RETRIEVED_PASSAGES else 0.0)
            similarities = unit_similarity(chunk)
            for position, unit in enumerate(quotable_units(chunk.text)):
                meaning = float(similarities[position]) if position < len(similarities) else 0.0
                score = scorer.score(unit) + SEMANTIC_WEIGHT * meaning + prior
                candidates.append((score, chunk.order, position, unit, doc, chunk.section))
    candidates.sort(key=lambda c: -c[0])
    chosen: list[tuple[float, int, int, str, DocHit, str]] = []
    per_doc: dict[str, int] = {}
    seen: set[str] = set()
    for candidate in candidates:
        doc_id, unit = candidate[4].doc_id, candidate[3]
        if unit in seen or per_doc.get(doc_id, 0) >= MAX_QUOTES_PER_DOC:
            continue
        seen.add(unit)
        per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
        chosen.append(candidate)
        if len(chosen) >= max_quotes:
            break
    doc_order = {doc.doc_id: rank for rank, (doc, _) in enumerate(docs)}
    chosen.sort(key=lambda c: (doc_order[c[4].doc_id], c[1], c[2]))
    groups: list[QuoteGroup] = []
    for candidate in chosen:
        doc, section = candidate[4], candidate[5]
        number = citations.cite(doc.doc_id, section, doc.score)
        title = citations.items[number - 1].title
        heading = f"{title} · {section}" if section else title
        quote = Quote(candidate[3], number)
        if groups and groups[-1].heading == heading:
            groups[-1] = QuoteGroup(heading, groups[-1].quotes + (quote,))
        else:
            groups.append(QuoteGroup(heading, (quote,)))
    return groups


def case_card(doc_id: str, record: dict[str, Any], citation: int) -> CaseCard:
    meta = record["meta"]
    metrics = tuple(
        MetricChange(m["name"], m["before"], m["after"], m.get("unit") or "", m.get("period")) for m in meta["metrics"]
    )
    return CaseCard(
        doc_id=doc_id,
        customer=meta["customer"],
        industry=meta["industry"],
        size=meta["size"],
        modules=tuple(meta.get("modules", [])),
        metrics=metrics,
        quote=record.get("quote"),
        citation=citation,
    )


def checklist_groups(
    records: Iterable[tuple[str, dict[str, Any]]], module: str | None, citations: Citations
) -> list[ChecklistGroup]:
    """Every item of the given stage guides, verbatim, grouped by section, in document order."""
    groups: list[ChecklistGroup] = []
    for doc_id, record in records:
        section_modules: dict[str, list[str]] = record["meta"].get("section_modules") or {}
        for item in record["checklist"]:
            top_section = item["section"].split(" > ")[0]
            if module and top_section in section_modules and module.lower() not in {
                m.lower() for m in section_modules[top_section]
            }:
                continue
            if groups and groups[-1].section == item["section"] and citations.items[groups[-1].citation - 1].doc_id == doc_id:
                last = groups[-1]
                groups[-1] = ChecklistGroup(last.section, last.items + (item["text"],), last.citation)
            else:
                number = citations.cite(doc_id, item["section"])
                groups.append(ChecklistGroup(item["section"], (item["text"],), number))
    return groups


def stale_notes(answer: Answer, documents: dict[str, dict[str, Any]]) -> list[str]:
    notes = []
    for doc_id in dict.fromkeys(c.doc_id for c in answer.citations if c.stale):
        meta = documents[doc_id]["meta"]
        notes.append(
            label(
                answer.lang,
                "stale",
                title=meta["title"],
                verified=meta["verified"],
                days=meta.get("review_days", 180),
                owner=meta["owner"],
            )
        )
    return notes


def quantity_question(question: str) -> bool:
    return bool(_QUANTITY.search(question))
