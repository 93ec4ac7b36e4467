"""The eval harness: retrieval, abstention, number fidelity, checklist exactness
and latency for lexical-only, dense-only and hybrid retrieval, in one run."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, TypeAdapter

from bot.answers.engine import Engine
from bot.kb.search import MODES, Mode

DEFAULT_QUESTIONS = Path("tests/eval")
ANSWERABLE_TYPES = ("same_lang", "cross_lingual", "paraphrase")


class EvalQuestion(BaseModel):
    id: str
    question: str
    lang: Literal["zh", "en"]
    type: Literal["same_lang", "cross_lingual", "paraphrase", "unanswerable"]
    intent: Literal["checklist", "case", "value", "general"]
    expected_docs: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(default_factory=list)
    stage: str | None = None

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def load_questions(path: Path) -> list[EvalQuestion]:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    adapter = TypeAdapter(list[EvalQuestion])
    questions: list[EvalQuestion] = []
    for file in files:
        questions.extend(adapter.validate_python(yaml.safe_load(file.read_text(encoding="utf-8")) or []))
    ids = [q.id for q in questions]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate eval question ids: {', '.join(sorted(duplicates))}")
    return questions


@dataclass
class Outcome:
    question: EvalQuestion
    ranking: list[str]
    abstained: bool
    text: str
    seconds: float
    intent: str

    @property
    def rank(self) -> int | None:
        for position, doc_id in enumerate(self.ranking[:10], start=1):
            if doc_id in self.question.expected_docs:
                return position
        return None


@dataclass
class ModeReport:
    mode: str
    outcomes: list[Outcome] = field(default_factory=list)
    checklist_items: dict[str, list[str]] = field(default_factory=dict)

    def _answerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.answerable]

    def recall(self, k: int, kind: str | None = None) -> float:
        pool = [o for o in self._answerable() if kind is None or o.question.type == kind]
        return sum(1 for o in pool if o.rank is not None and o.rank <= k) / len(pool) if pool else 0.0

    def mrr(self, kind: str | None = None) -> float:
        pool = [o for o in self._answerable() if kind is None or o.question.type == kind]
        return sum(1.0 / o.rank for o in pool if o.rank) / len(pool) if pool else 0.0

    def abstention(self) -> tuple[float, float]:
        """(share of unanswerable questions abstained on, share of answerable questions answered)."""
        unanswerable = [o for o in self.outcomes if not o.question.answerable]
        answerable = self._answerable()
        said_no = sum(o.abstained for o in unanswerable) / len(unanswerable) if unanswerable else 1.0
        answered = sum(not o.abstained for o in answerable) / len(answerable) if answerable else 1.0
        return said_no, answered

    def number_fidelity(self) -> tuple[float, int]:
        pool = [o for o in self._answerable() if o.question.numbers]
        ok = sum(1 for o in pool if not o.abstained and all(n in o.text for n in o.question.numbers))
        return (ok / len(pool) if pool else 1.0), len(pool)

    def checklist_exactness(self) -> tuple[float, int]:
        pool = [o for o in self._answerable() if o.question.intent == "checklist"]
        ok = 0
        for outcome in pool:
            expected = [item for doc in outcome.question.expected_docs for item in self.checklist_items.get(doc, [])]
            ok += bool(expected) and _in_order(outcome.text, expected)
        return (ok / len(pool) if pool else 1.0), len(pool)

    def latency_ms(self) -> tuple[float, float]:
        times = sorted(o.seconds * 1000 for o in self.outcomes)
        if not times:
            return 0.0, 0.0
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        return statistics.median(times), p95


def _in_order(text: str, items: Sequence[str]) -> bool:
    """Every item appears verbatim as a checklist line, in the given order."""
    position = 0
    for item in items:
        found = text.find(f"- [ ] {item}\n", position)
        if found < 0 and text.endswith(f"- [ ] {item}"):
            found = len(text) - len(item) - 6
        if found < 0:
            return False
        position = found + len(item)
    return True


def run_eval(engine: Engine, questions: list[EvalQuestion], modes: Sequence[Mode] = MODES, today: dt.date | None = None) -> list[ModeReport]:
    checklists = {
        doc_id: [item["text"] for item in record["checklist"]]
        for doc_id, record in engine.documents.items()
        if record["checklist"]
    }
    engine.warm_up()
    reports = []
    for mode in modes:
        report = ModeReport(mode, checklist_items=checklists)
        for question in questions:
            engine.searcher.clear_cache()  # time every question cold, as a first asking
            started = time.perf_counter()
            answer = engine.ask(question.question, mode=mode, record=False, today=today)
            elapsed = time.perf_counter() - started
            report.outcomes.append(
                Outcome(question, [s.doc_id for s in answer.sources], answer.abstained, answer.text, elapsed, answer.intent)
            )
        reports.append(report)
    return reports


def _share(value: float, pool: int) -> str:
    """A share as printed: "n/a" when no question was there to measure it."""
    return f"{value:.3f}" if pool else "n/a"


def format_table(reports: list[ModeReport], questions: list[EvalQuestion], source: str = "") -> str:
    answerable = sum(q.answerable for q in questions)
    type_counts = {t: sum(q.type == t for q in questions) for t in ANSWERABLE_TYPES}
    header = (
        f"Eval{f' of {source}' if source else ''}: {len(questions)} questions ({answerable} answerable, {len(questions) - answerable} unanswerable; "
        + ", ".join(f"{t} {n}" for t, n in type_counts.items())
        + ")"
    )
    columns = [
        "mode", "R@1", "R@3", "R@5", "MRR@10", "abstain(unans)", "answer(ans)",
        "num.fidelity", "checklist exact", "p50 ms", "p95 ms",
    ]
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for report in reports:
        said_no, answered = report.abstention()
        fidelity, n_numbers = report.number_fidelity()
        exact, n_checklists = report.checklist_exactness()
        p50, p95 = report.latency_ms()
        rows.append(
            "| "
            + " | ".join(
                [
                    report.mode,
                    f"{report.recall(1):.3f}",
                    f"{report.recall(3):.3f}",
                    f"{report.recall(5):.3f}",
                    f"{report.mrr():.3f}",
                    _share(said_no, len(questions) - answerable),
                    _share(answered, answerable),
                    f"{_share(fidelity, n_numbers)} (n={n_numbers})",
                    f"{_share(exact, n_checklists)} (n={n_checklists})",
                    f"{p50:.1f}",
                    f"{p95:.1f}",
                ]
            )
            + " |"
        )
    by_type = [
        "",
        "Recall@3 / MRR@10 by question type:",
        "| mode | " + " | ".join(ANSWERABLE_TYPES) + " |",
        "|" + "---|" * (len(ANSWERABLE_TYPES) + 1),
    ]
    for report in reports:
        cells = [
            f"{report.recall(3, t):.3f} / {report.mrr(t):.3f}" if n else "n/a"
            for t, n in type_counts.items()
        ]
        by_type.append(f"| {report.mode} | " + " | ".join(cells) + " |")
    return "\n".join([header, "", *rows, *by_type])


def failures(report: ModeReport) -> list[str]:
    lines = []
    for o in report.outcomes:
        q = o.question
        problems = []
        if q.answerable and (o.rank is None or o.rank > 3):
            problems.append(f"rank={o.rank}")
        if q.answerable == o.abstained:
            problems.append("abstained" if o.abstained else "answered-unanswerable")
        if q.numbers and not o.abstained:
            missing = [n for n in q.numbers if n not in o.text]
            if missing:
                problems.append(f"missing numbers {missing}")
        if problems:
            lines.append(f"{q.id} [{q.type}/{q.intent}->{o.intent}] {'; '.join(problems)}: {q.question}")
    return lines


def save_report(table: str, reports: list[ModeReport], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table + "\n", encoding="utf-8")
    details = {
        report.mode: [
            {"id": o.question.id, "rank": o.rank, "abstained": o.abstained, "intent": o.intent, "ms": round(o.seconds * 1000, 1)}
            for o in report.outcomes
        ]
        for report in reports
    }
    out.with_suffix(".json").write_text(json.dumps(details, indent=1), encoding="utf-8")
