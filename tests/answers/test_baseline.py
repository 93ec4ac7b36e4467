"""The baseline of unrelated questions: the file's checks, the arithmetic, the cache, and what
it does on the real sample index."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.answers.baseline import BaselineError, cached_baseline, measure, read_unrelated
from bot.answers.engine import Engine
from bot.answers.evidence import Baseline, Evidence
from bot.kb.encoders import QueryEncoder
from bot.settings import Settings

TODAY = dt.date(2026, 11, 25)


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "unrelated.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"en": ["a?", "b?"], "zh": ["甲？"]}, "zh: at least two unrelated questions"),
        ({"en": ["a?", "b?"]}, "zh: at least two unrelated questions"),
        ({"en": "a single string"}, "en: Input should be a valid list"),
    ],
)
def test_a_file_that_cannot_measure_a_spread_is_refused(tmp_path: Path, data: object, message: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(BaselineError, match=message) as raised:
        read_unrelated(path)
    assert str(raised.value).startswith(f"{path}: ")


def evidence(meaning: float, words: float) -> Evidence:
    return Evidence(coverage=words, unknown=0.0, semantic=meaning, passage=0.0, uncovered=())


def test_the_baseline_is_the_mean_and_spread_of_each_relevance() -> None:
    given = {"q1": evidence(0.2, 0.0), "q2": evidence(0.4, 0.5), "q3": evidence(0.6, 1.0)}
    baseline = measure(list(given), given.__getitem__)
    assert baseline.means == pytest.approx((0.4, 0.5))
    assert baseline.spreads == pytest.approx(((0.08 / 3) ** 0.5, (0.5 / 3) ** 0.5))


def test_a_baseline_is_measured_once_per_key_and_then_read(tmp_path: Path) -> None:
    asked: list[str] = []

    def scored(question: str) -> Evidence:
        asked.append(question)
        return evidence(len(question) / 10, 0.1)

    questions = ["a?", "bb?"]

    def measured() -> Baseline:
        return measure(questions, scored)

    first = cached_baseline(questions, measured, key="snap:hybrid:en", cache_dir=tmp_path)
    again = cached_baseline(questions, measured, key="snap:hybrid:en", cache_dir=tmp_path)
    other = cached_baseline(questions, measured, key="snap:dense:en", cache_dir=tmp_path)
    assert first == again == other
    assert asked == ["a?", "bb?", "a?", "bb?"]  # the second key is measured, the repeat is read


@pytest.mark.parametrize(
    "question",
    [
        "which bus goes to the stadium on match days?",
        "my sourdough starter smells odd, normal?",
        "帮我查一下明天去成都的高铁",
        "猫咪不爱喝水怎么办",
    ],
)
def test_questions_about_nothing_in_the_sources_are_declined(engine: Engine, question: str) -> None:
    answer = engine.ask(question, today=TODAY, record=False)
    assert answer.status == "declined"
    assert answer.groups == [] and answer.citations == []


def test_baselines_differ_by_language_and_mode(engine: Engine) -> None:
    english, chinese = engine.baseline("hybrid", "en"), engine.baseline("hybrid", "zh")
    assert english != chinese
    assert (
        engine.baseline("lexical", "en").means[0] <= english.means[0] + 1e-9
    )  # no passage similarity without dense voices


class Recording:
    """The session's query encoders, noting every text they embed."""

    def __init__(self, encoder: QueryEncoder, embedded: list[str]) -> None:
        self.encoder, self.embedded = encoder, embedded

    def embed_query(self, text: str) -> Any:
        self.embedded.append(text)
        return self.encoder.embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> Any:
        self.embedded.extend(texts)
        return self.encoder.embed_queries(texts)


def test_a_new_snapshot_searches_the_unrelated_questions_without_embedding_them_again(
    settings: Settings, query_encoders: dict[str, QueryEncoder], tmp_path: Path
) -> None:
    embedded: list[str] = []

    def loader(names: Sequence[str], threads: int) -> dict[str, Any]:
        return {name: Recording(query_encoders[name], embedded) for name in names}

    own = settings.model_copy(update={"cache_dir": tmp_path})
    for examples in settings.cache_path.glob("intent-examples-*"):  # the router's vectors, not under test
        shutil.copy(examples, tmp_path)
    unrelated = read_unrelated(settings.unrelated_questions)["en"]
    measured = Engine(own, embedder_loader=loader).baseline("hybrid", "en")
    assert set(unrelated) <= set(embedded)
    # As on a snapshot no process has measured yet: its baseline is measured, its questions are not embedded.
    for path in tmp_path.glob("baseline-*"):
        path.unlink()
    embedded.clear()
    again = Engine(own, embedder_loader=loader).baseline("hybrid", "en")
    assert again == measured
    assert not set(unrelated) & set(embedded)
