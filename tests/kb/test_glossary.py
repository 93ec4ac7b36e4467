"""The corpus glossary: its file format, its errors, and how a group of terms becomes one term."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.bridge import Bridge
from bot.kb.glossary import Glossary, GlossaryIndex, parse_glossary
from bot.kb.lexical import LexicalIndex, tokenize
from bot.kb.sources import load_corpus

GOOD = """\
# owner: product ops
- [加盟商, franchisee]
- [工时, labour hour, man-hour]
- [对账, reconcile, reconciliation]
"""


def test_a_glossary_is_groups_of_terms_in_file_order() -> None:
    glossary = parse_glossary(GOOD.encode())
    assert isinstance(glossary, Glossary)
    assert glossary.groups == (
        ("加盟商", "franchisee"),
        ("工时", "labour hour", "man-hour"),
        ("对账", "reconcile", "reconciliation"),
    )
    assert glossary.fingerprint != parse_glossary(GOOD.replace("man-hour", "man hour").encode()).fingerprint  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("- [a, b]\n- [only-one]\n", 2, "at least two terms"),
        ("- [a, b]\n- just a word\n", 2, "valid list"),
        ("- [a, b]\n- [c, [d, e]]\n", 2, "valid string"),
        ("- [a, b\n- [c, d]\n", 2, "malformed YAML"),
        ("franchise: 加盟\n", 1, "a list of groups"),
        ("- [加盟, franchise]\n- [Reconcile, reconcile]\n", 2, "appears twice"),
        ("- [加盟, franchise]\n- [franchise, the]\n", 2, "no searchable word"),
    ],
)
def test_a_bad_line_is_named_with_its_reason(text: str, line: int, reason: str) -> None:
    problems = parse_glossary(text.encode())
    assert isinstance(problems, list) and problems
    assert problems[0].line == line, problems
    assert reason in problems[0].reason, problems


def test_an_empty_glossary_has_no_groups() -> None:
    glossary = parse_glossary(b"# nothing yet\n")
    assert isinstance(glossary, Glossary) and glossary.groups == ()


def test_a_question_term_counts_as_every_term_of_its_group() -> None:
    index = GlossaryIndex.build([("工时", "labour hour", "man-hour"), ("对账", "reconcile", "reconciliation")])
    bridge = Bridge({}, {}, glossary=index)
    forms = {concept[0]: concept for concept in bridge.concepts("orders per labour hour while reconciling")}
    # A term of several words stands under its most specific word; an inflected word states its term.
    assert {"工时", "man-hour"} <= set(forms["labour"])
    assert {"对账", "reconcile", "reconciliation"} <= set(forms["reconciling"])
    assert forms["hour"] == ["hour"] and forms["order"] == ["order"]
    # Half of a term of several words is not the term.
    assert "工时" not in {form for concept in bridge.concepts("opening hours") for form in concept}


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("third-party logistics", True),
        ("third party logistics", True),  # a compound is also spelled by its words
        ("third party", False),  # half of the term
        ("man hours", True),
    ],
)
def test_a_compound_term_is_stated_with_or_without_its_hyphen(text: str, states: bool) -> None:
    index = GlossaryIndex.build([("3PL", "third-party logistics"), ("工时", "man-hour")])
    groups = index.annotate(tokenize(text))
    assert bool(groups) is states
    # ... in a question too: it then counts as the group's other terms.
    forms = {form for concept in Bridge({}, {}, glossary=index).concepts(text) for form in concept}
    assert bool(forms & {"pl", "工时"}) is states


def test_a_group_has_one_document_frequency_across_its_spellings() -> None:
    """A product named one way in the English documents and another in the Chinese ones is in
    every document: as one term it says nothing about which document answers."""
    index = GlossaryIndex.build([("ChefOS", "厨房云")])
    texts = ["ChefOS tracks food cost", "ChefOS cuts waste", "厨房云 降低 损耗", "厨房云 提升 人效"]
    lexical = LexicalIndex.build(texts, ["a", "b", "c", "d"], annotate=index.annotate)
    terms = lexical.doc_terms
    (chefos,) = [c for c in Bridge({}, {}, glossary=index).concepts("ChefOS") if c[0] == "chefo"]
    assert terms.rarity(chefos) == 0.0
    assert terms.rarity(["chefo", "厨房云"]) == 0.5  # spelled apart, each looked half as common
    assert all(word[0].isalnum() for words in lexical.vocabulary() for word in words)  # group tokens are no words


def test_the_corpus_reads_glossary_files_and_reports_their_lines(tmp_path: Path) -> None:
    source = tmp_path / "knowledge"
    source.mkdir()
    (source / "glossary.yaml").write_text(GOOD, encoding="utf-8")
    (source / "sub").mkdir()
    (source / "sub" / "glossary.yaml").write_text("- [a, b]\n- [lonely]\n", encoding="utf-8")
    (source / "terms.yaml").write_text("- [a, b]\n", encoding="utf-8")

    corpus = load_corpus([source])

    assert corpus.glossary.groups == parse_glossary(GOOD.encode()).groups  # type: ignore[union-attr]
    assert sorted(corpus.glossary_files) == ["knowledge/glossary.yaml", "knowledge/sub/glossary.yaml"]
    assert sorted(str(r) for r in corpus.rejections) == [
        "knowledge/sub/glossary.yaml:2: a group needs at least two terms that mean the same thing",
        "knowledge/terms.yaml: not Markdown (expected a .md file, or a glossary.yaml)",
    ]


def test_a_glossary_nested_thousands_deep_is_one_problem_on_its_line() -> None:
    problems = parse_glossary(
        b"- [food cost, \xe9\xa3\x9f\xe6\x9d\x90\xe6\x88\x90\xe6\x9c\xac]\n- " + b"[" * 5000 + b"]" * 5000
    )
    assert isinstance(problems, list)
    assert [(p.line, p.reason) for p in problems] == [(2, "malformed YAML: nested deeper than 100 levels")]
