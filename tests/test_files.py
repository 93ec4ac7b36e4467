"""Cache files written by several replicas at once (threads here, as in one process serving)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bot.files import write_whole


def test_writers_of_one_file_at_once_each_finish_and_leave_one_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "baseline-x.json"
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        def write(partial: Path) -> None:
            partial.write_text(f"{n}" * 1000, encoding="utf-8")
            time.sleep(0.01)  # each holds its half-written file while the others write theirs

        try:
            start.wait()
            write_whole(path, write)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    text = path.read_text(encoding="utf-8")
    assert len(text) == 1000 and len(set(text)) == 1
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_a_failed_write_leaves_the_previous_file_and_no_temporary_one(tmp_path: Path) -> None:
    path = tmp_path / "intent-examples.npz"
    path.write_bytes(b"previous")

    def fail(partial: Path) -> None:
        partial.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_whole(path, fail)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
