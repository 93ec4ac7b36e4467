"""What users asked and said, for the content owners: knowledge gaps and answer votes (SQLite)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
"""


class Records:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / RECORDS_FILE
        with self._connect() as db:
            db.executescript(SCHEMA)

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
        return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def record_gap(
        self, question: str, lang: str, intent: str, surface: str, closest: Sequence[str], uncovered: Sequence[str]
    ) -> None:
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
