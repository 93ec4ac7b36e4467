"""The report as titled tables, defined once: Markdown, HTML and CSV only lay them out."""

from __future__ import annotations

from dataclasses import dataclass

from bot.report.model import Report

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str  # the CSV file's stem
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    empty: str  # said instead of an empty table


def summary(report: Report) -> list[str]:
    usage = report.usage
    outcomes = dict(usage.outcomes)
    answered = f"{outcomes['answered'] / usage.total:.0%}" if usage.total else "n/a"
    latency = f"p50 {usage.p50_ms} ms, p95 {usage.p95_ms} ms" if usage.p50_ms is not None else "no latency on record"
    return [
        f"{usage.total} questions answered on record, {answered} of them from the sources "
        f"({outcomes['closest']} closest, {outcomes['declined']} declined); {latency}",
        f"{sum(g.count for g in report.gaps)} unanswered questions in {len(report.gaps)} gap groups; "
        f"{len(report.suggestions)} glossary suggestions",
        f"{len(report.votes)} documents voted down; {len(report.stale)} documents stale or flagged outdated",
    ]


def tables(report: Report) -> list[Table]:
    return [_gaps(report), _glossary(report), _votes(report), _stale(report), *_usage(report)]


def _title(report: Report, doc: str | None) -> str:
    return f"{report.titles.get(doc, doc)} ({doc})" if doc else "none"


def _gaps(report: Report) -> Table:
    rows = tuple(
        (n, g.count, " / ".join(g.examples) or "(question text not kept)", _title(report, g.closest_doc),
         g.closest_section, g.owner, ", ".join(g.uncovered))
        for n, g in enumerate(report.gaps, 1)
    )  # fmt: skip
    columns = ("#", "questions", "examples", "closest document", "section", "owner", "words no source uses")
    return Table("gaps", "Knowledge gaps", columns, rows, "Every question on record was answered from the sources.")


def _glossary(report: Report) -> Table:
    rows = tuple(
        (s.line(), s.asked, s.source, _title(report, s.doc_id), s.similarity, s.questions) for s in report.suggestions
    )
    columns = ("glossary.yaml line", "users' word", "source term", "document", "similarity", "questions")
    return Table("glossary", "Glossary suggestions", columns, rows, "No gap word has a close term in its document.")


def _votes(report: Report) -> Table:
    rows = tuple(
        (_title(report, v.doc_id), v.owner, v.not_helpful, v.outdated, " / ".join(v.questions)) for v in report.votes
    )
    columns = ("document", "owner", "not helpful", "outdated", "questions")
    return Table("votes", "Votes against answers", columns, rows, "No answer was voted not helpful or outdated.")


def _stale(report: Report) -> Table:
    rows = tuple(
        (_title(report, d.doc_id), d.owner, d.verified.isoformat(), d.review_due.isoformat(),
         max(d.days_overdue, 0), d.cited, d.flagged)
        for d in report.stale
    )  # fmt: skip
    columns = ("document", "owner", "verified", "review due", "days overdue", "cited", "flagged outdated")
    return Table("stale", "Stale documents", columns, rows, "Every document is within its review period.")


def _usage(report: Report) -> list[Table]:
    usage = report.usage
    return [
        Table("per_day", "Questions per day", ("day", "questions"),
              tuple((day.isoformat(), n) for day, n in usage.per_day), "No questions."),
        Table("per_intent", "Questions per intent", ("intent", "questions"), usage.per_intent, "No questions."),
        Table("outcomes", "Outcomes", ("status", "questions"), usage.outcomes, "No questions."),
        Table("most_cited", "Most cited documents", ("document", "answers"),
              tuple((_title(report, doc), n) for doc, n in usage.most_cited), "No citations."),
        Table("never_cited", "Documents never cited", ("document",),
              tuple((_title(report, doc),) for doc in usage.never_cited), "Every document was cited."),
    ]  # fmt: skip
