"""The guard between a generated answer and the user: unit tests of
bot.answers.guard.check, and the engine with a scripted chat model (LangChain's
FakeListChatModel stands in for the hosted LLM; everything else is real)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bot.answers.compose.context import Context
from bot.answers.engine import Engine
from bot.answers.generate import Passage, build_messages, draft
from bot.answers.guard import check, sentences
from bot.answers.model import Answer
from bot.answers.quantify import numbers_in
from bot.kb.chunking import quotable_units
from bot.kb.filters import Filters
from bot.kb.search import ChunkHit, DocHit, SearchResult
from bot.settings import Settings

TODAY = dt.date(2026, 11, 25)  # same fixed day as tests/conftest.py
GENERATE_LOGGER = "bot.answers.generate"

HOTPOT_PASSAGE = (
    "业务价值：食材成本率通常可下降 2-3 个百分点。以 40 家店、单店月营业额 80 万元的品牌为例，"
    "下降 2 个百分点约等于每月节省 64 万元。"
)
KDS_PASSAGE = (
    "Business value: average ticket time typically drops 20%-30%, for example from 5.5 minutes to about 4 minutes "
    "at peak. Orders per peak hour usually rise 10%-18% without adding staff."
)
PASSAGES = {1: HOTPOT_PASSAGE, 2: KDS_PASSAGE, 3: "Stock counts cover 1,200 items in the central kitchen."}


# --- check(): unit tests -------------------------------------------------------------------


def test_a_faithful_answer_passes() -> None:
    text = (
        "Average ticket time typically drops 20%-30%, from 5.5 minutes to about 4 minutes at peak [2]. "
        "食材成本率通常可下降 2-3 个百分点，40 家店每月约节省 64 万元[1]。"
        "Orders per peak hour rise 10%-18% and the kitchen counts 1,200 items [2][3]."
    )
    result = check(text, PASSAGES)
    assert result.ok, result.problems
    assert result.problems == []


def test_a_changed_number_fails() -> None:
    result = check("Average ticket time typically drops 25-35% at peak [2].", PASSAGES)
    assert not result.ok
    assert result.problems == [
        "numbers not in the cited sources ['25', '35']: 'Average ticket time typically drops 25-35% at peak [2].'"
    ]


def test_a_rounded_number_fails() -> None:
    result = check("From 5.5 minutes to about 4 minutes, saving 6 minutes per hour [2].", PASSAGES)
    assert not result.ok
    assert "['6']" in result.problems[0]


def test_an_uncited_sentence_fails() -> None:
    text = "Average ticket time drops 20%-30% [2]. This makes every kitchen twice as profitable."
    result = check(text, PASSAGES)
    assert not result.ok
    assert result.problems == ["uncited sentence: 'This makes every kitchen twice as profitable.'"]


def test_a_citation_to_a_passage_not_given_fails() -> None:
    result = check("Average ticket time drops 20%-30% [7].", PASSAGES)
    assert not result.ok
    assert len(result.problems) == 1
    assert "citation outside the retrieved sources [7]" in result.problems[0]


def test_a_number_found_only_in_another_passage_fails() -> None:
    # 64 is in passage 1, but the sentence cites passage 2.
    result = check("Stores save about 64 per month [2].", PASSAGES)
    assert not result.ok
    assert "['64']" in result.problems[0]
    assert check("Stores save about 64 per month [1].", PASSAGES).ok
    assert check("Stores save about 64 per month [2][1].", PASSAGES).ok


def test_an_empty_answer_fails() -> None:
    assert check("", PASSAGES).problems == ["the answer is empty"]
    assert not check("  \n ", PASSAGES).ok


def test_chinese_sentences_split_at_the_full_stop() -> None:
    text = "食材成本率通常可下降 2-3 个百分点[1]。每月约节省 64 万元[1]！能做到吗？[1]"
    assert sentences(text) == ["食材成本率通常可下降 2-3 个百分点[1]。", "每月约节省 64 万元[1]！", "能做到吗？ [1]"]
    assert check(text, PASSAGES).ok
    # The second Chinese sentence is judged on its own: no citation, so it fails, and only it.
    result = check("食材成本率通常可下降 2-3 个百分点[1]。每月约节省 64 万元。", PASSAGES)
    assert result.problems == ["uncited sentence: '每月约节省 64 万元。'"]
    # Numbers are checked per sentence too.
    result = check("食材成本率通常可下降 2-3 个百分点[1]。每月约节省 65 万元[1]。", PASSAGES)
    assert len(result.problems) == 1 and "['65']" in result.problems[0] and "65 万元" in result.problems[0]


def test_a_trailing_citation_after_the_last_full_stop_belongs_to_that_sentence() -> None:
    assert sentences("每月约节省 64 万元。[1]") == ["每月约节省 64 万元。 [1]"]
    assert check("每月约节省 64 万元。[1]", PASSAGES).ok
    assert check("Orders per peak hour rise 10%-18%. [2]", PASSAGES).ok


def test_bullets_are_sentences_of_their_own() -> None:
    text = "- Ticket time drops 20%-30% [2]\n* 成本率下降 2-3 个百分点[1]\n1) Counts cover 1,200 items [3]"
    assert sentences(text) == [
        "Ticket time drops 20%-30% [2]",
        "成本率下降 2-3 个百分点[1]",
        "Counts cover 1,200 items [3]",
    ]
    assert check(text, PASSAGES).ok
    assert check("- Ticket time drops 20%-30% [2]\n- and costs fall by half", PASSAGES).problems == [
        "uncited sentence: 'and costs fall by half'"
    ]


def test_a_numbered_list_passes() -> None:
    text = "1. Counts cover 1,200 items [3]\n2. Ticket time drops 20%-30% [2]"
    assert sentences(text) == ["Counts cover 1,200 items [3]", "Ticket time drops 20%-30% [2]"]
    assert check(text, PASSAGES).ok


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ("食材成本率可下降 2-3 个百分点[1]。", True),
        ("Food cost ratio falls 2 to 3 points [1].", True),
        ("食材成本率可下降 2-4 个百分点[1]。", False),
        ("The kitchen counts 1,200 items [3].", True),
        ("The kitchen counts 1200 items [3].", True),
        ("The kitchen counts 12,000 items [3].", False),
        ("The kitchen counts 1,300 items [3].", False),
        ("Time drops from 5.5 to 4 minutes [2].", True),
        ("Time drops from 5.50 to 4.0 minutes [2].", True),
        ("Time drops from 5.4 to 4 minutes [2].", False),
    ],
)
def test_ranges_and_thousands_separators(answer: str, ok: bool) -> None:
    assert check(answer, PASSAGES).ok is ok


def test_number_normalisation() -> None:
    assert numbers_in("2-3 个百分点") == {"2", "3"}
    assert numbers_in("1,200 and 1200 and 1200.0") == {"1200"}
    assert numbers_in("5.50 minutes, 0.00 difference") == {"5.5", "0"}
    assert numbers_in("no digits here") == set()


@pytest.mark.parametrize(
    "text",
    [
        "食材成本率通常可下降 2-3 个百分点。[1]每月约节省 64 万元。[1]",
        "Average ticket time drops 20%-30%. [2] Orders per peak hour rise 10%-18%. [2]",
    ],
    ids=["zh", "en"],
)
def test_citations_after_the_full_stop_cite_the_sentence_before(text: str) -> None:
    assert check(text, PASSAGES).ok


@pytest.mark.parametrize(
    ("text", "passage"),
    [
        (
            "业务价值：高值品损耗率通常从 4%-6% 降到 2% 以内；单店每月盘点工时从约 12 小时降到 6 小时左右[1]。",
            "业务价值：高值品损耗率通常从 4%-6% 降到 2% 以内；单店每月盘点工时从约 12 小时降到 6 小时左右。",
        ),
        (
            (
                "Set a ticket time alert per station with the head chef, e.g. 8 minutes for cold dishes and 15 minutes "
                "for mains [1]."
            ),
            (
                "- [ ] Set a ticket time alert per station with the head chef, e.g. 8 minutes for cold dishes and 15 "
                "minutes for mains"
            ),
        ),
    ],
    ids=["zh-semicolon", "en-e.g."],
)
def test_a_verbatim_source_sentence_with_one_citation_passes(text: str, passage: str) -> None:
    assert check(text, {1: passage}).ok


def test_a_percent_range_restated_with_words_passes() -> None:
    passage = "连锁火锅的食材成本率普遍在 38%-45%，其中高值品占食材成本的 55% 以上。"
    assert numbers_in(passage) == {"38", "45", "55"}
    assert check("Hotpot chains typically run a food cost ratio of 38% to 45% [1].", {1: passage}).ok


# --- the engine with a scripted chat model --------------------------------------------------

GENERATION_QUESTION = "火锅客户高值品损耗怎么控？日盘会不会太累，损耗率大概能降到多少？"


class FailingChatModel(FakeListChatModel):
    """A hosted model that is down."""

    def _call(self, *args: Any, **kwargs: Any) -> str:
        raise RuntimeError("provider unavailable (503)")


def one_sentence_units_with_numbers(passage: Passage) -> list[str]:
    """Units of a passage the guard reads as one sentence, stating at least one number."""
    return [
        unit
        for unit in quotable_units(passage.text)
        if re.search(r"\d", unit) and len(sentences(unit)) == 1 and "[" not in unit
    ]


def cite(unit: str, number: int) -> str:
    """A copied sentence with its citation before the closing punctuation (the guard's own layout)."""
    end = unit[-1] if unit[-1] in "。.!?！？" else ""
    return f"{unit[: len(unit) - len(end)]} [{number}]{end}"


@pytest.fixture
def make_engine(settings: Settings, embedder_loader: Callable[..., dict[str, Any]]) -> Callable[[Any], Engine]:
    return lambda chat_model: Engine(settings, embedder_loader=embedder_loader, chat_model=chat_model)


@pytest.fixture
def scripted(
    make_engine: Callable[[Any], Engine], passages_seen: list[list[Passage]]
) -> tuple[list[Passage], list[tuple[Passage, str]]]:
    """The numbered passages the model is given for GENERATION_QUESTION, and sentences to copy from them."""
    probe = make_engine(FakeListChatModel(responses=["(probe)"]))
    probe.ask(GENERATION_QUESTION, today=TODAY, record=False)
    assert len(passages_seen) == 1
    passages = passages_seen[0]
    copyable = [(p, unit) for p in passages for unit in one_sentence_units_with_numbers(p)]
    assert copyable, passages
    return passages, copyable


def pick(copyable: list[tuple[Passage, str]]) -> list[tuple[Passage, str]]:
    """A numbered sentence to copy, and one from another passage when there is one."""
    chosen = [copyable[0]]
    other = next(((p, u) for p, u in copyable if p.number != copyable[0][0].number), None)
    return chosen + ([other] if other else [])


def compose(chosen: list[tuple[Passage, str]]) -> str:
    return "\n".join(cite(unit, p.number) for p, unit in chosen)


def faithful_answer(copyable: list[tuple[Passage, str]]) -> tuple[str, set[int]]:
    chosen = pick(copyable)
    return compose(chosen), {p.number for p, _ in chosen}


def test_build_messages_numbers_every_passage_and_sets_the_language() -> None:
    passages = [Passage(1, "Title A", "Section A", "Text A 12"), Passage(2, "标题 B", "小节 B", "内容 B 34")]
    (system_role, system), (human_role, human) = build_messages("成本能降多少？", passages, "zh")
    assert (system_role, human_role) == ("system", "human")
    assert "Answer in Chinese" in system
    assert "[1] Title A — Section A\nText A 12" in human
    assert "[2] 标题 B — 小节 B\n内容 B 34" in human
    assert human.rstrip().endswith("Question: 成本能降多少？")
    assert "Answer in English" in build_messages("q", passages, "en")[0][1]


def test_a_faithful_generated_answer_is_shown_with_only_its_citations(
    make_engine: Callable[[Any], Engine],
    scripted: tuple[list[Passage], list[tuple[Passage, str]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    passages, copyable = scripted
    text, cited = faithful_answer(copyable)
    assert check(text, {p.number: p.text for p in passages}).ok
    engine = make_engine(FakeListChatModel(responses=[text]))

    with caplog.at_level(logging.WARNING, logger=GENERATE_LOGGER):
        answer = engine.ask(GENERATION_QUESTION, today=TODAY, record=False)

    assert answer.generated == text
    assert answer.guard_problems == []
    assert answer.groups == []
    assert text in answer.text
    assert {c.number for c in answer.citations} == cited
    by_number = {p.number: p for p in passages}
    for c in answer.citations:
        assert (c.title, c.section) == (by_number[c.number].title, by_number[c.number].section)
        assert f"[{c.number}] {c.title}" in answer.text
    assert not [r for r in caplog.records if r.name == GENERATE_LOGGER]


@pytest.mark.parametrize("distortion", ["changed number", "uncited claim", "invented source"])
def test_a_distorted_generated_answer_falls_back_to_the_extractive_answer(
    engine: Engine,
    make_engine: Callable[[Any], Engine],
    scripted: tuple[list[Passage], list[tuple[Passage, str]]],
    caplog: pytest.LogCaptureFixture,
    distortion: str,
) -> None:
    _, copyable = scripted
    chosen = pick(copyable)
    text = compose(chosen)
    passage, unit = chosen[0]
    if distortion == "changed number":
        assert not any("987" in n for n in numbers_in(passage.text))
        bad = compose([(passage, re.sub(r"\d+", "987", unit, count=1)), *chosen[1:]])
        expected_problem = "numbers not in the cited sources ['987"
    elif distortion == "uncited claim":
        bad = text + "\n上线后所有门店的利润都会翻一番。"
        expected_problem = "uncited sentence: '上线后所有门店的利润都会翻一番。'"
    else:
        bad = text.replace(f"[{passage.number}]", "[99]", 1)
        expected_problem = "citation outside the retrieved sources [99]"
    assert bad != text
    extractive = engine.ask(GENERATION_QUESTION, today=TODAY, record=False)
    llm_engine = make_engine(FakeListChatModel(responses=[bad]))

    with caplog.at_level(logging.WARNING, logger=GENERATE_LOGGER):
        answer = llm_engine.ask(GENERATION_QUESTION, today=TODAY, record=False)

    assert answer.generated is None
    assert answer.groups and answer.groups == extractive.groups
    assert answer.text == extractive.text
    assert bad not in answer.text
    assert any(expected_problem in problem for problem in answer.guard_problems), answer.guard_problems
    logged = [r for r in caplog.records if r.name == GENERATE_LOGGER]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING
    assert "rejected by the guard" in logged[0].getMessage() and expected_problem in logged[0].getMessage()


def test_a_failing_model_falls_back_to_the_extractive_answer(
    engine: Engine, make_engine: Callable[[Any], Engine], caplog: pytest.LogCaptureFixture
) -> None:
    extractive = engine.ask(GENERATION_QUESTION, today=TODAY, record=False)
    llm_engine = make_engine(FailingChatModel(responses=["never returned"]))

    with caplog.at_level(logging.WARNING, logger=GENERATE_LOGGER):
        answer = llm_engine.ask(GENERATION_QUESTION, today=TODAY, record=False)

    assert answer.generated is None
    assert answer.guard_problems == ["the model failed"]
    assert answer.groups and answer.text == extractive.text
    logged = [r for r in caplog.records if r.name == GENERATE_LOGGER]
    # One line naming the failure, not a traceback per question while a provider is down.
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING and logged[0].exc_info is None
    assert "provider unavailable" in logged[0].getMessage()


def test_no_chat_model_means_no_generation(engine: Engine, passages_seen: list[list[Passage]]) -> None:
    assert engine.chat_model is None
    answer = engine.ask(GENERATION_QUESTION, today=TODAY, record=False)
    assert answer.generated is None and answer.guard_problems == [] and answer.groups
    assert passages_seen == []


def test_proof_cards_keep_pointing_at_their_case_when_a_generated_answer_is_shown(
    make_engine: Callable[[Any], Engine], passages_seen: list[list[Passage]]
) -> None:
    question = "What do we pitch to a 40-store hotpot chain worried about food cost? Any proof with numbers?"
    make_engine(FakeListChatModel(responses=["(probe)"])).ask(question, today=TODAY, record=False)
    copyable = [(p, unit) for p in passages_seen[0] for unit in one_sentence_units_with_numbers(p)]
    text, _ = faithful_answer(copyable)

    answer = make_engine(FakeListChatModel(responses=[text])).ask(question, today=TODAY, record=False)

    assert answer.generated == text  # the guard accepted it
    assert answer.cards
    for card in answer.cards:
        numbered = [c for c in answer.citations if c.number == card.citation]
        assert [c.doc_id for c in numbered] == [card.doc_id]
    # The proof is shown after the generated text, so it is numbered after what the text cites.
    assert min(card.citation for card in answer.cards) > max(int(n) for n in re.findall(r"\[(\d+)\]", text))


def test_each_passage_of_a_long_section_is_checked_against_its_own_text(
    make_engine: Callable[[Any], Engine], passages_seen: list[list[Passage]]
) -> None:
    probe = make_engine(FakeListChatModel(responses=["(probe)"]))
    doc_id = "case-alder-vine-fine-dining"
    results = [c for c in probe.index.snapshot.chunks_of(doc_id) if c.role == "body" and c.section == "Results"]
    assert len(results) == 2
    first, second = results
    unit = next(
        u
        for u in quotable_units(first.text)
        if re.search(r"\d", u) and len(sentences(u)) == 1 and not numbers_in(u) <= numbers_in(second.text)
    )
    # Retrieval found both passages of the section, best first.
    ctx = Context(probe.router.route("results"), probe.index, Filters(), TODAY)
    ctx.result = SearchResult(
        "results", "en", "hybrid", [DocHit(doc_id, 1.0, [ChunkHit(first, 1.0), ChunkHit(second, 0.9)])]
    )
    draft(Answer("results", "general", "en", "answered", 1.0), ctx).complete(probe.chat_model)
    number = next(p.number for p in passages_seen[0] if p.text == first.text)
    assert [p.number for p in passages_seen[0]].count(number) == 2  # the shared number
    text = cite(unit, number)
    answer = Answer("results", "general", "en", "answered", 1.0)

    draft(answer, ctx).complete(FakeListChatModel(responses=[text]))

    assert answer.guard_problems == []
    assert answer.generated == text
