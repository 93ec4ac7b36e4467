"""The benchmark chart: one bar per case labelled with its customer, the median marked, drawn to a PNG."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from bot.answers.benchmark import Customer
from bot.answers.chart import draw, has_cjk_font
from bot.answers.engine import Engine
from bot.answers.model import Chart


def test_the_chart_shows_each_shared_metric_with_a_bar_per_case_and_its_median(engine: Engine) -> None:
    result = engine.quantify(Customer.read(industry="hotpot", size="40", modules=[]), lang="zh")
    [chart] = [part for part in result.answer.body if isinstance(part, Chart)]
    number = {c.doc_id: c.number for c in result.answer.citations}
    shared = [m for m in result.benchmark.metrics if m.n > 1]
    assert [p.title.split(" (")[0] for p in chart.panels] == [m.name for m in shared]
    for panel, summary in zip(chart.panels, shared, strict=True):
        assert [bar.label for bar in panel.bars] == [f"[{number[v.doc_id]}] {v.customer}" for v in summary.values]
        assert [bar.value for bar in panel.bars] == summary.changes
        assert panel.median == summary.median

    image = Image.open(io.BytesIO(draw(chart))).convert("L")
    assert image.width >= 600 and image.height >= 250
    assert (np.asarray(image) < 128).mean() > 0.01  # bars and labels drawn, not a blank canvas


def test_chinese_customer_names_have_a_font() -> None:
    # CI installs fonts-wqy-microhei; without a CJK font the names would draw as empty boxes.
    assert has_cjk_font()
