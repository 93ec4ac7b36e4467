"""Knowledge gaps and answer votes in a SQLite file of the test's own."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from bot.records import RECORDS_FILE, Records


def test_gaps_round_trip(tmp_path: Path) -> None:
    records = Records(tmp_path)
    assert (tmp_path / RECORDS_FILE).is_file()
    assert records.gaps() == []

    records.record_gap(
        "有没有邮轮餐饮的客户案例？", "zh", "case", "slack", ["case-redline-burger", "case-luhe-noodles"], ["邮轮"]
    )
    records.record_gap("Does ChefOS take crypto?", "en", "general", "cli", [], [])

    gaps = records.gaps()
    assert [g["question"] for g in gaps] == ["Does ChefOS take crypto?", "有没有邮轮餐饮的客户案例？"]  # newest first
    older = gaps[1]
    assert (older["lang"], older["intent"], older["surface"]) == ("zh", "case", "slack")
    assert json.loads(older["closest"]) == ["case-redline-burger", "case-luhe-noodles"]
    assert json.loads(older["uncovered"]) == ["邮轮"]
    assert json.loads(gaps[0]["closest"]) == [] and json.loads(gaps[0]["uncovered"]) == []
    asked = dt.datetime.fromisoformat(older["asked_at"])
    assert asked.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - asked) < dt.timedelta(minutes=5)
    assert [g["question"] for g in records.gaps(limit=1)] == ["Does ChefOS take crypto?"]


def test_records_persist_across_instances(tmp_path: Path) -> None:
    Records(tmp_path).record_gap("q1", "en", "general", "cli", ["sg-go-live"], ["x"])
    Records(tmp_path).record_vote("U1", "helpful", "q1", "answer text", ["sg-go-live"], "slack")
    again = Records(tmp_path)  # the schema script runs again and keeps the rows
    assert [g["question"] for g in again.gaps()] == ["q1"]
    assert [v["user"] for v in again.votes()] == ["U1"]


def test_votes_round_trip(tmp_path: Path) -> None:
    records = Records(tmp_path)
    first = records.record_vote("U1", "helpful", "上线清单发我", "上线清单（共 18 项）…", ["sg-go-live"], "slack")
    second = records.record_vote(
        "U2", "outdated", "剩餐率能降到多少？", "…", ["pb-canteen-preorder", "case-tuojing-canteen"], "cli"
    )
    third = records.record_vote("U3", "not_helpful", "q", "a", [], "chat")
    assert (first, second, third) == (1, 2, 3)

    votes = records.votes()
    assert [v["id"] for v in votes] == [3, 2, 1]
    outdated = votes[1]
    assert (outdated["user"], outdated["vote"], outdated["question"], outdated["surface"]) == (
        "U2",
        "outdated",
        "剩餐率能降到多少？",
        "cli",
    )
    assert json.loads(outdated["sources"]) == ["pb-canteen-preorder", "case-tuojing-canteen"]
    assert votes[2]["answer"] == "上线清单（共 18 项）…"
    assert [v["vote"] for v in records.votes(limit=2)] == ["not_helpful", "outdated"]


@pytest.mark.parametrize("vote", ["great", "HELPFUL", "", "up"])
def test_an_unknown_vote_is_rejected(tmp_path: Path, vote: str) -> None:
    records = Records(tmp_path)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        records.record_vote("U1", vote, "q", "a", [], "slack")
    assert records.votes() == []


def test_records_create_a_missing_data_dir(tmp_path: Path) -> None:
    target = tmp_path / "new" / "data"
    Records(target).record_gap("q", "en", "general", "cli", [], [])
    assert (target / RECORDS_FILE).is_file()


def test_the_records_and_their_data_dir_are_the_bots_users_alone(tmp_path: Path) -> None:
    existing = tmp_path / "shared"
    existing.mkdir(mode=0o755)
    for data_dir in (tmp_path / "new" / "data", existing):
        records = Records(data_dir)
        records.record_gap("what is our SLA?", "en", "general", "cli", [], [])
        assert data_dir.stat().st_mode & 0o777 == 0o700
        assert records.path.stat().st_mode & 0o777 == 0o600


def test_records_older_than_the_retention_period_are_purged(tmp_path: Path) -> None:
    records = Records(tmp_path, retention_days=30)
    records.record_gap("how long do we keep this?", "en", "general", "cli", [], [])
    answer_id = records.record_answer(
        surface="mention", channel="C1", thread_ts="1.0", user="U1", question="q", intent="general",
        abstained=False, answer="a", sources=["pb-x"],
    )  # fmt: skip
    records.vote_on_answer(answer_id, "U2", "helpful")
    now = dt.datetime.now(dt.UTC)

    assert records.purge(now + dt.timedelta(days=29)) == 0
    assert records.purge(now + dt.timedelta(days=31)) == 3
    assert records.gaps() == [] and records.votes() == [] and records.answer(answer_id) is None
    # Opening the records purges too: a bot restarted after a long pause starts clean.
    records.record_gap("still here?", "en", "general", "cli", [], [])
    with sqlite3.connect(tmp_path / RECORDS_FILE) as db:
        db.execute("UPDATE gaps SET asked_at = '2020-01-01T00:00:00+00:00'")
    assert Records(tmp_path, retention_days=30).gaps() == []
