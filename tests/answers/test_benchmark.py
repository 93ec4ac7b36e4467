"""Quantified answers: comparable cases, metrics put side by side by meaning, and aggregates that
never go beyond what the cited cases measured. Edge cases are written here; the sample cases are
read through the engine."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from typing import Any

import pytest
from pydantic import ValidationError

from bot.answers.benchmark import LABOUR, Customer, benchmark, family
from bot.answers.compose.benchmark import benchmark_json, format_change
from bot.answers.engine import AnswerError, Engine
from bot.answers.model import Table
from bot.answers.sizes import parse_size
from bot.kb.glossary import GlossaryIndex
from bot.kb.schema import CaseMeta

GLOSSARY = GlossaryIndex.build(
    [
        ["食材成本率", "food cost ratio", "food cost %"],
        ["人工成本率", "labour cost ratio", "labour cost"],
        ["出餐时长", "ticket time", "speed of service"],
        ["复购率", "repeat purchase rate"],
        ["会员", "member", "membership"],
    ]
)


def case(doc_id: str, industry: str, size: str, modules: list[str], *metrics: dict[str, Any]) -> CaseMeta:
    return CaseMeta(
        id=doc_id,
        kind="case",
        title=f"{doc_id} title",
        lang="en",
        owner="Ops",
        verified=dt.date(2026, 1, 1),
        customer=f"{doc_id} Co.",
        industry=industry,
        size=size,
        modules=modules,
        metrics=list(metrics),
    )


def metric(name: str, before: float, after: float, unit: str) -> dict[str, Any]:
    return {"name": name, "before": before, "after": after, "unit": unit}


def run(cases: list[CaseMeta], customer: Customer, lang: str = "en") -> Any:
    return benchmark(cases, customer, GLOSSARY, lang=lang, labour_name="Labour efficiency")


# --- metric names ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("食材成本率", "%"), ("Food cost ratio", "%")),  # across languages, through the glossary
        (("人工成本率", "%"), ("Labour cost as share of sales", "%")),  # a term with words around it
        (("午市平均出餐时长", "分钟"), ("Average speed of service (order to handoff)", "minutes")),
        (("门店人效（营业额/工时）", "元/工时"), ("Orders per labour hour", "orders per labour hour")),
        (("会员 30 天复购率", "%"), ("Repeat purchase rate", "%")),  # the head term, not the first one
    ],
)
def test_metric_names_that_mean_the_same_are_one_metric(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert family(*a, GLOSSARY) == family(*b, GLOSSARY)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("食材成本率", "%"), ("食材成本", "元")),  # a share and an amount of the same name
        (("Average delivery time", "minutes"), ("Average speed of service", "minutes")),
        (("会员消费占比", "%"), ("复购率", "%")),
    ],
)
def test_different_metrics_stay_apart(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert family(*a, GLOSSARY) != family(*b, GLOSSARY)


def test_one_metric_in_minutes_and_hours_is_compared_by_relative_change() -> None:
    cases = [
        case("case-a", "qsr", "40 stores", ["kds"], metric("Speed of service", 4.6, 3.1, "minutes")),
        case("case-b", "qsr", "40 stores", ["kds"], metric("Speed of service", 0.1, 0.05, "hours")),
    ]
    [speed] = run(cases, Customer("qsr")).metrics
    assert speed.relative and speed.n == 2 and speed.low == pytest.approx(-50.0)


def test_every_output_per_labour_hour_is_labour_efficiency() -> None:
    units = ["元/工时", "件/人时", "USD per labour hour", "covers per labor hour", "drinks per man-hour"]
    assert {family("anything", unit, GLOSSARY) for unit in units} == {LABOUR}
    assert family("Overtime hours per month", "hours", GLOSSARY) != LABOUR


# --- aggregation -----------------------------------------------------------------------------------
def test_a_shared_metric_gets_n_median_and_range_of_the_changes_each_case_cited() -> None:
    cases = [
        case("case-a", "hotpot", "40 stores", ["food_cost"], metric("食材成本率", 38.6, 34.1, "%")),
        case("case-b", "hotpot", "55 stores", ["food_cost"], metric("Food cost ratio", 41.2, 36.8, "%")),
        case("case-c", "hotpot", "30 stores", ["food_cost"], metric("Food cost %", 35.0, 33.5, "%")),
    ]
    found = run(cases, Customer("hotpot", parse_size("40 stores")))
    [food] = found.metrics
    changes = [34.1 - 38.6, 36.8 - 41.2, 33.5 - 35.0]
    assert food.n == 3 and not food.relative and food.unit == "pp"
    assert food.median == pytest.approx(statistics.median(changes))
    assert (food.low, food.high) == (pytest.approx(min(changes)), pytest.approx(max(changes)))
    # Lower is better for a cost ratio: every change is a fall, the largest fall is the minimum.
    assert food.high < 0 and food.low == pytest.approx(-4.5)
    assert [v.doc_id for v in food.values] == ["case-a", "case-b", "case-c"]


def test_conflicting_units_compare_relative_changes_only() -> None:
    cases = [
        case("case-a", "pizza", "40 stores", ["delivery"], metric("Refund cost per month", 14000, 7000, "USD")),
        case("case-b", "pizza", "40 stores", ["delivery"], metric("Refund cost per month", 20000, 15000, "元")),
    ]
    [refunds] = run(cases, Customer("pizza")).metrics
    assert refunds.relative and refunds.unit == "%"
    assert sorted(refunds.changes) == [pytest.approx(-50.0), pytest.approx(-25.0)]


def test_labour_efficiency_is_its_own_line_by_relative_change_whatever_each_case_counts() -> None:
    cases = [
        case("case-a", "noodles", "60 stores", ["pos"], metric("门店人效", 142, 178, "元/工时")),
        case("case-b", "noodles", "60 stores", ["pos"], metric("Orders per labour hour", 9.8, 12.4, "orders per labour hour")),
    ]  # fmt: skip
    [labour] = run(cases, Customer("noodles")).metrics
    assert labour.labour and labour.relative and labour.name == "Labour efficiency"
    assert labour.changes == [pytest.approx((178 - 142) / 142 * 100), pytest.approx((12.4 - 9.8) / 9.8 * 100)]


def test_a_change_from_zero_has_no_relative_size_and_is_left_out_of_relative_figures() -> None:
    cases = [
        case("case-a", "bakery", "40 stores", ["pos"], metric("Refund cost", 0, 500, "USD"), metric("Mobile share", 0, 20, "%")),
        case("case-b", "bakery", "40 stores", ["pos"], metric("Refund cost", 200, 100, "元")),
        case("case-c", "bakery", "40 stores", ["pos"], metric("Refund cost", 400, 300, "USD")),
    ]  # fmt: skip
    found = run(cases, Customer("bakery"))
    refunds = next(m for m in found.metrics if m.name == "Refund cost")
    assert refunds.relative and [v.doc_id for v in refunds.values] == ["case-b", "case-c"]
    share = next(m for m in found.metrics if m.name == "Mobile share")
    assert not share.relative and share.changes == [20]  # in points, a change from zero is fine


def test_a_case_without_a_before_value_is_refused_at_ingest_not_guessed() -> None:
    with pytest.raises(ValidationError, match="before"):
        case("case-a", "bakery", "4 stores", ["pos"], {"name": "Waste", "after": 40, "unit": "kg"})


# --- comparability -------------------------------------------------------------------------------------
SAMPLE_LIKE = [
    case("case-hot", "hotpot", "86 家门店", ["supply_chain", "food_cost", "pos"], metric("食材成本率", 38.6, 34.1, "%")),
    case("case-bbq", "bbq", "28 家门店", ["supply_chain", "food_cost", "pos"], metric("食材成本率", 41.2, 36.8, "%")),
    case("case-tea", "tea", "30 stores", ["membership", "pos"], metric("复购率", 18.5, 27.3, "%")),
    case("case-big", "bbq", "900 stores", ["supply_chain", "food_cost", "pos"], metric("食材成本率", 40, 39, "%")),
    case("case-pizza", "pizza", "45 stores", ["delivery", "pos"], metric("Delivery time", 38, 29, "minutes")),
    case("case-cafe", "coffee", "50 stores", ["membership", "pos"], metric("Repeat purchase rate", 20, 26, "%")),
]  # fmt: skip


def test_same_industry_first_then_related_by_uncommon_modules_and_close_size() -> None:
    found = run(SAMPLE_LIKE, Customer("hotpot", parse_size("40 stores")))
    assert [(c.meta.id, c.level) for c in found.cases] == [("case-hot", "medium"), ("case-bbq", "medium")]
    reasons = {c.meta.id: [r.key for r in c.reasons] for c in found.cases}
    assert reasons["case-hot"][:2] == ["same_industry", "size_apart"]  # 86 stores is 2.15 times 40
    assert reasons["case-bbq"] == ["other_industry", "size_close", "shared_modules"]
    # A POS alone makes no two customers alike (every case runs one); 900 stores is too far.
    assert "case-tea" not in reasons and "case-big" not in reasons


def test_another_industry_is_never_related_by_modules_every_customer_runs() -> None:
    found = run(SAMPLE_LIKE, Customer("pizza", parse_size("40 stores")))
    assert [c.meta.id for c in found.cases] == ["case-pizza"]  # delivery is its own; a POS relates nobody


def test_one_comparable_case_is_shown_as_one_case() -> None:
    found = run(SAMPLE_LIKE, Customer("tea", parse_size("3000 stores")))
    assert [(c.meta.id, c.level) for c in found.cases] == [("case-tea", "medium")]
    assert [m.n for m in found.metrics] == [1]


def test_asked_modules_narrow_the_cases_to_those_running_one() -> None:
    found = run(SAMPLE_LIKE, Customer(None, parse_size("35 stores"), ("membership",)))
    assert [c.meta.id for c in found.cases] == ["case-tea", "case-cafe"]
    [repeat] = found.metrics  # 复购率 and "Repeat purchase rate" are one metric
    assert repeat.n == 2


def test_json_names_every_case_behind_every_figure() -> None:
    found = run(SAMPLE_LIKE, Customer("hotpot", parse_size("40 stores")))
    data = benchmark_json(found, "en")
    assert data["query"] == {"industry": "hotpot", "size": {"stores": 40.0}, "modules": []}
    assert [(c["doc_id"], c["comparability"]) for c in data["cases"]] == [
        ("case-hot", "medium"),
        ("case-bbq", "medium"),
    ]
    [food] = data["metrics"]
    assert (food["n"], food["relative"], food["unit"]) == (2, False, "pp")
    assert food["cases"] == ["case-hot", "case-bbq"] and food["min_change"] == pytest.approx(-4.5)


@pytest.mark.parametrize(
    ("value", "unit", "lang", "text"),
    [(-4.45, "pp", "en", "-4.45 pp"), (-4.5, "pp", "zh", "-4.5个百分点"), (25.35, "%", "en", "+25.4%"),
     (-6300.0, "元", "zh", "-6300元"), (-2.4, "minutes", "en", "-2.4 minutes")],
)  # fmt: skip
def test_changes_are_written_with_sign_and_unit(value: float, unit: str, lang: str, text: str) -> None:
    assert format_change(value, unit, lang) == text


# --- through the engine, on the sample cases --------------------------------------------------------------
def test_the_sample_hotpot_question_is_answered_from_cited_cases(engine: Engine) -> None:
    result = engine.quantify(Customer.read(industry="hotpot", size="40", modules=[]), lang="zh")
    answer, found = result.answer, result.benchmark
    assert answer.status == "answered" and found.cases[0].meta.id == "case-shuyu-hotpot"
    cases_table, metrics_table = [part for part in answer.body if isinstance(part, Table)]
    cited = {c.number: c.doc_id for c in answer.citations}
    assert [cited[int(row[0][1 : row[0].index("]")])] for row in cases_table.rows] == [c.meta.id for c in found.cases]
    for row, summary in zip(metrics_table.rows, found.metrics, strict=True):
        figures = [int(number) for number in re.findall(r"\[(\d+)\]", row[-1])]
        assert [cited[n] for n in figures] == [v.doc_id for v in summary.values]  # each figure, its case
    assert any("预测" in note for note in answer.notes)  # never a forecast
    # The most comparable cases' figures first, then those more cases measured.
    rank = {c.meta.id: ["high", "medium", "low"].index(c.level) for c in found.cases}
    order = [(min(rank[v.doc_id] for v in m.values), -m.n) for m in found.metrics]
    assert order == sorted(order)


def test_similar_size_without_a_number_compares_with_the_industrys_own_cases(engine: Engine) -> None:
    found = engine.quantify(Customer("hotpot"), lang="en").benchmark
    assert found.reference.stores == 86  # the one hotpot case
    assert "case-tuojing-canteen" not in {c.meta.id for c in found.cases}  # 3 canteens is not that size
    assert found.cases[0].level == "high" and all(c.level != "high" for c in found.cases[1:])
    first = [m for m in found.metrics if "case-shuyu-hotpot" in {v.doc_id for v in m.values}]
    assert list(found.metrics[: len(first)]) == first  # the hotpot case's own figures lead


def test_an_industry_without_cases_is_refused_naming_the_known_ones(engine: Engine) -> None:
    with pytest.raises(AnswerError, match="hotpot"):
        engine.quantify(Customer("sushi"))


def test_a_question_asking_what_a_described_customer_can_expect_is_quantified(engine: Engine) -> None:
    answer = engine.ask("类似规模的火锅客户一般能降多少成本？", record=False)
    assert answer.intent == "quantify" and answer.status == "answered"
    assert answer.citations[0].doc_id == "case-shuyu-hotpot"
    others = [
        "seeing a 40-store hotpot chain Thursday, what do I pitch? any numbers?",  # a pitch
        "那家 86 家门店的火锅客户，食材成本率从多少降到了多少？",  # what one case measured
        "how long does the survey usually take for a 30-store chain?",  # a task, not a result
    ]
    assert [engine.router.route(question).intent for question in others].count("quantify") == 0
