"""Quantified answers: what customers like this one measured. A table of the comparable cases and
why each is comparable, then a table of each metric's change across them, every figure with the
citation of the case it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.answers.benchmark import Benchmark, Customer, MetricSummary, Reason, benchmark
from bot.answers.compose.context import Context
from bot.answers.labels import label
from bot.answers.model import Answer, Bar, Chart, Heading, Panel, Table
from bot.kb.schema import CaseMeta, format_number


@dataclass(frozen=True)
class Quantified:
    answer: Answer
    benchmark: Benchmark


def format_change(value: float, unit: str, lang: str) -> str:
    """A signed change in its unit: "+24.5%", "-4.5 pp", "-6300 元", "-2.4 minutes"."""
    sign = "+" if value > 0 else ""
    if unit == "%":
        return f"{sign}{value:.1f}%"
    number = format_number(round(value, 2))
    if unit == "pp":
        return f"{sign}{number}{' ' if lang == 'en' else ''}{label(lang, 'points')}"
    joiner = " " if unit[:1].isascii() and unit[:1].isalpha() else ""
    return f"{sign}{number}{joiner}{unit}"


def reason_text(reason: Reason, lang: str) -> str:
    values = dict(reason.values)
    if "industry" in values:
        values["industry"] = values["industry"].replace("_", " ")
    return label(lang, reason.key, **values)


def describe(customer: Customer, lang: str) -> str:
    """What was asked, as in "hotpot · 40 stores · food_cost", or "any customer"."""
    parts = [customer.industry.replace("_", " ")] if customer.industry else []
    joiner = " " if lang == "en" else ""
    parts += [f"{format_number(count)}{joiner}{label(lang, dimension)}" for dimension, count in customer.size.counts]
    parts += list(customer.modules)
    return " · ".join(parts) or label(lang, "anyone")


def metric_row(metric: MetricSummary, numbers: dict[str, int], lang: str) -> tuple[str, ...]:
    by_case = label(lang, "list_sep").join(
        f"[{numbers[v.doc_id]}] {format_change(metric.change_of(v), metric.unit, lang)}" for v in metric.values
    )
    spread = f"{format_change(metric.low, metric.unit, lang)} … {format_change(metric.high, metric.unit, lang)}"
    median = format_change(metric.median, metric.unit, lang)
    return (metric.name, str(metric.n), median, spread if metric.n > 1 else "", by_case)


def tables(found: Benchmark, numbers: dict[str, int], lang: str) -> list[Table]:
    case_header = tuple(label(lang, key) for key in ("customer", "industry", "size", "comparability", "why"))
    case_rows = tuple(
        (
            f"[{numbers[c.meta.id]}] {c.meta.customer}",
            c.meta.industry.replace("_", " "),
            c.meta.size,
            label(lang, c.level),
            label(lang, "list_sep").join(
                reason_text(r, lang) for r in c.reasons if r.key not in ("same_industry", "other_industry")
            ),
        )
        for c in found.cases
    )
    metric_header = tuple(label(lang, key) for key in ("metric", "cases_n", "median", "range", "by_case"))
    metric_rows = tuple(metric_row(m, numbers, lang) for m in found.metrics)
    return [Table(case_header, case_rows), Table(metric_header, metric_rows)]


MAX_PANELS = 6


def chart(found: Benchmark, numbers: dict[str, int], lang: str, title: str) -> Chart:
    """The metrics several cases share (else the one case's), most shared first: a bar per case, the median marked."""
    shared = [m for m in found.metrics if m.n > 1] or list(found.metrics)
    return Chart(title, tuple(panel(metric, numbers, lang) for metric in shared[:MAX_PANELS]))


def panel(metric: MetricSummary, numbers: dict[str, int], lang: str) -> Panel:
    bars = tuple(
        Bar(f"[{numbers[v.doc_id]}] {v.customer}", change, format_change(change, metric.unit, lang))
        for v in metric.values
        for change in [metric.change_of(v)]
    )
    median = f"{label(lang, 'median_short')} {format_change(metric.median, metric.unit, lang)}"
    return Panel(f"{metric.name} ({metric.unit})", bars, metric.median, median)


def notes(found: Benchmark, lang: str) -> list[str]:
    said = [label(lang, "one_case")] if len(found.cases) == 1 else []
    if found.reference and not found.customer.size and found.customer.industry:
        industry = found.customer.industry.replace("_", " ")
        said.append(label(lang, "size_reference", industry=industry, stores=format_number(found.reference.stores)))
    for metric in found.metrics:
        units = ", ".join(dict.fromkeys(v.unit for v in metric.values))
        if metric.labour:
            said.append(label(lang, "labour_note", units=units))
        elif metric.relative:
            said.append(label(lang, "mixed_units", name=metric.name, units=units))
    return [*said, label(lang, "not_forecast")]


def quantify(ctx: Context, customer: Customer) -> Quantified:
    """The benchmark over the cases the filters let this user see, as an answer."""
    lang = ctx.request.lang
    cases = [d.meta for d in ctx.index.chosen(ctx.filters, kind="case") if isinstance(d.meta, CaseMeta)]
    glossary = ctx.index.snapshot.bridge.glossary
    found = benchmark(cases, customer, glossary, lang=lang, labour_name=label(lang, "labour_efficiency"))
    numbers = {c.meta.id: ctx.citations.cite(c.meta.id, "") for c in found.cases}
    who = describe(customer, lang)
    if not found.cases:
        industries = ", ".join(sorted({meta.industry.replace("_", " ") for meta in cases}))
        answer = ctx.answer("declined", [Heading(label(lang, "no_benchmark", who=who))])
        answer.notes = [label(lang, "benchmark_industries", industries=industries)] if industries else []
        return Quantified(answer, found)
    ctx.confidence = 1.0
    heading = label(lang, "benchmark", who=who)
    figures = [*tables(found, numbers, lang), chart(found, numbers, lang, heading)]
    answer = ctx.answer("answered", [Heading(heading), *figures])
    answer.notes = notes(found, lang)
    return Quantified(answer, found)


def compose(ctx: Context) -> Answer:
    """A free question routed here ("what can a 30-store tea chain expect?") carries its customer."""
    return quantify(ctx, ctx.request.customer or Customer()).answer


def benchmark_json(found: Benchmark, lang: str) -> dict[str, Any]:
    """The JSON contract of `quantify --json`."""
    return {
        "query": found.customer.to_json(),
        "cases": [
            {
                "doc_id": c.meta.id,
                "customer": c.meta.customer,
                "comparability": c.level,
                "reasons": [reason_text(r, lang) for r in c.reasons],
            }
            for c in found.cases
        ],
        "metrics": [
            {
                "name": m.name,
                "unit": m.unit,
                "n": m.n,
                "median_change": round(m.median, 4),
                "min_change": round(m.low, 4),
                "max_change": round(m.high, 4),
                "relative": m.relative,
                "cases": [v.doc_id for v in m.values],
                "values": [
                    {"doc_id": v.doc_id, "name": v.name, "before": v.before, "after": v.after, "unit": v.unit}
                    for v in m.values
                ],
            }
            for m in found.metrics
        ],
    }
