"""The corpus as a reading list: onboarding paths per role, recent changes, example questions.

Everything here is derived from the documents' front matter, so any corpus in
the documented format gets sensible paths without configuration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.answers.citations import source_url
from bot.kb.filters import Filters
from bot.kb.schema import STAGES, CaseMeta, DocumentMeta, IndexedDocument, PlaybookMeta, StageGuideMeta

Role = Literal["sales", "implementation", "new_hire"]
ROLES: tuple[Role, ...] = ("sales", "implementation", "new_hire")
# Which audience a role reads as, and how many documents of each kind its path starts with.
ROLE_AUDIENCE: dict[Role, str | None] = {"sales": "sales", "implementation": "implementation", "new_hire": None}
ROLE_PLAN: dict[Role, tuple[tuple[str, int], ...]] = {
    "sales": (("playbook", 3), ("case", 3)),
    "implementation": (("stage_guide", len(STAGES)), ("playbook", 2)),
    "new_hire": (("playbook", 2), ("stage_guide", len(STAGES)), ("case", 2)),
}


@dataclass(frozen=True)
class DocSummary:
    doc_id: str
    title: str
    kind: str
    lang: str
    owner: str
    verified: str
    stale: bool
    url: str | None
    stage: str | None = None
    changed: str | None = None


Documents = Mapping[str, IndexedDocument]


def summarize(
    documents: Documents, today: dt.date, base_url: str | None, changed: dict[str, str] | None = None
) -> list[DocSummary]:
    out = []
    for document in sorted(documents.values(), key=lambda d: d.path):
        meta = document.meta
        out.append(
            DocSummary(
                doc_id=meta.id,
                title=meta.title,
                kind=meta.kind,
                lang=meta.lang,
                owner=meta.owner,
                verified=meta.verified.isoformat(),
                stale=meta.is_stale(today),
                url=source_url(base_url, document.path),
                stage=getattr(meta, "stage", None),
                changed=(changed or {}).get(meta.id),
            )
        )
    return out


def _for_audience(documents: Documents, audience: str | None) -> set[str]:
    filters = Filters(audience=audience)  # the rule search and checklists apply
    return {doc_id for doc_id, document in documents.items() if filters.admits(document.meta)}


def onboarding_path(documents: Documents, role: Role, today: dt.date, base_url: str | None) -> list[DocSummary]:
    """What a newcomer in this role reads first: per kind, current documents before stale ones,
    the most recently verified first; stage guides in the order of the implementation."""
    visible = _for_audience(documents, ROLE_AUDIENCE[role])
    summaries = [s for s in summarize(documents, today, base_url) if s.doc_id in visible]
    path: list[DocSummary] = []
    for kind, count in ROLE_PLAN[role]:
        of_kind = [s for s in summaries if s.kind == kind]
        if kind == "stage_guide":
            of_kind.sort(key=lambda s: (STAGES.index(s.stage) if s.stage in STAGES else len(STAGES), s.stale))
        else:
            of_kind.sort(key=lambda s: s.verified, reverse=True)
            of_kind.sort(key=lambda s: s.stale)
        path.extend(of_kind[:count])
    return path


@dataclass(frozen=True)
class StaleDocument:
    """A document past its review date or voted "Outdated", for its owner to verify again."""

    doc_id: str
    title: str
    owner: str
    path: str
    verified: dt.date
    review_due: dt.date
    days_overdue: int  # negative while the review is not yet due
    cited: int  # in answers on record: how much its staleness costs
    flagged: int = 0  # answers citing it that someone voted "Outdated"


def stale_documents(
    metas: Iterable[tuple[DocumentMeta, str]],
    today: dt.date,
    cited: Mapping[str, int],
    flagged: Mapping[str, int] | None = None,
) -> list[StaleDocument]:
    """The documents past `verified` + `review_days` (the one staleness rule) or flagged "Outdated"
    by users, by owner, the most flagged and cited first, then the longest overdue. `metas`: each
    document's front matter and its path."""
    flagged = flagged or {}
    stale = [
        StaleDocument(
            meta.id, meta.title, meta.owner, path, meta.verified, meta.review_due(),
            (today - meta.review_due()).days, cited.get(meta.id, 0), flagged.get(meta.id, 0),
        )
        for meta, path in metas
        if meta.is_stale(today) or flagged.get(meta.id, 0)
    ]  # fmt: skip
    return sorted(stale, key=lambda d: (d.owner, -d.flagged, -d.cited, -d.days_overdue, d.doc_id))


def recent_changes(
    documents: Documents,
    changed: dict[str, str],
    today: dt.date,
    base_url: str | None,
    limit: int = 5,
) -> list[DocSummary]:
    """Documents by when their current version entered the index, newest first."""
    summaries = summarize(documents, today, base_url, changed)
    summaries.sort(key=lambda s: (s.changed or "", s.verified), reverse=True)
    return summaries[:limit]


def _readable(slug: str) -> str:
    return slug.replace("_", " ")


def example_questions(documents: Documents, role: Role, limit: int = 4) -> list[str]:
    """Questions this corpus can answer, phrased the way the role asks, in each document's language."""
    visible = _for_audience(documents, ROLE_AUDIENCE[role])
    metas = [documents[doc_id].meta for doc_id in sorted(visible, key=lambda d: documents[d].path)]
    questions: list[str] = []

    def add(question: str) -> None:
        if question not in questions:
            questions.append(question)

    stages = [m.stage for m in metas if isinstance(m, StageGuideMeta)]
    stages.sort(key=lambda s: STAGES.index(s) if s in STAGES else len(STAGES))
    cases = [m for m in metas if isinstance(m, CaseMeta)]
    playbooks = [m for m in metas if isinstance(m, PlaybookMeta) and m.segments]
    if role != "sales":
        for stage in stages[:2]:
            add(f"/relay checklist {stage}")
    for meta in playbooks[:2]:
        segment = meta.segments[0]
        add(f"面向{segment}，我们主推什么价值？" if meta.lang == "zh" else f"What do we pitch to {segment}?")
    for meta in cases[:2]:
        industry = _readable(meta.industry)
        add(f"有没有{industry}客户的案例和数据？" if meta.lang == "zh" else f"Any {industry} customer with numbers?")
    return questions[:limit]
