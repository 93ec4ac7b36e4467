"""What unrelated questions score on an index, measured once per snapshot, retrieval mode and
question language, and cached: the yardstick for "the sources are about this question". A
question in the other language than most of the corpus is less similar to everything; it is
measured against unrelated questions in its own language."""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import RootModel

from bot.answers.evidence import RELEVANCE_VERSION, Baseline, Evidence
from bot.files import write_whole
from bot.kb.search import LANGS
from bot.kb.yamlfile import read_model

log = logging.getLogger(__name__)


class _Questions(RootModel[dict[str, list[str]]]):
    pass


class BaselineError(ValueError):
    """The file of unrelated questions cannot be used; the message names it and says why."""


def read_unrelated(path: Path) -> dict[str, list[str]]:
    """The questions of a YAML file of `language: [questions]`, for each language a question can be in."""
    data = read_model(path, _Questions, BaselineError, "the unrelated questions").root
    questions = {lang: [q.strip() for q in data.get(lang, []) if q.strip()] for lang in LANGS}
    for lang, found in questions.items():
        if len(found) < 2:
            raise BaselineError(f"{path}: {lang}: at least two unrelated questions are needed to measure a spread")
    return questions


def measure(questions: Sequence[str], evidence: Callable[[str], Evidence]) -> Baseline:
    columns = list(zip(*(evidence(question).relevance for question in questions)))
    means = tuple(statistics.fmean(column) for column in columns)
    spreads = tuple(statistics.pstdev(column) for column in columns)
    return Baseline(means, spreads)  # type: ignore[arg-type]


def cached_baseline(
    questions: Sequence[str], measured: Callable[[], Baseline], *, key: str, cache_dir: Path
) -> Baseline:
    """The baseline for `key` (a snapshot, a mode) and these questions: `measured()` on first use."""
    digest = hashlib.sha256("\n".join([RELEVANCE_VERSION, key, *questions]).encode()).hexdigest()[:16]
    path = cache_dir / f"baseline-{digest}.json"
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return Baseline(tuple(stored["means"]), tuple(stored["spreads"]))
    baseline = measured()
    stored = json.dumps({"means": baseline.means, "spreads": baseline.spreads})
    write_whole(path, lambda partial: partial.write_text(stored, encoding="utf-8"))
    log.info("measured %d unrelated questions on %s: %s", len(questions), key, baseline)
    return baseline
