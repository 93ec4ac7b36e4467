"""The parsed dictionaries behind the bridge: parsed once per package versions, kept in the cache
directory between processes, and parsed again when the cache is missing or damaged."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb import bridge

CEDICT = [("食材", 0, ["ingredient"])]
ENGLISH = [("food cost", "food cost", 0, "食材成本", ["食材", "成本"])]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts parses of stand-in dictionaries, in a process that has parsed nothing yet."""
    calls: list[str] = []
    monkeypatch.setattr(bridge, "_PARSED", {})
    monkeypatch.setattr(bridge, "_cedict_pairs", lambda: calls.append("cedict") or iter(CEDICT))
    monkeypatch.setattr(bridge, "_english_chinese_pairs", lambda: calls.append("english") or iter(ENGLISH))
    return calls


ZH, EN = {"食材", "成本"}, {"ingredient", "food cost"}


def options(dictionaries: bridge.Dictionaries) -> tuple[bridge.Options, bridge.Options]:
    """(English word → Chinese corpus words, Chinese word → English corpus words)."""
    sides = (dictionaries.options("zh", ZH), dictionaries.options("en", EN))
    return tuple({key: sorted(found) for key, found in side.items()} for side in sides)


def test_a_second_process_reads_the_parse_from_the_cache(parses: list[str], tmp_path: Path) -> None:
    first = options(bridge.dictionaries(tmp_path))
    assert parses == ["cedict", "english"] and len(list(tmp_path.glob("dictionaries-*.sqlite3"))) == 1
    bridge._PARSED.clear()  # as a new process starts
    second = options(bridge.dictionaries(tmp_path))
    assert parses == ["cedict", "english"]  # not parsed again
    assert second == first
    assert not list(tmp_path.glob("*.partial"))


def test_translations_are_the_corpus_words_closest_first(parses: list[str]) -> None:
    en_to_zh, zh_to_en = options(bridge.dictionaries())
    # 食材 glosses as "ingredient" (first sense, one word); "food cost" translates as 食材成本, which the
    # corpus does not use as it is, so as its first word the corpus uses.
    assert en_to_zh == {"ingredient": [(1, "食材")], "food cost": [(1, "食材")]}
    assert zh_to_en == {"食材": [(1, "ingredient")], "食材成本": [(1, "food cost")]}


def test_a_damaged_cache_is_parsed_again_and_rewritten(parses: list[str], tmp_path: Path) -> None:
    expected = options(bridge.dictionaries(tmp_path))
    [cached] = tmp_path.glob("dictionaries-*.sqlite3")
    cached.write_bytes(cached.read_bytes()[:100])
    bridge._PARSED.clear()
    assert options(bridge.dictionaries(tmp_path)) == expected
    assert parses == ["cedict", "english"] * 2


def test_new_package_versions_are_parsed_anew(
    parses: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bridge.dictionaries(tmp_path)
    monkeypatch.setattr(bridge, "DICTIONARY_PACKAGES", (*bridge.DICTIONARY_PACKAGES, "pyyaml"))
    bridge.dictionaries(tmp_path)
    assert parses == ["cedict", "english"] * 2 and len(list(tmp_path.glob("dictionaries-*.sqlite3"))) == 2


@pytest.mark.parametrize(("word", "base"), [("reconciling", "reconcile"), ("thrown", "throw"), ("sold", "sell")])
def test_an_inflected_word_is_translated_as_its_base_form(word: str, base: str) -> None:
    translated = bridge.Bridge({base: ["中文"]}, {})
    assert translated.translations(word) == ["中文"]
    assert bridge.Bridge({}, {}).translations(word) == []
