"""The hybrid search as a LangChain retriever, so it plugs into LangChain chains."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.kb.search import Filters, Mode, Searcher


class HybridRetriever(BaseRetriever):
    """Best passages of the best documents, as LangChain Documents with their citation metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Searcher
    filters: Filters = Filters()
    mode: Mode = "hybrid"
    k: int = 10
    passages_per_document: int = 2

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        result = self.searcher.search(query, self.filters, mode=self.mode, k=self.k)
        documents: list[Document] = []
        for rank, doc in enumerate(result.docs, start=1):
            for hit in doc.chunks[: self.passages_per_document]:
                metadata: dict[str, Any] = {
                    "doc_id": doc.doc_id,
                    "chunk_id": hit.chunk.id,
                    "title": hit.chunk.title,
                    "section": hit.chunk.section,
                    "kind": hit.chunk.kind,
                    "lang": hit.chunk.lang,
                    "doc_rank": rank,
                    "doc_score": doc.score,
                    "score": hit.score,
                }
                documents.append(Document(page_content=hit.chunk.text, metadata=metadata, id=hit.chunk.id))
        return documents
