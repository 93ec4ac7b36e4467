"""The records' tables (SQLAlchemy 2): every answer shown with the sources it cited, the votes on
it, the checklist items a team ticked in a thread, the Slack events already handled, and (in
Chroma server mode) the index snapshots replicas share.
Their history is in `migrations/versions`; a change here goes with a new revision there."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATUSES = ("answered", "closest", "declined")
VOTES = ("helpful", "not_helpful", "outdated")
SNAPSHOT_STATES = ("building", "published")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Always UTC and timezone-aware, whether the database keeps the zone (PostgreSQL) or not (SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        return None if value is None else value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_known")


class AnswerRow(Base):
    """One answer shown to someone. Question, answer and user are None when only metadata is kept."""

    __tablename__ = "answers"
    __table_args__ = (Index("answers_by_thread", "channel", "thread_ts"), _one_of("status", STATUSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    surface: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(64))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    user: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    question: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    answer: Mapped[str | None] = mapped_column(Text)
    uncovered: Mapped[list[str]] = mapped_column(JSON, default=list)  # question terms no source covered
    latency_ms: Mapped[int | None]
    citations: Mapped[list[CitationRow]] = relationship(
        back_populates="shown", cascade="all, delete-orphan", passive_deletes=True, order_by="CitationRow.rank"
    )


class CitationRow(Base):
    """A source an answer cited, or for a gap, one of the closest documents."""

    __tablename__ = "citations"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    doc_id: Mapped[str] = mapped_column(String(200), index=True)
    section: Mapped[str | None] = mapped_column(Text)
    shown: Mapped[AnswerRow] = relationship(back_populates="citations")


class VoteRow(Base):
    """One vote per voter and answer: voting again changes it."""

    __tablename__ = "votes"
    __table_args__ = (Index("one_vote_per_voter", "answer_id", "voter", unique=True), _one_of("vote", VOTES))

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    # The Slack user id, or with metadata only a digest that tells voters on one answer apart and nothing more.
    voter: Mapped[str] = mapped_column(String(64))
    vote: Mapped[str] = mapped_column(String(16))
    voted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TickRow(Base):
    __tablename__ = "ticks"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # the thread
    item: Mapped[str] = mapped_column(Text, primary_key=True)
    user: Mapped[str | None] = mapped_column(String(64))
    ticked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("events_by_time", "seen_at"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[float] = mapped_column(Float)


class SnapshotRow(Base):
    """An index snapshot shared by bot replicas (Chroma server mode): its files as one archive, while
    its vectors live in Chroma collections named after it. A row is written when an ingest starts
    building, so a killed ingest's collections can be found and dropped."""

    __tablename__ = "index_snapshots"
    __table_args__ = (_one_of("state", SNAPSHOT_STATES),)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    archive: Mapped[bytes | None] = mapped_column(LargeBinary)


class CurrentSnapshotRow(Base):
    """The one snapshot replicas answer from: switching it is the publish, in one transaction."""

    __tablename__ = "index_current"

    slot: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(ForeignKey("index_snapshots.name"))
