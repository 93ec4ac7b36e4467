"""`python -m bot chat`: the terminal chat on the real engine, fed lines as a user types them."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

import bot.answers.engine as engine_module
from bot.answers.engine import Engine
from bot.chat import run_chat
from bot.kb.sources import SourceDocument

UNANSWERABLE = "我们的 SaaS 服务可用性 SLA 是多少？宕机了怎么赔偿？"


def chat(engine: Engine, lines: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run the chat on typed lines; (exit code, what the terminal showed, as plain text)."""
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    screen = io.StringIO()
    code = run_chat(engine, Console(file=screen, width=400, color_system=None, highlight=False))
    return code, screen.getvalue()


def collapsed(text: str) -> str:
    """The screen without panel borders and wrapping, so quoted lines can be found whole."""
    return re.sub(r"\s+", " ", re.sub(r"[│╭╮╰╯─]", " ", text))


def test_chat_answers_each_question_records_gaps_and_stops_at_quit(
    recording_engine: Engine, corpus: dict[str, SourceDocument], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, screen = chat(
        recording_engine,
        ["Give me the go-live checklist", "", UNANSWERABLE, "/quit", "Give me the training checklist"],
        monkeypatch,
    )
    assert code == 0
    shown = collapsed(screen)
    for item in corpus["sg-go-live"].checklist:
        assert collapsed(item.text) in shown
    assert "checklist · confidence" in shown
    assert "I don't know from our sources" in shown
    gaps = recording_engine.records.gaps() if recording_engine.records else []
    assert [(g["question"], g["surface"]) for g in gaps] == [(UNANSWERABLE, "chat")]
    # Nothing after /quit is answered.
    assert not any(collapsed(item.text) in shown for item in corpus["sg-training"].checklist)


def test_chat_ends_cleanly_at_end_of_input(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    code, screen = chat(engine, [], monkeypatch)
    assert code == 0
    assert "Type /quit to leave" in screen


def test_warm_up_records_nothing(recording_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Even a warm-up question the sources cannot answer is no knowledge gap.
    monkeypatch.setattr(engine_module, "WARM_UP_QUESTIONS", (UNANSWERABLE, *engine_module.WARM_UP_QUESTIONS))
    recording_engine.warm_up()
    assert recording_engine.records is not None and recording_engine.records.gaps() == []
