"""Numbers: before → after changes for case metrics, and the numbers a text states."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.kb.schema import format_number

# No sign: in business prose "-" between numbers is a range ("38%-45%"), not a minus.
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\.\d+)?")


@dataclass(frozen=True)
class MetricChange:
    name: str
    before: int | float
    after: int | float
    unit: str
    period: str | None

    @property
    def change_pct(self) -> float | None:
        """Relative change in %, None when the baseline is zero."""
        if self.before == 0:
            return None
        return (self.after - self.before) / abs(self.before) * 100.0

    @property
    def unit_is_percent(self) -> bool:
        return self.unit.strip() in ("%", "％", "percent", "pct")

    def describe_change(self, lang: str) -> str:
        """Relative change; for a metric that is itself a percentage, also the change in points."""
        parts = []
        pct = self.change_pct
        if pct is not None:
            parts.append(f"{pct:+.1f}%")
        if self.unit_is_percent:
            points = self.after - self.before
            label = "个百分点" if lang == "zh" else " pts"
            parts.append(f"{points:+.1f}{label}")
        return ", ".join(parts)

    def format_value(self, value: int | float) -> str:
        """The value with its unit, spaced the way the unit's own script is written:
        "138 minutes", "12000 CNY", but "41件/人时", "18.6万元/月", "38.5%"."""
        unit = self.unit.strip()
        joiner = " " if unit[:1].isascii() and unit[:1].isalpha() else ""
        return f"{format_number(value)}{joiner}{unit}"

    def render(self, lang: str) -> str:
        value = f"{self.format_value(self.before)} → {self.format_value(self.after)}"
        change = self.describe_change(lang)
        period = f" · {self.period}" if self.period else ""
        return f"{self.name}: {value}" + (f" ({change})" if change else "") + period


def numbers_in(text: str) -> set[str]:
    """The numbers a text states, normalised (thousands separators removed, trailing zeros dropped)."""
    found = set()
    for raw in _NUMBER.findall(text):
        cleaned = raw.replace(",", "")
        try:
            value = float(cleaned)
        except ValueError:
            continue
        found.add(format_number(int(value) if value.is_integer() else value))
    return found
