"""What a request may see: the one visibility rule, for search, checklists, cases and catalogs.

A channel's scope (an audience and the kinds it may read) and a user's narrowing
(one kind, one stage, one industry) are both `Filters`. `admits` decides on a
document's front matter; `where` is the same rule as a Chroma where clause, so
the dense search never returns a passage `admits` would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.kb.schema import DocumentMeta

# Front-matter fields that hold lists: a filter value must be one of their items.
LIST_FIELDS = ("audience", "modules", "segments", "tags")
SCALAR_FIELDS = ("kind", "stage", "lang", "industry")
EVERYONE = "all"


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    stage: str | None = None
    lang: str | None = None
    audience: str | None = None
    modules: str | None = None
    industry: str | None = None
    segments: str | None = None
    kinds: tuple[str, ...] = ()  # allowed kinds, e.g. a channel's scope

    def wanted(self) -> dict[str, list[str]]:
        """Each constrained field with the values that satisfy it (compared without case)."""
        out: dict[str, list[str]] = {}
        for key in (*SCALAR_FIELDS, *LIST_FIELDS):
            value = getattr(self, key, None)
            if value:
                out[key] = [value]
        if self.audience:
            out["audience"] = [self.audience, EVERYONE]  # a document for everyone is for every audience
        if self.kinds:
            out["kind"] = [k for k in self.kinds if not self.kind or k == self.kind] or ["__none__"]
        return out

    def admits(self, meta: DocumentMeta) -> bool:
        for key, values in self.wanted().items():
            allowed = {value.lower() for value in values}
            if not allowed & {str(have).lower() for have in _values(meta, key)}:
                return False
        return True

    def where(self) -> dict[str, Any] | None:
        """The same rule as a Chroma where clause over the chunk metadata `chroma_metadata` writes."""
        clauses: list[dict[str, Any]] = []
        for key, values in self.wanted().items():
            options = [{key: {"$contains": v}} if key in LIST_FIELDS else {key: v} for v in values]
            clauses.append(options[0] if len(options) == 1 else {"$or": options})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _values(meta: DocumentMeta, key: str) -> Iterable[object]:
    value = getattr(meta, key, None)
    if value is None:
        return ()
    return value if isinstance(value, list) else (value,)
