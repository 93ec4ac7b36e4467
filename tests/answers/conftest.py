"""Helpers for the answering tests: the parsed sample corpus (ground truth read
straight from the source files) and a recorder for what a chat model is given."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

import bot.answers.generate as generate_module
from bot.answers.generate import Passage
from bot.kb.sources import SourceDocument, load_corpus
from bot.settings import PROJECT_ROOT

SOURCES = [PROJECT_ROOT / "playbooks", PROJECT_ROOT / "knowledge"]
# Same fixed day as tests/conftest.py: staleness never depends on the calendar.
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def corpus() -> dict[str, SourceDocument]:
    """Every sample document, parsed from its file (independently of any index)."""
    parsed = load_corpus(SOURCES)
    assert not parsed.rejections, [str(r) for r in parsed.rejections]
    return {doc.id: doc for doc in parsed.documents}


@pytest.fixture
def passages_seen(monkeypatch: pytest.MonkeyPatch) -> list[list[Passage]]:
    """Each call's numbered passages, as the real build_messages receives them."""
    seen: list[list[Passage]] = []
    real = generate_module.build_messages

    def recording(question: str, passages: Sequence[Passage], lang: str) -> Any:
        seen.append(list(passages))
        return real(question, passages, lang)

    monkeypatch.setattr(generate_module, "build_messages", recording)
    return seen
