"""The report laid out as Markdown, CSV files (one per table, for the owners' spreadsheets) or one
self-contained HTML page with its charts embedded."""

from __future__ import annotations

import base64
import csv
import html
import io
from pathlib import Path

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.answers.chart import font_family
from bot.report.model import Report
from bot.report.tables import Cell, Table, summary, tables

TOP_GAPS_CHARTED = 8


def _period(report: Report) -> str:
    return f"{report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}"


def _md_cell(value: Cell) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Report) -> str:
    lines = [f"# Knowledge report, {_period(report)}", "", *(f"- {line}" for line in summary(report))]
    for table in tables(report):
        lines += ["", f"## {table.title}", ""]
        if not table.rows:
            lines.append(table.empty)
            continue
        lines.append("| " + " | ".join(table.columns) + " |")
        lines.append("|" + "---|" * len(table.columns))
        lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def write_csv(report: Report, folder: Path) -> list[Path]:
    """One UTF-8 CSV per table (with a BOM, so spreadsheet programs read the Chinese right)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables(report):
        path = folder / f"{table.name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(table.columns)
            writer.writerows(["" if cell is None else cell for cell in row] for row in table.rows)
        written.append(path)
    return written


def charts_png(report: Report) -> bytes:
    """Questions per day, the outcome split and the largest gap groups, in one picture."""
    usage = report.usage
    buffer = io.BytesIO()
    with rc_context({"font.family": font_family(), "font.size": 8}):
        figure = Figure(figsize=(9.0, 8.0), dpi=100, layout="constrained")
        per_day, outcomes, gaps = figure.subplots(3, 1)
        per_day.bar([day.isoformat() for day, _ in usage.per_day], [n for _, n in usage.per_day], color="#3b7dd8")
        per_day.set_title("Questions per day", loc="left")
        per_day.tick_params(axis="x", labelrotation=45)
        outcomes.barh(
            [s for s, _ in usage.outcomes], [n for _, n in usage.outcomes], color=["#3b9d5d", "#d8a93b", "#d8763b"]
        )
        outcomes.set_title("Outcomes", loc="left")
        outcomes.invert_yaxis()
        top = report.gaps[:TOP_GAPS_CHARTED]
        gaps.barh(
            [_short(g.examples[0] if g.examples else g.closest_doc or "?") for g in top],
            [g.count for g in top],
            color="#d8763b",
        )
        gaps.set_title("Largest knowledge gaps (questions per group)", loc="left")
        gaps.invert_yaxis()
        for axis in (per_day.yaxis, outcomes.xaxis, gaps.xaxis):
            axis.set_major_locator(MaxNLocator(integer=True))  # counts of questions
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_html(report: Report) -> str:
    image = base64.b64encode(charts_png(report)).decode("ascii")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Knowledge report, {_period(report)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}</style>",
        f"</head><body><h1>Knowledge report, {_period(report)}</h1><ul>",
        *(f"<li>{html.escape(line)}</li>" for line in summary(report)),
        f"</ul><img alt='Questions per day, outcomes and the largest gaps' src='data:image/png;base64,{image}'>",
        *(_html_table(table) for table in tables(report)),
        "</body></html>",
    ]
    return "\n".join(parts)


def _html_table(table: Table) -> str:
    if not table.rows:
        return f"<h2>{html.escape(table.title)}</h2><p>{html.escape(table.empty)}</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if cell is None else str(cell))}</td>" for cell in row) + "</tr>"
        for row in table.rows
    )
    return f"<h2>{html.escape(table.title)}</h2><table><tr>{head}</tr>{body}</table>"
