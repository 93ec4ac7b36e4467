"""What users asked and said, for the content owners: knowledge gaps and answer votes, and the
checklist items a team ticked in a thread (SQLite)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.privacy import private_dir, private_file

RECORDS_FILE = "records.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY,
    asked_at TEXT NOT NULL,
    question TEXT NOT NULL,
    lang TEXT NOT NULL,
    intent TEXT NOT NULL,
    surface TEXT NOT NULL,
    closest TEXT NOT NULL,
    uncovered TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY,
    voted_at TEXT NOT NULL,
    user TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('helpful', 'not_helpful', 'outdated')),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    surface TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    answered_at TEXT NOT NULL,
    surface TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    user TEXT NOT NULL,
    question TEXT NOT NULL,
    intent TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_thread ON answers (channel, thread_ts);
CREATE TABLE IF NOT EXISTS ticks (
    channel TEXT NOT NULL,
    scope TEXT NOT NULL,
    item TEXT NOT NULL,
    user TEXT NOT NULL,
    ticked_at TEXT NOT NULL,
    PRIMARY KEY (channel, scope, item)
);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (seen_at);
"""
EVENT_MEMORY_SECONDS = 24 * 3600  # Slack retries an event for minutes, never for a day


# Each table's timestamp column: what ages out of the records.
DATED = {"gaps": "asked_at", "votes": "voted_at", "answers": "answered_at", "ticks": "ticked_at"}
PURGE_EVERY_SECONDS = 3600


class Records:
    def __init__(self, data_dir: Path, retention_days: int = 180) -> None:
        # SQLite gives its journal the database file's mode.
        self.path = private_file(private_dir(data_dir) / RECORDS_FILE)
        self.retention = dt.timedelta(days=retention_days)
        self._purged_at = 0.0
        with self._connect() as db:
            db.executescript(SCHEMA)
        self.purge()

    def purge(self, now: dt.datetime | None = None) -> int:
        """Delete the questions, answers and votes older than the retention period; how many went."""
        cutoff = ((now or dt.datetime.now(dt.UTC)) - self.retention).isoformat(timespec="seconds")
        with self._connect() as db:
            removed = sum(
                db.execute(f"DELETE FROM {table} WHERE {column} < ?", (cutoff,)).rowcount  # noqa: S608 - fixed names
                for table, column in DATED.items()
            )
        self._purged_at = time.monotonic()
        return removed

    def _purge_when_due(self) -> None:
        # A bot runs for months: the records age out while it writes, at most hourly.
        if time.monotonic() - self._purged_at >= PURGE_EVERY_SECONDS:
            self.purge()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    @staticmethod
    def _now() -> str:
        return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def record_gap(
        self, question: str, lang: str, intent: str, surface: str, closest: Sequence[str], uncovered: Sequence[str]
    ) -> None:
        self._purge_when_due()
        with self._connect() as db:
            db.execute(
                "INSERT INTO gaps (asked_at, question, lang, intent, surface, closest, uncovered)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._now(), question, lang, intent, surface, json.dumps(list(closest)), json.dumps(list(uncovered))),
            )

    def gaps(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM gaps ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(row) for row in rows]

    def record_vote(
        self, user: str, vote: str, question: str, answer: str, sources: Sequence[str], surface: str
    ) -> int:
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO votes (voted_at, user, vote, question, answer, sources, surface)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._now(), user, vote, question, answer, json.dumps(list(sources)), surface),
            )
            return int(cursor.lastrowid or 0)

    def votes(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM votes ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(row) for row in rows]

    # --- answers shown in Slack: what a vote refers to, and the threads the bot is part of ---
    def record_answer(
        self,
        surface: str,
        channel: str,
        thread_ts: str | None,
        user: str,
        question: str,
        intent: str,
        abstained: bool,
        answer: str,
        sources: Sequence[str],
    ) -> int:
        self._purge_when_due()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO answers (answered_at, surface, channel, thread_ts, user, question, intent, abstained,"
                " answer, sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self._now(),
                    surface,
                    channel,
                    thread_ts,
                    user,
                    question,
                    intent,
                    int(abstained),
                    answer,
                    json.dumps(list(sources)),
                ),
            )
            return int(cursor.lastrowid or 0)

    def answer(self, answer_id: int) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return dict(row) if row else None

    def tick(self, channel: str, scope: str, item: str, user: str, *, ticked: bool) -> frozenset[str]:
        """Tick or untick a checklist item for everyone in a thread (`scope`); its ticked items after."""
        with self._connect() as db:
            if ticked:
                db.execute(
                    "INSERT OR REPLACE INTO ticks (channel, scope, item, user, ticked_at) VALUES (?, ?, ?, ?, ?)",
                    (channel, scope, item, user, self._now()),
                )
            else:
                db.execute("DELETE FROM ticks WHERE channel = ? AND scope = ? AND item = ?", (channel, scope, item))
        return self.ticks(channel, scope)

    def ticks(self, channel: str, scope: str) -> frozenset[str]:
        with self._connect() as db:
            rows = db.execute("SELECT item FROM ticks WHERE channel = ? AND scope = ?", (channel, scope)).fetchall()
        return frozenset(row["item"] for row in rows)

    def citation_counts(self) -> Counter[str]:
        """How many answers on record cite each document."""
        with self._connect() as db:
            rows = db.execute("SELECT sources FROM answers").fetchall()
        return Counter(doc_id for row in rows for doc_id in set(json.loads(row["sources"])))

    def unwritable(self) -> str | None:
        """None when a record can be written now; else the database's reason."""
        try:
            with self._connect() as db:
                db.execute("BEGIN IMMEDIATE")  # takes the write lock, writes nothing
        except sqlite3.Error as error:
            return f"records database: {error}"
        return None

    def answered_in_thread(self, channel: str, thread_ts: str) -> bool:
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM answers WHERE channel = ? AND thread_ts = ? LIMIT 1", (channel, thread_ts)
            ).fetchone()
        return row is not None

    def vote_on_answer(self, answer_id: int, user: str, vote: str) -> int | None:
        """Store a vote with the question, answer and sources it judges; None if the answer is unknown."""
        shown = self.answer(answer_id)
        if shown is None:
            return None
        return self.record_vote(
            user, vote, shown["question"], shown["answer"], json.loads(shown["sources"]), shown["surface"]
        )

    def first_delivery(self, event_id: str) -> bool:
        """True the first time an event id is seen; Slack's retries of it return False."""
        now = time.time()
        with self._connect() as db:
            db.execute("DELETE FROM events WHERE seen_at < ?", (now - EVENT_MEMORY_SECONDS,))
            cursor = db.execute("INSERT OR IGNORE INTO events (event_id, seen_at) VALUES (?, ?)", (event_id, now))
            return cursor.rowcount == 1
