"""The ingest side's embedding: documents as unit vectors from the packaged models
(`bot.kb.encoders`), served through sentence-transformers for the batches of an ingest."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from bot.kb.encoders import PackagedModel, encode_directly, load_model
from bot.kb.models import model_info

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class Embedder:
    """Documents as unit vectors: the ingest's one way to embed (questions: `encoders.QueryEncoder`).

    `embed_documents` goes through sentence-transformers; `embed_few` hands an edit's few texts to
    the packaged model directly, as answering does a question: importing sentence-transformers (with
    torch and transformers, 4–6 s) would cost more than encoding them. Both give the same vectors."""

    def __init__(self, name: str, threads: int = 2, model: PackagedModel | None = None) -> None:
        self.name, self.threads = name, threads
        self.dimension = model_info(name).dimension
        self.packaged = model or load_model(name, threads)

    @functools.cached_property
    def model(self) -> SentenceTransformer:
        from bot.kb.input_module import sentence_transformer

        return sentence_transformer(self.name, self.threads, self.packaged)

    def embed_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode_document(
            list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True
        )

    def embed_few(self, texts: Sequence[str]) -> np.ndarray:
        return encode_directly(self.packaged, texts, is_query=False)
