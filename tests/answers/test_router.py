"""Routing: a question read once into a Request. Intents by the nearest examples of the bank
(the real models, through the session's engine), cue words for stages and what the question asks
for, and the bank file's own checks.

The paraphrases in intent_paraphrases.yaml were written apart from the bank and from every eval set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.answers.cues import detect_stage
from bot.answers.engine import Engine
from bot.answers.intent_bank import NEIGHBOURS, BankError, IntentBank, load_bank, read_examples
from bot.answers.request import BANK_INTENTS, KIND_FOR_INTENT
from bot.answers.router import named_module, read_flags

PARAPHRASES = yaml.safe_load((Path(__file__).parent / "intent_paraphrases.yaml").read_text(encoding="utf-8"))
MAX_MISSED = 0.2  # of each intent's paraphrases in each language, routed elsewhere


def flag(name: str) -> Callable[[str], bool]:
    return lambda question: getattr(read_flags(question), name)


asks_about_weaknesses = flag("weakness")
asks_for_a_list = flag("listing")
asks_for_questions = flag("asks_questions")
asks_only_what_to_ask = flag("what_to_ask")
asks_where_we_stand = flag("position")
pitch_question = flag("pitch")
asks_a_price = flag("price")
getting_ready = flag("prep")


@pytest.mark.parametrize(("intent", "lang"), [(intent, lang) for intent in BANK_INTENTS for lang in ("en", "zh")])
def test_each_intent_is_recognised_in_each_language_by_meaning(engine: Engine, intent: str, lang: str) -> None:
    questions = PARAPHRASES[intent][lang]
    assert len(questions) >= 5
    routed = {question: engine.router.route(question).intent for question in questions}
    missed = {question: got for question, got in routed.items() if got != intent}
    assert len(missed) <= round(MAX_MISSED * len(questions)), missed


def test_a_request_carries_what_downstream_needs(engine: Engine) -> None:
    request = engine.router.route(
        "  What do we pitch to a KDS buyer at go-live? Any numbers?  ", modules={"kds", "pos"}
    )
    assert request.question == "What do we pitch to a KDS buyer at go-live? Any numbers?"
    assert request.lang == "en" and request.stage == "go_live" and request.module == "kds"
    assert request.flags.pitch and request.flags.proof and request.flags.how_much
    assert request.kind == KIND_FOR_INTENT.get(request.intent)
    assert {"pitch"} <= request.framing
    assert dict(request.scores)[request.intent] == max(score for _, score in request.scores)


def test_a_short_follow_up_is_routed_and_searched_with_the_thread(engine: Engine) -> None:
    history = ("What do we pitch to a ramen chain about labour cost?",)
    follow_up = engine.router.route("and for bakeries?", history=history)
    alone = engine.router.route("and for bakeries?")
    assert follow_up.query == f"{history[0]} and for bakeries?" and alone.query == "and for bakeries?"
    assert follow_up.intent == "value"
    long_question = "Which documents does the acceptance meeting need from the store manager?"
    assert engine.router.route(long_question, history=history).query == long_question


def test_the_user_can_choose_the_shape(engine: Engine) -> None:
    assert engine.router.route("bakery waste", intent="value").intent == "value"


NAMING_A_CUSTOMER = [
    "what happened at copper kettle after go-live",
    "alder and vine - did the deposits actually work?",
    "redline burger drive-thru before/after?",
    "northbound coffee - what did the rollout look like?",
    "slice republic, how did delivery times change?",
    "炭语上线以后怎么样了",
    "麦香的报损前后差多少",
    "拓景食堂当时怎么做的",
    "蜀渝小馆上了系统以后翻台率变了吗",
    "茶屿那家后来效果咋样",
]


@pytest.mark.parametrize("question", NAMING_A_CUSTOMER)
def test_a_question_naming_one_of_our_customers_asks_about_its_case(engine: Engine, question: str) -> None:
    assert engine.router.route(question, customers=engine.index.customer_names).intent == "case"


@pytest.mark.parametrize(
    "question", ["pitch for a dim sum chain like jade steamer?", "给火锅店讲什么卖点，能不能提一下蜀渝小馆"]
)
def test_a_pitch_naming_a_customer_stays_a_pitch(engine: Engine, question: str) -> None:
    assert engine.router.route(question, customers=engine.index.customer_names).intent == "value"


@pytest.mark.parametrize(
    "question",
    [
        "is the pos able to print two receipts per order?",
        "hardware we must buy from us for the kitchen?",
        "培训用的测试账号谁来开？",
    ],
)
def test_an_overview_is_only_given_when_the_catalog_itself_is_asked_for(engine: Engine, question: str) -> None:
    request = engine.router.route(question)
    assert request.intent != "overview"
    assert "overview" not in dict(request.scores)


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("which industries do our cases cover?", ("case",)),
        ("咱们都有哪些实施阶段的指南", ("stage_guide",)),
        ("give me everything we have", ()),
        # What we sell and to whom is the whole catalog, not only the playbooks or the cases.
        ("new on the team - what products do we sell and which customers buy them?", ()),
        ("我是新来的，公司主要卖什么产品，客户都是哪些行业的？", ()),
        # A kind named by another of its nouns, or asked for by its count.
        ("can you list our customer stories by industry", ("case",)),
        ("what are all our references", ("case",)),
        ("价值手册一共有几本？", ("playbook",)),
        # The whole picture asked for in other words.
        ("can someone give me the big picture? just joined sales", ()),
        ("我们的产品都覆盖哪些业态", ()),
    ],
)
def test_an_overview_names_the_kinds_it_lists(engine: Engine, question: str, kinds: tuple[str, ...]) -> None:
    request = engine.router.route(question)
    assert request.intent == "overview"
    assert request.kinds == kinds


@pytest.mark.parametrize(
    "question",
    ["健身房老板想把旧收银停了用我们的，落地那几天我该干嘛列个单子", "酒店那边月底上我们的系统，列张单子给我"],
)
def test_a_list_asked_for_colloquially_is_a_checklist(engine: Engine, question: str) -> None:
    assert engine.router.route(question).intent == "checklist"


@pytest.mark.parametrize(
    ("question", "thanks"),
    [
        ("thanks, super helpful!", True),
        ("hi there", False),
        ("收到，辛苦了", True),
        ("you're a lifesaver", True),
        ("ok bye for now", True),
        ("牛啊 这个好用", True),
        ("拜拜", True),
        ("早", False),
    ],
)
def test_small_talk_tells_thanks_from_a_greeting(engine: Engine, question: str, thanks: bool) -> None:
    request = engine.router.route(question)
    assert request.intent == "smalltalk"
    assert request.flags.thanks is thanks


def test_the_longest_module_a_question_names_is_its_module() -> None:
    modules = {"pos", "kds", "supply_chain", "supply"}
    assert named_module("supply chain checklist for go-live", modules) == "supply_chain"
    assert named_module("KDS go-live", modules) == "kds"
    assert named_module("posture training", modules) is None


# --- the bank file ------------------------------------------------------------------------


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "intents.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def complete(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        intent: {"en": [f"{intent} example"], "zh": [f"{intent} 例子"]} for intent in BANK_INTENTS
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (complete(refund={"en": ["money back?"]}), "unknown intent 'refund'"),
        ({intent: {"en": ["x"]} for intent in BANK_INTENTS if intent != "overview"}, "overview: no examples"),
        (complete(case={"en": [], "zh": ["  "]}), "case: no examples"),
        (complete(value={"fr": ["quoi vendre ?"]}), "value.fr: Extra inputs are not permitted"),
        (["just", "a", "list"], "Input should be a valid dictionary"),
    ],
)
def test_a_broken_bank_is_refused_with_the_file_and_the_reason(tmp_path: Path, data: object, message: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(BankError, match=message) as raised:
        read_examples(path)
    assert str(raised.value).startswith(f"{path}: ")


def test_the_banks_vectors_are_embedded_once_and_read_from_the_cache(tmp_path: Path) -> None:
    path = write(tmp_path, complete())
    calls: list[tuple[str, int]] = []

    def embed(model: str, texts: list[str]) -> np.ndarray:
        calls.append((model, len(texts)))
        rows = np.eye(len(texts), 4, dtype=np.float32)
        return rows

    first = load_bank(path, ["usem3"], embed, tmp_path / "cache")
    second = load_bank(path, ["usem3"], embed, tmp_path / "cache")
    assert calls == [("usem3", 2 * len(BANK_INTENTS))]
    assert first.intents == second.intents and np.array_equal(first.vectors["usem3"], second.vectors["usem3"])
    path.write_text(path.read_text(encoding="utf-8") + "\n# a comment changes no example\n", encoding="utf-8")
    load_bank(path, ["usem3"], embed, tmp_path / "cache")
    assert len(calls) == 1


def test_an_intents_score_is_the_mean_of_its_nearest_examples() -> None:
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]], dtype=np.float32)
    bank = IntentBank(("case", "case", "value"), {"m": vectors})
    scores = bank.scores({"m": np.array([1.0, 0.0], dtype=np.float32)})
    assert scores["case"] == pytest.approx((1.0 + 0.9) / 2) and scores["value"] == pytest.approx(0.0)
    assert NEIGHBOURS >= 2


@pytest.mark.parametrize(
    ("question", "stage"),
    [
        ("We do the site survey next week", "survey"),
        ("Who comes to the kickoff meeting?", "survey"),
        ("下周去客户那里调研", "survey"),
        ("第一次去门店摸底要带什么", "survey"),
        ("When does the store go live?", "go_live"),
        ("What happens on cut-over night?", "go_live"),
        ("上线那天注意什么", "go_live"),
        ("切换到新系统那天要注意什么", "go_live"),
        ("How long is staff training?", "training"),
        ("培训新员工要多久", "training"),
        ("Who signs the acceptance report?", "acceptance"),
        ("验收报告谁签字", "acceptance"),
        ("项目结项要准备什么", "acceptance"),
        # A stage's compound written as two words, as it is as often as not, or as an idiom.
        ("client wants to sign off friday, what do we need in hand", "acceptance"),
        ("we kick off with the client on monday", "survey"),
        ("can we cut over on a sunday?", "go_live"),
        ("what do i tick off before we flip the switch", "go_live"),
    ],
)
def test_detect_stage_in_both_languages(question: str, stage: str) -> None:
    assert detect_stage(question) == stage


@pytest.mark.parametrize(
    "question",
    ["From survey to go-live, how long?", "调研到上线要多久", "What is the food cost ratio?", "火锅客户的成本率"],
)
def test_no_stage_or_several_stages_give_none(question: str) -> None:
    assert detect_stage(question) is None


@pytest.mark.parametrize(
    ("question", "stage"),
    [
        ("The accountants changed the food cost formula since kickoff. How do we compare before and after?", None),
        ("Ever since go-live the owner has doubted the numbers. What do we show him?", None),
        ("上线以来出餐时长变了多少？", None),
        # The time reference drops out; a stage named as the subject still counts.
        ("Since kickoff the scope grew. What is on the go-live checklist?", "go_live"),
        ("What happens at kickoff?", "survey"),
    ],
)
def test_a_stage_named_only_as_a_point_in_time_is_not_the_subject(question: str, stage: str | None) -> None:
    assert detect_stage(question) == stage


@pytest.mark.parametrize(
    ("question", "asks_for_proof"),
    [
        ("What do we pitch to a bakery chain about waste? Any numbers?", True),
        ("火锅连锁的卖点是什么？有没有数据支撑？", True),
        ("新茶饮品牌想提升会员复购，我们怎么讲？有数据吗？", True),
        # data as the subject, not as proof
        # what a customer's numbers did
        ("How did Redline Burger cut ticket times?", True),
        ("Do we have data on member churn?", False),
        ("Which data do we collect in the survey?", False),
        ("数据迁移要注意什么？", False),
    ],
)
def test_asking_for_numbers_asks_for_proof(question: str, asks_for_proof: bool) -> None:
    assert read_flags(question).proof is asks_for_proof


@pytest.mark.parametrize(
    ("asks_for", "question", "expected"),
    [
        # what something costs the customer, which only a source stating a price answers
        (asks_a_price, "what's the per-seat pricing for the loyalty add-on?", True),
        (asks_a_price, "how much is the scheduling module for 12 sites?", True),
        (asks_a_price, "报价单怎么出？门店版多少钱一年的价格", True),
        (asks_a_price, "how much can a 12-site gym save on energy?", False),
        (asks_a_price, "what numbers can I quote to the CFO?", False),
        (asks_a_price, "每家店一个月能多挽回多少钱？", False),
        (asks_a_price, "诊所排班模块一个账号一年多少钱", True),
        (asks_a_price, "仓库的WMS系统使用费怎么算", True),
        (asks_a_price, "一家店一年的系统费用大概多少？", True),
        (asks_a_price, "上了系统以后人工费用降了多少？", False),
        (asks_a_price, "上了系统以后一年能省多少钱？", False),
        (asks_a_price, "这套系统能帮门店减少多少钱的损耗", False),
        (asks_a_price, "客户让先报个价，有没有价目表", True),
        (asks_a_price, "健身房会员系统一家店一年多少钱？", True),
        (asks_a_price, "一家店一年能省多少钱？", False),
        (asks_a_price, "每个月报废扔掉多少钱的货", False),
        # getting ready for a customer meeting
        (getting_ready, "visiting a gym chain monday, how do I prep?", True),
        (getting_ready, "下周拜访客户要准备什么", True),
        (getting_ready, "what do we pitch to gyms?", False),
        # a whole list, not its best item
        (asks_for_a_list, "What are the biggest risks on go-live day?", True),
        (asks_for_a_list, "List the exit criteria for training", True),
        (asks_for_a_list, "培训阶段有哪些常见风险？", True),
        (asks_for_a_list, "验收报告里要写哪几项？", True),
        (asks_for_a_list, "Which day of the week should we go live?", False),
        (asks_for_a_list, "How long does the cut-over take?", False),
        (asks_for_a_list, "后厨师傅没耐心坐下来听课，有什么好办法？", False),
        # what to ask the customer: then the playbook's own questions are the answer
        (asks_for_questions, "What should I ask a tea chain on the first call, and what do we pitch?", True),
        (asks_for_questions, "Which discovery questions go with the hotpot pitch?", True),
        (asks_for_questions, "第一次拜访奶茶品牌该问哪些问题？", True),
        (asks_for_questions, "What do we pitch to a 40-store hotpot chain worried about food cost?", False),
        (asks_for_questions, "奶茶连锁高峰出杯慢，我们怎么讲卖点？", False),
        # only what to ask: then the questions alone answer
        (asks_only_what_to_ask, "what should I ask an optical chain on the intro call?", True),
        (asks_only_what_to_ask, "need discovery questions for a ramen chain", True),
        (asks_only_what_to_ask, "见诊所老板要问些什么？", True),
        (asks_only_what_to_ask, "the client keeps asking if we support Douyin, what do I say?", False),
        (asks_only_what_to_ask, "quick question: what do we pitch to bakeries?", False),
        (asks_only_what_to_ask, "上线那天有哪些问题要注意？", False),
        (asks_only_what_to_ask, "客户在演示会上提问说数据安全怎么保证，我该怎么回答？", False),
        # a pitch (answered by the value points, which state what changes by how much), told from
        # an objection, a weakness or a competitor
        (pitch_question, "What do we pitch to a bakery chain about waste?", True),
        (pitch_question, "What's our talk track for a ghost kitchen brand?", True),
        (pitch_question, "火锅客户担心成本，我们的卖点是什么？", True),
        (pitch_question, "their finance team spends a week on payroll. what can we claim?", True),
        (pitch_question, "claim rejection rate before and after go-live at the eye clinic?", False),
        (pitch_question, "How do we handle objections about price from a prospect?", False),
        (pitch_question, "What are our weak spots to be upfront about when we pitch to optical chains?", False),
        (pitch_question, "竞品对比我们的优势和短板是什么？", False),
        # what we do not do well, which sales must say up front and must not promise
        (asks_about_weaknesses, "What should I not promise a bakery customer?", True),
        (asks_about_weaknesses, "What do we not do well for dental groups?", True),
        (asks_about_weaknesses, "我们的会员方案有哪些做不到的地方？", True),
        (asks_about_weaknesses, "跟火锅客户不能承诺什么？", True),
        (asks_about_weaknesses, "How do we handle objections about price?", False),
        (asks_about_weaknesses, "What do we pitch to a bakery chain about waste?", False),
        # where we stand (objection, competitor, weakness) is not a pitch
        (asks_where_we_stand, "How do we handle objections about price?", True),
        (asks_where_we_stand, "跟火锅客户不能承诺什么？", True),
        (asks_where_we_stand, "What do we pitch to a bakery chain about waste?", False),
    ],
)
def test_what_shape_of_answer_a_question_asks_for_is_told(
    asks_for: Callable[[str], bool], question: str, expected: bool
) -> None:
    assert asks_for(question) is expected
