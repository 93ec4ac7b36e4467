"""The benchmark's corpus generator: valid documents the ingest reads, as many chunks as asked,
recombined rather than copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bench.corpus import grow, paragraphs
from bot.kb.chunking import Chunker
from bot.kb.schema import CaseMeta
from bot.kb.sources import SourceDocument, load_corpus
from bot.settings import PROJECT_ROOT

SAMPLE = [PROJECT_ROOT / "playbooks", PROJECT_ROOT / "knowledge"]


def blocks(documents: list[SourceDocument]) -> list[str]:
    return [block for document in documents for _, block in paragraphs(document.body)]


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[SourceDocument], int]:
    out = tmp_path_factory.mktemp("grown") / "corpus"
    result = grow(SAMPLE, out, 400, seed=3)
    corpus = load_corpus(result.sources)
    assert corpus.rejections == []  # every grown document is valid, and so is the glossary
    assert len(corpus.documents) == result.documents
    return corpus.documents, result.chunks


def test_the_grown_corpus_holds_the_chunks_asked_for_by_the_ingests_own_count(
    grown: tuple[list[SourceDocument], int],
) -> None:
    documents, chunks = grown
    counted = sum(len(Chunker().split(document)) for document in documents)
    assert counted == chunks and 400 <= chunks < 400 + max(len(Chunker().split(d)) for d in documents)
    assert {document.meta.kind for document in documents} == {"playbook", "stage_guide", "case"}
    assert {document.meta.lang for document in documents} == {"zh", "en"}


def test_no_paragraph_is_written_twice_or_copied_from_the_sources(grown: tuple[list[SourceDocument], int]) -> None:
    written = blocks(grown[0])
    assert len(written) == len(set(written))
    assert not set(written) & set(blocks(load_corpus(SAMPLE).documents))


def test_cases_get_new_customers_and_figures_that_keep_their_direction(
    grown: tuple[list[SourceDocument], int],
) -> None:
    sources = {d.id: d.meta for d in load_corpus(SAMPLE).documents if isinstance(d.meta, CaseMeta)}
    cases = [d for d in grown[0] if isinstance(d.meta, CaseMeta)]
    assert cases
    redrawn = []
    for case in cases:
        source = sources[case.id.rsplit("-g", 1)[0]]
        assert case.meta.customer != source.customer and source.customer not in case.body
        for before, after in zip(source.metrics, case.meta.metrics):
            assert (after.after > after.before) == (before.after > before.before)
            redrawn.append((after.before, after.after) != (before.before, before.after))
    assert sum(redrawn) >= 0.8 * len(redrawn)  # a scale drawn near 1 may round back to the same integers


def test_the_same_seed_grows_the_same_corpus(tmp_path: Path) -> None:
    first, second = grow(SAMPLE, tmp_path / "a", 60, seed=5), grow(SAMPLE, tmp_path / "b", 60, seed=5)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.md"))
    assert files and first.chunks == second.chunks
    for path in files:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()
