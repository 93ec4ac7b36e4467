"""The benchmark's results: a Markdown table with the targets checked, a PNG plot, and the raw
figures as JSON (so a table can be redrawn without running again)."""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from bot.bench.run import SizeResult
from bot.kb.search import MODES

KINDS = (*MODES, "answer")
MIB_PER_GIB = 1024


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def ingest_rate(result: SizeResult) -> float:
    return result.full.chunks / result.full.seconds


def measured(rate: str, result: SizeResult) -> str:
    """A full ingest's rate, unless it resumed an interrupted run: then it timed only part of the work."""
    return rate if not result.full.resumed else f"resumed ({result.full.resumed:,} texts)"


def encode_rate(result: SizeResult) -> float:
    return result.full.chunks / result.full.encode_seconds


def encode_share(result: SizeResult) -> float:
    """A full ingest's time over its models' encode time: 1 when nothing but the model costs."""
    return result.full.seconds / result.full.encode_seconds


def edit_overhead(result: SizeResult) -> float:
    """What a one-document edit costs beyond encoding the document itself and loading the models to do it."""
    return result.edit.seconds - result.edit.encode_seconds - result.edit.load_seconds


def table(results: list[SizeResult]) -> str:
    head = (
        "| chunks | docs | ingest s | chunks/s | raw encode chunks/s | ingest ÷ encode | no-op s | edit s "
        "(own encode s, model load s) | ingest peak MiB | disk MiB | start-up s | query peak MiB |"
    )
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        rows.append(
            f"| {r.full.chunks:,} | {r.documents:,} | {r.full.seconds:.1f} | {measured(f'{ingest_rate(r):.1f}', r)} | "
            f"{measured(f'{encode_rate(r):.1f}', r)} | {measured(f'{encode_share(r):.2f}', r)} | {r.noop.seconds:.2f} | "
            f"{r.edit.seconds:.1f} ({r.edit.encode_seconds:.1f}, {r.edit.load_seconds:.1f}) | "
            f"{r.full.peak_rss_mb:,.0f} | {r.disk_mb:,.0f} | "
            f"{r.queries.startup_seconds:.1f} | {r.queries.peak_rss_mb:,.0f} |"
        )
    latency = ["", "| chunks | " + " | ".join(f"{kind} p50 / p95 / p99 ms" for kind in KINDS) + " |"]
    latency.append("|---|" + "---|" * len(KINDS))
    for r in results:
        for label, queries in (("", r.queries), (" while an ingest runs", r.loaded)):
            cells = [
                " / ".join(f"{percentile(queries.latency_ms[kind], q):.0f}" for q in (50, 95, 99)) for kind in KINDS
            ]
            latency.append(f"| {r.full.chunks:,}{label} | " + " | ".join(cells) + " |")
    return "\n".join(rows + latency)


@dataclass(frozen=True)
class Target:
    what: str
    measured: str
    goal: str
    met: bool


def targets(results: list[SizeResult]) -> list[Target]:
    """The performance targets, for the corpus sizes they apply to."""
    out: list[Target] = []
    for r in results:
        size = f"{r.full.chunks:,} chunks"
        rate, ratio, overhead = ingest_rate(r), encode_share(r), edit_overhead(r)
        p95 = percentile(r.queries.latency_ms["answer"], 95)
        if not r.full.resumed:
            out += [
                Target(f"full ingest rate, {size}", f"{rate:.1f} chunks/s", "≥ 40 chunks/s", rate >= 40),
                Target(f"full ingest ÷ the models' encode, {size}", f"{ratio:.2f}", "≤ 1.25", ratio <= 1.25),
            ]
        out += [
            Target(
                f"one-document edit beyond its own encode and the model load, {size}",
                f"{overhead:.1f} s",
                "< 2 s",
                overhead < 2,
            ),
            Target(
                f"start-up to first answer, {size}",
                f"{r.queries.startup_seconds:.1f} s",
                "< 5 s",
                r.queries.startup_seconds < 5,
            ),
        ]
        if r.target <= 10_000:
            out.append(Target(f"no-op re-ingest, {size}", f"{r.noop.seconds:.2f} s", "< 2 s", r.noop.seconds < 2))
        limit = 80 if r.target <= 10_000 else 150
        if r.target <= 100_000:
            out.append(Target(f"extractive answer p95, {size}", f"{p95:.0f} ms", f"< {limit} ms", p95 < limit))
            peak = max(r.queries.peak_rss_mb, r.full.peak_rss_mb) / MIB_PER_GIB
            out.append(Target(f"peak memory, {size}", f"{peak:.2f} GiB", "< 2.5 GiB", peak < 2.5))
    return out


def plot(results: list[SizeResult]) -> bytes:
    sizes = [r.full.chunks for r in results]
    figure = Figure(figsize=(11, 4.2), dpi=110)
    latency, rate = figure.subplots(1, 2)
    for kind in KINDS:
        latency.plot(sizes, [percentile(r.queries.latency_ms[kind], 95) for r in results], marker="o", label=kind)
    latency.set(xscale="log", yscale="log", xlabel="chunks", ylabel="p95 latency (ms)", title="Query latency")
    timed = [r for r in results if not r.full.resumed]
    rate.plot([r.full.chunks for r in timed], [ingest_rate(r) for r in timed], marker="o", label="full ingest")
    rate.plot([r.full.chunks for r in timed], [encode_rate(r) for r in timed], marker="s", label="models' encode alone")
    rate.set(xscale="log", yscale="log", xlabel="chunks", ylabel="chunks per second", title="Ingest rate")
    for axes in (latency, rate):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def markdown(results: list[SizeResult]) -> str:
    checked = [f"- {'met' if t.met else 'MISSED'}: {t.what}: {t.measured} (target {t.goal})" for t in targets(results)]
    return "\n".join(
        [
            "# ValueRelay benchmark",
            "",
            table(results),
            "",
            "## Targets",
            "",
            *checked,
            "",
            "![latency and ingest rate](bench.png)",
            "",
        ]
    )


def write(results: list[SizeResult], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")
    (out / "bench.png").write_bytes(plot(results))
    report = out / "bench.md"
    report.write_text(markdown(results), encoding="utf-8")
    return report
