"""The eval harness: for each question set and each retrieval mode (lexical-only, dense-only,
hybrid), retrieval recall, what the answers did (answered, closest, declined), whether the right
document was quoted, number fidelity, checklist exactness, routing, small talk, overviews and
latency; and, for hybrid, how far each figure moves when the query vectors are nudged."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, TypeAdapter

from bot.answers.engine import Engine
from bot.answers.model import Answer, Status
from bot.answers.request import Intent
from bot.kb.schema import KINDS, Kind
from bot.kb.search import MODES, Mode

ANSWERABLE_TYPES = ("same_lang", "cross_lingual", "paraphrase")
QuestionType = Literal["same_lang", "cross_lingual", "paraphrase", "unanswerable", "smalltalk", "overview"]
# A nudge to every query vector of this norm (cosine 0.999 to the original): about what a different
# CPU kernel path changes. A decision that flips under it rests on a near-tie.
NOISE = 0.045
NOISY_RUNS = 2


class EvalQuestion(BaseModel):
    id: str
    question: str
    lang: Literal["zh", "en"]
    type: QuestionType
    intent: Intent
    expected_docs: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(default_factory=list)
    stage: str | None = None
    kind: Kind | None = None  # an overview question asking for one kind of document

    @property
    def answerable(self) -> bool:
        return self.type in ANSWERABLE_TYPES


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
    ranking: list[str]  # the sources, best first
    status: Status
    cited: list[str]  # the documents the answer quotes or lists
    text: str
    seconds: float
    intent: str

    @property
    def abstained(self) -> bool:
        return self.status != "answered"

    @property
    def numbers_quoted(self) -> bool:
        """An answer quoting every figure the question expects."""
        return not self.abstained and all(n in self.text for n in self.question.numbers)

    @property
    def rank(self) -> int | None:
        for position, doc_id in enumerate(self.ranking[:10], start=1):
            if doc_id in self.question.expected_docs:
                return position
        return None


def outcome_of(question: EvalQuestion, answer: Answer, seconds: float) -> Outcome:
    cited = list(dict.fromkeys(c.doc_id for c in answer.citations))
    return Outcome(
        question, [s.doc_id for s in answer.sources], answer.status, cited, answer.text, seconds, answer.intent
    )


Share = tuple[float, int]  # (share, how many questions it is a share of)


def share(pool: Sequence[Outcome], passed: Callable[[Outcome], bool]) -> Share:
    return (sum(1 for o in pool if passed(o)) / len(pool) if pool else 0.0), len(pool)


@dataclass
class ModeReport:
    mode: str
    outcomes: list[Outcome] = field(default_factory=list)
    checklist_items: dict[str, list[str]] = field(default_factory=dict)
    catalog: dict[str, list[str]] = field(default_factory=dict)  # document titles per kind

    def answerable(self, kind: str | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.answerable and (kind is None or o.question.type == kind)]

    def of_type(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.type == kind]

    def recall(self, k: int, kind: str | None = None) -> float:
        return share(self.answerable(kind), lambda o: o.rank is not None and o.rank <= k)[0]

    def mrr(self, kind: str | None = None) -> float:
        pool = self.answerable(kind)
        return sum(1.0 / o.rank for o in pool if o.rank) / len(pool) if pool else 0.0

    def statuses(self) -> dict[Status, Share]:
        """How the answerable questions were answered."""
        return {
            status: share(self.answerable(), lambda o, s=status: o.status == s)
            for status in ("answered", "closest", "declined")
        }

    def right_doc_quoted(self) -> Share:
        """Of the answerable questions answered or shown the closest passages, those quoting an expected document."""
        pool = [o for o in self.answerable() if o.status != "declined" and o.question.intent != "checklist"]
        return share(pool, lambda o: bool(set(o.cited) & set(o.question.expected_docs)))

    def abstention(self) -> Share:
        """Unanswerable questions not answered (shown the closest passages, or declined)."""
        return share(self.of_type("unanswerable"), lambda o: o.abstained)

    def number_fidelity(self) -> Share:
        pool = [o for o in self.answerable() if o.question.numbers]
        return share(pool, lambda o: o.numbers_quoted)

    def checklist_exactness(self) -> Share:
        pool = [o for o in self.answerable() if o.question.intent == "checklist"]

        def exact(o: Outcome) -> bool:
            expected = [item for doc in o.question.expected_docs for item in self.checklist_items.get(doc, [])]
            return bool(expected) and _in_order(o.text, expected)

        return share(pool, exact)

    def routing(self) -> Share:
        return share(self.outcomes, lambda o: o.intent == o.question.intent)

    def small_talk(self) -> Share:
        """Small talk gets a reply of its own: no sources, nothing recorded (only abstentions are)."""
        return share(self.of_type("smalltalk"), lambda o: o.intent == "smalltalk" and not o.cited and not o.abstained)

    def overview(self) -> Share:
        """An overview lists every document of the kind asked for (of every kind when none is)."""

        def complete(o: Outcome) -> bool:
            kinds = [o.question.kind] if o.question.kind else list(KINDS)
            titles = [title for kind in kinds for title in self.catalog.get(kind, [])]
            return o.intent == "overview" and all(title in o.text for title in titles)

        return share(self.of_type("overview"), complete)

    def latency_ms(self) -> tuple[float, float]:
        times = sorted(o.seconds * 1000 for o in self.outcomes)
        if not times:
            return 0.0, 0.0
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        return statistics.median(times), p95

    def figures(self) -> list[Share]:
        """The table's share columns, in order."""
        statuses = self.statuses()
        return [
            (self.recall(1), len(self.answerable())),
            (self.recall(3), len(self.answerable())),
            (self.mrr(), len(self.answerable())),
            statuses["answered"],
            statuses["closest"],
            statuses["declined"],
            self.right_doc_quoted(),
            self.abstention(),
            self.number_fidelity(),
            self.checklist_exactness(),
            self.small_talk(),
            self.overview(),
            self.routing(),
        ]


FIGURE_COLUMNS = [
    "R@1",
    "R@3",
    "MRR@10",
    "answered",
    "closest",
    "declined",
    "right doc quoted",
    "abstain(unans)",
    "num.fidelity",
    "checklist exact",
    "small talk",
    "overview",
    "routing",
]
COUNTED = {"right doc quoted", "num.fidelity", "checklist exact", "small talk", "overview"}  # printed with their n


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


def _ask_all(engine: Engine, questions: list[EvalQuestion], mode: Mode, today: dt.date | None) -> list[Outcome]:
    outcomes = []
    for question in questions:
        engine.index.clear_cache()  # time every question cold, as a first asking
        started = time.perf_counter()
        answer = engine.ask(question.question, mode=mode, record=False, today=today)
        outcomes.append(outcome_of(question, answer, time.perf_counter() - started))
    return outcomes


def run_eval(
    engine: Engine,
    questions: list[EvalQuestion],
    modes: Sequence[Mode] = MODES,
    today: dt.date | None = None,
    noisy_runs: int = NOISY_RUNS,
) -> tuple[list[ModeReport], list[ModeReport]]:
    """One report per mode, and the hybrid reports of `noisy_runs` runs with nudged query vectors."""
    documents = engine.index.documents.values()
    checklists = {d.id: [item.text for item in d.checklist] for d in documents if d.checklist}
    catalog = {kind: [d.meta.title for d in documents if d.kind == kind] for kind in KINDS}
    engine.warm_up()

    def report(mode: Mode) -> ModeReport:
        return ModeReport(mode, _ask_all(engine, questions, mode, today), checklists, catalog)

    reports = [report(mode) for mode in modes]
    noisy = []
    for seed in range(noisy_runs):
        engine.index.perturb(NOISE, seed)
        noisy.append(report("hybrid"))
    engine.index.perturb(0.0)
    return reports, noisy


def _cell(column: str, value: Share) -> str:
    shown = f"{value[0]:.3f}" if value[1] else "n/a"
    return f"{shown} (n={value[1]})" if column in COUNTED else shown


def format_table(
    reports: list[ModeReport], questions: list[EvalQuestion], source: str = "", noisy: Sequence[ModeReport] = ()
) -> str:
    counts = {t: sum(q.type == t for q in questions) for t in ("unanswerable", "smalltalk", "overview")}
    answerable = sum(q.answerable for q in questions)
    type_counts = {t: sum(q.type == t for q in questions) for t in ANSWERABLE_TYPES}
    header = (
        f"Eval{f' of {source}' if source else ''}: {len(questions)} questions ({answerable} answerable: "
        + ", ".join(f"{t} {n}" for t, n in type_counts.items())
        + "; "
        + ", ".join(f"{n} {t}" for t, n in counts.items())
        + ")"
    )
    columns = ["mode", *FIGURE_COLUMNS, "p50 ms", "p95 ms"]
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for report in reports:
        p50, p95 = report.latency_ms()
        cells = [_cell(c, v) for c, v in zip(FIGURE_COLUMNS, report.figures())]
        rows.append("| " + " | ".join([report.mode, *cells, f"{p50:.1f}", f"{p95:.1f}"]) + " |")
    hybrid = next((r for r in reports if r.mode == "hybrid"), None)
    if hybrid and noisy:
        rows.append("| " + " | ".join([f"hybrid, {len(noisy)} nudged runs", *_spread([hybrid, *noisy]), "", ""]) + " |")
    by_type = [
        "",
        "Recall@3 / MRR@10 by question type:",
        "| mode | " + " | ".join(ANSWERABLE_TYPES) + " |",
        "|" + "---|" * (len(ANSWERABLE_TYPES) + 1),
    ]
    for report in reports:
        cells = [f"{report.recall(3, t):.3f} / {report.mrr(t):.3f}" if n else "n/a" for t, n in type_counts.items()]
        by_type.append(f"| {report.mode} | " + " | ".join(cells) + " |")
    return "\n".join([header, "", *rows, *by_type])


def _spread(reports: Sequence[ModeReport]) -> list[str]:
    """Each figure's lowest–highest over the runs: an outcome that moves inside it rests on a near-tie."""
    runs = [report.figures() for report in reports]
    cells = []
    for column in range(len(FIGURE_COLUMNS)):
        values = [run[column][0] for run in runs if run[column][1]]
        cells.append(f"{min(values):.3f}–{max(values):.3f}" if values else "n/a")
    return cells


def save_reports(sets: Sequence[tuple[str, str, list[ModeReport]]], out: Path) -> None:
    """Every set's table in one Markdown file, and each question's outcome beside it as JSON."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n\n".join(table for _, table, _ in sets) + "\n", encoding="utf-8")
    details = {
        name: {report.mode: [_detail(o) for o in report.outcomes] for report in reports} for name, _, reports in sets
    }
    out.with_suffix(".json").write_text(json.dumps(details, indent=1, ensure_ascii=False), encoding="utf-8")


def _detail(o: Outcome) -> dict[str, object]:
    return {
        "id": o.question.id,
        "rank": o.rank,
        "status": o.status,
        "intent": o.intent,
        "cited": o.cited,
        "numbers_quoted": o.numbers_quoted if o.question.numbers else None,
        "ms": round(o.seconds * 1000, 1),
    }
