"""The benchmark's run: grow a corpus to each size, then time a full ingest, a no-op re-ingest,
a one-document edit and the answer path over it, alone and while another ingest runs, each phase
in a fresh process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from bot.bench.corpus import Grower, grow
from bot.kb.ingest import ENCODED_DIR
from bot.kb.store import DataDir


class BenchError(RuntimeError):
    """A benchmark phase failed."""


@dataclass(frozen=True)
class Phase:
    """One ingest: wall time of the run, the models' own encode time within it, peak memory."""

    seconds: float
    encode_seconds: float
    load_seconds: float  # importing and loading the models, when anything needed embedding
    embedded: int
    chunks: int
    peak_rss_mb: float
    resumed: int = 0  # texts an interrupted earlier run had encoded: this run's rates are not a full ingest's


@dataclass(frozen=True)
class Queries:
    startup_seconds: float
    latency_ms: dict[str, list[float]]
    peak_rss_mb: float


@dataclass(frozen=True)
class SizeResult:
    target: int
    documents: int
    full: Phase
    noop: Phase
    edit: Phase
    disk_mb: float
    queries: Queries
    loaded: Queries  # the same questions while a full ingest of the sample shares the cores


def questions() -> list[str]:
    return list(yaml.safe_load(files("bot.bench").joinpath("questions.yaml").read_text(encoding="utf-8")))


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.bench.worker", *args]


def worker(*args: str) -> dict[str, Any]:
    command = worker_command(*args)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise BenchError(f"the {args[0]} phase failed: {last}")
    return json.loads(done.stdout)


def ingest(data: Path, sources: list[Path]) -> Phase:
    return Phase(**worker("ingest", "--data-dir", str(data), *map(str, sources)))


def edit_one(sources: list[Path], seed: int) -> Path:
    """Rewrite the numbers of one document in the middle of the corpus, as an owner's correction does."""
    paths = sorted(path for root in sources for path in root.rglob("*.md"))
    path = paths[len(paths) // 2]
    front, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
    path.write_text(f"{front}\n---\n{Grower([], seed + 1).vary_numbers(body)}", encoding="utf-8")
    return path


def disk_mb(data: Path) -> float:
    current = DataDir(data).current_path()
    if current is None:
        raise BenchError(f"no snapshot in {data}")
    return sum(path.stat().st_size for path in current.rglob("*") if path.is_file()) / 2**20


def run_queries(data: Path, work: Path, rounds: int) -> Queries:
    asked = work / "questions.json"
    asked.write_text(json.dumps(questions(), ensure_ascii=False), encoding="utf-8")
    spawned = time.time()
    phase = ["query", "--data-dir", str(data), "--questions", str(asked), "--rounds", str(rounds)]
    return Queries(**worker(*phase, "--spawned", str(spawned)))


def run_queries_under_load(data: Path, work: Path, rounds: int, sample: list[Path]) -> Queries:
    """The answer path while another process ingests the sample from scratch, as when an owner
    publishes during the working day and the two share the machine's cores."""
    scratch = work / "load-data"
    shutil.rmtree(scratch, ignore_errors=True)
    command = worker_command("ingest", "--data-dir", str(scratch), *map(str, sample))
    load = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        queries = run_queries(data, work, rounds)
        if load.poll() is not None:
            raise BenchError("the ingest meant to share the cores ended before the answers were timed")
    finally:
        load.terminate()
        load.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    return queries


def fresh_data(data: Path, *, resume: bool) -> None:
    """Remove the index a previous run left; with `resume`, keep the batches an interrupted run encoded."""
    kept = [data / ENCODED_DIR] if resume else []
    for path in data.iterdir() if data.is_dir() else ():
        if path in kept:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def bench_size(
    templates: list[Path], work: Path, size: int, *, seed: int, rounds: int, resume: bool = False
) -> SizeResult:
    grown = grow(templates, work / "sources", size, seed=seed)
    data = work / "data"
    fresh_data(data, resume=resume)
    full = ingest(data, grown.sources)
    noop = ingest(data, grown.sources)
    edit_one(grown.sources, seed)
    edit = ingest(data, grown.sources)
    queries = run_queries(data, work, rounds)
    loaded = run_queries_under_load(data, work, rounds, templates)
    return SizeResult(size, grown.documents, full, noop, edit, disk_mb(data), queries, loaded)
