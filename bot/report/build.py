"""The owners' report, built once from the records and the documents: gaps grouped by meaning with
the index's models, glossary suggestions from the sources' own words, votes and flags per document,
stale documents per owner, and usage."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.answers.catalog import stale_documents
from bot.kb.encoders import EmbedQueries
from bot.kb.schema import DocumentMeta
from bot.records import Records, Shown, Vote
from bot.report.digest import owners_in_slack
from bot.report.gaps import group_gaps
from bot.report.glossary import DocumentTerms, suggest
from bot.report.model import DocumentVotes, Report, Usage

MOST_CITED = 10
VOTE_QUESTIONS = 5


@dataclass(frozen=True)
class OwnedDocuments:
    """What the report needs of the documents: their front matter and paths, and their text when
    glossary lines are to be suggested."""

    metas: Mapping[str, tuple[DocumentMeta, str]]  # doc id -> (front matter, path)
    bodies: Mapping[str, str] | None = None


def build_report(
    records: Records,
    corpus: OwnedDocuments,
    *,
    days: int,
    models: Sequence[str],
    embed: EmbedQueries,
    now: dt.datetime | None = None,
) -> Report:
    until = now or dt.datetime.now(dt.UTC)
    since = until - dt.timedelta(days=days)
    answers = records.answers(since=since)
    titles = {doc: meta.title for doc, (meta, _) in corpus.metas.items()}
    owners = {doc: meta.owner for doc, (meta, _) in corpus.metas.items()}
    gaps = [a for a in answers if a.status != "answered"]
    groups = group_gaps(gaps, models=models, embed=embed, titles=titles, owners=owners)
    suggestions = suggest(gaps, DocumentTerms(corpus.bodies, models, embed)) if corpus.bodies else []
    stale = stale_documents(corpus.metas.values(), until.date(), records.citation_counts(), records.flagged_outdated())
    return Report(
        since=since,
        until=until,
        gaps=tuple(groups),
        suggestions=tuple(suggestions),
        votes=tuple(votes_per_document(records.votes(since=since), titles, owners)),
        stale=tuple(stale),
        usage=usage(answers, corpus.metas),
        titles=titles,
        owners_in_slack=owners_in_slack(meta for meta, _ in corpus.metas.values()),
    )


def votes_per_document(
    votes: Sequence[Vote], titles: Mapping[str, str], owners: Mapping[str, str]
) -> list[DocumentVotes]:
    """ "Not helpful" and "Outdated" per document the voted answers cited, the most voted first."""
    counts: dict[str, Counter[str]] = {}
    questions: dict[str, list[str]] = {}
    for vote in (v for v in votes if v.vote != "helpful"):
        for doc in dict.fromkeys(c.doc_id for c in vote.answer.cited):
            counts.setdefault(doc, Counter())[vote.vote] += 1
            if vote.answer.question and vote.answer.question not in questions.setdefault(doc, []):
                questions[doc].append(vote.answer.question)
    rows = [
        DocumentVotes(
            doc, titles.get(doc, doc), owners.get(doc, "?"), count["not_helpful"], count["outdated"],
            tuple(questions.get(doc, [])[:VOTE_QUESTIONS]),
        )
        for doc, count in counts.items()
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (-(r.not_helpful + r.outdated), -r.outdated, r.doc_id))


def usage(answers: Sequence[Shown], metas: Mapping[str, object]) -> Usage:
    per_day = Counter(a.answered_at.date() for a in answers)
    cited = Counter(doc for a in answers for doc in dict.fromkeys(c.doc_id for c in a.cited))
    latencies = [a.latency_ms for a in answers if a.latency_ms is not None]
    p50, p95 = (int(v) for v in np.percentile(latencies, [50, 95])) if latencies else (None, None)
    outcomes = Counter(a.status for a in answers)
    return Usage(
        per_day=tuple(sorted(per_day.items())),
        per_intent=tuple(Counter(a.intent for a in answers).most_common()),
        outcomes=tuple((status, outcomes[status]) for status in ("answered", "closest", "declined")),
        most_cited=tuple(cited.most_common(MOST_CITED)),
        never_cited=tuple(sorted(doc for doc in metas if doc not in cited)),
        p50_ms=p50,
        p95_ms=p95,
    )
