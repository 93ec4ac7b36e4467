"""The weekly digest: the report cut per owner, for a direct message each, from the documents'
`owner_slack`; owners without one are in the channel summary only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.answers.catalog import StaleDocument
from bot.kb.schema import DocumentMeta
from bot.report.model import DocumentVotes, GapGroup, Report


@dataclass(frozen=True)
class OwnerDigest:
    owner: str
    slack_id: str
    lang: str  # the language most of their documents are written in
    gaps: tuple[GapGroup, ...]
    votes: tuple[DocumentVotes, ...]
    stale: tuple[StaleDocument, ...]

    @property
    def empty(self) -> bool:
        return not (self.gaps or self.votes or self.stale)


def owners_in_slack(metas: Iterable[DocumentMeta]) -> dict[str, tuple[str, str]]:
    """Owner -> (Slack id, language), for every owner a document names in Slack."""
    ids: dict[str, str] = {}
    langs: dict[str, Counter[str]] = {}
    for meta in metas:
        if meta.owner_slack:
            ids.setdefault(meta.owner, meta.owner_slack)
        langs.setdefault(meta.owner, Counter())[meta.lang] += 1
    return {owner: (slack_id, langs[owner].most_common(1)[0][0]) for owner, slack_id in ids.items()}


def owner_digests(report: Report, owners: Mapping[str, tuple[str, str]]) -> list[OwnerDigest]:
    """One digest per owner reachable in Slack with anything to read; the others get none."""
    digests = [
        OwnerDigest(
            owner, slack_id, lang,
            gaps=tuple(g for g in report.gaps if g.owner == owner),
            votes=tuple(v for v in report.votes if v.owner == owner),
            stale=tuple(d for d in report.stale if d.owner == owner),
        )
        for owner, (slack_id, lang) in sorted(owners.items())
    ]  # fmt: skip
    return [digest for digest in digests if not digest.empty]
