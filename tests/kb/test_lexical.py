"""The corpus's words: misspellings of them, and names written in the other script."""

from __future__ import annotations

from bot.kb.lexical import DocTerms

TERMS = DocTerms(
    {
        "zh-doc": {"美团": 1, "召回": 2, "订单": 3, "龙虾": 1},
        "en-doc": {"meituan": 2, "order": 1, "longxia": 1, "long": 1},
    }
)


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
