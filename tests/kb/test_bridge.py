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


def test_a_second_process_reads_the_parse_from_the_cache(parses: list[str], tmp_path: Path) -> None:
    first = bridge.dictionaries(tmp_path)
    assert parses == ["cedict", "english"] and len(list(tmp_path.glob("dictionaries-*.json"))) == 1
    bridge._PARSED.clear()  # as a new process starts
    second = bridge.dictionaries(tmp_path)
    assert parses == ["cedict", "english"]  # not parsed again
    assert second == first == bridge.Dictionaries(CEDICT, ENGLISH)
    assert not list(tmp_path.glob("*.partial"))


def test_a_damaged_cache_is_parsed_again_and_rewritten(parses: list[str], tmp_path: Path) -> None:
    bridge.dictionaries(tmp_path)
    [cached] = tmp_path.glob("dictionaries-*.json")
    cached.write_text('{"cedict": [', encoding="utf-8")
    bridge._PARSED.clear()
    assert bridge.dictionaries(tmp_path) == bridge.Dictionaries(CEDICT, ENGLISH)
    assert parses == ["cedict", "english"] * 2
    assert cached.read_text(encoding="utf-8").startswith('{"cedict": [[')


def test_new_package_versions_are_parsed_anew(
    parses: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bridge.dictionaries(tmp_path)
    monkeypatch.setattr(bridge, "DICTIONARY_PACKAGES", (*bridge.DICTIONARY_PACKAGES, "pyyaml"))
    bridge.dictionaries(tmp_path)
    assert parses == ["cedict", "english"] * 2 and len(list(tmp_path.glob("dictionaries-*.json"))) == 2
