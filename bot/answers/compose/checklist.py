"""Checklist answers: every item of a stage's guides, verbatim, grouped by section, in document
order; for a module, the general sections and those mapped to that module. A stage with many guides
shows the few the question is closest to, whole, and names the others."""

from __future__ import annotations

from collections.abc import Iterable

from bot.answers.compose import general
from bot.answers.compose.context import Context
from bot.answers.labels import label
from bot.answers.model import Answer, ChecklistGroup, Heading, Note
from bot.kb.chunking import SECTION_SEPARATOR
from bot.kb.schema import IndexedDocument, StageGuideMeta

# Guides shown whole in one answer; a long checklist from each of dozens of guides is no answer.
MAX_GUIDES = 3
MAX_NAMED = 5  # of the other guides, named by title


def compose(ctx: Context) -> Answer:
    """The stage the question names, or else the stage of the guide that best matches it."""
    stage = ctx.request.stage
    if stage is None and ctx.docs:
        stage = getattr(ctx.index.documents[ctx.docs[0].doc_id].meta, "stage", None)
    if stage is None:
        return general.declined(ctx)
    return checklist(ctx, stage, ctx.request.module)


def checklist(ctx: Context, stage: str, module: str | None) -> Answer:
    guides = [g for g in stage_guides(ctx, stage) if any(_holds(g, item.section, module) for item in g.checklist)]
    groups = checklist_groups(guides[:MAX_GUIDES], module, ctx)
    count = sum(len(group.items) for group in groups)
    lang = ctx.request.lang
    stage_name = label(lang, stage)
    more = guides[MAX_GUIDES:]
    others = [Note(_more(lang, stage_name, more))] if more else []
    if not count:
        headline = label(lang, "no_checklist", stage=stage_name)
    elif module:
        headline = label(lang, "checklist_module", stage=stage_name, module=module, count=count)
    else:
        headline = label(lang, "checklist", stage=stage_name, count=count)
    status = "answered" if count else "declined"
    ctx.confidence = 1.0 if count else 0.0
    return ctx.answer(status, [Heading(headline), *groups, *others], stage=stage, module=module)


def stage_guides(ctx: Context, stage: str) -> list[IndexedDocument]:
    """The stage's guides the filters admit: those the question retrieved first, best first, then in path order."""
    guides = [g for g in ctx.index.chosen(ctx.filters, kind="stage_guide") if getattr(g.meta, "stage", None) == stage]
    rank = {doc.doc_id: position for position, doc in enumerate(ctx.docs)}
    return sorted(guides, key=lambda guide: rank.get(guide.id, len(rank)))


def _more(lang: str, stage_name: str, guides: list[IndexedDocument]) -> str:
    titles = "; ".join(guide.meta.title for guide in guides[:MAX_NAMED])
    if len(guides) > MAX_NAMED:
        titles += " …"
    return label(lang, "more_guides", n=len(guides), stage=stage_name, titles=titles)


def checklist_groups(guides: Iterable[IndexedDocument], module: str | None, ctx: Context) -> list[ChecklistGroup]:
    groups: list[ChecklistGroup] = []
    for guide in guides:
        for item in guide.checklist:
            if not _holds(guide, item.section, module):
                continue
            last = groups[-1] if groups else None
            if last and last.section == item.section and ctx.citations.doc_of(last.citation) == guide.id:
                groups[-1] = ChecklistGroup(last.section, last.items + (item.text,), last.citation)
            else:
                groups.append(ChecklistGroup(item.section, (item.text,), ctx.citations.cite(guide.id, item.section)))
    return groups


def _holds(guide: IndexedDocument, section: str, module: str | None) -> bool:
    return not module or _for_module(guide.meta, section, module)


def _for_module(meta: object, section: str, module: str) -> bool:
    """A section mapped to modules is kept only for one of them; unmapped sections are for every module."""
    mapped = meta.section_modules if isinstance(meta, StageGuideMeta) else {}
    modules = mapped.get(section.split(SECTION_SEPARATOR)[0])
    return modules is None or module.lower() in {m.lower() for m in modules}
