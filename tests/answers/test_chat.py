"""`python -m bot chat`: the terminal chat on the real engine, fed lines as a user types them."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from bot.answers.engine import Engine
from bot.chat import run_chat
from bot.kb.sources import SourceDocument
from bot.records import Records

UNANSWERABLE = "我们的 SaaS 服务可用性 SLA 是多少？宕机了怎么赔偿？"


def chat(engine: Engine, records: Records, lines: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run the chat on typed lines; (exit code, what the terminal showed, as plain text)."""
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    screen = io.StringIO()
    code = run_chat(engine, records, Console(file=screen, width=400, color_system=None, highlight=False))
    return code, screen.getvalue()


def collapsed(text: str) -> str:
    """The screen without panel borders and wrapping, so quoted lines can be found whole."""
    return re.sub(r"\s+", " ", re.sub(r"[│╭╮╰╯─]", " ", text))


def test_chat_answers_each_question_puts_them_on_record_and_stops_at_quit(
    engine: Engine, records: Records, corpus: dict[str, SourceDocument], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, screen = chat(
        engine,
        records,
        ["Give me the go-live checklist", "", UNANSWERABLE, "/quit", "Give me the training checklist"],
        monkeypatch,
    )
    assert code == 0
    shown = collapsed(screen)
    for item in corpus["sg-go-live"].checklist:
        assert collapsed(item.text) in shown
    assert "checklist · confidence" in shown
    assert "I don't know from our sources" in shown
    shown = records.answers()
    assert [(a.question, a.surface, a.status) for a in shown] == [
        (UNANSWERABLE, "chat", "declined"),
        ("Give me the go-live checklist", "chat", "answered"),
    ]
    assert all(a.latency_ms is not None and a.latency_ms >= 0 for a in shown)
    assert {c.doc_id for c in shown[1].cited} == {"sg-go-live"}
    # Nothing after /quit is answered.
    assert not any(collapsed(item.text) in shown for item in corpus["sg-training"].checklist)


def test_chat_ends_cleanly_at_end_of_input(engine: Engine, records: Records, monkeypatch: pytest.MonkeyPatch) -> None:
    code, screen = chat(engine, records, [], monkeypatch)
    assert code == 0
    assert "Type /quit to leave" in screen
