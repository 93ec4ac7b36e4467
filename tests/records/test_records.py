"""The records on both databases the bot supports: SQLite in the data dir, and a real PostgreSQL
server started for the session. Answers come from the real engine on the sample index."""

from __future__ import annotations

import datetime as dt
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from postgres import PostgresServer
from sqlalchemy import create_engine, update

from bot.answers.engine import Engine
from bot.answers.model import Answer
from bot.records import RECORDS_FILE, Asked, Records, RecordsError, migrate, sqlite_url
from bot.records.tables import AnswerRow, Base

TODAY = dt.date(2026, 11, 25)
ANSWERED = "Give me the go-live checklist"
DECLINED = "有没有邮轮餐饮的客户案例？"
IN_SLACK = Asked("mention", channel="C0SALES01", thread_ts="1712000000.000100", user="U0ASKER1", role="sales")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "data")
    return request.getfixturevalue("postgres").database()


@pytest.fixture(scope="module")
def shown(engine: Engine) -> dict[str, Answer]:
    return {question: engine.ask(question, today=TODAY, record=True) for question in (ANSWERED, DECLINED)}


def test_an_answer_on_record_holds_what_the_owners_report_needs(url: str, shown: dict[str, Answer]) -> None:
    records = Records(url)
    answered_id = records.record_answer(shown[ANSWERED], IN_SLACK)
    declined_id = records.record_answer(shown[DECLINED], Asked("cli", latency_ms=87))
    assert answered_id is not None and declined_id is not None

    answered = records.answer(answered_id)
    assert answered is not None
    assert (answered.surface, answered.channel, answered.thread_ts, answered.user) == (
        "mention", "C0SALES01", "1712000000.000100", "U0ASKER1"
    )  # fmt: skip
    assert (answered.question, answered.intent, answered.status, answered.lang) == (
        ANSWERED,
        "checklist",
        "answered",
        "en",
    )
    assert answered.confidence == pytest.approx(shown[ANSWERED].confidence)
    assert answered.answer == shown[ANSWERED].text
    assert [(c.doc_id, c.section) for c in answered.cited] == [(c.doc_id, c.section) for c in shown[ANSWERED].citations]
    assert abs(answered.answered_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    # A gap keeps its closest documents and the words no source covered.
    [gap] = records.gaps()
    assert (gap.id, gap.question, gap.status, gap.surface, gap.latency_ms) == (
        declined_id,
        DECLINED,
        "declined",
        "cli",
        87,
    )
    assert [c.doc_id for c in gap.cited] == [s.doc_id for s in shown[DECLINED].sources[:3]]
    assert gap.uncovered == shown[DECLINED].uncovered
    assert [a.id for a in records.answers()] == [declined_id, answered_id]  # newest first
    assert records.answered_in_thread("C0SALES01", "1712000000.000100")
    assert not records.answered_in_thread("C0SALES01", "1712000000.999999")
    assert records.citation_counts()["sg-go-live"] == 1


def test_one_vote_per_user_and_answer_and_outdated_flags_what_it_cited(url: str, shown: dict[str, Answer]) -> None:
    records = Records(url)
    answer_id = records.record_answer(shown[ANSWERED], IN_SLACK)
    assert answer_id is not None
    assert records.vote(answer_id, "U1", "helpful") and records.vote(answer_id, "U1", "outdated")
    assert records.vote(answer_id, "U2", "outdated")
    assert not records.vote(answer_id + 1000, "U1", "helpful")  # no such answer
    with pytest.raises(ValueError, match="unknown vote 'great'"):
        records.vote(answer_id, "U1", "great")

    votes = records.votes()
    assert sorted((v.voter, v.vote) for v in votes) == [("U1", "outdated"), ("U2", "outdated")]
    assert all(v.answer.id == answer_id and v.answer.question == ANSWERED for v in votes)
    cited = {c.doc_id for c in shown[ANSWERED].citations}
    assert records.flagged_outdated() == dict.fromkeys(cited, 1)  # one answer flagged, however many voted


def test_with_metadata_only_no_question_answer_or_user_id_is_kept(url: str, shown: dict[str, Answer]) -> None:
    records = Records(url, metadata_only=True)
    answer_id = records.record_answer(shown[DECLINED], IN_SLACK)
    assert answer_id is not None and records.vote(answer_id, "U0ASKER1", "not_helpful")
    assert records.vote(answer_id, "U0ASKER1", "helpful")  # still one vote per user: a changed vote
    records.tick("C0SALES01", "1712000000.000100", "item", "U0ASKER1", ticked=True)

    [kept] = records.answers()
    assert (kept.question, kept.answer, kept.user, kept.uncovered) == (None, None, None, ())
    assert (kept.status, kept.intent, kept.channel, kept.role) == (
        "declined",
        shown[DECLINED].intent,
        "C0SALES01",
        "sales",
    )
    assert kept.cited  # which documents came closest is metadata the owners need
    [vote] = records.votes()
    assert vote.vote == "helpful" and "U0ASKER1" not in vote.voter
    with records.engine.connect() as db:
        dumped = "\n".join(str(row) for table in Base.metadata.sorted_tables for row in db.execute(table.select()))
    assert "U0ASKER1" not in dumped and DECLINED not in dumped


def test_records_older_than_the_retention_period_go_with_their_citations_and_votes(
    url: str, shown: dict[str, Answer]
) -> None:
    records = Records(url, retention_days=30)
    answer_id = records.record_answer(shown[ANSWERED], IN_SLACK)
    assert answer_id is not None and records.vote(answer_id, "U2", "helpful")
    records.tick("C1", "1.0", "item", "U1", ticked=True)
    now = dt.datetime.now(dt.UTC)

    assert records.purge(now + dt.timedelta(days=29)) == 0
    assert records.purge(now + dt.timedelta(days=31)) == 2  # the answer and the tick
    assert records.answers() == [] and records.votes() == [] and records.citation_counts() == {}
    assert records.ticks("C1", "1.0") == frozenset()
    # Opening the records purges too: a bot restarted after a long pause starts clean.
    records.record_answer(shown[DECLINED], Asked("cli"))
    with records.engine.begin() as db:
        db.execute(update(AnswerRow).values(answered_at=now - dt.timedelta(days=400)))
    assert Records(url, retention_days=30).answers() == []


def test_replicas_share_ticks_and_handle_each_slack_event_once(url: str) -> None:
    one, two = Records(url), Records(url)
    assert one.tick("C1", "1.0", "Printers tested", "U1", ticked=True) == {"Printers tested"}
    assert two.tick("C1", "1.0", "Menu loaded", "U2", ticked=True) == {"Printers tested", "Menu loaded"}
    assert one.tick("C1", "1.0", "Printers tested", "U2", ticked=False) == {"Menu loaded"}
    assert one.first_delivery("Ev01") and not two.first_delivery("Ev01") and two.first_delivery("Ev02")
    assert one.unwritable() is None


def test_the_migrations_build_exactly_the_tables_the_code_declares(url: str) -> None:
    records = Records(url)
    with records.engine.connect() as db:
        assert compare_metadata(MigrationContext.configure(db), Base.metadata) == []


def test_a_first_release_database_is_carried_over_whole(tmp_path: Path) -> None:
    path = tmp_path / RECORDS_FILE

    migrate(create_engine(f"sqlite:///{path}"), "0001")
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            INSERT INTO answers VALUES (1, '2026-11-20T09:00:00+00:00', 'mention', 'C1', '1.0', 'U1',
                'go-live checklist', 'checklist', 0, 'Go-live checklist…', '["sg-go-live"]');
            INSERT INTO answers VALUES (2, '2026-11-20T09:05:00+00:00', 'mention', 'C1', '2.0', 'U1',
                'cruise ship cases?', 'case', 1, 'I don''t know…', '["case-a"]');
            INSERT INTO gaps VALUES (1, '2026-11-20T09:05:01+00:00', 'cruise ship cases?', 'en', 'case',
                'slack-mention', '["case-a"]', '["cruise"]');
            INSERT INTO gaps VALUES (2, '2026-11-21T10:00:00+00:00', '有没有邮轮餐饮的客户案例？', 'zh', 'case', 'cli',
                '["case-a","case-b"]', '["邮轮"]');
            INSERT INTO votes VALUES (1, '2026-11-20T09:01:00+00:00', 'U2', 'helpful', 'go-live checklist',
                'Go-live checklist…', '["sg-go-live"]', 'mention');
            INSERT INTO votes VALUES (2, '2026-11-20T09:02:00+00:00', 'U2', 'outdated', 'go-live checklist',
                'Go-live checklist…', '["sg-go-live"]', 'mention');
            INSERT INTO votes VALUES (3, '2026-11-22T08:00:00+00:00', 'U3', 'not_helpful', 'pitch for tea?',
                'Tea chains…', '["pb-tea"]', 'cli');
            INSERT INTO ticks VALUES ('C1', '1.0', 'Printers tested', 'U1', '2026-11-20T09:03:00+00:00');
            INSERT INTO events VALUES ('Ev01', 1e12);
            """
        )

    records = Records(sqlite_url(tmp_path), retention_days=3650)

    by_question = {a.question: a for a in records.answers()}
    assert set(by_question) == {
        "go-live checklist",
        "cruise ship cases?",
        "有没有邮轮餐饮的客户案例？",
        "pitch for tea?",
    }
    cruise = by_question["cruise ship cases?"]  # its answer row and its gap row were one asking
    assert (cruise.status, cruise.lang, cruise.uncovered, cruise.channel) == ("declined", "en", ("cruise",), "C1")
    assert [c.doc_id for c in by_question["有没有邮轮餐饮的客户案例？"].cited] == ["case-a", "case-b"]
    votes = {(v.voter, v.answer.question): v.vote for v in records.votes()}
    assert votes == {("U2", "go-live checklist"): "outdated", ("U3", "pitch for tea?"): "not_helpful"}
    assert records.ticks("C1", "1.0") == {"Printers tested"} and not records.first_delivery("Ev01")
    assert by_question["go-live checklist"].answered_at == dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


def test_the_records_and_their_data_dir_are_the_bots_users_alone(tmp_path: Path) -> None:
    existing = tmp_path / "shared"
    existing.mkdir(mode=0o755)
    for data_dir in (tmp_path / "new" / "data", existing):
        Records(sqlite_url(data_dir)).first_delivery("Ev01")
        assert data_dir.stat().st_mode & 0o777 == 0o700
        assert (data_dir / RECORDS_FILE).stat().st_mode & 0o777 == 0o600


def test_an_unreachable_database_is_one_line_without_its_password() -> None:
    with pytest.raises(RecordsError) as raised:
        Records("postgresql+psycopg://bot:s3cret@127.0.0.1:1/records")
    message = str(raised.value)
    assert message.startswith("records database postgresql+psycopg://bot:***@127.0.0.1:1/records: ")
    assert "s3cret" not in message


def test_replicas_opening_a_new_postgresql_database_together_all_start(postgres: PostgresServer) -> None:
    url = postgres.database()
    with ThreadPoolExecutor(4) as pool:
        opened = list(pool.map(lambda _: Records(url), range(4)))
    assert all(records.unwritable() is None for records in opened)
    with opened[0].engine.connect() as db:
        assert compare_metadata(MigrationContext.configure(db), Base.metadata) == []
