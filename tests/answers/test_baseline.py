"""The baseline of unrelated questions: the file's checks, the arithmetic, the cache, and what
it does on the real sample index."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.answers.baseline import BaselineError, cached_baseline, measure, read_unrelated
from bot.answers.engine import Engine
from bot.answers.evidence import Evidence

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

    first = cached_baseline(["a?", "bb?"], scored, key="snap:hybrid:en", cache_dir=tmp_path)
    again = cached_baseline(["a?", "bb?"], scored, key="snap:hybrid:en", cache_dir=tmp_path)
    other = cached_baseline(["a?", "bb?"], scored, key="snap:dense:en", cache_dir=tmp_path)
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
