"""`python -m bot bench` end to end at a tiny size: real ingests and answers, each phase in its own process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.bench.results import markdown
from bot.bench.run import Phase, Queries, SizeResult, fresh_data, questions
from bot.cli import EXIT_USAGE, main


@pytest.mark.slow
def test_bench_times_every_phase_and_writes_the_table_targets_and_plot(tmp_path: Path) -> None:
    assert main(["bench", "--sizes", "30", "--rounds", "1", "--out", str(tmp_path)]) == 0

    [result] = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert result["full"]["chunks"] >= 30 and result["full"]["embedded"] == result["full"]["chunks"]
    assert result["full"]["resumed"] == 0  # nothing left by an earlier run: a full ingest's rate
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


def test_resuming_keeps_only_what_an_interrupted_run_encoded(tmp_path: Path) -> None:
    for name in ("encoded/batch.npy", "snapshots/one/manifest.json", "staging-two/chroma/x", "CURRENT"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    fresh_data(tmp_path, resume=True)
    assert [path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*")] == ["encoded", "encoded/batch.npy"]
    fresh_data(tmp_path, resume=False)
    assert list(tmp_path.iterdir()) == []


def test_a_resumed_ingest_reports_no_rate_and_checks_no_rate_target() -> None:
    def phase(resumed: int) -> Phase:
        return Phase(
            seconds=100, encode_seconds=90, load_seconds=2, embedded=500, chunks=500, peak_rss_mb=900, resumed=resumed
        )

    queries = Queries(
        startup_seconds=3.0, latency_ms={k: [40.0] for k in ("lexical", "dense", "hybrid", "answer")}, peak_rss_mb=600
    )
    timed, resumed = (
        markdown([SizeResult(500, 40, phase(n), phase(0), phase(0), 30.0, queries, queries)]) for n in (0, 320)
    )
    assert "| 500 | 40 | 100.0 | 5.0 | 5.6 | 1.11 |" in timed and "full ingest rate" in timed
    assert "| 500 | 40 | 100.0 | resumed (320 texts) | resumed (320 texts) | resumed (320 texts) |" in resumed
    assert "full ingest rate" not in resumed and "extractive answer p95" in resumed
