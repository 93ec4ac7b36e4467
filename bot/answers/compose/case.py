"""Case answers: a card per customer (size, modules, each metric before → after with its change,
the customer's own words), then the lines of the best case that answer the question."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.answers.compose.context import Context, relevant
from bot.answers.labels import label
from bot.answers.model import Answer, CaseCard, Heading
from bot.answers.quantify import MetricChange
from bot.answers.quotes import MAX_QUOTES, quote_groups
from bot.kb.schema import CaseMeta, IndexedDocument
from bot.kb.search import DocHit

MAX_CASE_CARDS = 3
CASE_QUOTES = 3
PROOF_KINSHIP = 0.5  # a case whose content matched the pitched playbook's exactly would score 50% higher


def case_card(document: IndexedDocument, citation: int) -> CaseCard:
    meta = document.meta
    assert isinstance(meta, CaseMeta)
    return CaseCard(
        doc_id=meta.id,
        customer=meta.customer,
        industry=meta.industry,
        size=meta.size,
        modules=tuple(meta.modules),
        metrics=tuple(MetricChange(m.name, m.before, m.after, m.unit, m.period) for m in meta.metrics),
        quote=document.quote,
        citation=citation,
    )


def cards(ctx: Context, docs: Sequence[DocHit], limit: int = MAX_CASE_CARDS) -> list[CaseCard]:
    """Cards for the best cases among `docs`, the next ones only while they score close to the first."""
    cases = [doc for doc in docs if ctx.kind_of(doc) == "case"]
    return [
        case_card(ctx.index.documents[doc.doc_id], ctx.citations.cite(doc.doc_id, "", doc.score))
        for doc in relevant(cases, limit=limit)
    ]


def backing(ctx: Context, playbook: str, cases: Sequence[DocHit]) -> list[DocHit]:
    """Cases best first as proof for a pitch from `playbook`: their closeness to the question,
    lifted by how close each case's content is to the playbook's, since proof shows the
    product being pitched doing that work. A question's wording alone can miss the right
    case when its words for the problem are not the case's (a "no-show" is a 爽约)."""

    def kinship(doc: DocHit) -> float:
        return max(0.0, ctx.index.document_similarity(playbook, doc.doc_id))

    lifted = [replace(doc, score=doc.score * (1.0 + PROOF_KINSHIP * kinship(doc))) for doc in cases]
    return sorted(lifted, key=lambda doc: -doc.score)


def compose(ctx: Context) -> Answer:
    found = cards(ctx, ctx.docs)
    similarity = ctx.similarity()
    passages = ctx.index.passages(ctx.docs[:1])
    # A question asking several things gets room for each: its second part is often another section's.
    room = min(MAX_QUOTES, CASE_QUOTES * max(1, len(ctx.request.parts)))
    # A case is asked for what the customer measured: its lines with numbers are its results.
    scorer = replace(ctx.scorer(), quantity=True)
    groups = quote_groups(passages, scorer, ctx.citations, similarity, max_quotes=room)
    return ctx.answer("answered", [Heading(label(ctx.request.lang, "cases", n=len(found))), *found, *groups])
