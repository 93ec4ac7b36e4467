"""The composers on the real index of the sample corpus: the catalog, small talk, the closest
passages, and a salesperson getting ready for a meeting. Expected values are read from the
source files (the parsed corpus), never from the engine."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.answers.compose.context import Context
from bot.answers.engine import Engine
from bot.answers.evidence import content_weights
from bot.answers.labels import LABELS
from bot.answers.model import Listing
from bot.kb.filters import Filters
from bot.kb.schema import KINDS, STAGES
from bot.kb.sources import SourceDocument
from bot.records import Asked, Records

TODAY = dt.date(2026, 11, 25)


def titles_of(corpus: dict[str, SourceDocument], kind: str, audience: str | None = None) -> list[str]:
    return [
        doc.meta.title
        for doc in corpus.values()
        if doc.meta.kind == kind and (audience is None or {audience, "all"} & set(doc.meta.audience))
    ]


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("give me a quick rundown of everything we have", KINDS),
        ("我刚来，咱们的客户案例都覆盖哪些行业？", ("case",)),
        ("what are the stages of an implementation, start to finish?", ("stage_guide",)),
    ],
)
def test_an_overview_lists_every_document_of_the_kinds_asked_for(
    engine: Engine, corpus: dict[str, SourceDocument], question: str, kinds: tuple[str, ...]
) -> None:
    answer = engine.ask(question, today=TODAY, record=False)

    assert answer.intent == "overview" and answer.status == "answered"
    listings = [part for part in answer.body if isinstance(part, Listing)]
    assert [listing.heading for listing in listings] == [LABELS[answer.lang][f"catalog_{kind}"] for kind in kinds]
    for kind, listing in zip(kinds, listings):
        cited = [answer.citations[entry.citation - 1] for entry in listing.entries]
        assert sorted(c.title for c in cited) == sorted(titles_of(corpus, kind))
        assert all(c.kind == kind for c in cited)
        assert all(f"{entry.text} [{entry.citation}]" in answer.text for entry in listing.entries)
    if "stage_guide" in kinds:
        guides = listings[list(kinds).index("stage_guide")]
        stages = [corpus[answer.citations[e.citation - 1].doc_id].meta.stage for e in guides.entries]
        assert stages == sorted(stages, key=STAGES.index)  # in the order of an implementation
    assert json.loads(json.dumps(answer.to_json()))["status"] == "answered"


def test_an_overview_shows_only_what_the_channel_may_see(engine: Engine, corpus: dict[str, SourceDocument]) -> None:
    answer = engine.ask(
        "which playbooks and cases do we have?", Filters(audience="implementation"), today=TODAY, record=False
    )
    listed = {
        answer.citations[e.citation - 1].title
        for part in answer.body
        if isinstance(part, Listing)
        for e in part.entries
    }
    expected = set(titles_of(corpus, "playbook", "implementation")) | set(titles_of(corpus, "case", "implementation"))
    assert listed == expected
    assert listed < set(titles_of(corpus, "playbook")) | set(titles_of(corpus, "case"))


@pytest.mark.parametrize(
    ("message", "lang", "key"),
    [
        ("thanks, that was quick!", "en", "welcome"),
        ("hello there", "en", "greeting"),
        ("好的收到，谢谢", "zh", "welcome"),
        ("你好", "zh", "greeting"),
    ],
)
def test_small_talk_gets_one_line_in_its_language_with_no_sources_and_no_gap(
    engine: Engine, records: Records, message: str, lang: str, key: str
) -> None:
    answer = engine.ask(message, today=TODAY, record=True)

    assert answer.intent == "smalltalk" and answer.status == "answered"
    assert answer.text == LABELS[lang][key]
    assert answer.citations == [] and answer.sources == []
    assert records.record_answer(answer, Asked("cli")) is None and records.answers() == []


def test_the_closest_passages_are_quoted_under_a_heading_no_one_reads_as_a_yes(
    engine: Engine, corpus: dict[str, SourceDocument]
) -> None:
    question = "How much is the membership module per store per month?"
    answer = engine.ask(question, today=TODAY, record=True)

    assert answer.status == "closest" and answer.abstained
    assert answer.text.startswith(LABELS["en"]["closest_quotes"])
    quotes = [(q.text, answer.citations[q.citation - 1].doc_id) for g in answer.groups for q in g.quotes]
    assert quotes and all(text in corpus[doc_id].body for text, doc_id in quotes)
    assert answer.to_json()["status"] == "closest"
    assert LABELS["en"]["gap_recorded"] in answer.text


def test_getting_ready_for_a_customer_meeting_brings_questions_to_ask_value_and_proof(
    engine: Engine, corpus: dict[str, SourceDocument]
) -> None:
    answer = engine.ask("下周拜访一家茶饮连锁，我该准备些什么？", today=TODAY, record=False)
    playbook = corpus["pb-tea-drinks-membership"]
    quotes = [q.text for g in answer.groups for q in g.quotes]

    assert answer.intent == "value" and answer.status == "answered"
    assert answer.sources[0].doc_id == playbook.id
    assert any(text.endswith(("？", "?")) for text in quotes)  # the playbook's own discovery questions
    assert any(not text.endswith(("？", "?")) for text in quotes)
    assert [card.doc_id for card in answer.cards] == ["case-chayu-tea"]


@pytest.mark.parametrize(
    ("question", "playbook"),
    [
        ("discovery questions for a bakery chain I'm seeing friday?", "pb-bakery-waste-daily-clear"),
        ("第一次见火锅连锁的老板，该问他些什么？", "pb-hotpot-food-cost"),
    ],
)
def test_asked_only_what_to_ask_the_customer_the_playbook_s_questions_are_the_answer(
    engine: Engine, corpus: dict[str, SourceDocument], question: str, playbook: str
) -> None:
    answer = engine.ask(question, today=TODAY, record=False)
    quotes = [(q.text, answer.citations[q.citation - 1].doc_id) for g in answer.groups for q in g.quotes]

    assert answer.intent == "value" and answer.status == "answered"
    assert answer.groups[0].heading.endswith(("Discovery questions", "需求挖掘问题"))
    assert len(quotes) >= 4 and {doc_id for _, doc_id in quotes} == {playbook}
    assert all(text.endswith(("？", "?")) and text in corpus[playbook].body for text, _ in quotes)


def test_a_case_question_asking_two_things_gets_the_lines_of_both(
    engine: Engine, corpus: dict[str, SourceDocument]
) -> None:
    # The first part is answered by the results, the second by a step of the timeline.
    doc = corpus["case-redline-burger"]
    step = next(line for line in doc.body.splitlines() if "per week" in line)
    question = "In the Redline Burger case, how much faster did service get? And how many stores per week did the rollout cover?"
    answer = engine.ask(question, today=TODAY, record=False)

    assert answer.intent == "case" and answer.status == "answered"
    assert step.split(". ", 1)[1] in answer.text
    assert all(f"{metric.before:g}" in answer.text for metric in doc.meta.metrics)


def test_a_case_question_without_a_number_cue_is_answered_with_the_case_s_results(
    engine: Engine, corpus: dict[str, SourceDocument]
) -> None:
    # Asking whether a customer got somewhere is asking what it measured: the lines stating a change.
    doc = corpus["case-alder-vine-fine-dining"]
    results = [line.removeprefix("- ") for line in doc.body.splitlines() if "→" in line]
    question = "did the fine dining group actually stop losing money to no-shows?"
    answer = engine.ask(question, today=TODAY, record=False)
    quotes = [q.text for g in answer.groups for q in g.quotes]

    assert not engine.router.route(question, modules=engine.index.modules).flags.how_much
    assert answer.intent == "case" and answer.status == "answered"
    assert len([text for text in quotes if text in results]) >= 2


def test_words_framing_a_question_count_for_quoting_but_not_for_answerability(engine: Engine) -> None:
    question = "pitch for Saturday afternoon no-shows at a fine dining group?"
    request = engine.router.route(question, modules=engine.index.modules)
    result = engine.index.search(request.query, Filters(), kind=request.kind)
    ctx = Context(request, engine.index, Filters(), TODAY, result=result)
    terms = [forms[0] for forms in result.concepts]
    evidence = dict(
        zip(terms, content_weights(result.concepts, engine.index.snapshot.lexical.doc_terms, request.framing))
    )
    quoting = dict(zip(terms, ctx.scorer().weights))

    assert {"saturday", "afternoon", "pitch"} <= request.framing
    # When the question is asked is no evidence that the sources answer it ...
    assert evidence["saturday"] == evidence["afternoon"] == 0.0
    # ... but of two lines that answer, the one stating the asked Saturday afternoon is the closer quote.
    assert quoting["saturday"] > 0.0 and quoting["afternoon"] > 0.0
    # A word asking for a shape of answer counts for neither: sources use "pitch" in other senses.
    assert evidence["pitch"] == quoting["pitch"] == 0.0
