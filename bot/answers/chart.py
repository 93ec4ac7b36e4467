"""A chart part as a PNG: per panel, one bar per case labelled with its customer, the median
marked. Drawn with matplotlib's object API (no pyplot state), so the Slack bot can draw from
several threads."""

from __future__ import annotations

import io
from functools import cache

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bot.answers.model import Chart, Panel

# Fonts tried in order for every glyph: customers' names mix Chinese and Latin letters.
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Droid Sans Fallback")


@cache
def font_family() -> list[str]:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in installed] + ["DejaVu Sans"]


def has_cjk_font() -> bool:
    return len(font_family()) > 1


def draw(chart: Chart) -> bytes:
    """The chart's panels, stacked, as one PNG."""
    buffer = io.BytesIO()
    # Every drawing sets the same fonts, so setting them for the drawing is safe across threads.
    with rc_context({"font.family": font_family(), "font.size": 8}):
        height = sum(1.1 + 0.45 * len(p.bars) for p in chart.panels)
        figure = Figure(figsize=(8.0, max(2.5, height)), dpi=110, layout="constrained")
        for axes, shown in zip(figure.subplots(len(chart.panels), 1, squeeze=False)[:, 0], chart.panels, strict=True):
            plot(axes, shown)
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plot(axes: Axes, shown: Panel) -> None:
    values = [bar.value for bar in shown.bars]
    colours = ["#3b7dd8" if value >= 0 else "#d8763b" for value in values]
    drawn = axes.barh([bar.label for bar in shown.bars], values, color=colours)
    axes.bar_label(drawn, labels=[bar.text for bar in shown.bars], padding=3)
    axes.axvline(shown.median, color="#333333", linestyle="--", linewidth=1)
    axes.axvline(0, color="#999999", linewidth=0.8)
    axes.set_title(f"{shown.title} · {shown.median_text}", fontsize=10, loc="left")
    axes.invert_yaxis()  # the first case on top, as in the tables
    axes.margins(x=0.25)
