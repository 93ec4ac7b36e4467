"""Overview answers: the catalog a newcomer asks for, one line per document from its front matter:
playbooks by customer segment, stage guides in the order of an implementation, cases by industry."""

from __future__ import annotations

from bot.answers.compose.context import Context
from bot.answers.labels import label
from bot.answers.model import Answer, Entry, Heading, Listing, Part
from bot.kb.schema import KINDS, STAGES, CaseMeta, IndexedDocument, PlaybookMeta, StageGuideMeta


def compose(ctx: Context) -> Answer:
    """The kinds the question names, or every kind when it names none (or all)."""
    lang = ctx.request.lang
    kinds = [kind for kind in KINDS if kind in ctx.request.kinds] or list(KINDS)
    listings: list[Part] = []
    for kind in kinds:
        documents = sorted(ctx.index.chosen(ctx.filters, kind=kind), key=_order)
        if documents:
            entries = tuple(Entry(_line(d, lang), ctx.citations.cite(d.id, "")) for d in documents)
            listings.append(Listing(label(lang, f"catalog_{kind}"), entries))
    if not listings:
        return ctx.answer("declined", [Heading(label(lang, "no_catalog"))])
    ctx.confidence = 1.0
    count = sum(len(part.entries) for part in listings if isinstance(part, Listing))
    return ctx.answer("answered", [Heading(label(lang, "catalog", n=count)), *listings])


def _order(document: IndexedDocument) -> tuple[object, ...]:
    meta = document.meta
    if isinstance(meta, StageGuideMeta):
        return (STAGES.index(meta.stage), document.path)
    if isinstance(meta, CaseMeta):
        return (meta.industry, document.path)
    return (document.path,)


def _line(document: IndexedDocument, lang: str) -> str:
    meta = document.meta
    if isinstance(meta, PlaybookMeta) and meta.segments:
        return f"{', '.join(meta.segments)}: {meta.title}"
    if isinstance(meta, StageGuideMeta):
        return f"{label(lang, meta.stage)}: {meta.title}"
    if isinstance(meta, CaseMeta):
        return f"{meta.industry.replace('_', ' ')}: {meta.customer} ({meta.size}) · {meta.title}"
    return meta.title
