"""Encoded batches kept on disk while an ingest runs, so that a run killed part-way (a deploy, a
restart, the out-of-memory killer) resumes from its last batch: at 100,000 chunks, encoding is hours."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.files import write_whole
from bot.kb.models import model_info
from bot.privacy import private_dir


@dataclass
class EncodedBatches:
    """One file per encoded batch, named by the model and the batch's texts: a rerun over the same
    sources meets the same batches, and a batch whose texts changed is simply encoded again.
    The ingest clears the folder once its snapshot is published."""

    folder: Path
    resumed: int = 0  # texts this run read back instead of encoding

    def encoded(self, model: str, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        path = self.folder / f"{_key(model, texts)}.npy"
        kept = _read(path, len(texts))
        if kept is not None:
            self.resumed += len(texts)
            return kept
        vectors = encode(list(texts))
        private_dir(self.folder)
        # Whole or not at all: a run killed mid-write leaves no half batch to read back.
        write_whole(path, lambda partial: np.save(partial, vectors))
        return vectors

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.resumed = 0


def _key(model: str, texts: Sequence[str]) -> str:
    digest = hashlib.sha256(model_info(model).key.encode("utf-8"))  # another model version: encoded again
    for text in texts:
        digest.update(b"\x00" + text.encode("utf-8"))
    return digest.hexdigest()[:40]


def _read(path: Path, rows: int) -> np.ndarray | None:
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None  # absent, or not a whole array: encoded again
    return vectors if vectors.ndim == 2 and len(vectors) == rows else None
