"""The owners' report on recorded sample traffic: gaps grouped by meaning, glossary suggestions,
votes per document, stale and flagged documents, usage; laid out as Markdown, CSV and an HTML page
that Debian's headless chromium renders."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from postgres import PostgresServer
from traffic import record_traffic

from bot.answers.engine import Engine
from bot.kb.glossary import parse_glossary
from bot.records import Cited, Records, Shown
from bot.report.build import OwnedDocuments, build_report
from bot.report.gaps import group_gaps
from bot.report.glossary import DocumentTerms, suggest, with_suggestions
from bot.report.model import GlossarySuggestion, Report
from bot.report.render import to_html, to_markdown, write_csv
from bot.report.tables import tables


def gap(question: str, *, doc: str = "pb-x", uncovered: tuple[str, ...] = ()) -> Shown:
    return Shown(
        id=0, answered_at=dt.datetime.now(dt.UTC), surface="mention", channel=None, thread_ts=None, user=None,
        role=None, question=question, lang="en", intent="general", status="declined", confidence=0.1, answer=None,
        uncovered=uncovered, latency_ms=None, cited=(Cited(doc, None),),
    )  # fmt: skip


def test_paraphrases_of_one_gap_group_together_and_different_gaps_stay_apart(
    engine: Engine, gap_questions: dict[str, list[str]]
) -> None:
    label = {q: name for name, questions in gap_questions.items() for q in questions}
    groups = group_gaps(
        [gap(q) for q in label], models=engine.index.models, embed=engine.index.embed_queries, titles={}, owners={}
    )
    pairs = [(label[a], label[b]) for g in groups for a, b in itertools.combinations(g.examples, 2)]
    assert len(groups) < len(label)  # some paraphrases were joined
    assert sum(a == b for a, b in pairs) >= 0.8 * len(pairs)  # and mostly only paraphrases


def test_without_question_text_gaps_group_by_their_closest_document(engine: Engine) -> None:
    unworded = [gap("", doc="pb-a"), gap("", doc="pb-b"), gap("", doc="pb-a")]
    groups = group_gaps(unworded, models=engine.index.models, embed=engine.index.embed_queries, titles={}, owners={})
    assert [(g.count, g.closest_doc, g.examples) for g in groups] == [(2, "pb-a", ()), (1, "pb-b", ())]


def test_a_users_word_no_source_uses_is_paired_with_the_documents_own_term(
    engine: Engine, owned: OwnedDocuments
) -> None:
    asked = ["涮锅连锁的肉品损耗能管住吗", "有个涮锅连锁老板想知道肉品用量能不能算得很精确"]
    gaps = [gap(q, doc="pb-hotpot-food-cost", uncovered=("涮锅",)) for q in asked]
    gaps.append(gap("涮锅加盟店怎么对账", doc="pb-franchise-hq-control", uncovered=("涮锅",)))  # its own closest
    gaps.append(gap("what about chefos pricing", doc="pb-hotpot-food-cost", uncovered=("chefo",)))  # a stem: no word
    space = DocumentTerms(owned.bodies or {}, engine.index.models, engine.index.embed_queries)
    suggestions = suggest(gaps, space)
    hotpot = [s for s in suggestions if s.doc_id == "pb-hotpot-food-cost"]
    assert [(s.asked, s.source, s.questions) for s in hotpot] == [("涮锅", "火锅", 2)]
    assert hotpot[0].line() == "- [涮锅, 火锅]"
    assert all(s.asked != "chefo" for s in suggestions)


def test_a_suggestion_joins_the_group_holding_the_source_term_and_keeps_the_file_valid() -> None:
    text = "# owned by product operations\n- [火锅, hotpot, hot pot]\n- [烧烤, BBQ]\n"
    suggestions = [
        GlossarySuggestion("涮锅", "火锅", "pb-hotpot-food-cost", 0.9, 3),
        GlossarySuggestion("hotpot", "火锅", "pb-hotpot-food-cost", 0.9, 1),  # already in the group
        GlossarySuggestion("uptime: SLA", "可用性", "pb-x", 0.9, 1),
    ]
    written = with_suggestions(text, suggestions)
    assert written.splitlines() == [
        "# owned by product operations",
        "- [火锅, hotpot, hot pot, 涮锅]",
        "- [烧烤, BBQ]",
        '- ["uptime: SLA", 可用性]',
    ]
    glossary = parse_glossary(written.encode("utf-8"))
    assert not isinstance(glossary, list) and ("uptime: SLA", "可用性") in glossary.groups


def test_the_report_accounts_for_every_answer_vote_and_flag_on_record(report: Report, traffic: Records) -> None:
    answers = traffic.answers()
    unanswered = [a for a in answers if a.status != "answered"]
    assert report.usage.total == len(answers) and dict(report.usage.outcomes)["answered"] == len(answers) - len(
        unanswered
    )
    assert sum(g.count for g in report.gaps) == len(unanswered)
    assert [g.count for g in report.gaps] == sorted((g.count for g in report.gaps), reverse=True)
    assert all(g.closest_doc and g.owner and len(g.examples) <= 3 for g in report.gaps)
    assert report.usage.p50_ms is not None and report.usage.p95_ms is not None
    assert report.usage.p50_ms <= report.usage.p95_ms
    votes = [v for v in traffic.votes() if v.vote != "helpful"]
    per_doc = {d.doc_id: d.not_helpful + d.outdated for d in report.votes}
    for doc, count in per_doc.items():
        assert count == sum(doc in {c.doc_id for c in v.answer.cited} for v in votes)
    flagged = {d.doc_id: d.flagged for d in report.stale if d.flagged}
    assert flagged == dict(traffic.flagged_outdated())
    assert set(report.usage.never_cited).isdisjoint(dict(report.usage.most_cited))


def test_markdown_has_every_table_and_the_top_gap(report: Report) -> None:
    text = to_markdown(report)
    assert text.startswith(f"# Knowledge report, {report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}")
    for table in tables(report):
        assert f"## {table.title}" in text
    top = report.gaps[0]
    assert f"| 1 | {top.count} | {top.examples[0]}" in text.replace("\\|", "|")


def test_csv_writes_one_readable_file_per_table(report: Report, tmp_path: Path) -> None:
    written = write_csv(report, tmp_path / "csv")
    assert [p.stem for p in written] == [t.name for t in tables(report)]
    with (tmp_path / "csv" / "gaps.csv").open(encoding="utf-8-sig", newline="") as rows:
        header, *body = list(csv.reader(rows))
    assert header[:2] == ["#", "questions"] and len(body) == len(report.gaps)
    assert [int(row[1]) for row in body] == [g.count for g in report.gaps]


def test_the_html_page_renders_with_its_charts_in_headless_chromium(report: Report, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless chromium (Debian's `chromium` package) on this machine")
    page, shot = tmp_path / "report.html", tmp_path / "report.png"
    page.write_text(to_html(report), encoding="utf-8")
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,1400"]
    subprocess.run([*command, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    pixels = imread(shot)[:, :, :3]
    ink = (pixels.mean(axis=2) < 0.9).mean()  # the share of the screen that is not white
    colours = len(np.unique((pixels * 15).round().reshape(-1, 3), axis=0))
    assert ink > 0.05 and colours > 20  # text, tables and coloured bars, not a blank or error page


def test_the_same_traffic_on_postgresql_gives_the_same_report(
    postgres: PostgresServer, engine: Engine, gap_questions: dict[str, list[str]], owned: OwnedDocuments, report: Report
) -> None:
    records = Records(postgres.database())
    record_traffic(engine, records, gap_questions)
    metas_only = OwnedDocuments(owned.metas)  # no texts: no glossary suggestions, the rest alike
    on_postgres = build_report(
        records, metas_only, days=7, models=engine.index.models, embed=engine.index.embed_queries
    )
    assert on_postgres.usage.outcomes == report.usage.outcomes
    assert on_postgres.usage.per_intent == report.usage.per_intent
    assert [(g.count, g.closest_doc) for g in on_postgres.gaps] == [(g.count, g.closest_doc) for g in report.gaps]
    assert [(v.doc_id, v.not_helpful, v.outdated) for v in on_postgres.votes] == [
        (v.doc_id, v.not_helpful, v.outdated) for v in report.votes
    ]
    assert [(d.doc_id, d.flagged) for d in on_postgres.stale] == [(d.doc_id, d.flagged) for d in report.stale]
