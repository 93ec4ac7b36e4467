"""Glossary suggestions from knowledge gaps: a word users ask with that no source uses, paired with
the closest document's own term for it, as a `glossary.yaml` line for the document's owner to
accept or not. This is how a paraphrase gap (涮锅 for 火锅) is closed by the people who own the
words, not by a rule in the code."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import yaml

from bot.kb.encoders import EmbedQueries
from bot.kb.lexical import EN_STOPWORDS, ZH_STOPWORDS, is_han, segmenter
from bot.records import Shown
from bot.report.gaps import as_typed
from bot.report.model import GlossarySuggestion

# A users' word and a document's term this close, averaged over the models, name one thing often
# enough for an owner to look; below it the nearest term is only a neighbour.
SAME_TERM = 0.85
TERMS_PER_DOCUMENT = 400
_WORD = re.compile(r"[A-Za-z][A-Za-z-]{2,}|[\u4e00-\u9fff]+")


def document_terms(text: str, limit: int = TERMS_PER_DOCUMENT) -> list[str]:
    """A document's own words and two-word English phrases, the most frequent first."""
    counts: Counter[str] = Counter()
    for piece in _WORD.findall(text):
        if is_han(piece):
            counts.update(w for w in segmenter().lcut(piece) if len(w) >= 2 and w not in ZH_STOPWORDS)
        elif piece.lower() not in EN_STOPWORDS:
            counts[piece.lower()] += 1
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]+", text)]
    counts.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False) if not {a, b} & EN_STOPWORDS)
    return [term for term, _ in counts.most_common(limit)]


class DocumentTerms:
    """Each document's terms, embedded once per report however many gaps came closest to it."""

    def __init__(self, bodies: Mapping[str, str], models: Sequence[str], embed: EmbedQueries) -> None:
        self.bodies, self.models, self.embed = bodies, models, embed
        self._embedded: dict[str, tuple[list[str], list[np.ndarray]]] = {}

    def nearest(self, asked: Sequence[str], doc_id: str) -> list[tuple[str, float]]:
        """Each asked word's nearest term in the document, with their similarity averaged over the models."""
        if doc_id not in self._embedded:
            terms = document_terms(self.bodies[doc_id])
            self._embedded[doc_id] = (terms, [np.asarray(self.embed(m, terms)) for m in self.models])
        terms, vectors = self._embedded[doc_id]
        asked_vectors = [np.asarray(self.embed(m, list(asked))) for m in self.models]
        similarity = np.mean([a @ v.T for a, v in zip(asked_vectors, vectors, strict=True)], axis=0)
        for row, word in enumerate(asked):  # the word itself is no suggestion
            similarity[row, [i for i, term in enumerate(terms) if term == word.lower()]] = -1.0
        best = similarity.argmax(axis=1)
        return [(terms[j], float(similarity[i, j])) for i, j in enumerate(best)]


def suggest(gaps: Sequence[Shown], space: DocumentTerms, *, threshold: float = SAME_TERM) -> list[GlossarySuggestion]:
    """For each gap's words that no source used, its own closest document's nearest term; a pair
    found for several gaps counts them all."""
    found: dict[tuple[str, str], GlossarySuggestion] = {}
    for gap in gaps:
        words = [w for w in gap.uncovered if gap.question and as_typed(w, [gap.question])]
        doc = gap.cited[0].doc_id if gap.cited else None
        if not words or doc is None or doc not in space.bodies:
            continue
        for asked, (term, score) in zip(words, space.nearest(words, doc), strict=True):
            # A term holding the other is another word built on it (加盟费, 加盟), not a synonym.
            related = asked.casefold() in term.casefold() or term.casefold() in asked.casefold()
            if score < threshold or related:
                continue
            seen = found.get((asked, term))
            count = seen.questions + 1 if seen else 1
            found[(asked, term)] = GlossarySuggestion(
                asked, term, doc, round(max(score, seen.similarity if seen else 0), 3), count
            )
    return sorted(found.values(), key=lambda s: (-s.questions, -s.similarity))


def with_suggestions(text: str, suggestions: Sequence[GlossarySuggestion]) -> str:
    """The glossary file's text with each suggestion in it: the users' word joins the line of the
    group that holds the source term, or starts a new line. Comments and the other lines stay as written."""
    lines = text.splitlines()
    for suggestion in suggestions:
        at = _group_line(lines, suggestion.source)
        if at is None:
            lines.append(f"- [{_term(suggestion.asked)}, {_term(suggestion.source)}]")
            continue
        group = yaml.safe_load(lines[at])[0]
        if suggestion.asked.casefold() not in {str(term).casefold() for term in group}:
            lines[at] = "- [" + ", ".join(_term(str(term)) for term in [*group, suggestion.asked]) + "]"
    return "\n".join(lines) + "\n"


def _group_line(lines: Sequence[str], term: str) -> int | None:
    for number, line in enumerate(lines):
        if not line.lstrip().startswith("- ["):
            continue
        group = yaml.safe_load(line)
        if isinstance(group, list) and group and any(str(t).casefold() == term.casefold() for t in group[0]):
            return number
    return None


def _term(term: str) -> str:
    """A term as a YAML flow item: quoted only when YAML would read it otherwise."""
    plain = yaml.safe_load(f"[{term}]")
    return term if plain == [term] else json.dumps(term, ensure_ascii=False)
