"""Fixed questions (the router's examples, the baseline's unrelated questions) embedded once per
model and cached beside the index: a process would otherwise encode them on every start."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.files import write_whole
from bot.kb.encoders import EmbedQueries
from bot.kb.models import model_info

log = logging.getLogger(__name__)


def cached_question_vectors(
    texts: Sequence[str], models: Sequence[str], embed: EmbedQueries, *, cache_dir: Path, label: str
) -> dict[str, np.ndarray]:
    """Each model's rows for `texts`, read from the cache while the texts and the models' keys are unchanged."""
    key = hashlib.sha256("\n".join([*(model_info(m).key for m in models), *texts]).encode()).hexdigest()[:16]
    cached = cache_dir / f"{label}-{key}.npz"
    if cached.exists():
        with np.load(cached) as stored:
            return {model: stored[model] for model in models}
    vectors = {model: np.asarray(embed(model, texts), dtype=np.float32) for model in models}
    write_whole(cached, lambda partial: np.savez(partial, **vectors))
    log.info("embedded %d %s into %s", len(texts), label, cached)
    return vectors
