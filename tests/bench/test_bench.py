"""`python -m bot bench` end to end at a tiny size: real ingests and answers, each phase in its own process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.bench.run import questions
from bot.cli import EXIT_USAGE, main


@pytest.mark.slow
def test_bench_times_every_phase_and_writes_the_table_targets_and_plot(tmp_path: Path) -> None:
    assert main(["bench", "--sizes", "30", "--rounds", "1", "--out", str(tmp_path)]) == 0

    [result] = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert result["full"]["chunks"] >= 30 and result["full"]["embedded"] == result["full"]["chunks"]
    assert 0 < result["full"]["encode_seconds"] < result["full"]["seconds"]
    assert result["noop"]["embedded"] == 0 and result["noop"]["load_seconds"] == 0  # nothing to embed: no model
    assert 0 < result["edit"]["embedded"] < result["full"]["chunks"]  # one document's chunks, not the corpus
    for kind in ("lexical", "dense", "hybrid", "answer"):
        assert len(result["queries"]["latency_ms"][kind]) == len(questions())
        assert len(result["loaded"]["latency_ms"][kind]) == len(questions())  # timed while an ingest ran
    assert result["queries"]["startup_seconds"] > 0 and result["disk_mb"] > 0

    report = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert f"| {result['full']['chunks']:,} | {result['documents']} |" in report
    assert f"| {result['full']['chunks']:,} while an ingest runs | " in report
    for target in ("full ingest rate", "no-op re-ingest", "extractive answer p95", "start-up to first answer"):
        assert any(line.startswith(("- met: ", "- MISSED: ")) and target in line for line in report.splitlines())
    assert (tmp_path / "bench.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("sizes", ["ten", "0", ","])
def test_bench_refuses_sizes_that_are_not_chunk_counts(
    sizes: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "--sizes", sizes, "--out", str(tmp_path)]) == EXIT_USAGE
    assert capsys.readouterr().err.strip().startswith("error: --sizes must be")
