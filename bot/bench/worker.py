"""One benchmark phase in a process of its own, so that its start-up and peak memory are its own:
`python -m bot.bench.worker ingest|query ...` prints one JSON object on stdout."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class TimedEmbedder:
    """An embedder that adds up the time its model spends encoding documents."""

    def __init__(self, embedder: Any, clock: dict[str, float]) -> None:
        self._embedder, self._clock = embedder, clock
        self.dimension = embedder.dimension

    def embed_documents(self, texts: Sequence[str]) -> Any:
        started = time.perf_counter()
        _ = self._embedder.model  # sentence-transformers, imported for the first batch: part of the load
        self._clock["load"] += time.perf_counter() - started
        return self._timed(self._embedder.embed_documents, texts)

    def embed_few(self, texts: Sequence[str]) -> Any:
        return self._timed(self._embedder.embed_few, texts)

    def _timed(self, embed: Callable[[Sequence[str]], Any], texts: Sequence[str]) -> Any:
        started = time.perf_counter()
        try:
            return embed(texts)
        finally:
            self._clock["encode"] += time.perf_counter() - started


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ingest(data_dir: Path, sources: list[Path]) -> dict[str, Any]:
    from bot.kb.ingest import Ingestor, load_embedder
    from bot.settings import load_settings

    settings = load_settings(data_dir=data_dir)
    clock = {"encode": 0.0, "load": 0.0}

    def load(name: str) -> TimedEmbedder:
        started = time.perf_counter()  # the import of the model stack counts: the first load pays it
        embedder = load_embedder(name, settings.embedding_threads)
        clock["load"] += time.perf_counter() - started
        return TimedEmbedder(embedder, clock)

    report = Ingestor.from_settings(settings, load).run(sources)
    if not report.ok:
        raise SystemExit(f"bench ingest failed: {report.aborted or report.rejections[0]}")
    return {
        "seconds": report.seconds,
        "encode_seconds": clock["encode"],
        "load_seconds": clock["load"],
        "embedded": report.added + report.updated,
        "chunks": report.added + report.updated + report.skipped,
        "peak_rss_mb": peak_rss_mb(),
        "resumed": report.resumed,
    }


def timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def query(data_dir: Path, questions: list[str], *, rounds: int, spawned: float) -> dict[str, Any]:
    from bot.answers.engine import Engine
    from bot.kb.filters import Filters
    from bot.kb.search import MODES
    from bot.settings import load_settings

    engine = Engine(load_settings(data_dir=data_dir))
    engine.ask(questions[0])
    startup = time.time() - spawned  # from the parent's spawn: the interpreter's own start counts
    for question in questions:  # warm-up: what loads lazily loads now
        engine.ask(question)
    index, filters = engine.index, Filters()
    latencies: dict[str, list[float]] = {kind: [] for kind in (*MODES, "answer")}
    for _ in range(rounds):
        for question in questions:
            for mode in MODES:
                index.clear_cache()  # every search embeds its question, as a new question does
                latencies[mode].append(timed(lambda q=question, m=mode: index.search(q, filters, mode=m)))
            index.clear_cache()
            latencies["answer"].append(timed(lambda q=question: engine.ask(q)))
    return {"startup_seconds": startup, "latency_ms": latencies, "peak_rss_mb": peak_rss_mb()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench.worker")
    sub = parser.add_subparsers(dest="phase", required=True)
    run_ingest = sub.add_parser("ingest")
    run_ingest.add_argument("--data-dir", type=Path, required=True)
    run_ingest.add_argument("sources", nargs="+", type=Path)
    run_query = sub.add_parser("query")
    run_query.add_argument("--data-dir", type=Path, required=True)
    run_query.add_argument("--questions", type=Path, required=True, help="a JSON list of questions")
    run_query.add_argument("--rounds", type=int, default=3)
    run_query.add_argument("--spawned", type=float, required=True, help="the epoch time the process was started")
    args = parser.parse_args(argv)
    if args.phase == "ingest":
        result = ingest(args.data_dir, args.sources)
    else:
        questions = json.loads(args.questions.read_text(encoding="utf-8"))
        result = query(args.data_dir, questions, rounds=args.rounds, spawned=args.spawned)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
