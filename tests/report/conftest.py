"""Recorded sample traffic for the report's tests: the golden eval questions and the gap questions
asked through the real engine, put on record as Slack answers, with votes cast on some."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from bot.answers.engine import Engine
from bot.evaluation import load_questions
from bot.records import Asked, Records, elapsed_ms, sqlite_url
from bot.report import owned_documents
from bot.report.build import OwnedDocuments, build_report
from bot.report.model import Report
from bot.settings import PROJECT_ROOT

GAP_QUESTIONS = Path(__file__).parent / "gap_questions.yaml"
SOURCES = [PROJECT_ROOT / "playbooks", PROJECT_ROOT / "knowledge"]


@pytest.fixture(scope="session")
def gap_questions() -> dict[str, list[str]]:
    """Questions the sample corpus does not answer, grouped by what they mean."""
    return yaml.safe_load(GAP_QUESTIONS.read_text(encoding="utf-8"))


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


@pytest.fixture(scope="module")
def traffic(engine: Engine, gap_questions: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Records:
    records = Records(sqlite_url(tmp_path_factory.mktemp("traffic")))
    record_traffic(engine, records, gap_questions)
    return records


@pytest.fixture(scope="module")
def documents() -> OwnedDocuments:
    return owned_documents(SOURCES)


@pytest.fixture(scope="module")
def report(traffic: Records, documents: OwnedDocuments, engine: Engine) -> Report:
    index = engine.index
    return build_report(traffic, documents, days=7, models=index.models, embed=index.embed_queries)
