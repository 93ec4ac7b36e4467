"""What users asked and how it went, for the content owners: every answer shown with its sources,
the votes on it, the checklist items a team ticked in a thread, the Slack events already handled.
SQLite in the data dir by default, or any database SQLAlchemy reaches (PostgreSQL for replicas);
opening the records brings their tables to the newest migration."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, delete, event, exists, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.pool import NullPool

from bot.privacy import private_dir, private_file
from bot.records.tables import VOTES, AnswerRow, CitationRow, EventRow, TickRow, VoteRow

if TYPE_CHECKING:
    from bot.answers.model import Answer
    from bot.settings import Settings

RECORDS_FILE = "records.sqlite3"
MIGRATIONS = Path(__file__).parent / "migrations"
EVENT_MEMORY_SECONDS = 24 * 3600  # Slack retries an event for minutes, never for a day
PURGE_EVERY_SECONDS = 3600
MIGRATION_LOCK = 0x56524543  # PostgreSQL advisory lock key held while the tables are migrated


class RecordsError(Exception):
    """The records database cannot be opened or brought up to date."""


@dataclass(frozen=True)
class Asked:
    """Where and by whom an answer was asked for: the part of its record the answer does not hold."""

    surface: str  # mention, thread, dm, command, cli, chat
    channel: str | None = None
    thread_ts: str | None = None
    user: str | None = None
    role: str | None = None
    latency_ms: int | None = None


def elapsed_ms(started: float) -> int:
    """Milliseconds since `started`, a `time.monotonic()` reading: an answer's latency as its asker saw it."""
    return round((time.monotonic() - started) * 1000)


@dataclass(frozen=True)
class Cited:
    doc_id: str
    section: str | None


@dataclass(frozen=True)
class Shown:
    """An answer on record."""

    id: int
    answered_at: dt.datetime
    surface: str
    channel: str | None
    thread_ts: str | None
    user: str | None
    role: str | None
    question: str | None
    lang: str
    intent: str
    status: str
    confidence: float | None
    answer: str | None
    uncovered: tuple[str, ...]
    latency_ms: int | None
    cited: tuple[Cited, ...]

    @classmethod
    def of(cls, row: AnswerRow) -> Shown:
        fields = {name: getattr(row, name) for name in cls.__dataclass_fields__ if name not in ("uncovered", "cited")}
        cited = tuple(Cited(c.doc_id, c.section) for c in row.citations)
        return cls(**fields, uncovered=tuple(row.uncovered or ()), cited=cited)


@dataclass(frozen=True)
class Vote:
    answer: Shown
    voter: str
    vote: str
    voted_at: dt.datetime


def sqlite_url(data_dir: Path) -> str:
    """SQLite in the data dir, readable by the bot's user alone."""
    return f"sqlite:///{private_file(private_dir(data_dir) / RECORDS_FILE)}"


def database_url(settings: Settings) -> str:
    """The configured database, or SQLite in the data dir."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return sqlite_url(settings.data_dir)


def _sqlite_pragmas(connection: object, _: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys = ON")  # retention deletes an answer's citations and votes with it
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def migrate(engine: Engine, revision: str) -> None:
    """Bring the database's tables to `revision` (Alembic's; "head" is the newest)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together upgrade one at a time; the others then find it done.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def open_database(url: str) -> Engine:
    """An engine on `url` with its tables at the newest revision."""
    try:
        sqlite_file = make_url(url).get_backend_name() == "sqlite"
        # A SQLite connection per use, as cheap as a file open: it sees the file as it is now (health checks).
        engine = create_engine(url, poolclass=NullPool) if sqlite_file else create_engine(url, pool_pre_ping=True)
        if sqlite_file:
            event.listen(engine, "connect", _sqlite_pragmas)
        migrate(engine, "head")
    except (SQLAlchemyError, ImportError) as error:
        raise RecordsError(f"records database {_redacted(url)}: {error}") from error
    return engine


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "(unreadable URL)"


class Records:
    def __init__(self, url: str, *, retention_days: int = 180, metadata_only: bool = False) -> None:
        self.engine = open_database(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self.retention = dt.timedelta(days=retention_days)
        self.metadata_only = metadata_only
        self._purged_at = 0.0
        self.purge()

    @classmethod
    def for_settings(cls, settings: Settings) -> Records:
        return cls(
            database_url(settings),
            retention_days=settings.record_retention_days,
            metadata_only=settings.records_metadata_only,
        )

    @contextmanager
    def _db(self) -> Iterator[Session]:
        with self._session.begin() as session:
            yield session

    def _upsert(self, table: type, values: dict[str, object], *, keys: Sequence[str], update: Sequence[str]):  # noqa: ANN202
        """INSERT … ON CONFLICT, in the dialect's own words."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table).values(values)
        if not update:
            return statement.on_conflict_do_nothing(index_elements=list(keys))
        return statement.on_conflict_do_update(
            index_elements=list(keys), set_={name: statement.excluded[name] for name in update}
        )

    def purge(self, now: dt.datetime | None = None) -> int:
        """Delete the answers (with their citations and votes) and ticks older than the retention period."""
        cutoff = (now or dt.datetime.now(dt.UTC)) - self.retention
        with self._db() as db:
            removed = db.execute(delete(AnswerRow).where(AnswerRow.answered_at < cutoff)).rowcount
            removed += db.execute(delete(TickRow).where(TickRow.ticked_at < cutoff)).rowcount
        self._purged_at = time.monotonic()
        return removed

    def _purge_when_due(self) -> None:
        # A bot runs for months: the records age out while it writes, at most hourly.
        if time.monotonic() - self._purged_at >= PURGE_EVERY_SECONDS:
            self.purge()

    # --- answers ---------------------------------------------------------------
    def record_answer(self, answer: Answer, asked: Asked) -> int | None:
        """Put an answer shown on record; its id, for votes and sharing. Small talk is not a question
        to the sources: never on record."""
        if answer.intent == "smalltalk":
            return None
        self._purge_when_due()
        private = self.metadata_only
        cited = [(c.doc_id, c.section) for c in answer.citations] or [(s.doc_id, None) for s in answer.sources[:3]]
        row = AnswerRow(
            answered_at=dt.datetime.now(dt.UTC),
            surface=asked.surface,
            channel=asked.channel,
            thread_ts=asked.thread_ts,
            user=None if private else asked.user,
            role=asked.role,
            question=None if private else answer.question,
            lang=answer.lang,
            intent=answer.intent,
            status=answer.status,
            confidence=answer.confidence,
            answer=None if private else answer.text,
            uncovered=[] if private else list(answer.uncovered),
            latency_ms=asked.latency_ms,
            citations=[CitationRow(rank=rank, doc_id=doc, section=sec) for rank, (doc, sec) in enumerate(cited)],
        )
        with self._db() as db:
            db.add(row)
            db.flush()
            return row.id

    def answer(self, answer_id: int) -> Shown | None:
        with self._db() as db:
            row = db.get(AnswerRow, answer_id, options=[selectinload(AnswerRow.citations)])
            return Shown.of(row) if row else None

    def answers(self, *, since: dt.datetime | None = None, statuses: Sequence[str] = ()) -> list[Shown]:
        """Answers on record, newest first; only those with one of `statuses` when given."""
        query = select(AnswerRow).options(selectinload(AnswerRow.citations)).order_by(AnswerRow.id.desc())
        if since is not None:
            query = query.where(AnswerRow.answered_at >= since)
        if statuses:
            query = query.where(AnswerRow.status.in_(statuses))
        with self._db() as db:
            return [Shown.of(row) for row in db.scalars(query)]

    def gaps(self, *, since: dt.datetime | None = None) -> list[Shown]:
        """The questions the sources did not answer: the closest and the declined."""
        return self.answers(since=since, statuses=("closest", "declined"))

    def answered_in_thread(self, channel: str, thread_ts: str) -> bool:
        query = select(exists().where(AnswerRow.channel == channel, AnswerRow.thread_ts == thread_ts))
        with self._db() as db:
            return bool(db.scalar(query))

    def citation_counts(self) -> Counter[str]:
        """How many answers on record cite each document."""
        query = select(CitationRow.doc_id, func.count(func.distinct(CitationRow.answer_id))).group_by(
            CitationRow.doc_id
        )
        with self._db() as db:
            return Counter(dict(db.execute(query).tuples().all()))

    # --- votes -----------------------------------------------------------------
    def vote(self, answer_id: int, user: str, vote: str) -> bool:
        """A user's vote on an answer, replacing their earlier one; False when the answer is unknown."""
        if vote not in VOTES:
            raise ValueError(f"unknown vote {vote!r} (expected one of {', '.join(VOTES)})")
        voter = hashlib.sha256(f"{answer_id}:{user}".encode()).hexdigest()[:32] if self.metadata_only else user
        values = {"answer_id": answer_id, "voter": voter, "vote": vote, "voted_at": dt.datetime.now(dt.UTC)}
        with self._db() as db:
            if db.get(AnswerRow, answer_id) is None:
                return False
            db.execute(self._upsert(VoteRow, values, keys=("answer_id", "voter"), update=("vote", "voted_at")))
        return True

    def votes(self, *, since: dt.datetime | None = None) -> list[Vote]:
        query = (
            select(VoteRow, AnswerRow)
            .join(AnswerRow, VoteRow.answer_id == AnswerRow.id)
            .options(selectinload(AnswerRow.citations))
            .order_by(VoteRow.voted_at.desc(), VoteRow.id.desc())
        )
        if since is not None:
            query = query.where(VoteRow.voted_at >= since)
        with self._db() as db:
            return [Vote(Shown.of(shown), v.voter, v.vote, v.voted_at) for v, shown in db.execute(query).tuples()]

    def flagged_outdated(self) -> Counter[str]:
        """Per document, how many answers citing it were voted "Outdated": the flags for its owner."""
        query = (
            select(CitationRow.doc_id, func.count(func.distinct(VoteRow.answer_id)))
            .join(VoteRow, VoteRow.answer_id == CitationRow.answer_id)
            .where(VoteRow.vote == "outdated")
            .group_by(CitationRow.doc_id)
        )
        with self._db() as db:
            return Counter(dict(db.execute(query).tuples().all()))

    # --- checklists a thread shares ----------------------------------------------
    def tick(self, channel: str, scope: str, item: str, user: str, *, ticked: bool) -> frozenset[str]:
        """Tick or untick a checklist item for everyone in a thread (`scope`); its ticked items after."""
        with self._db() as db:
            if ticked:
                values = {"channel": channel, "scope": scope, "item": item, "ticked_at": dt.datetime.now(dt.UTC)}
                values["user"] = None if self.metadata_only else user
                db.execute(
                    self._upsert(TickRow, values, keys=("channel", "scope", "item"), update=("user", "ticked_at"))
                )
            else:
                db.execute(
                    delete(TickRow).where(TickRow.channel == channel, TickRow.scope == scope, TickRow.item == item)
                )
        return self.ticks(channel, scope)

    def ticks(self, channel: str, scope: str) -> frozenset[str]:
        query = select(TickRow.item).where(TickRow.channel == channel, TickRow.scope == scope)
        with self._db() as db:
            return frozenset(db.scalars(query))

    # --- Slack event de-duplication, shared by every replica ------------------------
    def first_delivery(self, event_id: str) -> bool:
        """True the first time an event id is seen; Slack's retries of it return False."""
        now = time.time()
        with self._db() as db:
            db.execute(delete(EventRow).where(EventRow.seen_at < now - EVENT_MEMORY_SECONDS))
            insert = self._upsert(EventRow, {"event_id": event_id, "seen_at": now}, keys=("event_id",), update=())
            return db.execute(insert.returning(EventRow.event_id)).first() is not None

    def unwritable(self) -> str | None:
        """None when a record can be written now; else the database's reason."""
        try:
            with self._db() as db:  # a write that matches nothing still needs the write lock
                db.execute(delete(EventRow).where(EventRow.event_id == ""))
        except SQLAlchemyError as error:
            return f"records database: {error}"
        return None
