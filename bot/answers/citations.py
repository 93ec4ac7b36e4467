"""Citation numbering: sources are numbered in the order an answer first cites them, in reading order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from bot.answers.labels import label
from bot.answers.model import Citation
from bot.kb.schema import IndexedDocument


def source_url(base: str | None, path: str) -> str | None:
    return f"{base.rstrip('/')}/{path}" if base else None


class Citations:
    """Numbers (document, section) pairs in the order they are first cited."""

    def __init__(self, documents: Mapping[str, IndexedDocument], today: dt.date, base_url: str | None) -> None:
        self._documents = documents
        self._today = today
        self._base = base_url
        self.items: list[Citation] = []
        self._index: dict[tuple[str, str], int] = {}

    def cite(self, doc_id: str, section: str, score: float = 0.0) -> int:
        key = (doc_id, section)
        if key not in self._index:
            document = self._documents[doc_id]
            meta = document.meta
            self.items.append(
                Citation(
                    number=len(self.items) + 1,
                    doc_id=doc_id,
                    title=meta.title,
                    section=section,
                    kind=meta.kind,
                    owner=meta.owner,
                    verified=meta.verified.isoformat(),
                    stale=meta.is_stale(self._today),
                    url=source_url(self._base, document.path),
                    score=score,
                )
            )
            self._index[key] = len(self.items)
        return self._index[key]

    def doc_of(self, number: int) -> str:
        return self.items[number - 1].doc_id

    def cited(self, numbers: set[int]) -> list[Citation]:
        """The citations among `numbers`, in numbering order."""
        return [c for c in self.items if c.number in numbers]


def stale_notes(citations: Sequence[Citation], documents: Mapping[str, IndexedDocument], lang: str) -> list[str]:
    """One note per cited document past its review date, naming who to check with."""
    notes = []
    for doc_id in dict.fromkeys(c.doc_id for c in citations if c.stale):
        meta = documents[doc_id].meta
        values = {
            "title": meta.title,
            "verified": meta.verified.isoformat(),
            "days": meta.review_days,
            "owner": meta.owner,
        }
        notes.append(label(lang, "stale", **values))
    return notes
