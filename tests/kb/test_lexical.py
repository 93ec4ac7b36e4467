"""The corpus's words: misspellings of them, names written in the other script, and the
documents' term counts as a snapshot stores them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.kb.jsonfile import read_json, write_json
from bot.kb.lexical import DOC_TERMS_FILE, INFO_FILE, DocTerms, LexicalIndex, specificity, tokenize

COUNTS = {
    "zh-doc": {"美团": 1, "召回": 2, "订单": 3, "龙虾": 1},
    "en-doc": {"meituan": 2, "order": 1, "longxia": 1, "long": 1},
    "mixed-doc": {"订单": 1, "order": 4},
}
TERMS = DocTerms.from_counts(COUNTS)


def test_a_name_is_found_in_the_other_script_by_its_sound() -> None:
    assert TERMS.transliterations("美团") == ["meituan"]
    assert TERMS.transliterations("meituan") == ["美团"]
    assert TERMS.transliterations("longxia") == ["龙虾"]


def test_a_word_of_the_language_is_no_name() -> None:
    # "订单" sounds "dingdan", which no English document writes; "long" is English before it is 龙.
    assert TERMS.transliterations("订单") == []
    assert TERMS.transliterations("long") == []
    assert TERMS.transliterations("order") == []


def test_a_chinese_word_written_with_a_corpus_word_s_sound_is_a_misspelling_of_it() -> None:
    assert TERMS.respelling("招回") == "召回"
    assert TERMS.respelling("召回") is None  # the corpus's own word
    assert TERMS.respelling("招回来") is None  # another length, another word


def test_the_counts_are_each_document_s_and_score_each_term_where_it_is_held() -> None:
    assert TERMS.terms_of("en-doc") == COUNTS["en-doc"]
    assert TERMS.terms_of("nowhere") == {}
    assert TERMS.df["订单"] == 2 and TERMS.df["long"] == 1
    rows, scores = TERMS.term_scores("order")
    assert [TERMS.doc_ids[row] for row in rows] == ["en-doc", "mixed-doc"]
    assert scores[1] > scores[0]  # four times against once, in documents of one length
    assert len(TERMS.term_scores("absent")[0]) == 0


def test_the_counts_load_from_a_snapshot_as_they_were_saved(tmp_path: Path) -> None:
    index = LexicalIndex.build(["订单 召回 美团", "order meituan order", "订单 order"], ["zh", "en", "mixed"])
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path).doc_terms
    assert loaded.doc_ids == ["zh", "en", "mixed"]
    assert {doc: loaded.terms_of(doc) for doc in loaded.doc_ids} == {
        doc: index.doc_terms.terms_of(doc) for doc in loaded.doc_ids
    }
    for term in ("订单", "order", "meituan"):
        assert np.array_equal(loaded.term_scores(term)[1], index.doc_terms.term_scores(term)[1])


def test_a_snapshot_written_before_the_counts_were_arrays_still_loads(tmp_path: Path) -> None:
    """Its counts were in the lexical index's JSON file: a bot keeps serving it until the next ingest."""
    LexicalIndex.build(["订单 召回", "order meituan"], ["zh", "en"]).save(tmp_path)
    info = read_json(tmp_path / INFO_FILE)
    write_json(tmp_path / INFO_FILE, {"size": info["size"], "terms": info["terms"], "doc_terms": COUNTS})
    (tmp_path / DOC_TERMS_FILE).unlink()
    assert LexicalIndex.load(tmp_path).doc_terms.terms_of("mixed-doc") == COUNTS["mixed-doc"]
    assert LexicalIndex.known_counts(tmp_path, info["terms"]).terms_of("zh-doc") == COUNTS["zh-doc"]


@pytest.mark.parametrize(("word", "token"), [("always", "alway"), ("goes", "goe"), ("perhaps", "perhap")])
def test_a_common_word_is_not_made_rare_by_its_stem(word: str, token: str) -> None:
    assert tokenize(word) == [token]
    assert specificity(token) == pytest.approx(specificity(word)) and specificity(token) < 1.5


def test_a_rare_word_stays_rare_and_a_plural_is_as_common_as_its_singular() -> None:
    assert specificity("reconciliation") > 2.5
    assert specificity(tokenize("policies")[0]) == specificity("policy")
