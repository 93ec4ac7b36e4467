"""The guard between a generated answer and the user: every sentence cites,
every citation points into the retrieved set, and every number a sentence
states appears in a source that sentence cites."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.answers.quantify import numbers_in

_CITATION = re.compile(r"\[(\d+)\]")
_LEADING_CITATIONS = re.compile(r"^\s*((?:\[\d+\]\s*)+)")
# Sentence ends: Chinese full stops, ! and ?, or a full stop before a capital, a
# Chinese character or a citation ("e.g. 8 minutes" is not a sentence end).
_SENTENCE = re.compile(r"(?<=[。！？!?])|(?<=\.)\s+(?=[A-Z\[\u4e00-\u9fff])")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass
class GuardResult:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        for piece in _SENTENCE.split(_BULLET.sub("", line)):
            piece = (piece or "").strip()
            # Citations written after the full stop ("…百分点。[1]") belong to the sentence before.
            leading = _LEADING_CITATIONS.match(piece)
            if leading and out:
                out[-1] = f"{out[-1]} {leading.group(1).strip()}"
                piece = piece[leading.end() :].strip()
            if piece:
                out.append(piece)
    return out


def check(text: str, passages: Mapping[int, str]) -> GuardResult:
    """`passages` maps each citation number the model was given to the passage text."""
    result = GuardResult()
    if not text.strip():
        result.problems.append("the answer is empty")
    for sentence in sentences(text):
        cited = [int(n) for n in _CITATION.findall(sentence)]
        if not cited:
            result.problems.append(f"uncited sentence: {sentence!r}")
            continue
        unknown = [n for n in cited if n not in passages]
        if unknown:
            result.problems.append(f"citation outside the retrieved sources {unknown}: {sentence!r}")
            continue
        evidence = set().union(*(numbers_in(passages[n]) for n in cited))
        missing = sorted(numbers_in(_CITATION.sub(" ", sentence)) - evidence)
        if missing:
            result.problems.append(f"numbers not in the cited sources {missing}: {sentence!r}")
    return result
