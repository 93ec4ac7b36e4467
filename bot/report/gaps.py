"""Knowledge gaps grouped by meaning: the questions the sources did not answer, embedded with the
index's own models and joined by average-link clustering, so that twelve phrasings of one missing
answer are one line for its owner, whatever language they were asked in."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from bot.kb.encoders import EmbedQueries
from bot.kb.lexical import is_han, segmenter
from bot.records import Shown
from bot.report.model import GapGroup

# Two gap questions are one gap when, on average over the models, they are this close: paraphrases
# of one missing answer, not merely two questions about the same product area.
SAME_GAP = 0.65
EXAMPLES = 3


def question_similarity(questions: Sequence[str], models: Sequence[str], embed: EmbedQueries) -> np.ndarray:
    """Cosine similarity of every pair of questions, averaged over the models (as the router does)."""
    per_model = []
    for model in models:
        rows = np.asarray(embed(model, questions), dtype=np.float32)
        per_model.append(rows @ rows.T)
    return np.mean(per_model, axis=0)


def clusters(similarity: np.ndarray, threshold: float = SAME_GAP) -> list[list[int]]:
    """Average-link clusters whose members are, on average, at least `threshold` similar."""
    count = len(similarity)
    if count < 2:
        return [list(range(count))] if count else []
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    labels = fcluster(linkage(squareform(distance, checks=False), method="average"), 1.0 - threshold, "distance")
    grouped: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        grouped.setdefault(int(label), []).append(position)
    return list(grouped.values())


def group_gaps(
    gaps: Sequence[Shown],
    *,
    models: Sequence[str],
    embed: EmbedQueries,
    titles: Mapping[str, str],
    owners: Mapping[str, str],
) -> list[GapGroup]:
    """The gaps (newest first) in groups, the largest first. Without question text (metadata only),
    the gaps that came closest to the same document are one group."""
    worded = [gap for gap in gaps if gap.question]
    groups = [[worded[i] for i in members] for members in clusters(_similarity(worded, models, embed))]
    unworded: dict[str | None, list[Shown]] = {}
    for gap in (gap for gap in gaps if not gap.question):
        unworded.setdefault(gap.cited[0].doc_id if gap.cited else None, []).append(gap)
    groups += list(unworded.values())
    summaries = [_summary(members, titles, owners) for members in groups]
    return sorted(summaries, key=lambda group: -group.count)


def _similarity(gaps: Sequence[Shown], models: Sequence[str], embed: EmbedQueries) -> np.ndarray:
    if not gaps:
        return np.zeros((0, 0), dtype=np.float32)
    return question_similarity([gap.question or "" for gap in gaps], models, embed)


def as_typed(term: str, questions: Sequence[str]) -> bool:
    """Whether a question holds `term` as a whole word, as its asker typed it: the search's stems
    ("chefo" of ChefOS) and sub-word pieces (务器 of 服务器) are no words to show an owner."""
    if is_han(term):
        return any(term in segmenter().lcut(question) for question in questions)
    word = re.compile(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", re.IGNORECASE)
    return any(word.search(question) for question in questions)


def _summary(members: Sequence[Shown], titles: Mapping[str, str], owners: Mapping[str, str]) -> GapGroup:
    examples = tuple(dict.fromkeys(m.question for m in members if m.question))[:EXAMPLES]
    closest = Counter(m.cited[0].doc_id for m in members if m.cited).most_common(1)
    doc = closest[0][0] if closest else None
    sections = Counter(c.section for m in members for c in m.cited if c.doc_id == doc and c.section).most_common(1)
    questions = [m.question for m in members if m.question]
    uncovered = Counter(term for m in members for term in m.uncovered if as_typed(term, questions))
    return GapGroup(
        count=len(members),
        examples=examples,
        closest_doc=doc,
        closest_title=titles.get(doc) if doc else None,
        closest_section=sections[0][0] if sections else None,
        owner=owners.get(doc) if doc else None,
        uncovered=tuple(term for term, _ in uncovered.most_common(5)),
    )
