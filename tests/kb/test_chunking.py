"""Chunking invariants, checked over the whole sample corpus and on crafted documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.kb.chunking import (
    SECTION_SEPARATOR,
    Chunk,
    Chunker,
    introduced_lists,
    quotable_units,
    romanized,
)
from bot.kb.schema import CaseMeta, format_number
from bot.kb.sources import SourceDocument, load_corpus, parse_file
from bot.settings import PROJECT_ROOT

SAMPLE_SOURCES = [PROJECT_ROOT / "playbooks", PROJECT_ROOT / "knowledge"]
# The configured size, and a small one that forces long sections to be cut.
CHUNK_SIZES = [900, 150]


@pytest.fixture(scope="module")
def documents() -> list[SourceDocument]:
    corpus = load_corpus(SAMPLE_SOURCES)
    assert corpus.rejections == []
    assert len(corpus.documents) >= 23
    return corpus.documents


def body_chunks(chunks: list[Chunk]) -> list[Chunk]:
    return [chunk for chunk in chunks if chunk.role == "body"]


def write_doc(tmp_path: Path, name: str, front: str, body: str) -> SourceDocument:
    path = tmp_path / name
    path.write_text(f"---\n{front.strip()}\n---\n{body}", encoding="utf-8")
    parsed = parse_file(path, name)
    assert isinstance(parsed, SourceDocument), [str(r) for r in parsed]
    return parsed


STAGE_FRONT = """
id: sg-long
kind: stage_guide
title: Long checklist
lang: en
owner: Jane Doe
verified: 2026-09-01
stage: survey
"""


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_every_checklist_item_sits_whole_in_exactly_one_chunk(documents: list[SourceDocument], chunk_size: int) -> None:
    chunker = Chunker(chunk_size)
    guides = [d for d in documents if d.checklist]
    assert len(guides) == 4
    checked = 0
    for document in guides:
        chunks = body_chunks(chunker.split(document))
        for item in document.checklist:
            holders = [chunk.id for chunk in chunks if item.text in chunk.text]
            assert len(holders) == 1, (document.id, item.text, holders)
            checked += 1
    assert checked >= 48


def test_small_chunks_really_split_the_stage_guides(documents: list[SourceDocument]) -> None:
    # Guards the tests above: at 150 characters every guide has sections cut in several chunks.
    chunker = Chunker(150)
    for document in (d for d in documents if d.checklist):
        sections = [chunk.section for chunk in body_chunks(chunker.split(document))]
        assert len(sections) > len(set(sections)), document.id


def test_metrics_chunk_renders_every_before_and_after(documents: list[SourceDocument]) -> None:
    chunker = Chunker()
    cases = [d for d in documents if isinstance(d.meta, CaseMeta)]
    assert len(cases) >= 10
    for document in cases:
        chunks = chunker.split(document)
        metrics_chunks = [chunk for chunk in chunks if chunk.role == "metrics"]
        assert len(metrics_chunks) == 1, document.id
        text = metrics_chunks[0].text
        lines = text.splitlines()
        assert len(lines) == 1 + len(document.meta.metrics)
        for metric, line in zip(document.meta.metrics, lines[1:]):
            assert metric.name in line
            assert f"{format_number(metric.before)} → {format_number(metric.after)}" in line, line
        assert metrics_chunks[0].section == {"zh": "关键指标", "en": "Key metrics"}[document.meta.lang]


@pytest.mark.parametrize(
    ("name", "spelled"),
    [
        ("蜀渝小馆火锅", ["shuyu", "shuyuxiao", "shuyuxiaoguan"]),
        ("小白牙", ["xiaobai", "xiaobaiya"]),
        ("ABC 禄和拉面", ["luhe", "luhela", "luhelamian"]),
        ("Redline Burger Co.", []),
    ],
)
def test_a_chinese_name_is_spelled_the_way_english_speakers_write_it(name: str, spelled: list[str]) -> None:
    assert romanized(name) == spelled


def test_the_overview_of_a_chinese_customer_carries_its_spelling(documents: list[SourceDocument]) -> None:
    chunker = Chunker()
    chinese = [d for d in documents if isinstance(d.meta, CaseMeta) and romanized(d.meta.customer)]
    assert len(chinese) >= 5
    for document in chinese:
        overview = next(chunk for chunk in chunker.split(document) if chunk.role == "overview")
        assert romanized(document.meta.customer)[0] in overview.text.split("(")[1], document.id


def test_metrics_chunk_renders_numbers_as_written(tmp_path: Path) -> None:
    front = """
id: case-numbers
kind: case
title: Numbers
lang: en
owner: Jane Doe
verified: 2026-09-01
customer: Example Hotpot
industry: hotpot
size: 40 stores
modules: [food_cost]
metrics:
  - {name: Food cost ratio, before: 38.50, after: 34.2, unit: "%", period: 6 months}
  - {name: Waste per store, before: 12000.0, after: 8500, unit: CNY}
"""
    document = write_doc(tmp_path, "case.md", front, "## Background\nA hotpot chain.\n")
    (metrics,) = [chunk for chunk in Chunker().split(document) if chunk.role == "metrics"]
    assert metrics.text == (
        "Example Hotpot (hotpot, 40 stores)\n"
        "- Food cost ratio: 38.5 → 34.2 % (6 months)\n"
        "- Waste per store: 12000 → 8500 CNY"
    )


def test_chunk_ids_are_unique_stable_and_prefixed(documents: list[SourceDocument]) -> None:
    seen: dict[str, str] = {}
    for document in documents:
        first = Chunker().split(document)
        again = Chunker().split(document)
        assert [(c.id, c.text, c.section) for c in first] == [(c.id, c.text, c.section) for c in again]
        for chunk in first:
            assert chunk.id.startswith(f"{document.id}:"), chunk.id
            assert chunk.doc_id == document.id
            assert chunk.id not in seen, (chunk.id, seen.get(chunk.id))
            seen[chunk.id] = document.id
        assert [c.order for c in first] == list(range(len(first)))
        assert first[0].role == "overview"
    assert len(seen) >= 100


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_editing_one_section_changes_only_its_chunks(tmp_path: Path, chunk_size: int) -> None:
    source = PROJECT_ROOT / "knowledge" / "stages" / "sg-go-live.md"
    original = source.read_text(encoding="utf-8")
    section = "KDS & kitchen routing"
    anchor = f"## {section}\n"
    assert anchor in original
    edited = original.replace(anchor, anchor + "- [ ] Label every KDS screen with its station name\n")
    (tmp_path / "before.md").write_text(original, encoding="utf-8")
    (tmp_path / "after.md").write_text(edited, encoding="utf-8")
    before_doc = parse_file(tmp_path / "before.md", "before.md")
    after_doc = parse_file(tmp_path / "after.md", "after.md")
    assert isinstance(before_doc, SourceDocument) and isinstance(after_doc, SourceDocument)

    chunker = Chunker(chunk_size)
    before = {(c.id, c.text) for c in chunker.split(before_doc)}
    after = {(c.id, c.text) for c in chunker.split(after_doc)}
    section_of = {c.id: c.section for c in [*chunker.split(before_doc), *chunker.split(after_doc)]}
    changed = before ^ after
    assert changed, "the edit must change something"
    assert {section_of[chunk_id] for chunk_id, _ in changed} == {section}
    untouched = {pair for pair in before if section_of[pair[0]] != section}
    assert untouched <= after
    assert len(untouched) >= 8


def heading_paths(body: str) -> dict[str, set[str]]:
    """For every non-blank body line (stripped), the heading paths it appears under."""
    paths: dict[str, set[str]] = {}
    stack: list[tuple[int, str]] = []
    fenced = False
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        heading = None if fenced else re.match(r"^(#{1,4}) (.+)$", line)
        if heading:
            level = len(heading.group(1))
            stack = [(lvl, title) for lvl, title in stack if lvl < level]
            stack.append((level, heading.group(2).strip()))
            continue
        if line:
            paths.setdefault(line, set()).add(SECTION_SEPARATOR.join(title for _, title in stack))
    return paths


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_body_chunk_section_is_the_heading_path_of_its_text(documents: list[SourceDocument], chunk_size: int) -> None:
    chunker = Chunker(chunk_size)
    nested = 0
    for document in documents:
        paths = heading_paths(document.body)
        for chunk in body_chunks(chunker.split(document)):
            lines = [line.strip() for line in chunk.text.splitlines() if line.strip()]
            assert lines, chunk.id
            for line in lines:
                assert line in paths, (chunk.id, line)
                assert chunk.section in paths[line], (chunk.id, chunk.section, line, paths[line])
            nested += SECTION_SEPARATOR in chunk.section
    assert nested >= 5  # ### sub-sections are really exercised


def test_long_section_is_split_only_at_line_boundaries(tmp_path: Path) -> None:
    items = [f"Check item number {n:02d}: confirm the store's printer, scanner and drawer" for n in range(60)]
    body = "## Intro\nShort intro.\n\n## Everything to check\n" + "\n".join(f"- [ ] {item}" for item in items) + "\n"
    document = write_doc(tmp_path, "long.md", STAGE_FRONT, body)
    assert [item.text for item in document.checklist] == items
    section_length = sum(len(item) + 7 for item in items)
    assert section_length > 3000

    chunks = body_chunks(Chunker(500).split(document))
    long_chunks = [chunk for chunk in chunks if chunk.section == "Everything to check"]
    assert len(long_chunks) >= 7  # 3000+ characters in pieces of at most 500
    for item in items:
        holders = [chunk.id for chunk in long_chunks if f"- [ ] {item}" in chunk.text]
        assert len(holders) == 1, item
    for chunk in long_chunks:
        assert len(chunk.text) <= 500
        assert all(line.startswith("- [ ] Check item number ") for line in chunk.text.splitlines())
    # Reading the pieces in order gives the items back in order, none lost.
    joined = "\n".join(chunk.text for chunk in long_chunks)
    assert joined.splitlines() == [f"- [ ] {item}" for item in items]


def test_a_single_line_longer_than_chunk_size_is_kept_whole(tmp_path: Path) -> None:
    long_line = "- [ ] " + " ".join(f"word{n}" for n in range(120))
    body = f"## Steps\nFirst paragraph.\n\n{long_line}\n- [ ] short item\n"
    document = write_doc(tmp_path, "one-long-line.md", STAGE_FRONT, body)
    chunks = body_chunks(Chunker(200).split(document))
    assert len(long_line) > 200
    assert [chunk.text for chunk in chunks if long_line in chunk.text] == [long_line]
    assert sum("short item" in chunk.text for chunk in chunks) == 1


@pytest.mark.parametrize("chunk_size", [900, 400, 100])
def test_body_chunks_never_exceed_chunk_size_unless_single_line(
    documents: list[SourceDocument], chunk_size: int
) -> None:
    chunker = Chunker(chunk_size)
    oversize_single_lines = 0
    for document in documents:
        for chunk in body_chunks(chunker.split(document)):
            assert chunk.text == chunk.text.strip()
            if len(chunk.text) > chunk_size:
                assert "\n" not in chunk.text, (chunk.id, len(chunk.text))
                oversize_single_lines += 1
    if chunk_size == 900:
        assert oversize_single_lines == 0


def test_all_chunks_fit_the_configured_size(documents: list[SourceDocument]) -> None:
    # Overview and metrics chunks are not cut; at the configured size they must still fit.
    for document in documents:
        for chunk in Chunker(900).split(document):
            assert 0 < len(chunk.text) <= 900, (chunk.id, len(chunk.text))


def test_checklist_items_with_unusual_spaces_survive_chunking(tmp_path: Path) -> None:
    body = "## 准备\n- [ ] 确认门店\u3000名单\n- [ ] Print\u00a0a receipt\n- [ ] Count\tdrawers\n"
    document = write_doc(tmp_path, "spaces.md", STAGE_FRONT, body)
    assert [item.text for item in document.checklist] == [
        "确认门店\u3000名单",
        "Print\u00a0a receipt",
        "Count\tdrawers",
    ]
    chunks = body_chunks(Chunker().split(document))
    for item in document.checklist:
        assert sum(item.text in chunk.text for chunk in chunks) == 1, item.text


def test_a_sentence_ending_in_a_colon_introduces_the_list_after_it() -> None:
    text = (
        "Stores go live in waves. Go-live is complete for a store when:\n"
        "- three days pass with no open P1 issue;\n"
        "- sales reconcile within 0.5%.\n"
        "After that, hand over to support.\n"
        "门店满足以下条件才算完成：\n"
        "1. 收银差异为 0\n"
        "Bring these on the day:\n"
        "No list follows this one."
    )
    units = quotable_units(text)
    lists = introduced_lists(text)

    assert units[1] == "Go-live is complete for a store when:"
    assert [units[i] for i in lists[1]] == ["three days pass with no open P1 issue;", "sales reconcile within 0.5%."]
    assert [units[i] for i in lists[5]] == ["收银差异为 0"]
    assert set(lists) == {1, 5}  # "Bring these on the day:" is followed by prose, not a list


def test_a_quote_attribution_is_not_a_unit_of_its_own() -> None:
    text = (
        "> “Every batch now has a reason behind it.”\n"
        ">\n"
        "> — Vivian Chow, General Manager\n"
        "> —— 罗晓敏，运营副总\n"
        "- — a list item that starts with a dash stays\n"
        "A sentence — with a dash inside — stays too."
    )

    assert quotable_units(text) == [
        "“Every batch now has a reason behind it.”",
        "— a list item that starts with a dash stays",
        "A sentence — with a dash inside — stays too.",
    ]


def test_two_sections_with_the_same_heading_keep_every_chunk(tmp_path: Path) -> None:
    # Found by fuzzing: the second "## FAQ" (or a bare "#") reused the first one's chunk ids,
    # so one overwrote the other in the index.
    front = STAGE_FRONT.replace("sg-long", "sg-faq")
    body = "## FAQ\nFirst answer.\n\n## Steps\n- [ ] Step\n\n## FAQ\nSecond answer.\n\n# \nAfter a bare heading.\n"
    chunks = Chunker().split(write_doc(tmp_path, "faq.md", front, body))
    assert len({chunk.id for chunk in chunks}) == len(chunks)
    texts = " ".join(chunk.text for chunk in chunks)
    assert all(part in texts for part in ("First answer.", "Second answer.", "After a bare heading."))
