"""The records as the first releases kept them in SQLite, before versioned migrations: the base
that a database of those releases is brought forward from.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Verbatim from those releases; IF NOT EXISTS, because their databases already hold these tables.
FIRST_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS gaps (id INTEGER PRIMARY KEY, asked_at TEXT NOT NULL, question TEXT NOT NULL,
    lang TEXT NOT NULL, intent TEXT NOT NULL, surface TEXT NOT NULL, closest TEXT NOT NULL, uncovered TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS votes (id INTEGER PRIMARY KEY, voted_at TEXT NOT NULL, user TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('helpful', 'not_helpful', 'outdated')), question TEXT NOT NULL,
    answer TEXT NOT NULL, sources TEXT NOT NULL, surface TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS answers (id INTEGER PRIMARY KEY, answered_at TEXT NOT NULL, surface TEXT NOT NULL,
    channel TEXT NOT NULL, thread_ts TEXT, user TEXT NOT NULL, question TEXT NOT NULL, intent TEXT NOT NULL,
    abstained INTEGER NOT NULL, answer TEXT NOT NULL, sources TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS answers_by_thread ON answers (channel, thread_ts)",
    """CREATE TABLE IF NOT EXISTS ticks (channel TEXT NOT NULL, scope TEXT NOT NULL, item TEXT NOT NULL,
    user TEXT NOT NULL, ticked_at TEXT NOT NULL, PRIMARY KEY (channel, scope, item))""",
    "CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, seen_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_by_time ON events (seen_at)",
)


def upgrade() -> None:
    # Only SQLite ever held them; elsewhere the records start at the next revision.
    if op.get_bind().dialect.name == "sqlite":
        for statement in FIRST_SCHEMA:
            op.execute(statement)


def downgrade() -> None:
    for table in ("events", "ticks", "answers", "votes", "gaps"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
