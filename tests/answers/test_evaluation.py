"""The eval table's arithmetic, on hand-made outcomes (no engine needed)."""

from __future__ import annotations

from bot.evaluation import EvalQuestion, ModeReport, Outcome, format_table


def outcome(qid: str, kind: str, found: bool, abstained: bool = False) -> Outcome:
    question = EvalQuestion(id=qid, question=f"q {qid}", lang="en", type=kind, intent="general", expected_docs=["d1"])
    return Outcome(question, ["d1" if found else "d2", "d3"], abstained, "text", 0.01, "general")


def table_row(table: str, first_cell: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(f"| {first_cell} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_a_measure_with_no_question_behind_it_prints_n_a_not_a_perfect_score() -> None:
    outcomes = [outcome("a", "same_lang", True), outcome("b", "paraphrase", False, abstained=True)]
    report = ModeReport("hybrid", outcomes)
    table = format_table([report], [o.question for o in outcomes])
    row = table_row(table, "hybrid")
    assert row[1] == "0.500"                          # R@1: one of two found first
    assert row[5] == "n/a"                            # abstain(unans): no unanswerable question
    assert row[6] == "0.500"                          # answer(ans): one of two answered
    assert row[7] == "n/a (n=0)" and row[8] == "n/a (n=0)"
    by_type = table.split("by question type:")[1]
    assert table_row(by_type, "hybrid") == ["hybrid", "1.000 / 1.000", "n/a", "0.000 / 0.000"]
