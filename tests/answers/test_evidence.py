"""Evidence and the answer policy on hand-made inputs: which of the question's words count,
how the top document covers them, and the three outcomes against a baseline of unrelated questions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.answers.cues import FRAMING_TERMS, REQUEST_TERMS, framing_terms
from bot.answers.evidence import (
    MIN_SPREAD,
    REFERENCE_VOCABULARY,
    AnswerPolicy,
    Baseline,
    Evidence,
    assess,
    content_weights,
)
from bot.kb.chunking import Chunk
from bot.kb.lexical import DocTerms, concept_weights, tokenize
from bot.kb.search import ChunkHit, DocHit, SearchResult

DOC = "doc-a"


def chunk(section: str, text: str, order: int = 0) -> Chunk:
    return Chunk(f"{DOC}:{order}", DOC, "playbook", "en", "Doc A", section, text, order)


def test_words_asking_for_a_shape_of_answer_weigh_nothing_in_a_sources_words() -> None:
    doc_terms = DocTerms.from_counts({DOC: {"acme": 3, "waste": 2}, "doc-b": {"waste": 1, "labour": 4}})
    concepts = [["pitch"], ["acme"], ["proof", "证明"], ["waste"], ["upfront"], ["promise"]]
    framing = framing_terms("pitch acme proof waste upfront promise", [forms[0] for forms in concepts])
    general, content = concept_weights(concepts, doc_terms), content_weights(concepts, doc_terms, framing)
    assert general[0] > 0.0 and general[2] > 0.0 and general[4] > 0.0  # retrieval still ranks with them
    assert content == [0.0, general[1], 0.0, general[3], 0.0, 0.0]


def test_an_unknown_compound_of_two_question_terms_is_not_counted_again() -> None:
    # jieba's search mode yields 数据完整性 beside 数据 and 完整性.
    doc_terms = DocTerms.from_counts(
        {DOC: {"验收": 2, "数据": 3, "完整性": 1, "牙科": 1}, "doc-b": {"数据": 1, "诊所": 2}}
    )
    concepts = [["验收"], ["数据", "data"], ["完整性"], ["数据完整性"], ["牙科诊所"], ["诊所"], ["摸清楚"], ["清楚"]]
    general, content = concept_weights(concepts, doc_terms), content_weights(concepts, doc_terms)

    assert general[3] > 0.0 and content[3] == 0.0
    # The parts must both be question terms: 牙科 is the corpus's, but the question never says it alone.
    assert content[4] == general[4] > 0.0
    # A one-character part (摸) is too loose a split to trust.
    assert content[6] == general[6] > 0.0
    assert [content[i] for i in (0, 1, 2, 5, 7)] == [general[i] for i in (0, 1, 2, 5, 7)]
    # A compound the corpus itself uses is a term of its own.
    used = DocTerms.from_counts({DOC: {"数据": 1, "完整性": 1, "数据完整性": 1}, "doc-b": {"诊所": 1}})
    assert content_weights([["数据"], ["完整性"], ["数据完整性"]], used)[2] > 0.0


def test_an_unknown_hyphenated_compound_of_question_terms_is_not_counted_again() -> None:
    # The tokenizer keeps "scan-to-pickup" beside "scan" and "pickup".
    doc_terms = DocTerms.from_counts({DOC: {"scan": 2, "pickup": 1, "queue": 1}, "doc-b": {"queue": 2, "grab": 1}})
    concepts = [["scan-to-pickup"], ["scan"], ["pickup"], ["queue"], ["grab-and-go"], ["grab"]]
    general, content = concept_weights(concepts, doc_terms), content_weights(concepts, doc_terms)

    assert general[0] > 0.0 and content[0] == 0.0
    assert content[1:4] == general[1:4]
    # Every part of three letters or more must be a question term: "go" is short, "and" is not asked.
    assert content[4] == general[4] > 0.0


def test_a_figure_the_sources_lack_is_the_askers_own_and_one_they_state_counts() -> None:
    doc_terms = DocTerms.from_counts({DOC: {"queue": 2, "members": 1, "90": 1}, "doc-b": {"queue": 1, "turnstile": 2}})
    hits = [DocHit(DOC, 1.0, [ChunkHit(chunk("S", "queue members 90"), 1.0)])]

    def assessed(*terms: str) -> Evidence:
        return assess(SearchResult("q", "en", "hybrid", hits, [[term] for term in terms]), doc_terms, 0.4, [])

    # "3000 members queue": the club's own size is neither found nor missing.
    assert assessed("3000", "members", "queue") == assessed("members", "queue")
    assert assessed("3000", "members", "queue").coverage == 1.0
    # A figure the document states is found like any word; a word it lacks is still missing.
    assert assessed("90", "members", "turnstile").coverage > assessed("members", "turnstile").coverage
    assert assessed("3000", "turnstile").uncovered == ("turnstile",)


def evidence_for(subject: frozenset[str]):
    doc_terms = DocTerms.from_counts({DOC: {"acme": 3, "waste": 2}, "doc-b": {"waste": 1, "labour": 4}})
    result = SearchResult(
        "acme waste",
        "en",
        "hybrid",
        [DocHit(DOC, 1.0, [ChunkHit(chunk("S", "acme waste"), 1.0)])],
        [["acme"], ["waste"]],
    )
    return assess(result, doc_terms, 0.4, [], subject)


def test_naming_the_subject_lifts_less_when_the_rest_is_unknown_to_the_corpus() -> None:
    def lift(unknown: float) -> float:
        named = Evidence(coverage=0.5, unknown=unknown, semantic=0.4, passage=0.5, uncovered=(), anchored=0.5)
        return named.score - replace(named, anchored=0.0).score

    assert lift(0.0) > lift(0.4) > lift(0.8) > 0.0


def test_a_question_naming_the_documents_subject_has_stronger_evidence() -> None:
    named = evidence_for(frozenset({"acme"}))
    unnamed = evidence_for(frozenset())
    assert unnamed.anchored == 0.0
    assert 0.0 < named.anchored <= 1.0
    assert named.coverage == unnamed.coverage
    assert named.score > unnamed.score
    policy = AnswerPolicy()
    assert policy.confidence(named) >= policy.confidence(unnamed)


@pytest.mark.parametrize("filler", [0, 200, REFERENCE_VOCABULARY])
def test_words_missing_from_a_small_vocabulary_count_less_as_unknown(filler: int) -> None:
    counts = {DOC: {"acme": 3, "waste": 2}, "doc-b": {"waste": 1, "labour": 4, **{f"w{i}": 1 for i in range(filler)}}}
    doc_terms = DocTerms.from_counts(counts)
    concepts = [["acme"], ["waste"], ["zeppelin"]]  # "zeppelin": in no document
    result = SearchResult(
        "acme waste zeppelin", "en", "hybrid", [DocHit(DOC, 1.0, [ChunkHit(chunk("S", "acme waste"), 1.0)])], concepts
    )
    weights = concept_weights(concepts, doc_terms)
    missing_share = weights[2] / sum(weights)
    scale = min(1.0, len(doc_terms.df) / REFERENCE_VOCABULARY)
    evidence = assess(result, doc_terms, 0.4, [], frozenset())
    assert missing_share > 0.0
    assert evidence.unknown == pytest.approx(missing_share * scale)
    assert evidence.uncovered == ("zeppelin",)  # what the answer names as missing is not discounted


@pytest.mark.parametrize("asking", [["pitch"], ["proof", "证明"], ["案例"], ["worried"]])
def test_words_asking_for_a_shape_of_answer_are_no_evidence_either_way(asking: list[str]) -> None:
    # "What do we pitch to acme about waste? Any proof?": no source says "pitch" or "proof",
    # and none needs to in order to answer.
    doc_terms = DocTerms.from_counts({DOC: {"acme": 3, "waste": 2}, "doc-b": {"waste": 1, "labour": 4}})
    hits = [DocHit(DOC, 1.0, [ChunkHit(chunk("S", "acme waste"), 1.0)])]

    def evidence(concepts: list[list[str]]) -> Evidence:
        framing = framing_terms("", [forms[0] for forms in concepts])
        return assess(SearchResult("q", "en", "hybrid", hits, concepts), doc_terms, 0.4, [], frozenset(), framing)

    plain = evidence([["acme"], ["waste"]])
    asked = evidence([["acme"], asking, ["waste"]])
    assert asking[0] in REQUEST_TERMS
    assert asked == plain
    assert asked.unknown == 0.0 and asked.coverage == pytest.approx(1.0)


def test_request_terms_are_written_as_search_tokens() -> None:
    assert [term for term in sorted(REQUEST_TERMS) if tokenize(term) != [term]] == []


@pytest.mark.parametrize("anchored", [0.0, 1.0])
def test_subject_share_never_turns_missing_terms_into_coverage(anchored: float) -> None:
    evidence = evidence_for(frozenset({"acme"}) if anchored else frozenset())
    assert evidence.coverage == pytest.approx(1.0)
    assert evidence.unknown == 0.0


def test_how_a_question_is_framed_is_no_evidence_either_way() -> None:
    # "Seeing acme Thursday, my boss asks about waste": no source says "Thursday" or "boss".
    doc_terms = DocTerms.from_counts({DOC: {"acme": 3, "waste": 2}, "doc-b": {"waste": 1, "labour": 4}})
    hits = [DocHit(DOC, 1.0, [ChunkHit(chunk("S", "acme waste"), 1.0)])]
    question = "Seeing acme Thursday, my boss asks about waste"
    concepts = [[token] for token in dict.fromkeys(tokenize(question))]
    framing = framing_terms(question, [forms[0] for forms in concepts])
    result = SearchResult(question, "en", "hybrid", hits, concepts)

    framed = assess(result, doc_terms, 0.4, [], frozenset(), framing)
    unframed = assess(result, doc_terms, 0.4, [], frozenset())

    assert {"seeing", "thursday", "boss", "ask"} <= framing and "acme" not in framing and "waste" not in framing
    assert framed.coverage == pytest.approx(1.0) and framed.unknown == 0.0 and framed.uncovered == ()
    assert unframed.coverage < 1.0 and "thursday" in unframed.uncovered


def test_chinese_time_words_and_pronouns_frame_a_question_by_their_part_of_speech() -> None:
    question = "下周要见一家火锅客户，这块怎么讲"
    framing = framing_terms(question, tokenize(question))
    assert {"下周", "这块", "客户"} <= framing
    assert "火锅" not in framing


@pytest.mark.parametrize("question", ["客户不肯签验收怎么办", "收银机连不上咋整", "店长不配合如何是好"])
def test_a_chinese_question_idiom_frames_a_question_like_how_and_what(question: str) -> None:
    tokens = tokenize(question)
    framing = framing_terms(question, tokens)
    idiom = next(token for token in tokens if token.startswith(("怎", "咋", "如何")))  # one word, not a pronoun
    assert idiom in framing
    assert not {"验收", "收银机", "店长"} & framing


def test_framing_and_request_terms_are_written_as_search_tokens() -> None:
    assert [term for term in sorted(FRAMING_TERMS) if tokenize(term) not in ([term], [])] == []


def evidence(meaning: float, words: float, unstated: bool = False) -> Evidence:
    """Evidence with the given relevance in meaning (sentence + passage similarity) and in words
    (coverage less the unknown share); its score is their sum."""
    return Evidence(
        coverage=max(words, 0.0),
        unknown=max(-words, 0.0),
        semantic=meaning,
        passage=0.0,
        uncovered=(),
        unstated=unstated,
    )


BASELINE = Baseline(means=(0.5, 0.5), spreads=(0.2, 0.2))


@pytest.mark.parametrize(
    ("meaning", "words", "status"),
    [
        (0.8, 0.6, "answered"),  # the words cover it (score 1.4) and the meaning stands out (1.5 spreads)
        (0.6, 0.75, "answered"),  # likewise, standing out in words (1.25 spreads)
        (0.65, 0.65, "declined"),  # covered (score 1.3), but no more about it than unrelated questions' sources
        (0.95, 0.2, "closest"),  # clearly about it (2.25 spreads), but the words fall short (score 1.15)
        (0.4, 0.95, "answered"),  # clear in words only: a question in the other language than its answer
        (0.55, 0.55, "declined"),
        (1.3, -0.3, "answered"),  # 4 spreads closer in meaning than unrelated questions: a paraphrase
    ],
)
def test_three_outcomes_against_what_unrelated_questions_score(meaning: float, words: float, status: str) -> None:
    e = evidence(meaning, words)
    assert e.score == pytest.approx(meaning + words)
    assert BASELINE.margins(e) == pytest.approx(((meaning - 0.5) / 0.2, (words - 0.5) / 0.2))
    assert AnswerPolicy().status(e, BASELINE) == status


def test_a_price_no_source_states_is_never_answered() -> None:
    policy = AnswerPolicy()
    assert policy.status(evidence(0.9, 0.9), BASELINE) == "answered"
    assert policy.status(evidence(0.9, 0.9, unstated=True), BASELINE) == "closest"
    assert policy.status(evidence(1.5, 0.0, unstated=True), BASELINE) == "closest"


def test_a_checklist_is_whole_when_its_stage_is_named_or_its_guide_is_clearly_about_it() -> None:
    policy = AnswerPolicy()
    weak = evidence(0.6, 0.1)
    assert policy.checklist_status(weak, BASELINE, named=True) == "answered"
    assert policy.checklist_status(weak, BASELINE, named=False) == "declined"
    assert policy.checklist_status(evidence(0.95, 0.1), BASELINE, named=False) == "answered"


def test_a_spread_of_zero_does_not_divide_by_zero() -> None:
    flat = Baseline(means=(0.5, 0.0), spreads=(0.0, 0.0))
    meaning, words = flat.margins(evidence(0.6, 0.0))
    assert meaning == pytest.approx(0.1 / MIN_SPREAD) and words == 0.0
