"""Case metrics as printed: values with their units, and the change."""

from __future__ import annotations

import pytest

from bot.answers.quantify import MetricChange


@pytest.mark.parametrize(
    ("unit", "before", "after"),
    [
        ("minutes", "138 minutes", "54 minutes"),
        ("CNY", "138 CNY", "54 CNY"),
        ("件/人时", "138件/人时", "54件/人时"),
        ("%", "138%", "54%"),
        ("", "138", "54"),
    ],
)
def test_a_unit_is_spaced_as_its_own_script_is_written_whatever_the_answer_language(
    unit: str, before: str, after: str
) -> None:
    metric = MetricChange("Average truck turnaround", 138, 54, unit, None)
    assert (metric.format_value(138), metric.format_value(54)) == (before, after)
    for lang in ("zh", "en"):
        assert metric.render(lang).startswith(f"Average truck turnaround: {before} → {after} (-60.9%")
