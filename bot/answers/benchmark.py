"""What customers like this one measured: the comparable cases, and each metric's change across them.

Nothing is extrapolated: a figure is a change a cited customer measured, and an aggregate is the
median and range of those changes. Metrics are put side by side by meaning, not spelling: a name
stating a glossary term ("人工成本率", "Labour cost as share of sales") belongs to that term's
group, and every output-per-labour-hour measure is labour efficiency, compared by relative change.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answers.sizes import Size, parse_size, size_ratio
from bot.kb.glossary import GlossaryIndex
from bot.kb.lexical import tokenize
from bot.kb.schema import CaseMeta

LABOUR = "labour_efficiency"
# Sizes within these ratios are "close" and "apart"; further than APART, two customers are not comparable.
CLOSE, APART = 2.0, 5.0
# Output per labour hour, however it is counted ("元/工时", "drinks per labour hour").
_PER_LABOUR_HOUR = re.compile(
    r"(?:/|\bper\s+|每)\s*(?:labou?r[\s-]*hours?|man[\s-]*hours?|staff[\s-]*hours?|person[\s-]*hours?|工时|人时|人工小时)",
    re.IGNORECASE,
)
_QUALIFIER = re.compile(r"[（(][^）)]*[）)]")  # "报损率（报损售价金额/销售额）" is a 报损率
_UNIT_ALIASES = {
    "％": "%", "percent": "%", "pct": "%",
    "元": "CNY", "rmb": "CNY", "cny": "CNY", "¥": "CNY", "yuan": "CNY",
    "usd": "USD", "$": "USD", "us$": "USD",
    "minutes": "min", "minute": "min", "mins": "min", "分钟": "min",
    "hours": "h", "hour": "h", "hrs": "h", "小时": "h",
    "seconds": "s", "second": "s", "secs": "s", "sec": "s", "秒": "s",
}  # fmt: skip


def normal_unit(unit: str) -> str:
    cleaned = unit.strip()
    return _UNIT_ALIASES.get(cleaned.lower(), cleaned)


def unit_dimension(unit: str) -> str:
    """What a unit measures, so that a share is never compared with an amount of the same name."""
    normal = normal_unit(unit)
    if normal in ("min", "h", "s"):
        return "time"
    if normal in ("CNY", "USD"):
        return "money"
    return normal.lower()


@dataclass(frozen=True)
class Customer:
    """Who the customer is: any of industry, size and modules may be unknown."""

    industry: str | None = None
    size: Size = Size()
    modules: tuple[str, ...] = ()

    @classmethod
    def read(cls, *, industry: str | None, size: str | None, modules: Sequence[str]) -> Customer:
        """From CLI or Slack arguments: a bare number is a store count."""
        text = (size or "").strip()
        parsed = parse_size(f"{text} stores" if re.fullmatch(r"[\d,]+(?:\.\d+)?", text) else text)
        return cls(industry, parsed, tuple(dict.fromkeys(modules)))

    def to_json(self) -> dict[str, object]:
        return {
            "industry": self.industry,
            "size": {dimension: count for dimension, count in self.size.counts},
            "modules": list(self.modules),
        }


@dataclass(frozen=True)
class Reason:
    """Why a case is (or is less) comparable: a label key and its values, worded by the renderer."""

    key: str  # same_industry, other_industry, size_close, size_apart, size_far, size_unknown, shared_modules, anything
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Comparable:
    meta: CaseMeta
    level: str  # high, medium, low
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class CaseValue:
    """One customer's measurement of a metric."""

    doc_id: str
    customer: str
    name: str
    before: float
    after: float
    unit: str

    @property
    def change(self) -> float:
        return self.after - self.before

    @property
    def relative_change(self) -> float | None:
        """In %, None when the baseline is zero."""
        return None if self.before == 0 else (self.after - self.before) / abs(self.before) * 100.0


@dataclass(frozen=True)
class MetricSummary:
    """A metric across the comparable cases that measured it: relative changes (in %) when their
    units differ or it is labour efficiency, else absolute changes in the shared unit."""

    key: str
    name: str
    unit: str  # of the changes: the cases' unit, "pp" (percentage points) or "%" when relative
    relative: bool
    values: tuple[CaseValue, ...]

    def change_of(self, value: CaseValue) -> float:
        change = value.relative_change if self.relative else value.change
        assert change is not None, "summarise keeps only values with a relative change"
        return change

    @property
    def changes(self) -> list[float]:
        return [self.change_of(v) for v in self.values]

    @property
    def n(self) -> int:
        return len(self.changes)

    @property
    def median(self) -> float:
        return statistics.median(self.changes)

    @property
    def low(self) -> float:
        return min(self.changes)

    @property
    def high(self) -> float:
        return max(self.changes)

    @property
    def labour(self) -> bool:
        return self.key == LABOUR


@dataclass(frozen=True)
class Benchmark:
    customer: Customer
    cases: tuple[Comparable, ...]
    metrics: tuple[MetricSummary, ...]
    reference: Size  # the size the cases were compared with


# --- comparability ---------------------------------------------------------------------------------
def size_reason(asked: Size, theirs: str) -> Reason:
    ours, their_size = asked.stores, parse_size(theirs).stores
    if ours is None or their_size is None:
        return Reason("size_unknown", (("size", theirs),))
    ratio = round(size_ratio(ours, their_size), 1)  # classed as shown: "2.0×" is close
    key = "size_close" if ratio <= CLOSE else "size_apart" if ratio <= APART else "size_far"
    return Reason(key, (("size", theirs), ("ratio", f"{ratio:.1f}")))


def compare(meta: CaseMeta, customer: Customer, anchors: frozenset[str], reference: Size) -> Comparable | None:
    """How comparable a case is, or None. `anchors`: the modules that make another industry's case
    relevant (the modules asked, else those the industry's own cases run); `reference`: the size
    compared with (see `reference_size`)."""
    shared = tuple(m for m in meta.modules if m in anchors)
    if customer.modules and not shared:
        return None
    size = size_reason(reference, meta.size)
    reasons = [size] + ([Reason("shared_modules", (("modules", ", ".join(shared)),))] if shared else [])
    if customer.industry and meta.industry == customer.industry:
        level = "high" if size.key in ("size_close", "size_unknown") else "medium"
        return Comparable(meta, level, (Reason("same_industry", (("industry", meta.industry),)), *reasons))
    if size.key == "size_far" or (customer.industry and len(shared) < max(1, min(2, len(anchors)))):
        return None
    if not (customer.industry or customer.size or customer.modules):
        return Comparable(meta, "low", (Reason("anything"),))
    level = "medium" if size.key == "size_close" and (shared or not anchors) else "low"
    industry = Reason("other_industry", (("industry", meta.industry),))
    return Comparable(meta, level, (industry, *reasons) if customer.industry else tuple(reasons))


LEVEL_ORDER = {"high": 0, "medium": 1, "low": 2}


def comparables(cases: Sequence[CaseMeta], customer: Customer, reference: Size) -> list[Comparable]:
    """The comparable cases, most comparable first, the asked industry's first within a level;
    sizes compared with `reference` (see `reference_size`)."""
    anchors = anchor_modules(cases, customer)
    found = [c for meta in cases if (c := compare(meta, customer, anchors, reference)) is not None]
    return sorted(found, key=lambda c: (LEVEL_ORDER[c.level], c.meta.industry != customer.industry))


def reference_size(cases: Sequence[CaseMeta], customer: Customer) -> Size:
    """The size asked; else, for "similar-size hotpot chains", the median store count of the
    industry's own cases, so that a 3-site canteen is not put beside them."""
    if customer.size or not customer.industry:
        return customer.size
    counts = [n for meta in cases if meta.industry == customer.industry if (n := parse_size(meta.size).stores)]
    return Size((("stores", statistics.median(counts)),)) if counts else Size()


def anchor_modules(cases: Sequence[CaseMeta], customer: Customer) -> frozenset[str]:
    """The modules asked, else the ones the industry's own cases run, less those most customers run:
    two chains that both have a POS are no more alike for it."""
    if customer.modules:
        return frozenset(customer.modules)
    common = {m for m in {m for meta in cases for m in meta.modules} if _share(cases, m) > 0.5}
    own = {module for meta in cases if meta.industry == customer.industry for module in meta.modules}
    return frozenset(own - common)


def _share(cases: Sequence[CaseMeta], module: str) -> float:
    return sum(module in meta.modules for meta in cases) / len(cases)


# --- metrics ---------------------------------------------------------------------------------------
def family(name: str, unit: str, glossary: GlossaryIndex) -> str:
    """Which metrics are the same metric: labour efficiency by its unit; otherwise the glossary
    group of the name's head term (the last it states: "会员 30 天复购率" is a 复购率), else the
    name itself; either way within one kind of unit."""
    if _PER_LABOUR_HOUR.search(unit) or _PER_LABOUR_HOUR.search(name):
        return LABOUR
    tokens = tokenize(_QUALIFIER.sub(" ", name))
    group = glossary.head_group(tokens)
    subject = f"group:{group}" if group is not None else " ".join(tokens)
    return f"{subject}|{unit_dimension(unit)}"


def summarise(key: str, values: Sequence[CaseValue], lang: str, labour_name: str) -> MetricSummary:
    units = {normal_unit(v.unit) for v in values}
    relative = key == LABOUR or len(units) > 1
    if relative:  # a change from zero has no relative size
        values = [v for v in values if v.relative_change is not None]
    unit = "%" if relative else ("pp" if units == {"%"} else values[0].unit)
    written = [v for v in values if _script(v.name) == lang] or list(values)
    name = labour_name if key == LABOUR else _QUALIFIER.sub("", written[0].name).strip()
    return MetricSummary(key, name, unit, relative, tuple(values))


def _script(text: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


def benchmark(
    cases: Sequence[CaseMeta], customer: Customer, glossary: GlossaryIndex, *, lang: str, labour_name: str
) -> Benchmark:
    """The comparable cases and, per metric, the changes they measured: the most comparable cases'
    metrics first, then those more cases measured."""
    reference = reference_size(cases, customer)
    found = comparables(cases, customer, reference)
    grouped: dict[str, list[CaseValue]] = {}
    for comparable in found:
        meta, seen = comparable.meta, set()
        for metric in meta.metrics:
            key = family(metric.name, metric.unit, glossary)
            if key not in seen:  # a customer counts once per metric
                seen.add(key)
                value = CaseValue(meta.id, meta.customer, metric.name, metric.before, metric.after, metric.unit)
                grouped.setdefault(key, []).append(value)
    metrics = [summarise(key, values, lang, labour_name) for key, values in grouped.items()]
    level = {c.meta.id: LEVEL_ORDER[c.level] for c in found}
    ordered = sorted((m for m in metrics if m.values), key=lambda m: (min(level[v.doc_id] for v in m.values), -m.n))
    return Benchmark(customer, tuple(found), tuple(ordered), reference)
