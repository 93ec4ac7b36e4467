"""Quote selection and evidence on small hand-made inputs: each test sets up a
situation where the mechanism under test, and only it, decides the outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import pytest

from bot.answers.citations import Citations
from bot.answers.quotes import MAX_INTRODUCED, Scorer, quote_groups
from bot.answers.router import question_parts, read_flags
from bot.kb.chunking import Chunk, quotable_units
from bot.kb.schema import IndexedDocument
from bot.kb.search import DocHit

TODAY = dt.date(2026, 11, 25)
DOC = "doc-a"
DOCUMENTS = {
    DOC: IndexedDocument.model_validate(
        {
            "path": "doc-a.md",
            "meta": {
                "id": DOC,
                "title": "Doc A",
                "kind": "playbook",
                "lang": "en",
                "owner": "Owner",
                "verified": "2026-11-01",
            },
        }
    )
}


def chunk(section: str, text: str, order: int = 0) -> Chunk:
    return Chunk(f"{DOC}:{order}", DOC, "playbook", "en", "Doc A", section, text, order)


def quoted(
    chunks: list[Chunk],
    concepts: list[list[str]],
    meaning: dict[str, float],
    quantity: bool = False,
    max_quotes: int = 6,
    statements_only: bool = False,
    listing: bool = False,
    pitch: bool = False,
) -> list[str]:
    """The texts quote_groups picks, with each unit's closeness in meaning given by the test."""
    scorer = Scorer(concepts, [1.0] * len(concepts), quantity, statements_only, listing, pitch=pitch)

    def similarity(c: Chunk) -> Sequence[float]:
        return [meaning.get(unit, 0.0) for unit in quotable_units(c.text)]

    groups = quote_groups(
        [(DocHit(DOC, 1.0), chunks)], scorer, Citations(DOCUMENTS, TODAY, None), similarity, max_quotes
    )
    return [quote.text for group in groups for quote in group.quotes]


def test_a_question_with_two_parts_gets_both_parts_quoted() -> None:
    refund_a = "Refund requests are approved by the store manager."
    refund_b = "Refund totals appear in the daily report."
    invoice = "Invoice numbers follow the tax office format."
    chunks = [chunk("Billing", f"- {refund_a}\n- {refund_b}\n- {invoice}")]
    # The two refund sentences are each a little closer in meaning, but say the same part twice.
    picked = quoted(chunks, [["refund"], ["invoice"]], {refund_a: 0.5, refund_b: 0.5, invoice: 0.4}, max_quotes=2)
    assert invoice in picked
    assert len(picked) == 2


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "How do we know training is finished? What's the pass bar per role?",
            ["How do we know training is finished?", "What's the pass bar per role?"],
        ),
        ("门店什么时候算上线完成？出口标准是什么？", ["门店什么时候算上线完成？", "出口标准是什么？"]),
        (
            "Lines are long at lunch. How would we measure the delay; what gain is realistic?",
            ["Lines are long at lunch.", "How would we measure the delay;", "what gain is realistic?"],
        ),
        # A part too vague to match anything on its own ("how would we do it") is left out.
        (
            "Lines are long at lunch. How would we do it? What gain is realistic?",
            ["Lines are long at lunch.", "What gain is realistic?"],
        ),
    ],
)
def test_a_question_in_several_sentences_splits_into_them(question: str, parts: list[str]) -> None:
    assert list(question_parts(question)) == parts


@pytest.mark.parametrize(
    "question",
    [
        "What is the go-live checklist?",
        "Cut ticket time from 5.5 to 3.8 minutes?",  # a decimal point is no sentence end
        "上线清单？好吗？",  # a one-word sentence is no part of its own
        "",
    ],
)
def test_a_one_sentence_question_has_no_parts(question: str) -> None:
    assert question_parts(question) == ()


def test_a_lead_in_is_quoted_with_its_whole_list() -> None:
    lead = "Go-live is complete for a store when:"
    items = ["three days pass with no open P1 issue;", "sales reconcile within 0.5%."]
    other = "Go live in waves of ten stores."
    chunks = [chunk("Exit criteria", f"{lead}\n" + "".join(f"- {item}\n" for item in items) + other)]
    picked = quoted(chunks, [["complete"]], {lead: 0.5, other: 0.3}, max_quotes=1, listing=True)
    assert picked == [lead, *items]


def test_a_list_longer_than_the_answer_is_quoted_only_when_a_list_is_asked_for() -> None:
    # A timeline says a little about everything asked; the one sentence stating the figure
    # asked for must not lose the answer's few quotes to it.
    lead = "Timeline:"
    items = ["weeks 1-2: clean member data;", "weeks 3-5: design tiers;", "weeks 9-10: franchisees pay 40% of coupons."]
    stated = "Franchise stores went from 22% to 41% of sales from members."
    chunks = [chunk("Rollout", f"{lead}\n" + "".join(f"- {item}\n" for item in items) + stated)]
    meaning = {lead: 0.2, items[2]: 0.5, stated: 0.5}
    concepts = [["franchise", "franchisees"], ["members", "member"], ["coupons"], ["weeks"]]

    assert quoted(chunks, concepts, meaning, max_quotes=2) == [stated]
    assert quoted(chunks, concepts, meaning, max_quotes=2, listing=True) == [lead, *items]


def test_a_lead_in_is_worth_what_its_list_says() -> None:
    # The list item states the asked-for term; the lead-in alone does not, yet it is chosen for it.
    lead = "A store counts as live when:"
    item = "sales reconcile within 0.5%."
    other = "Finance reviews the numbers weekly."
    chunks = [chunk("Exit criteria", f"{other}\n\n{lead}\n- {item}")]
    picked = quoted(chunks, [["reconcile"]], {lead: 0.1, item: 0.4, other: 0.35}, max_quotes=2)
    assert picked == [lead, item]


def test_an_item_after_a_lead_in_is_never_quoted_without_it() -> None:
    # The item matches best, but alone it drops the condition its lead-in states.
    lead = "Go-live is complete for a store when:"
    items = ["sales reconcile within 0.5%;", "no P1 issue is open."]
    risk = "Reconcile stored value before opening."
    chunks = [
        chunk("Exit criteria", f"{lead}\n" + "".join(f"- {item}\n" for item in items)),
        chunk("Risks", f"- {risk}", 1),
    ]
    meaning = {lead: 0.1, items[0]: 0.9, items[1]: 0.1, risk: 0.3}

    assert quoted(chunks, [["reconcile"]], meaning, max_quotes=6) == [lead, *items, risk]
    # Once another quote is taken, a lead-in whose list no longer fits in the answer is left out,
    # rather than its items quoted without it or the answer running past its length.
    meaning[risk] = 2.0
    assert quoted(chunks, [["reconcile"]], meaning, max_quotes=3) == [risk]


def test_asked_for_a_list_the_list_its_heading_names_comes_first() -> None:
    # "What are the risks on go-live day?": the exit criteria say "day" in each item, but the
    # list headed "Risks" is what was asked for.
    lead = "Go-live is complete when:"
    criteria = ["three days pass with no P1 issue;", "the day's sales reconcile."]
    risks = ["Going live before a weekend hides errors.", "Unrouted dishes never reach the kitchen."]
    chunks = [
        chunk("Risks", "".join(f"- {item}\n" for item in risks), 1),
        chunk("Exit criteria", f"{lead}\n" + "".join(f"- {item}\n" for item in criteria), 0),
    ]
    meaning = {lead: 0.3, **{item: 0.3 for item in criteria}, **{item: 0.35 for item in risks}}

    assert quoted(chunks, [["day"], ["risk"]], meaning, max_quotes=3, listing=True) == risks


def test_a_lead_in_to_a_long_list_is_quoted_alone() -> None:
    lead = "Bring the following:"
    items = [f"item number {i}" for i in range(MAX_INTRODUCED + 1)]
    chunks = [chunk("Kit", f"{lead}\n" + "".join(f"- {item}\n" for item in items))]
    picked = quoted(chunks, [["bring"]], {lead: 0.5}, max_quotes=1)
    assert picked == [lead]


def test_section_heading_counts_for_the_units_under_it() -> None:
    under_risks = "Staff forget half of it when the session is too early."
    elsewhere = "Sessions run in the afternoon after prep."
    chunks = [chunk("Schedule", f"- {elsewhere}", 0), chunk("Risks", f"- {under_risks}", 1)]
    picked = quoted(chunks, [["risk"]], {under_risks: 0.3, elsewhere: 0.3}, max_quotes=1)
    assert picked == [under_risks]


RISKS = [
    "Going live on a Friday hides errors under peak volume.",
    "Staff keep using the old till.",
    "Unmapped dishes never reach the kitchen.",
]
TIP = "Tape a what-to-do card to the cashier desk."


@pytest.mark.parametrize(("listing", "whole"), [(True, True), (False, False)])
def test_a_question_asking_for_a_list_its_heading_names_gets_the_whole_list(listing: bool, whole: bool) -> None:
    chunks = [
        chunk("Risks, tips and exit criteria > Risks", "".join(f"- {risk}\n" for risk in RISKS), 0),
        chunk("Risks, tips and exit criteria > Tips", f"- {TIP}", 1),
    ]
    # The tip is closer in meaning than the lesser risks: without the list rule it pushes one out.
    meaning = {RISKS[0]: 0.5, RISKS[1]: 0.2, RISKS[2]: 0.2, TIP: 0.9}
    picked = quoted(chunks, [["risk"]], meaning, max_quotes=3, listing=listing)
    assert (picked == RISKS) is whole
    assert RISKS[0] in picked


def test_only_the_list_the_heading_itself_names_is_quoted_whole() -> None:
    # "Tips" sits under a parent heading that names risks; the tips are not the risks list.
    tips = ["Switch the pilot store at lunch.", "Let the head chef own the alert times."]
    chunks = [chunk("Risks, tips and exit criteria > Tips", "".join(f"- {tip}\n" for tip in tips))]
    picked = quoted(chunks, [["risk"]], {tips[0]: 0.5, tips[1]: 0.1}, max_quotes=1, listing=True)
    assert picked == [tips[0]]


def test_a_parent_heading_gives_no_credit_to_its_sections() -> None:
    # "Risks, tips and exit criteria" names risks, but the items under its "Tips" are tips.
    tip, risk = "Switch the pilot store at lunch.", "Staff keep using the old till."
    chunks = [chunk("Risks, tips and exit criteria > Tips", f"- {tip}", 0), chunk("Risks", f"- {risk}", 1)]
    picked = quoted(chunks, [["risk"]], {tip: 0.4, risk: 0.3}, max_quotes=1)
    assert picked == [risk]


def test_a_sentence_stating_an_inflected_form_of_a_question_term_covers_it() -> None:
    # The question says "scanning" and "receiving"; the source says "scanned" and "received".
    stated = "At least 98% of pallets received in the dry run are scanned, not keyed."
    other = "Operators train on the floor in small groups."
    chunks = [chunk("Exit criteria", f"- {other}\n- {stated}")]
    picked = quoted(chunks, [["scanning"], ["receiving"]], {stated: 0.3, other: 0.35}, max_quotes=1)
    assert picked == [stated]


def test_a_magnitude_question_prefers_a_stated_change_over_any_number() -> None:
    change = "Average ticket time typically falls 20%-30% at peak."
    count = "A typical store has 12 staff at peak."
    chunks = [chunk("Value", f"- {count}\n- {change}")]
    picked = quoted(chunks, [["peak"]], {change: 0.3, count: 0.3}, quantity=True, max_quotes=1)
    assert picked == [change]


@pytest.mark.parametrize(
    ("question", "magnitude"),
    [
        ("His cash is stuck in old stock. What's that worth per shop if we fix it?", True),
        ("How long does the cut-over take?", True),
        ("能把报损率降到多少？", True),
        ("Who signs off the acceptance report?", False),
        ("后厨师傅没耐心坐下来听课，有什么好办法？", False),
        ("What's the ROI for a 40-store hotpot chain?", True),
        ("火锅连锁上这套系统多久能回本？", True),
        ("got a before/after for their waste per quarter?", True),
        ("上线前后对比一下报损", True),
        ("上线前后要检查哪些事项？", False),
    ],
)
def test_a_question_asking_for_a_magnitude_is_told(question: str, magnitude: bool) -> None:
    assert read_flags(question).how_much is magnitude


@pytest.mark.parametrize(
    ("multiple", "count"),
    [
        ("精准券核销率是普发券的 3-4 倍。", "门店每天发券 3-4 次。"),
        ("Pick rates ran 2.5x the paper baseline.", "Pickers walk 2.5 km a shift."),
        ("Recall is 3 times higher than before.", "Recalls go out 3 times a week."),
    ],
)
def test_a_multiple_is_a_stated_change(multiple: str, count: str) -> None:
    asking = Scorer([["peak"]], [1.0], quantity=True)
    assert asking.bonus(multiple) > asking.bonus(count) > 0.0


@pytest.mark.parametrize(
    ("change", "span"),
    [
        ("Days to payment falls from 46 to 28-33.", "Each job goes from the lab to the store within 3 days."),
        ("用掉的额度从约 3 成提高到 8-9 成。", "种植从手术到戴牙要来 4-6 趟。"),
        ("Chains use about a third of the allowance before and 80%-90% after.", "Check 48 hours before each visit."),
        (
            "Wait time went from 4.5 to 2.1 minutes.",
            "Baseline: 3 months before go-live. Result: the 6 months after it.",
        ),
    ],
)
def test_a_change_states_both_sides_as_numbers(change: str, span: str) -> None:
    """A "from ... to" or a "before ... after" states a change only with a number on each side."""
    asking = Scorer([["peak"]], [1.0], quantity=True)
    assert asking.bonus(change) > asking.bonus(span) > 0.0


def test_a_pitch_prefers_what_changes_to_the_customer_s_situation() -> None:
    """The situation a pitch question describes matches the background's words; the pitch is what changes."""
    background = "Most eye-care groups bill vision plans and medical insurance; 55%-70% of revenue."
    value = "First-pass acceptance typically rises from 81% to 92%-95%."
    chunks = [chunk("Background", f"- {background}"), chunk("Value", f"- {value}")]
    concepts = [["vision"], ["insurance"], ["acceptance"]]
    similarity = {background: 0.4, value: 0.3}
    assert quoted(chunks, concepts, similarity, quantity=True, max_quotes=1) == [background]
    assert quoted(chunks, concepts, similarity, quantity=True, pitch=True, max_quotes=1) == [value]


def test_number_bonus_only_when_the_question_asks_for_a_magnitude() -> None:
    asking = Scorer([["peak"]], [1.0], quantity=True)
    not_asking = Scorer([["peak"]], [1.0], quantity=False)
    change, number, words = "Ticket time dropped 25%.", "There are 12 staff.", "Staff like the screens."
    assert asking.bonus(change) > asking.bonus(number) > asking.bonus(words) == 0.0
    assert not_asking.bonus(change) == not_asking.bonus(number) == 0.0


def test_limitation_bonus_only_when_the_question_asks_what_we_do_not_do_well() -> None:
    asking = Scorer([["peak"]], [1.0], quantity=False, weakness=True)
    not_asking = Scorer([["peak"]], [1.0], quantity=False)
    limits = [
        "Weak: we do not integrate natively with drive-thru sensors.",
        "短板：不支持按面团合批计算。",
        "Lens ordering only works with three lab networks.",
    ]
    plain = ["Strong: one product for POS and KDS.", "优势：数据同源。"]

    assert all(asking.bonus(text) > 0.0 == not_asking.bonus(text) for text in limits)
    assert all(asking.bonus(text) == 0.0 for text in plain)
    # With a magnitude asked too, the two add up.
    both = replace(asking, quantity=True)
    assert both.bonus("短板：新店首月建议量偏差 20%。") > both.bonus("优势：新店首月即可上线，误差 5%。") > 0.0


def test_a_single_source_is_not_cut_to_the_per_document_cap() -> None:
    lines = [f"Peak rule {n} keeps the line moving." for n in "ABCDEF"]
    chunks = [chunk("Rules", "\n".join(f"- {line}" for line in lines))]
    picked = quoted(chunks, [["peak"]], {line: 0.5 for line in lines}, max_quotes=6)
    assert sorted(picked) == sorted(lines)


def test_a_pitch_quotes_statements_not_the_playbooks_own_questions() -> None:
    asked = "How many frames per store have not sold in nine months?"
    lead_in = "Ask the owner:"
    listed = "Who moves frames between stores today?"
    tactic = 'Do not run them down. Ask: "How many old frames are on your worst wall?"'
    value = "Dead frame stock typically falls by a third in six months."
    chunks = [
        chunk("Discovery questions", f"- {asked}\n\n{lead_in}\n- {listed}", 0),
        chunk("Competitor differences", f"- {tactic}", 1),
        chunk("Value points", f"- {value}", 2),
    ]
    # The questions share the user's question's shape, so they are closest in meaning to it.
    meaning = {asked: 0.9, lead_in: 0.8, listed: 0.85, tactic: 0.4, value: 0.3}
    concepts = [["frame"], ["stock"]]

    assert quoted(chunks, concepts, meaning, max_quotes=2, statements_only=False) != [tactic, value]
    assert quoted(chunks, concepts, meaning, max_quotes=2, statements_only=True) == [tactic, value]
