"""Plain-text (Markdown-flavoured) rendering of an answer, for the CLI and the JSON contract:
one walk over the answer's parts, in their order."""

from __future__ import annotations

from functools import singledispatch

from bot.answers.labels import label
from bot.answers.model import (
    Answer,
    CaseCard,
    Chart,
    ChecklistGroup,
    Citation,
    Heading,
    Listing,
    Note,
    Paragraph,
    Part,
    QuoteGroup,
    Sources,
    Table,
)


def citation_line(citation: Citation, lang: str) -> str:
    parts = [f"[{citation.number}] {citation.title}"]
    if citation.section:
        parts.append(citation.section)
    parts.append(citation.owner)
    parts.append(f"{label(lang, 'verified')} {citation.verified}")
    if citation.stale:
        parts.append(f"⚠ {label(lang, 'stale_flag')}")
    if citation.url:
        parts.append(citation.url)
    return " · ".join(parts)


@singledispatch
def lines(part: Part, lang: str) -> list[str]:
    raise TypeError(f"no text rendering for {type(part).__name__}")


@lines.register
def _(part: Heading, lang: str) -> list[str]:
    return [part.text]


@lines.register
def _(part: Paragraph, lang: str) -> list[str]:
    return [part.text]


@lines.register
def _(part: Note, lang: str) -> list[str]:
    return [part.text]


@lines.register
def _(part: QuoteGroup, lang: str) -> list[str]:
    return [f"*{part.heading}*", *(f"• {quote.text} [{quote.citation}]" for quote in part.quotes)]


@lines.register
def _(part: ChecklistGroup, lang: str) -> list[str]:
    return [f"*{part.section}* [{part.citation}]", *(f"- [ ] {item}" for item in part.items)]


@lines.register
def _(part: CaseCard, lang: str) -> list[str]:
    head = (
        f"*{part.customer}* [{part.citation}] — {part.industry} · {label(lang, 'size')}: {part.size}"
        f" · {label(lang, 'modules')}: {', '.join(part.modules)}"
    )
    quote = [f"  > {part.quote}"] if part.quote else []
    return [head, *(f"  • {metric.render(lang)}" for metric in part.metrics), *quote]


@lines.register
def _(part: Listing, lang: str) -> list[str]:
    return [f"*{part.heading}*", *(f"• {entry.text} [{entry.citation}]" for entry in part.entries)]


@lines.register
def _(part: Chart, lang: str) -> list[str]:
    return []  # every figure it draws is in the tables


@lines.register
def _(part: Table, lang: str) -> list[str]:
    return markdown_table(part.header, part.rows)


def markdown_table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"

    return ["", line(header), "|" + "---|" * len(header), *(line(row) for row in rows), ""]


@lines.register
def _(part: Sources, lang: str) -> list[str]:
    return ["", f"{label(lang, 'sources')}:", *(citation_line(citation, lang) for citation in part.citations)]


def render_text(answer: Answer) -> str:
    return "\n".join(line for part in answer.parts for line in lines(part, answer.lang)).strip()
