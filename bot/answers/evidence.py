"""Is the question answered by what was retrieved?

Decided from evidence, not from one similarity threshold (the top scores of
unanswerable questions sit inside the answerable range): which of the
question's terms, in either language, the best document covers, each weighted
by how specific the term is in general language (so "what", "想", "place"
weigh little and "cruise", "发票", "PDPA" weigh a lot), plus how close the best
passages are in meaning according to a cross-lingual model. The two thresholds
of the policy were calibrated on the eval set, unanswerable questions included.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from wordfreq import zipf_frequency

from bot.kb.lexical import DocTerms, is_han
from bot.kb.search import SearchResult

COMMON_ZIPF = 6.5  # a word this frequent (zipf scale) says nothing about the topic


@lru_cache(maxsize=8192)
def specificity(term: str) -> float:
    """How much a term narrows the topic: 0 for the commonest words, up to 6.5 for unknown ones."""
    return max(0.0, COMMON_ZIPF - zipf_frequency(term, "zh" if is_han(term) else "en"))


@dataclass(frozen=True)
class Evidence:
    coverage: float              # specificity-weighted share of question terms found in the top document
    semantic: float              # best cross-lingual similarity among the top document's passages
    uncovered: tuple[str, ...]   # the question's most specific terms the top document lacks

    @property
    def score(self) -> float:
        return self.coverage + self.semantic


def assess(result: SearchResult, doc_terms: DocTerms, semantic_model: str | None) -> Evidence:
    if not result.docs:
        return Evidence(0.0, 0.0, tuple(forms[0] for forms in result.concepts))
    top = result.docs[0]
    counts = doc_terms.counts.get(top.doc_id, {})
    total = covered = 0.0
    missing: list[tuple[float, str]] = []
    for forms in result.concepts:
        weight = specificity(forms[0])
        total += weight
        if any(form in counts for form in forms):
            covered += weight
        else:
            missing.append((weight, forms[0]))
    semantic = max((hit.raw.get(semantic_model or "", 0.0) for hit in top.chunks[:5]), default=0.0)
    uncovered = tuple(term for _, term in sorted(missing, reverse=True)[:5])
    return Evidence(covered / total if total else 1.0, max(0.0, semantic), uncovered)


@dataclass(frozen=True)
class AbstentionPolicy:
    """Answer when coverage + semantic similarity reaches the threshold."""

    threshold: float = 0.73
    floor: float = 0.4     # evidence score mapped to confidence 0
    ceiling: float = 1.3   # evidence score mapped to confidence 1

    def answerable(self, evidence: Evidence) -> bool:
        return evidence.score >= self.threshold

    def confidence(self, evidence: Evidence) -> float:
        return max(0.0, min(1.0, (evidence.score - self.floor) / (self.ceiling - self.floor)))
