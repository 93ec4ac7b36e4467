"""Heading-aware chunking that keeps each chunk's heading path.

Sections come from langchain's MarkdownHeaderTextSplitter; long sections are cut
only between lines, so a checklist item is never split. A case's metrics
become one chunk of their own, and every document gets a short overview chunk
built from its front matter so that title, segments and modules are searchable.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter
from pypinyin import lazy_pinyin

from bot.kb.lexical import HAN_RUN
from bot.kb.schema import CaseMeta, PlaybookMeta, StageGuideMeta, format_number
from bot.kb.sources import SourceDocument

CHUNKER_VERSION = "6"  # bump when chunks, their tokens or their quotable units change
HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
SECTION_SEPARATOR = " > "
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+)")
MAX_ROMANIZED_CHARS = 4
# "> — Vivian Chow, General Manager" under a customer quote says who spoke, nothing by itself.
_ATTRIBUTION = re.compile(r"^(?:—{1,2}|―|–|--)\s*\S")
_SENTENCE_END = re.compile(r"(?<=[。！？；])|(?<=[.!?])\s+(?=[A-Z0-9\"“(])")
SYNTHETIC_SECTIONS = {
    "overview": {"zh": "概要", "en": "Overview"},
    "metrics": {"zh": "关键指标", "en": "Key metrics"},
}


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    kind: str
    lang: str
    title: str
    section: str
    text: str
    order: int
    role: str = "body"  # body | overview | metrics
    filters: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def embed_text(self) -> str:
        """What the embedding model sees: the heading path gives a section its context."""
        heading = f"{self.title}{SECTION_SEPARATOR}{self.section}" if self.section else self.title
        return f"{heading}\n{self.text}"

    def to_record(self) -> dict[str, object]:
        # Shallow: `asdict` deep-copies every value, and a snapshot writes every chunk.
        return {item.name: getattr(self, item.name) for item in fields(self)}


def chunk_id(doc_id: str, section: str, index: int) -> str:
    digest = hashlib.sha1(section.encode("utf-8")).hexdigest()[:10]
    return f"{doc_id}:{digest}:{index}"


def document_filters(document: SourceDocument) -> dict[str, object]:
    """Metadata every chunk of a document carries, for filtering."""
    meta = document.meta
    filters: dict[str, object] = {
        "kind": meta.kind,
        "lang": meta.lang,
        "audience": list(meta.audience),
        "tags": list(meta.tags),
    }
    if isinstance(meta, (PlaybookMeta, StageGuideMeta, CaseMeta)):
        filters["modules"] = list(meta.modules)
    if isinstance(meta, PlaybookMeta):
        filters["segments"] = list(meta.segments)
    if isinstance(meta, StageGuideMeta):
        filters["stage"] = meta.stage
    if isinstance(meta, CaseMeta):
        filters["industry"] = meta.industry
    return filters


def romanized(name: str) -> list[str]:
    """How English speakers write a Chinese name: the joined pinyin of its first two to
    four characters ("蜀渝小馆火锅" → shuyu, shuyuxiao, shuyuxiaoguan), since a brand
    leads the name and the rest ("火锅", "hotpot") gets translated, not spelled."""
    run = HAN_RUN.search(name)
    if not run:
        return []
    syllables = lazy_pinyin(run.group(0)[:MAX_ROMANIZED_CHARS])
    return ["".join(syllables[:n]) for n in range(2, len(syllables) + 1)]


def overview_text(document: SourceDocument) -> str:
    meta = document.meta
    lines = [meta.title]
    if isinstance(meta, CaseMeta):
        spelled = romanized(meta.customer)
        customer = f"{meta.customer} ({' '.join(spelled)})" if spelled else meta.customer
        lines.append(f"{customer} · {meta.industry} · {meta.size}")
    if isinstance(meta, PlaybookMeta) and meta.segments:
        lines.append(" / ".join(meta.segments))
    if isinstance(meta, StageGuideMeta):
        lines.append(meta.stage)
    modules = getattr(meta, "modules", [])
    if modules:
        lines.append(", ".join(modules))
    if meta.tags:
        lines.append(", ".join(meta.tags))
    return "\n".join(lines)


def metrics_text(meta: CaseMeta) -> str:
    lines = [f"{meta.customer} ({meta.industry}, {meta.size})"]
    for metric in meta.metrics:
        unit = f" {metric.unit}" if metric.unit else ""
        period = f" ({metric.period})" if metric.period else ""
        lines.append(f"- {metric.name}: {format_number(metric.before)} → {format_number(metric.after)}{unit}{period}")
    return "\n".join(lines)


# The header splitter drops characters that are not printable (tabs, no-break
# and ideographic spaces); quoted text must survive exactly, so such characters
# travel through it as printable placeholders.
_PLACEHOLDER = re.compile(r"⟦U\+([0-9A-F]{4,6})⟧")


def _protect(text: str) -> str:
    return "".join(ch if ch.isprintable() or ch == "\n" else f"⟦U+{ord(ch):04X}⟧" for ch in text)


def _restore(text: str) -> str:
    return _PLACEHOLDER.sub(lambda m: chr(int(m.group(1), 16)), text)


def _units(text: str) -> Iterator[tuple[str, bool]]:
    """(unit, whether it is a list item) in passage order."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or set(stripped) <= set("-|: "):
            continue
        if _LIST_MARKER.match(line) or stripped.startswith((">", "|")):
            unit = _LIST_MARKER.sub("", stripped).lstrip("> ").strip()
            if unit and not (stripped.startswith(">") and _ATTRIBUTION.match(unit)):
                yield unit, bool(_LIST_MARKER.match(line))
            continue
        yield from ((s.strip(), False) for s in _SENTENCE_END.split(stripped) if s and s.strip())


def quotable_units(text: str) -> list[str]:
    """The pieces of a passage an answer may quote: each list item or quote line
    whole, prose sentence by sentence, always verbatim."""
    return [unit for unit, _ in _units(text)]


def is_list(text: str) -> bool:
    """Whether a passage is nothing but a list: every unit a list item."""
    flags = [item for _, item in _units(text)]
    return bool(flags) and all(flags)


def introduced_lists(text: str) -> dict[int, list[int]]:
    """For each unit that ends with a colon ("Go-live is complete for a store when:"),
    the positions (in quotable_units) of the list items right after it: the rest of what it says."""
    units = list(_units(text))
    out: dict[int, list[int]] = {}
    for position, (unit, _) in enumerate(units):
        if not unit.endswith((":", "：")):
            continue
        items = []
        for following in range(position + 1, len(units)):
            if not units[following][1]:
                break
            items.append(following)
        if items:
            out[position] = items
    return out


class Chunker:
    def __init__(self, chunk_size: int = 900) -> None:
        self._sections = MarkdownHeaderTextSplitter(HEADERS, strip_headers=True)
        # Only blank lines and line breaks are split points: a line (a checklist
        # item, a list entry, a paragraph) is never cut in two.
        self._lines = RecursiveCharacterTextSplitter(
            separators=["\n\n", "\n"], chunk_size=chunk_size, chunk_overlap=0, keep_separator=False
        )

    def split(self, document: SourceDocument) -> list[Chunk]:
        meta = document.meta
        filters = document_filters(document)
        chunks: list[Chunk] = []

        def add(section: str, text: str, index: int, role: str) -> None:
            chunks.append(
                Chunk(
                    id=chunk_id(meta.id, section if role == "body" else f"@{role}", index),
                    doc_id=meta.id,
                    kind=meta.kind,
                    lang=meta.lang,
                    title=meta.title,
                    section=section,
                    text=text,
                    order=len(chunks),
                    role=role,
                    filters=filters,
                )
            )

        add(SYNTHETIC_SECTIONS["overview"][meta.lang], overview_text(document), 0, "overview")
        if isinstance(meta, CaseMeta):
            add(SYNTHETIC_SECTIONS["metrics"][meta.lang], metrics_text(meta), 0, "metrics")
        # A section path can come back more than once (two "## FAQ", an empty heading): its
        # chunks keep counting, so that no two chunks share an id and one overwrite the other.
        taken: dict[str, int] = {}
        for section_doc in self._sections.split_text(_protect(document.body)):
            section = _restore(
                SECTION_SEPARATOR.join(
                    str(section_doc.metadata[key]) for _, key in HEADERS if key in section_doc.metadata
                )
            )
            # The header splitter joins paragraphs with a Markdown hard break; restore them.
            content = _restore(section_doc.page_content.replace("  \n", "\n\n")).strip()
            if not content:
                continue
            for piece in self._lines.split_text(content):
                taken[section] = taken.get(section, 0) + 1
                add(section, piece.strip(), taken[section] - 1, "body")
        return chunks
