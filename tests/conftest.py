"""Heavy shared things, built once per test session: the real embedding models
and a real index (Chroma + BM25) of the sample corpus."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# The intent examples' vectors are embedded once for every engine of the session, subprocesses included.
os.environ.setdefault("VALUERELAY_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache"))

from chroma_server import ChromaServer, NoChroma  # noqa: E402
from own_sample import OwnSample  # noqa: E402
from postgres import NoPostgres, PostgresServer  # noqa: E402
from traffic import GAP_QUESTIONS, record_traffic  # noqa: E402

from bot.answers.engine import Engine  # noqa: E402
from bot.kb.embeddings import Embedder  # noqa: E402
from bot.kb.encoders import PackagedModel, QueryEncoder, load_model  # noqa: E402
from bot.kb.ingest import Ingestor  # noqa: E402
from bot.kb.store import Snapshot  # noqa: E402
from bot.records import Records, sqlite_url  # noqa: E402
from bot.report import owned_documents  # noqa: E402
from bot.report.build import OwnedDocuments, build_report  # noqa: E402
from bot.report.model import Report  # noqa: E402
from bot.settings import PROJECT_ROOT, Settings, load_settings  # noqa: E402

SAMPLE_SOURCES = [PROJECT_ROOT / "playbooks", PROJECT_ROOT / "knowledge"]
# A fixed "today" keeps staleness assertions independent of the calendar.
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def packaged_models() -> dict[str, PackagedModel]:
    """Each model loaded once, shared by the ingest side's and the answering side's encoders."""
    return {name: load_model(name, threads=2) for name in load_settings().embedding_models}


@pytest.fixture(scope="session")
def embedders(packaged_models: dict[str, PackagedModel]) -> dict[str, Embedder]:
    """The ingest side: documents through sentence-transformers."""
    return {name: Embedder(name, model=model) for name, model in packaged_models.items()}


@pytest.fixture(scope="session")
def query_encoders(packaged_models: dict[str, PackagedModel]) -> dict[str, QueryEncoder]:
    """The answering side: questions, encoded as the engine encodes them."""
    return {name: QueryEncoder(model) for name, model in packaged_models.items()}


@pytest.fixture(scope="session")
def embedder_factory(embedders: dict[str, Embedder]) -> Callable[[str], Embedder]:
    return lambda name: embedders[name]


@pytest.fixture(scope="session")
def embedder_loader(query_encoders: dict[str, QueryEncoder]) -> Callable[[Sequence[str], int], dict[str, Any]]:
    return lambda names, threads: {name: query_encoders[name] for name in names}


@pytest.fixture
def make_ingestor(embedder_factory: Callable[[str], Embedder]) -> Callable[..., Ingestor]:
    """An Ingestor on the real models, for a data dir of the test's own."""

    def make(data_dir: Path, **kwargs: Any) -> Ingestor:
        return Ingestor(data_dir, load_settings().embedding_models, embedder_factory=embedder_factory, **kwargs)

    return make


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory: pytest.TempPathFactory, embedder_factory: Callable[[str], Embedder]) -> Path:
    data_dir = tmp_path_factory.mktemp("sample-index")
    # `make test` has just built an index of the sample corpus for the eval: start from a
    # copy of it, so the ingest below only confirms it is current (or updates it).
    seed = os.environ.get("VALUERELAY_TEST_SEED_INDEX")
    if seed and (Path(seed) / "CURRENT").exists():
        shutil.copytree(
            seed, data_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("ingest.lock", "records.sqlite3", "eval")
        )
    report = Ingestor(data_dir, load_settings().embedding_models, embedder_factory=embedder_factory).run(SAMPLE_SOURCES)
    assert report.ok, [str(r) for r in report.rejections]
    return data_dir


@pytest.fixture(scope="session")
def settings(sample_data_dir: Path) -> Settings:
    return load_settings(data_dir=sample_data_dir)


@pytest.fixture(scope="session")
def engine(settings: Settings, embedder_loader: Callable[..., dict[str, Any]]) -> Engine:
    return Engine(settings, embedder_loader=embedder_loader)


@pytest.fixture
def records(tmp_path: Path) -> Records:
    """A records database of the test's own (SQLite)."""
    return Records(sqlite_url(tmp_path / "records"))


class Stoppable(Protocol):
    def stop(self) -> None: ...


Server = TypeVar("Server", bound=Stoppable)


def served(
    prefix: str, start: Callable[[Path], Server], cannot: type[Exception], give_up: Callable[[str], object]
) -> Iterator[Server]:
    """A server in a temporary folder of its own, stopped and removed after; `give_up` (pytest's
    skip or fail) says what `cannot` starting it means."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        server = start(folder)
    except cannot as why:
        shutil.rmtree(folder, ignore_errors=True)
        give_up(str(why))
        raise
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on 127.0.0.1 for the session; each test asks it for a database."""
    yield from served(
        "valuerelay-pg-",
        PostgresServer.start,
        NoPostgres,
        lambda why: pytest.skip(f"PostgreSQL cannot start here: {why}"),
    )


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[ChromaServer]:
    """A real Chroma server on 127.0.0.1 for the session (`chroma run` from the pinned chromadb);
    tests keep apart by collection prefix. It ships with chromadb, so failing to start is a failure."""
    yield from served(
        "valuerelay-chroma-",
        ChromaServer.start,
        NoChroma,
        lambda why: pytest.fail(f"the Chroma server did not start: {why}"),
    )


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample corpus, for tests that edit documents."""
    root = tmp_path / "corpus"
    for source in SAMPLE_SOURCES:
        shutil.copytree(source, root / source.name)
    return root


@pytest.fixture
def own_sample(
    tmp_path: Path, sample_data_dir: Path, corpus_copy: Path, make_ingestor: Callable[..., Ingestor]
) -> OwnSample:
    data = tmp_path / "data"
    shutil.copytree(sample_data_dir, data, ignore=shutil.ignore_patterns("records.sqlite3", "*.lock"))
    settings = load_settings(data_dir=data)
    return OwnSample(settings, corpus_copy, make_ingestor(data, cache_dir=settings.cache_path))


@pytest.fixture
def openings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(snapshot, thread name) of every snapshot opened during the test."""
    opened: list[tuple[str, str]] = []
    real_init = Snapshot.__init__

    def recording(self: Snapshot, path: Path, *args: Any, **kwargs: Any) -> None:
        opened.append((path.name, threading.current_thread().name))
        real_init(self, path, *args, **kwargs)

    monkeypatch.setattr(Snapshot, "__init__", recording)
    return opened


# --- recorded sample traffic, for the owners' report and the digest ------------------------


@pytest.fixture(scope="session")
def gap_questions() -> dict[str, list[str]]:
    """Questions the sample corpus does not answer, grouped by what they mean."""
    return yaml.safe_load(GAP_QUESTIONS.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def traffic(engine: Engine, gap_questions: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Records:
    records = Records(sqlite_url(tmp_path_factory.mktemp("traffic")))
    record_traffic(engine, records, gap_questions)
    return records


@pytest.fixture(scope="session")
def owned() -> OwnedDocuments:
    return owned_documents(SAMPLE_SOURCES)


@pytest.fixture(scope="session")
def report(traffic: Records, owned: OwnedDocuments, engine: Engine) -> Report:
    index = engine.index
    return build_report(traffic, owned, days=7, models=index.models, embed=index.embed_queries)
