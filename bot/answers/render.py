"""Plain-text (Markdown-flavoured) rendering of an answer, for the CLI and the JSON contract."""

from __future__ import annotations

from bot.answers.labels import label
from bot.answers.model import Answer, CaseCard, Citation


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


def card_lines(card: CaseCard, lang: str) -> list[str]:
    lines = [
        f"*{card.customer}* [{card.citation}] — {card.industry} · {label(lang, 'size')}: {card.size}"
        f" · {label(lang, 'modules')}: {', '.join(card.modules)}"
    ]
    lines.extend(f"  • {metric.render(lang)}" for metric in card.metrics)
    if card.quote:
        lines.append(f"  > {card.quote}")
    return lines


def render_text(answer: Answer) -> str:
    lang = answer.lang
    lines: list[str] = []
    if answer.headline:
        lines.append(answer.headline)
    for group in answer.checklist:
        lines.append(f"*{group.section}* [{group.citation}]")
        lines.extend(f"- [ ] {item}" for item in group.items)
    cards = [line for card in answer.cards for line in card_lines(card, lang)]
    if not answer.proof_headline:
        lines.extend(cards)
    if answer.generated:
        lines.append(answer.generated)
    else:
        for group in answer.groups:
            lines.append(f"*{group.heading}*")
            lines.extend(f"• {quote.text} [{quote.citation}]" for quote in group.quotes)
    if answer.proof_headline:
        lines.append(answer.proof_headline)
        lines.extend(cards)
    lines.extend(answer.notes)
    if answer.citations:
        lines.append("")
        lines.append(f"{label(lang, 'sources')}:")
        lines.extend(citation_line(citation, lang) for citation in answer.citations)
    return "\n".join(lines).strip()
