"""The labelled example questions the router classifies by: a YAML file of intents, each with
examples per language, embedded once per model and cached beside the index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, RootModel

from bot.answers.question_vectors import cached_question_vectors
from bot.answers.request import BANK_INTENTS
from bot.kb.encoders import EmbedQueries
from bot.kb.yamlfile import read_model

NEIGHBOURS = 5  # an intent's score is the mean similarity of its closest examples


class BankError(ValueError):
    """The example file cannot be used; the message names the file and what is wrong."""


class _Examples(BaseModel):
    model_config = ConfigDict(extra="forbid")

    en: list[str] = Field(default_factory=list)
    zh: list[str] = Field(default_factory=list)


class _Bank(RootModel[dict[str, _Examples]]):
    pass


@dataclass(frozen=True)
class IntentBank:
    intents: tuple[str, ...]  # the intent of each example, row by row
    vectors: Mapping[str, np.ndarray]  # per model: one unit-normalised row per example

    def scores(self, question: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Each intent's closeness to the question: the mean similarity of its NEIGHBOURS closest
        examples, averaged over the models."""
        labels = np.array(self.intents)
        out = dict.fromkeys(dict.fromkeys(self.intents), 0.0)
        for model, rows in self.vectors.items():
            similarity = rows @ np.asarray(question[model], dtype=np.float32)
            for intent in out:
                closest = np.sort(similarity[labels == intent])[-NEIGHBOURS:]
                out[intent] += float(closest.mean()) / len(self.vectors)
        return out


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, example) pairs, refused with the file and the reason when the file is not usable."""
    bank = read_model(path, _Bank, BankError, "the intent examples").root
    unknown = sorted(set(bank) - set(BANK_INTENTS))
    if unknown:
        raise BankError(f"{path}: unknown intent {unknown[0]!r} (expected one of {', '.join(BANK_INTENTS)})")
    pairs = [
        (intent, t.strip()) for intent, examples in bank.items() for t in (*examples.en, *examples.zh) if t.strip()
    ]
    # Every intent needs examples: one without any could never be chosen.
    missing = [intent for intent in BANK_INTENTS if not any(i == intent for i, _ in pairs)]
    if missing:
        raise BankError(f"{path}: {missing[0]}: no examples")
    return pairs


def load_bank(path: Path, models: Sequence[str], embed: EmbedQueries, cache_dir: Path) -> IntentBank:
    """The bank with its vectors: read from the cache when the file and the models are unchanged."""
    pairs = read_examples(path)
    texts = [text for _, text in pairs]
    vectors = cached_question_vectors(texts, models, embed, cache_dir=cache_dir, label="intent-examples")
    return IntentBank(tuple(intent for intent, _ in pairs), vectors)
