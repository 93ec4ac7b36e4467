"""The eval table's arithmetic, on hand-made outcomes (no engine needed)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.evaluation import FIGURE_COLUMNS, EvalQuestion, ModeReport, Outcome, format_table


def question(qid: str, qtype: str, **fields: Any) -> EvalQuestion:
    fields.setdefault("intent", "general")
    fields.setdefault("expected_docs", ["d1"] if qtype in ("same_lang", "cross_lingual", "paraphrase") else [])
    return EvalQuestion(id=qid, question=f"q {qid}", lang="en", type=qtype, **fields)


def outcome(q: EvalQuestion, status: str = "answered", **fields: Any) -> Outcome:
    values: dict[str, Any] = {"ranking": ["d1", "d3"], "cited": [], "text": "text", "seconds": 0.01, "intent": q.intent}
    values.update(fields)
    return Outcome(q, values["ranking"], status, values["cited"], values["text"], values["seconds"], values["intent"])  # type: ignore[arg-type]


def cells(table: str, first_cell: str) -> dict[str, str]:
    line = next(line for line in table.splitlines() if line.startswith(f"| {first_cell} |"))
    values = [cell.strip() for cell in line.strip("|").split("|")]
    header = next(line for line in table.splitlines() if line.startswith("| mode |"))
    return dict(zip([cell.strip() for cell in header.strip("|").split("|")], values))


def test_a_measure_with_no_question_behind_it_prints_n_a_not_a_perfect_score() -> None:
    found, missed = question("a", "same_lang"), question("b", "paraphrase")
    outcomes = [outcome(found, cited=["d1"]), outcome(missed, "declined", ranking=["d2", "d3"])]
    table = format_table([ModeReport("hybrid", outcomes)], [found, missed])
    row = cells(table, "hybrid")
    assert row["R@1"] == "0.500"  # one of two found first
    assert (row["answered"], row["closest"], row["declined"]) == ("0.500", "0.000", "0.500")
    assert row["abstain(unans)"] == "n/a"  # no unanswerable question
    assert row["num.fidelity"] == "n/a (n=0)" and row["small talk"] == "n/a (n=0)" and row["overview"] == "n/a (n=0)"
    assert row["right doc quoted"] == "1.000 (n=1)"  # declined questions quote nothing and are not counted
    by_type = table.split("by question type:")[1]
    assert cells(by_type.replace("| mode |", "| mode |"), "hybrid")["same_lang"] == "1.000 / 1.000"


def test_closest_counts_as_not_answered_but_must_quote_the_right_document() -> None:
    right, wrong = question("a", "same_lang"), question("b", "same_lang")
    no = question("u", "unanswerable")
    outcomes = [
        outcome(right, "closest", cited=["d1", "d9"]),
        outcome(wrong, "answered", cited=["d9"]),
        outcome(no, "closest", cited=["d9"]),
    ]
    row = cells(format_table([ModeReport("hybrid", outcomes)], [right, wrong, no]), "hybrid")
    assert (row["answered"], row["closest"]) == ("0.500", "0.500")
    assert row["right doc quoted"] == "0.500 (n=2)"
    assert row["abstain(unans)"] == "1.000"  # the closest passages are not an answer


def test_small_talk_passes_only_unsourced_and_overview_only_when_it_lists_every_document_of_its_kind() -> None:
    hello, cited_hello = (
        question("s1", "smalltalk", intent="smalltalk"),
        question("s2", "smalltalk", intent="smalltalk"),
    )
    cases, everything = (
        question("o1", "overview", intent="overview", kind="case"),
        question("o2", "overview", intent="overview"),
    )
    report = ModeReport(
        "hybrid",
        [
            outcome(hello),
            outcome(cited_hello, cited=["d1"]),
            outcome(cases, text="Case One, Case Two"),
            outcome(everything, text="Case One, Case Two, Playbook A"),  # the guide is missing
        ],
        catalog={"case": ["Case One", "Case Two"], "playbook": ["Playbook A"], "stage_guide": ["Guide X"]},
    )
    row = cells(format_table([report], [o.question for o in report.outcomes]), "hybrid")
    assert row["small talk"] == "0.500 (n=2)"
    assert row["overview"] == "0.500 (n=2)"


def test_the_nudged_runs_print_each_figures_lowest_and_highest() -> None:
    q = question("a", "same_lang")
    steady = ModeReport("hybrid", [outcome(q, cited=["d1"])])
    moved = ModeReport("hybrid", [outcome(q, "closest", cited=["d1"], ranking=["d2", "d1"])])
    row = cells(format_table([steady], [q], noisy=[moved]), "hybrid, 1 nudged runs")
    assert row["R@1"] == "0.000–1.000"
    assert row["answered"] == "0.000–1.000"
    assert row["right doc quoted"] == "1.000–1.000"
    assert len(FIGURE_COLUMNS) == 13


@pytest.mark.parametrize("kind", ["smalltalk", "overview", "unanswerable"])
def test_only_the_three_answerable_types_are_answerable(kind: str) -> None:
    assert not question("x", kind).answerable
    assert question("y", "cross_lingual").answerable
