"""Is the question answered by what was retrieved?

Decided from evidence, not from one similarity threshold (the top scores of
unanswerable questions sit inside the answerable range): which of the
question's terms, in either language, the best document covers, each weighted
by how specific the term is in general language (so "what", "想", "place"
weigh little and "cruise", "发票", "PDPA" weigh a lot); how much of the
question rests on terms the corpus never uses at all; and how close the best
sentence of that document is in meaning (a cross-lingual model); and how much
of the question names what the document is about (its title, customer,
segments, modules, tags: the overview), since a question that names a
document's subject is asked about that document even when it paraphrases the
rest. Words that only ask for a shape of answer ("pitch", "proof", "案例")
are left out: the routing has used them, and no source needs to contain them;
so is a figure the top document does not state ("a 3000-member club"): the
asker's own, where a figure the document states counts like any word.
The policy's weights and threshold were calibrated on the eval set,
unanswerable questions included.

The unknown share is discounted in a corpus with a small vocabulary: absence
from a few documents says less than absence from many. On random subsets of
the eval corpora (6 to 18 documents), answerable questions rested more and
more on words the smaller corpus lacked (a mean unknown share of 0.10 at 3,900
words of vocabulary, 0.18 at 1,500, 0.32 at 1,100), so a fixed penalty made
small knowledge bases refuse paraphrased questions they could answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answers.model import Status
from bot.kb.lexical import DocTerms, concept_weights, is_han
from bot.kb.search import SearchResult

ANCHOR_WEIGHT = 0.6  # calibrated on the eval set with the policy threshold below
# The vocabulary size (distinct terms) at and above which the unknown share counts in full;
# below it, in proportion. Just under the eval corpus's 3,904, where the penalty was calibrated.
REFERENCE_VOCABULARY = 3500
# Bump when what `Evidence.relevance` measures changes: cached baselines are then measured again.
RELEVANCE_VERSION = "8"
MIN_SPREAD = 0.02  # a corpus whose unrelated questions all score alike still has some spread
HYPHENATED = re.compile(r"[-_/]")  # how the tokenizer's kept compounds join their parts


def content_weights(
    concepts: Sequence[Sequence[str]], doc_terms: DocTerms, framing: frozenset[str] = frozenset()
) -> list[float]:
    """The weights for judging a source's words (answerability, quoting): a word that frames the
    question or only asks for a shape of answer (`framing`: "tomorrow", "my boss", "pitch", "案例")
    weighs nothing. No source needs to say "pitch" to hold one. Retrieval keeps them: there they
    still rank better."""
    weights = concept_weights(concepts, doc_terms)
    terms = {forms[0] for forms in concepts}
    return [
        0.0 if forms[0] in framing or _repeats_its_parts(forms, terms, doc_terms) else weight
        for forms, weight in zip(concepts, weights)
    ]


def _repeats_its_parts(forms: Sequence[str], terms: set[str], doc_terms: DocTerms) -> bool:
    """A compound the corpus never uses, made of the question's other terms.

    jieba's search mode yields "数据完整性" beside "数据" and "完整性", and the tokenizer keeps
    "scan-to-pickup" beside "scan" and "pickup": the parts already count, so counting the whole
    as well would call the question half unknown for saying the same thing twice."""
    word = forms[0]
    if any(doc_terms.df.get(form) for form in forms):
        return False
    if not is_han(word):
        parts = [part for part in HYPHENATED.split(word) if len(part) > 2]
        return len(parts) > 1 and all(part in terms for part in parts)
    return any(word.startswith(head) and word[len(head) :] in terms for head in terms if 2 <= len(head) < len(word) - 1)


@dataclass(frozen=True)
class Evidence:
    coverage: float  # specificity-weighted share of question terms found in the top document
    unknown: float  # specificity-weighted share of question terms found nowhere in the corpus,
    # discounted for a small vocabulary
    semantic: float  # best similarity of a sentence of the top document to the question
    passage: float  # best passage similarity of the top document, summed over the dense models
    uncovered: tuple[str, ...]  # the question's most specific terms the top document lacks
    anchored: float = 0.0  # specificity-weighted share of question terms naming the top document's subject
    unstated: bool = False  # the question asks for something (a price) the top document states nowhere

    @property
    def relevance(self) -> tuple[float, float]:
        """How much the top document is about the question: in meaning (its best sentence and passage
        similarity) and in words (the weighted share of the question's terms it holds, less the
        share no source uses). A question in the other language than its answer is often close in
        words (through the dictionaries) but not in meaning; a paraphrase the other way round."""
        return self.semantic + self.passage, self.coverage - self.unknown

    @property
    def score(self) -> float:
        # Naming a document's subject vouches for a question only as far as the rest of it is
        # in the corpus's vocabulary: "Acme's <something we never write about>" stays unanswered.
        anchor = ANCHOR_WEIGHT * self.anchored * (1.0 - self.unknown)
        return self.coverage + self.semantic + self.passage - self.unknown + anchor


def assess(
    result: SearchResult,
    doc_terms: DocTerms,
    semantic: float,
    dense_models: Sequence[str],
    subject_terms: frozenset[str] = frozenset(),
    framing: frozenset[str] = frozenset(),
    unstated: bool = False,
) -> Evidence:
    """`subject_terms`: the tokens of the top document's overview (what the document is about);
    `framing`: the question's words that say nothing about what it is about; `unstated`: the top
    document does not state what the question asks for (a price), whatever else it covers."""
    if not result.docs:
        return Evidence(0.0, 1.0, 0.0, 0.0, tuple(forms[0] for forms in result.concepts))
    hits = result.docs[0].chunks
    passage = sum(max((max(0.0, hit.raw.get(model, 0.0)) for hit in hits), default=0.0) for model in dense_models)
    counts = doc_terms.terms_of(result.docs[0].doc_id)
    total = covered = unknown = anchored = 0.0
    missing: list[tuple[float, str]] = []
    for forms, weight in zip(result.concepts, content_weights(result.concepts, doc_terms, framing)):
        found = any(form in counts for form in forms)
        # Says nothing about the topic, or is a figure of the asker's own ("3000 members"): neither found nor missing.
        if not weight or (forms[0].isdigit() and not found):
            continue
        total += weight
        if subject_terms.intersection(forms):
            anchored += weight
        if found:
            covered += weight
            continue
        missing.append((weight, forms[0]))
        if not any(doc_terms.df.get(form) for form in forms):
            unknown += weight
    uncovered = tuple(term for _, term in sorted(missing, reverse=True)[:5])
    if not total:
        return Evidence(1.0, 0.0, max(0.0, semantic), passage, uncovered, unstated=unstated)
    unknown *= min(1.0, len(doc_terms.df) / REFERENCE_VOCABULARY)
    return Evidence(
        covered / total, unknown / total, max(0.0, semantic), passage, uncovered, anchored / total, unstated
    )


@dataclass(frozen=True)
class Baseline:
    """What unrelated questions score on this index: the mean and spread of their relevance, in
    meaning and in words. A question is about something the sources cover when its own relevance
    stands well above theirs on either, whatever the corpus, its languages or its size."""

    means: tuple[float, float]
    spreads: tuple[float, float]

    def margins(self, evidence: Evidence) -> tuple[float, float]:
        """How many spreads the question's relevance stands above the unrelated questions', in meaning and in words."""
        meaning, words = (
            (value - mean) / max(spread, MIN_SPREAD)
            for value, mean, spread in zip(evidence.relevance, self.means, self.spreads)
        )
        return meaning, words


@dataclass(frozen=True)
class AnswerPolicy:
    """Three outcomes. `answered` when coverage + sentence and passage similarity − unknown share
    + the weighted subject share reaches the threshold (calibrated on the eval set) and the
    sources are about the question, or when a document is far closer in meaning to it than to
    any unrelated question; `closest` when the sources are about it but do not state what it
    asks; `declined` when nothing is about it."""

    threshold: float = 1.25
    # Margins over unrelated questions: an answer needs its sources to stand out from what they
    # retrieve; showing the closest passages without an answer needs them to stand out clearly.
    answer_margin: float = 1.0
    closest_margin: float = 2.0
    # A question this much closer in meaning to a document than any unrelated question is asks what
    # the document says, in other words than its own (a paraphrase, a colloquial turn).
    paraphrase_margin: float = 4.0
    floor: float = 0.7  # evidence score mapped to confidence 0
    ceiling: float = 2.0  # evidence score mapped to confidence 1

    def status(self, evidence: Evidence, baseline: Baseline) -> Status:
        meaning, words = baseline.margins(evidence)
        margin = max(meaning, words)
        stated = not evidence.unstated
        if stated and (
            (evidence.score >= self.threshold and margin >= self.answer_margin) or meaning >= self.paraphrase_margin
        ):
            return "answered"
        return "closest" if margin >= self.closest_margin else "declined"

    def checklist_status(self, evidence: Evidence, baseline: Baseline, *, named: bool) -> Status:
        """A checklist is a stage's list, whole or not at all. Naming the stage is evidence enough;
        otherwise the guide retrieval found must be clearly about the question."""
        return "answered" if named or max(baseline.margins(evidence)) >= self.closest_margin else "declined"

    def confidence(self, evidence: Evidence) -> float:
        return max(0.0, min(1.0, (evidence.score - self.floor) / (self.ceiling - self.floor)))
