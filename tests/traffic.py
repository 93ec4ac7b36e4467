"""Recorded sample traffic: the golden eval questions and the gap questions asked through the real
engine and put on record as Slack answers, with votes cast on some, for the owners' report, the
digest and their PostgreSQL path."""

from __future__ import annotations

import time

from bot.answers.engine import Engine
from bot.evaluation import load_questions
from bot.records import Asked, Records, elapsed_ms
from bot.settings import PROJECT_ROOT

GAP_QUESTIONS = PROJECT_ROOT / "tests" / "report" / "gap_questions.yaml"


def record_traffic(engine: Engine, records: Records, gaps: dict[str, list[str]]) -> None:
    """Every golden question and gap question once, from four users; an "Outdated" vote on every
    11th answer, a "Not helpful" on every 7th."""
    asked = [q.question for q in load_questions(PROJECT_ROOT / "tests" / "eval")]
    asked += [q for group in gaps.values() for q in group]
    for n, question in enumerate(asked):
        started = time.monotonic()
        answer = engine.ask(question, record=True)
        where = Asked(
            "mention", channel="C0SALES01", thread_ts=f"1712000000.{n:06d}", user=f"U0USER{n % 4}",
            latency_ms=elapsed_ms(started),
        )  # fmt: skip
        answer_id = records.record_answer(answer, where)
        if answer_id is not None and n % 11 == 3:
            records.vote(answer_id, "U0VOTER1", "outdated")
        if answer_id is not None and n % 7 == 5:
            records.vote(answer_id, "U0VOTER2", "not_helpful")
