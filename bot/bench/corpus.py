"""A corpus of any size grown from a real one, for the performance benchmark.

Each new document takes a source document's front matter and headings, and rebuilds every
section from the passages that sources of the same kind and language hold under that heading:
list items drawn from the pool, prose sentences recombined, every number drawn again around its
value, customers renamed. No paragraph is written twice. The documents are ordinary source
files: the normal ingest reads them, and the size is counted with the ingest's own chunker."""

from __future__ import annotations

import itertools
import random
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.kb.chunking import Chunker
from bot.kb.sources import SourceDocument, load_corpus, parse_file

NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?(?![A-Za-z0-9])")
YEAR = re.compile(r"^(19|20)\d\d$")
LIST_ITEM = re.compile(r"^(\s*)(?:[-*] (\[[ xX]\] )?|\d+\. )")
SENTENCE_END = re.compile(r"(?<=[。！？；])|(?<=[.!?;]) (?=[A-Z0-9\"'(])")
RETRIES = 8

ZH_NAMES = tuple("禾川味鼎桥里香满渔谷庭泉山湖丰悦南北")
EN_NAMES = ("Maple", "Harbor", "Ember", "Juniper", "Saffron", "Cobalt", "Willow", "Granite", "Sage", "Orchid")
EN_NOUNS = ("Table", "Kitchen", "Grill", "Bowl", "Bakehouse", "Noodle Bar", "Canteen", "Tavern", "Wok", "Cafe")
REGIONS = {
    "zh": ("华东", "华南", "西南", "华北", "华中", "西北", "东北"),
    "en": ("East", "South", "Southwest", "North", "Central", "Northwest", "Northeast"),
}


@dataclass(frozen=True)
class Section:
    heading: str  # the "## " line, or "" before the first heading
    blocks: tuple[str, ...]


def split_sections(body: str) -> list[Section]:
    sections: list[Section] = []
    heading, lines = "", []
    for line in body.splitlines():
        if line.startswith("## "):
            sections.append(Section(heading, blocks(lines)))
            heading, lines = line, []
        else:
            lines.append(line)
    sections.append(Section(heading, blocks(lines)))
    return [section for section in sections if section.heading or section.blocks]


def blocks(lines: list[str]) -> tuple[str, ...]:
    """Blank-line separated blocks; a sub-heading is a block of its own."""
    out: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip() and not line.startswith("#"):
            current.append(line)
            continue
        if current:
            out.append("\n".join(current))
            current = []
        if line.startswith("#"):
            out.append(line)
    return tuple(out)


def is_list(block: str) -> bool:
    return all(LIST_ITEM.match(line) for line in block.splitlines())


def paragraphs(body: str) -> Iterator[tuple[str, str]]:
    """(section heading, paragraph) for each block of a body that is not a heading."""
    for section in split_sections(body):
        for block in section.blocks:
            if not block.startswith("#"):
                yield section.heading, block


def sentences(block: str) -> list[str]:
    return [sentence for sentence in SENTENCE_END.split(block.replace("\n", " ")) if sentence.strip()]


class Pools:
    """What the sources hold under each heading, by kind and language: list items and sentences."""

    def __init__(self, documents: list[SourceDocument]) -> None:
        self.items: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        self.sentences: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for document in documents:
            for heading, block in paragraphs(document.body):
                key = (document.meta.kind, document.meta.lang, heading)
                if is_list(block):
                    self.items[key].extend(LIST_ITEM.sub("", line) for line in block.splitlines())
                else:
                    self.sentences[key].extend(sentences(block))


class Grower:
    def __init__(self, documents: list[SourceDocument], seed: int) -> None:
        self.templates = sorted(documents, key=lambda d: d.rel_path)
        self.pools = Pools(self.templates)
        self.random = random.Random(seed)
        # Paragraphs already written, the sources' own included: none is written again.
        self.seen = {block for document in self.templates for _, block in paragraphs(document.body)}

    def vary_numbers(self, text: str) -> str:
        # One scale per paragraph, so that ranges stay ranges and a before stays below its after.
        scale = self.random.uniform(0.7, 1.3)

        def draw(match: re.Match[str]) -> str:
            value = match.group(0)
            if YEAR.match(value):
                return value
            decimals = len(value.split(".")[1]) if "." in value else 0
            drawn = float(value) * scale * self.random.uniform(0.98, 1.02)
            return f"{max(drawn, 10**-decimals):.{decimals}f}"

        return NUMBER.sub(draw, text)

    def list_block(self, block: str, key: tuple[str, str, str]) -> str:
        lines = block.splitlines()
        pool = self.pools.items.get(key) or [LIST_ITEM.sub("", line) for line in lines]
        count = max(1, min(len(pool), len(lines) + self.random.randint(-1, 1)))
        picked = self.random.sample(pool, count)
        first = LIST_ITEM.match(lines[0])
        numbered = first is not None and first.group(0).strip()[0].isdigit()
        marker = first.group(0) if first else "- "
        return "\n".join((f"{i}. " if numbered else marker) + item for i, item in enumerate(picked, 1))

    def prose_block(self, block: str, key: tuple[str, str, str]) -> str:
        own = sentences(block)
        pool = self.pools.sentences.get(key) or own
        count = max(1, min(len(pool), len(own) + self.random.randint(0, 1)))
        joiner = "" if self.random.choice(own)[-1:] in "。！？；" else " "
        return joiner.join(s.strip() for s in self.random.sample(pool, count))

    def new_block(self, block: str, key: tuple[str, str, str], rename: dict[str, str]) -> str | None:
        if block.startswith("#"):
            return block
        for _ in range(RETRIES):
            text = self.list_block(block, key) if is_list(block) else self.prose_block(block, key)
            for old, new in rename.items():
                text = text.replace(old, new)
            text = self.vary_numbers(text)
            if text not in self.seen:
                self.seen.add(text)
                return text
        return None  # every draw was a paragraph already written: left out rather than copied

    def body(self, template: SourceDocument, rename: dict[str, str]) -> str:
        meta = template.meta
        parts: list[str] = []
        for section in split_sections(template.body):
            key = (meta.kind, meta.lang, section.heading)
            if section.heading:
                parts.append(section.heading)
            parts.extend(text for block in section.blocks if (text := self.new_block(block, key, rename)))
        return "\n\n".join(parts) + "\n"

    def customer(self, lang: str, serial: int) -> str:
        if lang == "zh":
            return "".join(self.random.sample(ZH_NAMES, 2)) + f"{serial}号"
        return f"{self.random.choice(EN_NAMES)} {self.random.choice(EN_NOUNS)} {serial}"

    def document(self, template: SourceDocument, serial: int) -> tuple[str, str]:
        """(file name, file text) of one new document grown from a template."""
        meta = template.meta.model_dump(mode="json", exclude_none=True)
        lang = template.meta.lang
        region = self.random.choice(REGIONS[lang])
        meta["id"] = f"{template.id}-g{serial}"
        meta["title"] = (
            f"{meta['title']}（{region}{serial}）" if lang == "zh" else f"{meta['title']} ({region} {serial})"
        )
        rename: dict[str, str] = {}
        if "customer" in meta:
            rename[meta["customer"]] = meta["customer"] = self.customer(lang, serial)
            for metric in meta["metrics"]:
                scale = self.random.uniform(0.7, 1.3)
                metric["before"], metric["after"] = (_scaled(metric[key], scale) for key in ("before", "after"))
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        return f"{meta['id']}.md", f"---\n{front}---\n{self.body(template, rename)}"


@dataclass(frozen=True)
class GrownCorpus:
    sources: list[Path]
    documents: int
    chunks: int


def grow(templates: list[Path], out: Path, chunks: int, *, seed: int = 0, chunk_size: int = 900) -> GrownCorpus:
    """Write documents grown from the template sources into `out` until they hold at least `chunks`
    chunks (by the ingest's chunker); the glossaries come along unchanged."""
    corpus = load_corpus(templates)
    if not corpus.documents:
        raise ValueError(f"no valid documents to grow from in {', '.join(map(str, templates))}")
    if out.exists():
        shutil.rmtree(out)
    folders = {kind: out / kind for kind in ("playbook", "stage_guide", "case")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    for number, glossary in enumerate(path for root in templates for path in sorted(root.rglob("glossary.yaml"))):
        (out / f"glossary-{number}").mkdir()
        shutil.copy(glossary, out / f"glossary-{number}" / "glossary.yaml")
    grower, chunker = Grower(corpus.documents, seed), Chunker(chunk_size)
    written = total = 0
    for serial, template in enumerate(itertools.cycle(grower.templates), 1):
        if total >= chunks:
            break
        name, text = grower.document(template, serial)
        path = folders[template.meta.kind] / name
        path.write_text(text, encoding="utf-8")
        total += len(chunker.split(_parsed(path)))
        written += 1
    return GrownCorpus([out], written, total)


def _scaled(value: int | float, scale: float) -> int | float:
    return round(value * scale) if isinstance(value, int) else round(value * scale, 2)


def _parsed(path: Path) -> SourceDocument:
    parsed = parse_file(path, path.name)
    if isinstance(parsed, list):
        raise ValueError(f"grown document {path.name} is invalid: {parsed[0]}")
    return parsed
