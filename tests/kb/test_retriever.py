"""The hybrid search through LangChain's retriever interface."""

from __future__ import annotations

from pathlib import Path

from langchain_core.documents import Document

from bot.kb.retriever import HybridRetriever
from bot.kb.search import Filters, Searcher
from bot.kb.store import open_snapshot


def test_retriever_returns_passages_of_the_best_documents(sample_data_dir: Path, embedders: dict) -> None:
    searcher = Searcher(open_snapshot(sample_data_dir), embedders)
    retriever = HybridRetriever(searcher=searcher, k=3, passages_per_document=2)
    docs = retriever.invoke("火锅 食材成本 损耗 BOM")
    assert docs and all(isinstance(d, Document) for d in docs)
    assert docs[0].metadata["doc_id"] == "pb-hotpot-food-cost"
    assert len({d.metadata["doc_id"] for d in docs}) <= 3
    chunk_text = {c.id: c.text for c in searcher.snapshot.chunks}
    assert all(d.page_content == chunk_text[d.metadata["chunk_id"]] for d in docs)


def test_retriever_applies_filters(sample_data_dir: Path, embedders: dict) -> None:
    searcher = Searcher(open_snapshot(sample_data_dir), embedders)
    retriever = HybridRetriever(searcher=searcher, filters=Filters(kind="case"), k=5)
    docs = retriever.invoke("food cost hotpot")
    assert docs and {d.metadata["kind"] for d in docs} == {"case"}
