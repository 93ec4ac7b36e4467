"""Block Kit builders: pure functions, checked against Slack's limits and for losing nothing."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.answers.model import Answer, CaseCard, ChecklistGroup, Citation, Heading, Quote, QuoteGroup, Table
from bot.answers.quantify import MetricChange
from bot.slack import blocks
from bot.slack.blocks import (
    MESSAGE_BLOCK_LIMIT,
    SECTION_LIMIT,
    answer_messages,
    escape,
    pack,
    split_long,
)


def section_texts(messages: list[blocks.Message]) -> list[str]:
    return [b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"]


def citation(number: int, stale: bool = False, url: str | None = None) -> Citation:
    return Citation(
        number, "doc-1", "Go-live guide", "Cut-over", "stage_guide", "Ana (Delivery)", "2026-01-01", stale, url
    )


def test_split_long_keeps_every_character_and_respects_the_limit() -> None:
    line = ("word " * 2000) + "x" * 7000  # spaces first, then a run no space can break
    pieces = split_long(line, 3000)
    assert all(len(piece) <= 3000 for piece in pieces)
    assert "".join(pieces) == line
    assert any(piece.endswith("word") for piece in pieces[:-2])  # cut at a space where there was one


def test_pack_joins_lines_without_losing_or_reordering_them() -> None:
    lines = [f"item {i}: " + "细" * (i % 37) for i in range(900)]
    texts = pack(lines, 500)
    assert all(len(text) <= 500 for text in texts)
    assert "\n".join(texts).split("\n") == lines


def test_a_huge_checklist_is_split_over_messages_and_sections_and_nothing_is_cut() -> None:
    items = tuple(
        f"Check register {i:04d} prints the closing report & the Z-total <before> handover" for i in range(1500)
    )
    answer = Answer(
        question="go-live checklist",
        intent="checklist",
        lang="en",
        status="answered",
        confidence=1.0,
        body=[
            Heading("Go-live checklist (1500 items)"),
            ChecklistGroup("Cut-over", items[:700], 1),
            ChecklistGroup("Day one", items[700:], 1),
        ],
        citations=[citation(1)],
    )
    messages = answer_messages(answer, answer_id=42)
    assert len(messages) > 1
    for message in messages:
        assert len(message.blocks) <= MESSAGE_BLOCK_LIMIT
        json.dumps(message.payload())  # serialisable as sent
    texts = section_texts(messages)
    assert all(len(text) <= SECTION_LIMIT for text in texts)
    shown = [
        b["text"]["text"] for m in messages for b in m.blocks if b.get("accessory", {}).get("type") == "checkboxes"
    ]
    assert shown == [escape(item) for item in items]
    # The buttons come once, at the very end.
    actions = [(i, b) for i, m in enumerate(messages) for b in m.blocks if b["type"] == "actions"]
    assert [i for i, _ in actions] == [len(messages) - 1]
    assert messages[-1].blocks[-1]["type"] == "actions"
    assert {e["value"] for e in actions[0][1]["elements"]} == {"42"}
    assert {e["action_id"] for e in actions[0][1]["elements"]} == set(blocks.VOTES)


def test_answer_blocks_quote_cite_and_flag_stale_sources() -> None:
    answer = Answer(
        question="q",
        intent="general",
        lang="en",
        status="answered",
        confidence=0.8,
        body=[
            Heading("From 1 source(s):"),
            QuoteGroup("Cut-over", (Quote("Freeze menu changes 48 h before <go-live>.", 1),)),
        ],
        citations=[citation(1, stale=True, url="https://kb.example.com/knowledge/stages/go-live.md")],
        notes=["⚠ Go-live guide is past its review date"],
    )
    [message] = answer_messages(answer, answer_id=None)
    text = "\n".join(section_texts([message]))
    assert "• Freeze menu changes 48 h before &lt;go-live&gt;. [1]" in text
    assert "[1] <https://kb.example.com/knowledge/stages/go-live.md|Go-live guide>" in text
    assert ":warning:" in text and "Ana (Delivery)" in text and "2026-01-01" in text
    assert not any(b["type"] == "actions" for b in message.blocks)  # no record, no buttons
    assert any(b["type"] == "context" and "review date" in b["elements"][0]["text"] for b in message.blocks)


def test_case_card_metrics_are_a_table_block_after_the_customers_words() -> None:
    card = CaseCard(
        doc_id="case-1",
        customer="蜀渝火锅",
        industry="hotpot",
        size="42 stores",
        modules=("food_cost",),
        metrics=(
            MetricChange("食材成本率", 38.5, 34.2, "%", "6 个月"),
            MetricChange("Waste per store per month", 12000, 7800, "CNY", None),
        ),
        quote="以前月底才知道亏在哪。",
        citation=1,
    )
    answer = Answer(
        "q", "case", "zh", "answered", 1.0, body=[Heading("客户案例（1 个）："), card], citations=[citation(1)]
    )
    first, last = answer_messages(answer, answer_id=7)
    [table] = [b for b in first.blocks if b["type"] == "table"]
    assert first.blocks[-1] is table  # Slack shows a table at the end of its message
    rows = [[cell["text"] for cell in row] for row in table["rows"]]
    assert rows[0] == ["指标", "之前", "之后", "变化", "周期"]
    assert rows[1] == ["食材成本率", "38.5%", "34.2%", "-11.2%, -4.3个百分点", "6 个月"]
    assert rows[2][1:3] == ["12000 CNY", "7800 CNY"]  # a Latin unit keeps its space in a Chinese answer
    assert rows[2][4] == "—"  # a table cell is never empty
    assert "> 以前月底才知道亏在哪。" in "\n".join(section_texts([first]))
    assert last.blocks[-1]["type"] == "actions"


def test_each_table_ends_its_message_and_long_tables_repeat_their_header() -> None:
    header = ("Metric", "n")
    body = [
        Heading("Figures"),
        Table(header, tuple((f"m{i}", str(i)) for i in range(150))),
        Table(header, (("x", "1"),)),
    ]
    answer = Answer("q", "quantify", "en", "answered", 1.0, body=body)
    messages = answer_messages(answer, answer_id=3)
    tables = [[b for b in m.blocks if b["type"] == "table"] for m in messages]
    assert [len(t) for t in tables] == [1, 1, 1, 0]
    assert [len(t[0]["rows"]) for t in tables[:3]] == [100, 52, 2]  # 99 + 51 rows, each under the header
    assert all(t[0]["rows"][0][0]["text"] == "Metric" for t in tables[:3])
    assert messages[-1].blocks[-1]["type"] == "actions"


def card_for(customer: str, number: int) -> CaseCard:
    metrics = (MetricChange("Food cost", 38.5, 34.2, "%", None),)
    return CaseCard("case-1", customer, "hotpot", "42 stores", ("food_cost",), metrics, None, number)


def test_blocks_follow_the_parts_in_their_order() -> None:
    pitch = QuoteGroup("Value points", (Quote("Food cost usually falls 2-3 points.", 1),))
    proof = [Heading("Customer proof (1 case(s)):"), card_for("Shuyu Hotpot", 2)]
    value = Answer(
        "q",
        "value",
        "en",
        "answered",
        1.0,
        body=[Heading("What to pitch:"), pitch, *proof],
        citations=[citation(1), citation(2)],
    )
    texts = section_texts(answer_messages(value, answer_id=None))
    order = [
        next(i for i, t in enumerate(texts) if needle in t)
        for needle in ("What to pitch:", "Food cost usually falls", "Customer proof (1 case(s)):", "Shuyu Hotpot")
    ]
    assert order == sorted(order) and len(set(order)) == len(order)

    case = replace(value, intent="case", body=[*proof, pitch])
    texts = section_texts(answer_messages(case, answer_id=None))
    assert texts.index(next(t for t in texts if "Shuyu Hotpot" in t)) < texts.index(
        next(t for t in texts if "Food cost usually falls" in t)
    )


def test_help_and_notices_escape_and_fit() -> None:
    notice = blocks.notice("unknown stage 'x<y>'")
    assert notice.blocks[0]["text"]["text"] == "unknown stage 'x&lt;y&gt;'"
    help_text = "\n".join(section_texts([blocks.help_message()]))
    for sub in ("ask", "checklist", "case", "value", "help"):
        assert f"/relay {sub}" in help_text
