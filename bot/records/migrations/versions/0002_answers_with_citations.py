"""Every answer on record with its status, confidence, latency and cited sections; votes point at
their answer, one per voter. Knowledge gaps become the answers that were not answered. The first
releases' rows are carried over: nothing they held is lost.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.records.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SAME_ASKING = dt.timedelta(seconds=60)  # a first-release gap and its Slack answer were two rows of one asking


def _tables() -> tuple[sa.Table, ...]:
    answers = op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("answered_at", UTCDateTime, nullable=False, index=True),
        sa.Column("surface", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("thread_ts", sa.String(32)),
        sa.Column("user", sa.String(64)),
        sa.Column("role", sa.String(32)),
        sa.Column("question", sa.Text),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("intent", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("answer", sa.Text),
        sa.Column("uncovered", sa.JSON, nullable=False),
        sa.Column("latency_ms", sa.Integer),
        sa.CheckConstraint("status IN ('answered', 'closest', 'declined')", name="status_known"),
    )
    op.create_index("answers_by_thread", "answers", ["channel", "thread_ts"])
    citations = op.create_table(
        "citations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("answer_id", sa.Integer, sa.ForeignKey("answers.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("doc_id", sa.String(200), nullable=False, index=True),
        sa.Column("section", sa.Text),
    )
    votes = op.create_table(
        "votes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("answer_id", sa.Integer, sa.ForeignKey("answers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("voter", sa.String(64), nullable=False),
        sa.Column("vote", sa.String(16), nullable=False),
        sa.Column("voted_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("vote IN ('helpful', 'not_helpful', 'outdated')", name="vote_known"),
    )
    op.create_index("one_vote_per_voter", "votes", ["answer_id", "voter"], unique=True)
    ticks = op.create_table(
        "ticks",
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("item", sa.Text, primary_key=True),
        sa.Column("user", sa.String(64)),
        sa.Column("ticked_at", UTCDateTime, nullable=False),
    )
    events = op.create_table(
        "events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_index("events_by_time", "events", ["seen_at"])
    return answers, citations, votes, ticks, events


FIRST_RELEASE_TABLES = ("answers", "votes", "ticks", "events")


def upgrade() -> None:
    bind = op.get_bind()
    first_release = sa.inspect(bind).has_table("gaps")
    if first_release:
        op.drop_index("answers_by_thread", table_name="answers")
        op.drop_index("events_by_time", table_name="events")
        for name in FIRST_RELEASE_TABLES:
            op.rename_table(name, f"{name}_v1")
    tables = _tables()
    if first_release:
        carry = _CarryOver(bind, tables)
        carry.shown_answers()
        carry.gaps()
        carry.voted()
        carry.copied("ticks", when="ticked_at")
        carry.copied("events")
        for name in [f"{name}_v1" for name in FIRST_RELEASE_TABLES] + ["gaps"]:
            op.drop_table(name)


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


class _CarryOver:
    """The first releases' rows, in the new tables."""

    def __init__(self, bind: sa.Connection, tables: tuple[sa.Table, ...]) -> None:
        self.bind = bind
        self.answers, self.citations, self.votes, self.ticks, self.events = tables
        self.shown: dict[tuple[str, str], tuple[int, dt.datetime]] = {}  # (question, answer) -> id, when

    def rows(self, table: str) -> list[Any]:
        return list(self.bind.execute(sa.text(f"SELECT * FROM {table} ORDER BY rowid")).mappings())  # noqa: S608

    def add(self, row: dict[str, Any], sources: list[str], status: str) -> int:
        values = {"lang": "", "intent": "", "uncovered": [], **row, "status": status}
        answer_id = self.bind.execute(self.answers.insert().values(values)).inserted_primary_key[0]
        cited = [{"answer_id": answer_id, "rank": rank, "doc_id": doc} for rank, doc in enumerate(sources)]
        if cited:
            self.bind.execute(self.citations.insert(), cited)
        return answer_id

    def shown_answers(self) -> None:
        for old in self.rows("answers_v1"):
            row = {key: old[key] for key in ("surface", "channel", "thread_ts", "user", "question", "intent", "answer")}
            row["answered_at"] = _when(old["answered_at"])
            status = "declined" if old["abstained"] else "answered"
            self.shown[(old["question"], old["answer"])] = (
                self.add(row, json.loads(old["sources"]), status),
                row["answered_at"],
            )

    def gaps(self) -> None:
        for gap in self.rows("gaps"):
            when, uncovered = _when(gap["asked_at"]), json.loads(gap["uncovered"])
            same = [i for (q, _), (i, t) in self.shown.items() if q == gap["question"] and abs(t - when) <= SAME_ASKING]
            if same:  # the gap row adds the language and the uncovered terms to its answer
                update = self.answers.update().where(self.answers.c.id == same[0])
                self.bind.execute(update.values(lang=gap["lang"], uncovered=uncovered))
                continue
            row = {key: gap[key] for key in ("surface", "question", "lang", "intent")}
            self.add({**row, "answered_at": when, "uncovered": uncovered}, json.loads(gap["closest"]), "declined")

    def voted(self) -> None:
        latest: dict[tuple[int, str], dict[str, Any]] = {}
        for vote in self.rows("votes_v1"):
            when, key = _when(vote["voted_at"]), (vote["question"], vote["answer"])
            if key not in self.shown:  # voted on an answer the first releases did not keep: keep it now
                row = {"surface": vote["surface"], "question": vote["question"], "answer": vote["answer"]}
                self.shown[key] = (
                    self.add({**row, "answered_at": when}, json.loads(vote["sources"]), "answered"),
                    when,
                )
            answer_id = self.shown[key][0]
            latest[(answer_id, vote["user"])] = {
                "answer_id": answer_id,
                "voter": vote["user"],
                "vote": vote["vote"],
                "voted_at": when,
            }
        if latest:
            self.bind.execute(self.votes.insert(), list(latest.values()))

    def copied(self, name: str, *, when: str | None = None) -> None:
        kept = [dict(row) for row in self.rows(f"{name}_v1")]
        for row in kept if when else ():
            row[when] = _when(row[when])
        if kept:
            self.bind.execute(getattr(self, name).insert(), kept)


def downgrade() -> None:
    for name in ("ticks", "votes", "citations", "answers", "events"):
        op.drop_table(name)
