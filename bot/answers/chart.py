"""A benchmark as a picture: per metric, one bar per case labelled with its customer and its
citation, and the median marked. Drawn with matplotlib's object API (no pyplot state), so the
Slack bot can draw from several threads."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bot.answers.benchmark import Benchmark, MetricSummary
from bot.answers.compose.benchmark import Quantified, format_change
from bot.answers.labels import label

MAX_PANELS = 6
# Fonts tried in order for every glyph: customers' names mix Chinese and Latin letters.
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Droid Sans Fallback")


@dataclass(frozen=True)
class Bar:
    label: str  # "[2] 蜀渝小馆火锅"
    value: float
    text: str  # the value as the tables write it


@dataclass(frozen=True)
class Panel:
    title: str
    bars: tuple[Bar, ...]
    median: float
    median_text: str


def panels(found: Benchmark, numbers: dict[str, int], lang: str) -> list[Panel]:
    """What the chart shows: the metrics several cases share (else the single case's), most shared first."""
    shared = [m for m in found.metrics if m.n > 1] or list(found.metrics)
    return [panel(metric, numbers, lang) for metric in shared[:MAX_PANELS]]


def panel(metric: MetricSummary, numbers: dict[str, int], lang: str) -> Panel:
    bars = tuple(
        Bar(f"[{numbers[v.doc_id]}] {v.customer}", change, format_change(change, metric.unit, lang))
        for v in metric.values
        for change in [metric.change_of(v)]
    )
    unit = {"%": "%", "pp": "pp"}.get(metric.unit, metric.unit)
    return Panel(f"{metric.name} ({unit})", bars, metric.median, format_change(metric.median, metric.unit, lang))


@cache
def font_family() -> list[str]:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in installed] + ["DejaVu Sans"]


def has_cjk_font() -> bool:
    return len(font_family()) > 1


def draw(shown: list[Panel], median_label: str) -> bytes:
    """The panels as one PNG."""
    buffer = io.BytesIO()
    # Every process draws with the same fonts, so setting them for the drawing is safe across threads.
    with rc_context({"font.family": font_family(), "font.size": 8}):
        height = sum(1.1 + 0.45 * len(p.bars) for p in shown)
        figure = Figure(figsize=(8.0, max(2.5, height)), dpi=110, layout="constrained")
        for axes, shown_panel in zip(figure.subplots(len(shown), 1, squeeze=False)[:, 0], shown, strict=True):
            plot(axes, shown_panel, median_label)
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plot(axes: Axes, shown: Panel, median_label: str) -> None:
    values = [bar.value for bar in shown.bars]
    drawn = axes.barh(
        [bar.label for bar in shown.bars], values, color=["#3b7dd8" if v >= 0 else "#d8763b" for v in values]
    )
    axes.bar_label(drawn, labels=[bar.text for bar in shown.bars], padding=3)
    axes.axvline(shown.median, color="#333333", linestyle="--", linewidth=1)
    axes.axvline(0, color="#999999", linewidth=0.8)
    axes.set_title(f"{shown.title} · {median_label} {shown.median_text}", fontsize=10, loc="left")
    axes.invert_yaxis()  # the first case on top, as in the tables
    axes.margins(x=0.25)


def chart_png(result: Quantified, lang: str) -> bytes:
    return draw(panels(result.benchmark, result.numbers, lang), label(lang, "median_short"))
