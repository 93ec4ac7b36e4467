"""Quoting: the sentences and list items that answer a question, chosen greedily from the
retrieved passages, copied verbatim and grouped by section with their citations."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.answers.citations import Citations
from bot.answers.model import Quote, QuoteGroup
from bot.kb.chunking import SECTION_SEPARATOR, Chunk, introduced_lists, is_list, quotable_units
from bot.kb.lexical import lemma, tokenize
from bot.kb.search import DocHit

_DIGIT = re.compile(r"\d")
# A sentence stating how much something changed: a number beside a word of change, an arrow or
# "before ... after", a number on both sides of "from ... to" (not "from surgery to crown"), or a
# multiple. Generic business language in both corpus languages.
_CHANGE = re.compile(
    r"\b(improv\w*|reduc\w*|cut|cuts|fall\w*|fell|drop\w*|ris(e|es|ing)|rose|increas\w*|decreas\w*|lower\w*|rais\w*|"
    r"sav(e|es|ed|ing|ings)|shorten\w*|grow\w*|gain\w*|lift\w*|boost\w*|climb\w*|shr[iu]nk\w*|halv\w*|doubl\w*|"
    r"from\b[^;]{0,40}?\d[^;]{0,40}?\bto\b[^;]{0,15}?\d|before\b(?:[^;.]|\.\d){0,60}?\d(?:[^;.]|\.\d){0,40}?\bafter|"
    r"\d+(\.\d+)?(-\d+(\.\d+)?)? ?x|times (more|less|higher|lower|faster|as))\b|→|"
    r"下降|降低|降到|降至|减少|压缩|提升|提高|增加|增长|节省|节约|缩短|倍|减半|升至|"
    r"从[^，。；]{0,20}?[\d一二两三四五六七八九十半百千万][^，。；]{0,30}?(到|降|升|提)[^，。；]{0,10}?[\d一二两三四五六七八九十半百千万]",
    re.IGNORECASE,
)
# A sentence stating what the product does not do (well): the answer to "what must I not promise?".
_LIMIT = re.compile(
    r"\b(weak(ness(es)?)?|limit(ation|ations|ed)|gaps?|shortcomings?|downsides?|caveats?|not (yet )?(support\w*|available|"
    r"integrat\w*|native\w*|included)|we (do not|don't|cannot|can't|have no)|only (works?|supports?)|"
    r"(does not|doesn't|do not|don't|cannot|can't) (yet )?(support|integrate|offer|handle|include|cover|provide|connect)\w*|"
    r"semi-manual|manual(ly)?|workaround)\b|"
    r"短板|劣势|不足|局限|缺点|不支持|暂不|尚不|尚未|无法|做不到|只能|偏基础|不对接|手工",
    re.IGNORECASE,
)
MAX_QUOTES = 6
MAX_QUOTES_PER_DOC = 4
RETRIEVED_PASSAGES = 6
QUANTITY_BONUS = 0.5
CHANGE_BONUS = 0.3  # on top: a number that is a change, when the question asks how much; calibrated on the eval set
LIMIT_BONUS = 0.5  # a unit stating a limitation, when the question asks what we do not do well
SEMANTIC_WEIGHT = 1.0
REPEAT_SHARE = 0.5  # a question term a chosen quote already states counts half
HEADING_SHARE = 0.5  # a term only the unit's section heading states counts half
MAX_INTRODUCED = 8  # a lead-in ("... when:") brings its list along when the list is no longer than this


@functools.lru_cache(maxsize=65536)
def unit_tokens(text: str) -> frozenset[str]:
    # Sources are quoted again and again; segment each sentence once.
    return frozenset(tokenize(text))


@functools.lru_cache(maxsize=65536)
def unit_lemmas(text: str) -> frozenset[str]:
    return frozenset(lemma(token) for token in unit_tokens(text))


@dataclass
class Scorer:
    """How well a unit of text covers the question's terms (in either language),
    inflections aside: "scanned" states the question's "scanning"."""

    concepts: list[list[str]]
    weights: list[float]
    quantity: bool
    statements_only: bool = False  # quote no unit that is itself a question (see `is_question`)
    listing: bool = False  # the question asks for a whole list (see `_candidates`)
    weakness: bool = False  # the question asks what we do not do well (see `_LIMIT`)
    pitch: bool = False  # a pitch is what changes by how much: a stated change counts twice
    questions_only: bool = False  # quote only units that are questions: what to ask the customer
    _lemmas: list[frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._lemmas = [frozenset(lemma(form) for form in forms) for forms in self.concepts]

    def covered(self, text: str) -> frozenset[int]:
        """The question concepts (by index) a text mentions."""
        tokens = unit_lemmas(text)
        return frozenset(i for i, forms in enumerate(self._lemmas) if tokens.intersection(forms))

    def share(self, concepts: Iterable[int]) -> float:
        return sum(self.weights[i] for i in concepts) / (sum(self.weights) or 1.0)

    def bonus(self, text: str) -> float:
        """When the question asks for a magnitude: a unit with a number, more for a number that is
        a change, more again in a pitch. When it asks what we do not do well: a unit stating a limitation."""
        limit = LIMIT_BONUS if self.weakness and _LIMIT.search(text) else 0.0
        if not self.quantity or not _DIGIT.search(text):
            return limit
        change = CHANGE_BONUS * (2 if self.pitch else 1) if _CHANGE.search(text) else 0.0
        return limit + QUANTITY_BONUS + change

    def score(self, text: str) -> float:
        return self.share(self.covered(text)) + self.bonus(text)


@dataclass
class _Candidate:
    base: float  # meaning, retrieval prior and the number bonus: fixed while choosing
    own: frozenset[int]  # question concepts the unit itself states
    context: frozenset[int]  # further concepts only its section heading names
    order: int
    position: int
    text: str
    doc: DocHit
    section: str
    introduces: tuple[int, ...] = ()  # positions of the list items this unit leads into
    led: bool = False  # a list item after a lead-in: quoted only with it
    heading_share: float = HEADING_SHARE  # what the concepts only its heading names count for

    def gain(self, scorer: Scorer, said: frozenset[int]) -> float:
        """Score given what the quotes chosen so far already say: a concept already
        covered counts for less, so a question with several parts gets each part answered."""
        fresh, repeated = self.own - said, self.own & said
        context = self.context - said - self.own
        return (
            self.base
            + scorer.share(fresh)
            + REPEAT_SHARE * scorer.share(repeated)
            + self.heading_share * scorer.share(context)
        )


def _candidates(
    docs: list[tuple[DocHit, list[Chunk]]], scorer: Scorer, unit_similarity: Callable[[Chunk], Sequence[float]]
) -> list[_Candidate]:
    out: list[_Candidate] = []
    for doc_rank, (doc, passages) in enumerate(docs):
        for passage_rank, chunk in enumerate(passages):
            prior = 0.3 / (1 + doc_rank) + (0.2 / (1 + passage_rank) if passage_rank < RETRIEVED_PASSAGES else 0.0)
            similarities = unit_similarity(chunk)
            # A list item under "Risks" is about risks even when it never says the word. Only its own
            # heading counts: "Risks, tips and exit criteria" above it names all three lists.
            heading = scorer.covered(_own_heading(chunk))
            lists = {at: items for at, items in introduced_lists(chunk.text).items() if len(items) <= MAX_INTRODUCED}
            # "there have been 3 trading days with no open P1 issue;" alone drops the condition its
            # lead-in states ("Go-live is complete for a store when:"): such an item comes with it.
            led = {i for items in lists.values() for i in items}
            units = []
            for position, unit in enumerate(quotable_units(chunk.text)):
                meaning = float(similarities[position]) if position < len(similarities) else 0.0
                units.append((SEMANTIC_WEIGHT * meaning + prior + scorer.bonus(unit), scorer.covered(unit), unit))
            # "What are the risks?" asks for the whole "Risks" list: a short list under a heading of its
            # own that names what the question asks for comes whole, each item bringing the others.
            # Its heading then names what the whole list is, so it counts in full.
            heading_share = HEADING_SHARE
            if (
                scorer.listing
                and scorer.share(heading)
                and not lists
                and len(units) <= MAX_INTRODUCED + 1
                and is_list(chunk.text)
            ):
                members = [
                    i for i, (_, _, unit) in enumerate(units) if not (scorer.statements_only and is_question(unit))
                ]
                lists = {at: [i for i in members if i != at] for at in members}
                heading_share = 1.0
            for position, (base, own, unit) in enumerate(units):
                introduces = tuple(lists.get(position, ()))
                # A lead-in into a list of questions ("Ask the owner:") goes with its list.
                if scorer.statements_only and any(is_question(units[i][2]) for i in (position, *introduces)):
                    continue
                if scorer.questions_only and not is_question(unit):
                    continue
                if introduces:
                    # A lead-in is quoted with its list, so it is worth what the block is worth.
                    block = [units[position], *(units[i] for i in introduces)]
                    base = max(b for b, _, _ in block)
                    own = frozenset().union(*(o for _, o, _ in block))
                out.append(
                    _Candidate(
                        base,
                        own,
                        heading - own,
                        chunk.order,
                        position,
                        unit,
                        doc,
                        chunk.section,
                        introduces,
                        position in led,
                        heading_share,
                    )
                )
    return out


def _own_heading(chunk: Chunk) -> str:
    """A passage's own section heading, without the headings above it."""
    return chunk.section.split(SECTION_SEPARATOR)[-1] if chunk.section else ""


def _choose(candidates: list[_Candidate], scorer: Scorer, max_quotes: int, per_doc_cap: int) -> list[_Candidate]:
    """Greedy selection: each round takes the unit adding the most, given the ones already taken."""
    chosen: list[_Candidate] = []
    per_doc: dict[str, int] = {}
    seen: set[str] = set()
    said: frozenset[int] = frozenset()
    pool = list(candidates)
    while pool and len(chosen) < max_quotes:
        room = max_quotes - len(chosen)
        # A lead-in comes with its list, so only a list that fits; one longer than the whole answer
        # only when a list is what was asked for (a timeline would otherwise crowd out the figure asked).
        pool = [
            c
            for c in pool
            if c.text not in seen
            and per_doc.get(c.doc.doc_id, 0) < per_doc_cap
            and (1 + len(c.introduces) <= room or (scorer.listing and not chosen))
        ]
        eligible = [c for c in pool if not c.led]
        if not eligible:
            break
        best = max(eligible, key=lambda c: c.gain(scorer, said))
        # A lead-in ("Go-live is complete for a store when:") says nothing without its list.
        listed = [c for c in pool if c.doc is best.doc and c.order == best.order and c.position in best.introduces]
        for taken in (best, *listed):
            seen.add(taken.text)
            per_doc[taken.doc.doc_id] = per_doc.get(taken.doc.doc_id, 0) + 1
            said |= taken.own
            chosen.append(taken)
    return chosen


def quote_groups(
    docs: list[tuple[DocHit, list[Chunk]]],
    scorer: Scorer,
    citations: Citations,
    unit_similarity: Callable[[Chunk], Sequence[float]],
    max_quotes: int = MAX_QUOTES,
) -> list[QuoteGroup]:
    """The best units from the best passages, grouped by document section, in document order.

    A unit's score is its closeness in meaning to the question (a cross-lingual
    model), how much of the question's terms it (and, for less, its section
    heading) covers that the units already chosen do not, a prior for its
    passage's retrieval rank, and a bonus for stating a number when the
    question asks for one. `docs` pairs each document with its passages, the
    retrieved ones first (best first), then the rest of the document."""
    # The per-document cap spreads quotes over sources; with one source it would only cut the answer short.
    per_doc_cap = MAX_QUOTES_PER_DOC if len(docs) > 1 else max_quotes
    chosen = _choose(_candidates(docs, scorer, unit_similarity), scorer, max_quotes, per_doc_cap)
    doc_order = {doc.doc_id: rank for rank, (doc, _) in enumerate(docs)}
    chosen.sort(key=lambda c: (doc_order[c.doc.doc_id], c.order, c.position))
    groups: list[QuoteGroup] = []
    for candidate in chosen:
        doc, section = candidate.doc, candidate.section
        number = citations.cite(doc.doc_id, section, doc.score)
        title = citations.items[number - 1].title
        heading = f"{title} · {section}" if section else title
        quote = Quote(candidate.text, number)
        if groups and groups[-1].heading == heading:
            groups[-1] = QuoteGroup(heading, groups[-1].quotes + (quote,))
        else:
            groups.append(QuoteGroup(heading, (quote,)))
    return groups


def is_question(unit: str) -> bool:
    """A unit that asks rather than states, such as a playbook's discovery question ("上个月的
    爽约率多少？"). A statement that quotes a question ('Ask: "How many …?"') is a statement."""
    return unit.rstrip().endswith(("?", "？"))
