"""The corpus as a reading list: onboarding paths per role, recent changes, example questions.

Everything here is derived from the documents' front matter, so any corpus in
the documented format gets sensible paths without configuration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from bot.answers.compose import is_stale, source_url, visible
from bot.kb.schema import STAGES
from bot.kb.search import Filters

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


def summarize(
    documents: dict[str, dict[str, Any]],
    today: dt.date,
    base_url: str | None,
    changed: dict[str, str] | None = None,
) -> list[DocSummary]:
    out = []
    for doc_id, record in sorted(documents.items(), key=lambda item: item[1]["path"]):
        meta = record["meta"]
        out.append(
            DocSummary(
                doc_id=doc_id,
                title=meta["title"],
                kind=meta["kind"],
                lang=meta["lang"],
                owner=meta["owner"],
                verified=str(meta["verified"]),
                stale=is_stale(meta, today),
                url=source_url(base_url, record["path"]),
                stage=meta.get("stage"),
                changed=(changed or {}).get(doc_id),
            )
        )
    return out


def _for_audience(documents: dict[str, dict[str, Any]], audience: str | None) -> set[str]:
    wanted = Filters(audience=audience).as_dict()  # the rule search and checklists apply
    return {doc_id for doc_id, record in documents.items() if visible(record, wanted)}


def onboarding_path(
    documents: dict[str, dict[str, Any]], role: Role, today: dt.date, base_url: str | None
) -> list[DocSummary]:
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


def recent_changes(
    documents: dict[str, dict[str, Any]],
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


def example_questions(documents: dict[str, dict[str, Any]], role: Role, limit: int = 4) -> list[str]:
    """Questions this corpus can answer, phrased the way the role asks, in each document's language."""
    visible = _for_audience(documents, ROLE_AUDIENCE[role])
    metas = [documents[doc_id]["meta"] for doc_id in sorted(visible, key=lambda d: documents[d]["path"])]
    questions: list[str] = []

    def add(question: str) -> None:
        if question not in questions:
            questions.append(question)

    stages = [m["stage"] for m in metas if m["kind"] == "stage_guide" and m.get("stage")]
    stages.sort(key=lambda s: STAGES.index(s) if s in STAGES else len(STAGES))
    cases = [m for m in metas if m["kind"] == "case"]
    playbooks = [m for m in metas if m["kind"] == "playbook" and m.get("segments")]
    if role != "sales":
        for stage in stages[:2]:
            add(f"/relay checklist {stage}")
    for meta in playbooks[:2]:
        segment = meta["segments"][0]
        add(f"面向{segment}，我们主推什么价值？" if meta["lang"] == "zh" else f"What do we pitch to {segment}?")
    for meta in cases[:2]:
        industry = _readable(meta["industry"])
        add(f"有没有{industry}客户的案例和数据？" if meta["lang"] == "zh" else f"Any {industry} customer with numbers?")
    return questions[:limit]
