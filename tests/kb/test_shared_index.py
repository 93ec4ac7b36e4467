"""Chroma server mode: a real `chroma run` server and a real PostgreSQL, an ingest publishing into them,
and bot replicas (each with a data dir of its own) answering from them while a new snapshot lands."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chromadb
import psycopg
import pytest
from chroma_server import ChromaServer, free_port
from pydantic import SecretStr

from bot.answers.engine import Engine
from bot.kb.embeddings import Embedder
from bot.kb.filters import Filters
from bot.kb.index import KnowledgeIndex
from bot.kb.ingest import IngestError, Ingestor, IngestReport
from bot.kb.shared import SharedSnapshots
from bot.kb.store import MANIFEST_FILE, IndexMissing, read_json
from bot.kb.vectors import CHROMA_DIR, IndexUnreachable, ServerVectors, chroma_settings
from bot.settings import PROJECT_ROOT, Settings, load_settings

DOCUMENTS = [
    "playbooks/pb-hotpot-food-cost.md",
    "knowledge/cases/case-shuyu-hotpot.md",
    "knowledge/stages/sg-go-live.md",
]
ADDED = "knowledge/cases/case-chayu-tea.md"  # the document a later publish brings
QUESTIONS = ["go-live checklist", "how do hotpot chains cut food cost?", "火锅门店食材成本怎么降", "thanks!"]


@dataclass
class Shared:
    """One shared index: the corpus folder, and settings for any replica's own data dir."""

    corpus: Path
    server: ChromaServer
    database_url: str
    prefix: str
    root: Path
    first: IngestReport = field(init=False)

    def settings(self, replica: str) -> Settings:
        return load_settings(
            data_dir=self.root / replica,
            chroma_host="127.0.0.1",
            chroma_port=self.server.port,
            chroma_collection_prefix=self.prefix,
            database_url=self.database_url,
        )

    def client(self) -> Any:
        return chromadb.HttpClient(host="127.0.0.1", port=self.server.port, settings=chroma_settings())

    def collections(self) -> set[str]:
        return {c.name for c in self.client().list_collections() if c.name.startswith(f"{self.prefix}-")}

    def ingest(self, factory: Callable[[str], Any], replica: str = "ingester") -> IngestReport:
        return Ingestor.from_settings(self.settings(replica), embedder_factory=factory).run([self.corpus])


def copy_documents(target: Path, paths: Sequence[str]) -> None:
    for path in paths:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / path, target / path)


@pytest.fixture
def shared(
    tmp_path: Path, chroma_server: ChromaServer, postgres: Any, embedder_factory: Callable[[str], Embedder]
) -> Shared:
    """Three sample documents ingested into the Chroma server and a fresh PostgreSQL database."""
    copy_documents(tmp_path / "corpus", DOCUMENTS)
    index = Shared(tmp_path / "corpus", chroma_server, postgres.database(), f"t{uuid.uuid4().hex[:8]}", tmp_path)
    index.first = index.ingest(embedder_factory)
    assert index.first.ok and index.first.changed, [str(r) for r in index.first.rejections]
    return index


def expected_collections(shared: Shared, snapshot: str) -> set[str]:
    return {f"{shared.prefix}-{model}-{snapshot}" for model in load_settings().embedding_models}


def test_a_publish_puts_vectors_in_the_server_and_the_rest_in_the_database(shared: Shared) -> None:
    name = shared.first.snapshot
    assert SharedSnapshots(shared.database_url).current() == name
    assert shared.collections() == expected_collections(shared, name)
    manifest = read_json(shared.root / "ingester" / "snapshots" / name / MANIFEST_FILE)
    chunks = sum(len(info["chunk_ids"]) for info in manifest["documents"].values())
    counts = {c.name: c.count() for c in shared.client().list_collections() if c.name.startswith(shared.prefix)}
    assert set(counts.values()) == {chunks}
    assert not (shared.root / "ingester" / "snapshots" / name / CHROMA_DIR).exists()  # no vectors on local disk


def test_a_new_replica_loads_the_shared_snapshot_into_its_own_data_dir(
    shared: Shared, embedder_loader: Callable[..., dict[str, Any]]
) -> None:
    engine = Engine(shared.settings("replica"), embedder_loader=embedder_loader)
    assert engine.index.snapshot.name == shared.first.snapshot
    assert (shared.root / "replica" / "snapshots" / shared.first.snapshot / MANIFEST_FILE).is_file()
    answer = engine.ask("go-live checklist")
    assert answer.status == "answered"
    assert answer.sources[0].doc_id == "sg-go-live"


@dataclass
class Replica:
    """A bot replica answering in a loop, as Slack traffic would keep it busy."""

    engine: Engine
    seen: list[tuple[str, str]] = field(default_factory=list)  # (snapshot, status) per answer
    errors: list[BaseException] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        turn = 0
        while not stop.is_set():
            try:
                self.engine.refresh()
                answer = self.engine.ask(QUESTIONS[turn % len(QUESTIONS)])
                self.seen.append((self.engine.index.snapshot.name, answer.status))
            except Exception as error:  # noqa: BLE001 - every failure is the finding
                self.errors.append(error)
                return
            turn += 1


@pytest.fixture
def replicas(shared: Shared, embedder_loader: Callable[..., dict[str, Any]]) -> Iterator[list[Replica]]:
    engines = [Engine(shared.settings(name), embedder_loader=embedder_loader) for name in ("a", "b")]
    running = [Replica(engine) for engine in engines]
    stop = threading.Event()
    threads = [threading.Thread(target=replica.run, args=(stop,)) for replica in running]
    for thread in threads:
        thread.start()
    yield running
    stop.set()
    for thread in threads:
        thread.join(timeout=120)


def wait_for(condition: Callable[[], bool], timeout: float = 180) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.2)
    return condition()


def test_two_replicas_keep_answering_while_a_new_snapshot_is_published(
    shared: Shared, replicas: list[Replica], embedder_factory: Callable[[str], Embedder]
) -> None:
    assert wait_for(lambda: all(replica.seen for replica in replicas))
    copy_documents(shared.corpus, [ADDED])
    second = shared.ingest(embedder_factory)
    assert second.changed and second.added and not second.updated

    assert wait_for(
        lambda: all(r.seen and r.seen[-1][0] == second.snapshot for r in replicas) or any(r.errors for r in replicas)
    )
    for replica in replicas:
        assert not replica.errors, replica.errors
        names = [name for name, _ in replica.seen]
        assert names[0] == shared.first.snapshot and names[-1] == second.snapshot
        assert names == sorted(names)  # a replica moves forward once, never back
        assert all(status in ("answered", "closest", "declined") for _, status in replica.seen)
        cached = replica.engine.settings.data_dir / "snapshots"
        assert [path.name for path in cached.iterdir()] == [second.snapshot]  # the older copy was let go
        found = replica.engine.ask("茶饮连锁的会员复购提升了多少？")
        assert "case-chayu-tea" in [source.doc_id for source in found.sources]


def test_snapshots_past_the_kept_number_leave_the_server_and_the_database(
    shared: Shared, embedder_factory: Callable[[str], Embedder]
) -> None:
    names = [shared.first.snapshot]
    for version in (1, 2):
        path = shared.corpus / DOCUMENTS[0]
        path.write_text(path.read_text(encoding="utf-8") + f"\nRevision note {version}.\n", encoding="utf-8")
        report = shared.ingest(embedder_factory)
        assert report.changed and report.updated
        names.append(report.snapshot)
    kept = names[-2:]  # snapshots_to_keep: 2
    assert SharedSnapshots(shared.database_url).published() == kept
    assert shared.collections() == set().union(*(expected_collections(shared, name) for name in kept))
    assert sorted(p.name for p in (shared.root / "ingester" / "snapshots").iterdir()) == kept


class Crashing:
    """The real embedder that crashes on its first call, as a model failing mid-ingest would."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner

    def embed_documents(self, texts: Sequence[str], batch_size: int = 32) -> Any:
        raise RuntimeError("embedding model crashed")

    def embed_few(self, texts: Sequence[str]) -> Any:
        raise RuntimeError("embedding model crashed")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failed_ingest_leaves_the_shared_snapshot_serving_and_nothing_behind(
    shared: Shared, embedders: dict[str, Embedder]
) -> None:
    copy_documents(shared.corpus, [ADDED])
    with pytest.raises(RuntimeError, match="embedding model crashed"):
        shared.ingest(lambda name: Crashing(embedders[name]))
    snapshots = SharedSnapshots(shared.database_url)
    assert snapshots.current() == shared.first.snapshot
    assert snapshots.unfinished() == [] and snapshots.published() == [shared.first.snapshot]
    assert shared.collections() == expected_collections(shared, shared.first.snapshot)


def test_a_second_ingest_machine_is_refused_while_one_publishes(
    shared: Shared, embedder_factory: Callable[[str], Embedder]
) -> None:
    copy_documents(shared.corpus, [ADDED])
    with SharedSnapshots(shared.database_url).lock() as held:
        assert held
        with pytest.raises(IngestError, match="another ingest is publishing to the shared index"):
            shared.ingest(embedder_factory, replica="second-machine")
    assert SharedSnapshots(shared.database_url).current() == shared.first.snapshot


def run_ingest(shared: Shared, data_dir: Path, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "ingest.py"), str(shared.corpus), "--data-dir", str(data_dir)],
        env={
            "VALUERELAY_CHROMA_HOST": "127.0.0.1",
            "VALUERELAY_CHROMA_PORT": str(port),
            "VALUERELAY_CHROMA_COLLECTION_PREFIX": shared.prefix,
            "VALUERELAY_DATABASE_URL": shared.database_url,
            "HF_HUB_OFFLINE": "1",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_an_ingest_from_another_machine_finds_the_shared_index_current(shared: Shared, tmp_path: Path) -> None:
    done = run_ingest(shared, tmp_path / "elsewhere", shared.server.port)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        f"index: unchanged, still serving snapshot {shared.first.snapshot} in Chroma server 127.0.0.1:{shared.server.port}"
    )


def test_an_unreachable_chroma_server_is_a_one_line_ingest_error(shared: Shared, tmp_path: Path) -> None:
    port = free_port()
    done = run_ingest(shared, tmp_path / "d", port)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"ingest failed: Chroma server 127.0.0.1:{port}: Could not connect to a Chroma server. "
        "Are you sure it is running?"
    ]


class Recording(http.server.BaseHTTPRequestHandler):
    headers_seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        Recording.headers_seen.append(dict(self.headers))
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": "Unauthorized", "message": "bad token"}')

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.mark.parametrize(("header", "expected"), [("Authorization", "Bearer s3cret"), ("X-Chroma-Token", "s3cret")])
def test_the_token_goes_in_the_header_the_server_expects(tmp_path: Path, header: str, expected: str) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Recording.headers_seen.clear()
    settings = load_settings(
        data_dir=tmp_path,
        chroma_host="127.0.0.1",
        chroma_port=server.server_address[1],
        chroma_token=SecretStr("s3cret"),
        chroma_token_header=header,
    )
    try:
        with pytest.raises(IndexUnreachable, match=f"Chroma server 127.0.0.1:{server.server_address[1]}"):
            ServerVectors.from_settings(settings)
    finally:
        server.shutdown()
    assert Recording.headers_seen
    assert {seen.get(header) for seen in Recording.headers_seen} == {expected}


def test_a_replica_started_before_the_first_ingest_says_to_run_it(
    tmp_path: Path, chroma_server: ChromaServer, postgres: Any, embedder_loader: Callable[..., dict[str, Any]]
) -> None:
    settings = load_settings(
        data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=chroma_server.port, database_url=postgres.database()
    )
    with pytest.raises(IndexMissing, match="run `python ingest.py` first"):
        KnowledgeIndex(settings, loader=embedder_loader)


def test_a_replica_whose_chroma_server_stops_says_so_to_health_checks(
    tmp_path: Path,
    postgres: Any,
    embedder_factory: Callable[[str], Embedder],
    embedder_loader: Callable[..., dict[str, Any]],
) -> None:
    (tmp_path / "chroma").mkdir()
    server = ChromaServer.start(tmp_path / "chroma")  # its own server, to stop
    try:
        copy_documents(tmp_path / "corpus", DOCUMENTS[:1])
        index = Shared(tmp_path / "corpus", server, postgres.database(), "health", tmp_path)
        assert index.ingest(embedder_factory).ok
        knowledge = KnowledgeIndex(index.settings("replica"), loader=embedder_loader)
        assert knowledge.unreachable() is None
    finally:
        server.stop()
    assert knowledge.unreachable().startswith(f"Chroma server 127.0.0.1:{server.port}: ")


def test_a_replica_keeps_serving_its_snapshot_while_the_database_is_down(
    shared: Shared, postgres: Any, embedder_loader: Callable[..., dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    knowledge = KnowledgeIndex(shared.settings("replica"), loader=embedder_loader)
    database = shared.database_url.rsplit("/", 1)[1]
    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=valuerelay dbname=postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    assert knowledge.refresh() is False
    assert knowledge.prepare() is False and knowledge.refresh() is False
    assert caplog.text.count("cannot check for a newer index snapshot") == 1  # once per outage, not per check
    assert knowledge.snapshot.name == shared.first.snapshot
    assert knowledge.search("go-live checklist", Filters()).docs[0].doc_id == "sg-go-live"
