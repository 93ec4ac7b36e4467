"""Cue words: how field teams ask (in Chinese and English) for a shape of answer, a stage,
a pitch, proof, a list, a number. They name the kinds of request and the four stages of
the document format, nothing of any particular corpus. The router reads them once per
question, beside the nearest examples of each intent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.answers.request import Intent
from bot.kb.lexical import is_han, segmenter

# Asking what to pitch: what the product is worth to the customer.
PITCH_CUE = (
    r"\b(pitch|sell|selling|value prop(osition)?|talk track|why us|strengths?)\b|卖点|价值|话术|怎么讲|怎么说服|打动|优势|强项|"
    # What a rep may tell the customer we deliver ("what can we claim?"), not an insurance claim.
    r"\bwhat (can|could|should|do) (we|i) (safely |honestly )?(claim|promise)\b"
)
# Asking what we do not do well: what sales should say up front, and must not promise.
WEAKNESS_CUE = (
    r"\b(weak(ness|nesses| spots?)?|gaps?|limitations?|shortcomings?|downsides?|caveats?|fall short|"
    r"(be|being) up-?front|over-?promis\w*|(not|never|n't|avoid|without) (over-?)?promis\w*|"
    r"(not|n't) do (it |this |that )?well|not good at)\b|"
    r"短板|劣势|做不到|做得不好|不擅长|局限|缺点|不足之处|提前.{0,6}讲清楚|"
    r"(不能|不要|别|不可以|不敢)(随便|轻易)?.{0,4}承诺|承诺不了|过度承诺"
)
# Asking where we stand: how to answer an objection, how we differ from a competitor, or a weakness.
POSITION_CUE = (
    rf"\b(objections?|push ?back|competitors?|differentiat\w*)\b|异议|竞品|对手|怎么回应|怎么回答|{WEAKNESS_CUE}"
)
# Asking for the catalog itself: what there is, of everything or of a kind of document. Without
# it a question is about something in the sources, however general it sounds.
CATALOG_CUE = (
    r"\b(everything|overview|rundown|run-?down|catalog(ue)?|portfolio|line-?up|product line|knowledge ?base|docs|documents|"
    r"what do we( \w+)? (have|offer|sell)|(kinds?|types?|sorts?) of (businesses|customers|clients|companies|industries)|"
    r"read first|where (do|should) i start|get up to speed|big picture|lay of the land|"
    r"(which|what|all|list|how many)( \w+){0,3} (playbooks|guides|cases|case studies|success stories|customer stories|"
    r"references|stages|phases|steps|industries|verticals|segments|products|modules))\b|"
    r"都有|全部|所有|目录|一览|总览|概览|盘点|知识库|资料库|产品线|先看|"
    r"(哪些|什么|哪几|几个|几类).{0,6}(资料|文档|手册|指南|案例|阶段|行业|业态|产品|模块|类型|playbook|guide|case)|"
    r"(资料|文档|手册|指南|案例|阶段|行业|产品|模块|类型).{0,3}(有哪些|都有什么|有什么|有几[本份个类])(?=[？?。！!，,\s]|$)|"
    r"卖.{0,3}(什么|啥|哪些)|卖给"
)


# Each cue adds its weight to an intent; the strongest intent wins, general otherwise.
CUES: dict[Intent, list[tuple[str, float]]] = {
    "checklist": [
        (r"check\s*-?\s*list|to-?do list|tick(ed)? off|punch list|run-?sheet", 3.0),
        (
            r"清单|检查项|核对表|待办|列(个|一个|张)?单子|要准备什么|准备(哪些|什么)|要做哪些事|做哪些事|哪些事项|检查哪些",
            3.0,
        ),
        (r"\bwhat (do|should) (i|we) (need to )?(prepare|have ready|line up|get ready|do)\b", 2.0),
        (r"\b(steps|step by step)\b|步骤|流程", 1.0),
        (r"要了解和收集|收集哪些|了解哪些", 1.5),
    ],
    "case": [
        (
            r"\b(case stud(y|ies)|case|reference( customer)?s?|customer stor(y|ies)|success stor(y|ies)|proof|example)\b",
            2.0,
        ),
        (r"案例|标杆|客户故事|成功故事|例子|实例|参考客户|证明", 2.0),
        (
            r"\b(any|do we have an?|is there an?|has any)\b.{0,60}\b(customer|client|chain|brand|restaurant|operator|place|group)s?\b",
            1.5,
        ),
        (r"有没有.{0,20}(客户|品牌|连锁|门店|店)", 1.5),
        # "Any numbers?" after a pitch question asks for proof; "data on churn" asks about a subject.
        (
            r"\b(any|got|have|with)\b.{0,12}\b(hard )?(numbers|figures|data|stats)\b(?! (on|about|for|from|of|to)\b)|"
            r"有(没有)?(什么)?(数据|数字)(支撑|支持|佐证|证明)?(吗|么|[？?])|(数据|数字)(支撑|佐证)|拿得出.{0,6}(数据|数字)",
            1.0,
        ),
        (r"\bbefore (and|&|/) after\b|\bbefore/after\b|前后.{0,6}(分别|各)|上线前后.{0,10}(多少|数字|数据)", 1.0),
        (
            r"\b(what happened to|got shorter|went down|dropped to|went up|stopped|brought .{0,30} down)\b|\bdid\b.{0,50}\b(drop|fall|rise|go|improve|change|cut|reduce|lower|raise|increase|grow|speed up)\b",
            1.0,
        ),
        (r"(降|升|少|多|减少|提升|提高|增加|涨)了多少|降到多少了|涨了|变化", 1.0),
        (r"客户.{0,30}(了多少|到多少了|之后|以后|后.{0,10}多少)", 1.0),
    ],
    "overview": [(CATALOG_CUE, 2.0)],
    # One fact (why, who, when, which day, how long): that fact, not a stage's whole list or a pitch.
    "general": [
        (
            r"\b(why|who|whom|when|which|how (long|many|much|often|soon))\b|\bwhat time\b|"
            r"为什么|为啥|谁|什么时候|哪天|几点|多久|多长时间|多少",
            1.5,
        ),
        # A stage's other lists (its risks, field tips, exit criteria) are asked for by name, not as its checklist.
        (r"\b(risks?|pitfalls?|tips|lessons learned|exit criteria)\b|风险|踩坑|坑|实战经验|出口标准", 1.5),
    ],
    "value": [
        (PITCH_CUE, 2.5),
        (POSITION_CUE, 2.5),
        (
            r"\bhow much (can|could|would|will|does|do)\b|\bhow much (faster|cheaper|better)\b|\bwhat (\w+ )?(gain|reduction|improvement|saving)s?\b|\brealistic(ally)?\b|\btypical(ly)?\b|\bworth\b|\b(roi|return on (the )?investment|payback( period)?|pays? (for )?itself|business case)\b|投资回报|回报率|回本|值不值",
            1.5,
        ),
        (
            r"\b(can|could|will|would)\b.{0,40}\b(deliver|cut(?![- ]?over)|reduce|improve|save|lower|raise|speed up)\b|\bwhat changes for\b",
            1.5,
        ),
        (r"能(帮|把|降|提升|做到|改善|省)|一般能|大概能|能降|能提升|能做到|能省|到什么程度", 1.5),
        (r"\b(worried|concerned|struggl\w+|pain|prospect|deal)\b|担心|头疼|痛点|潜在客户", 1.0),
    ],
}
# Words that say what shape of answer is wanted (a pitch, proof, a checklist) or why the user
# asks ("worried"), not what it is about. They route a question; a source need not contain them
# to answer it ("What do we pitch to a dental group worried about no-shows? Any proof?").
# Written as search tokens (lower case, singular), so the evidence can skip them.
REQUEST_TERMS = frozenset(
    """pitch sell proof example case reference worried worry concerned prospect typical typically
    realistic realistically upfront promise checklist 案例 例子 实例 证明 标杆 话术 卖点 担心 头疼 痛点 清单""".split()
)
# How people frame a question in chat, in any trade: when they ask (tomorrow, 下周), who is
# talking (the boss, a client, ppl), what they do with the answer (ask, tell, 讲) and how they
# hedge (actually, quick q). Like the request words above, no source needs to say them, and a
# source that does not is no worse an answer. Written as search tokens (lower case, singular).
FRAMING_TERMS = frozenset(
    """today tomorrow tmrw tmr tonight yesterday morning afternoon evening night week weekend wk
    monday tuesday wednesday thursday friday saturday sunday mon tue wed thu thur fri sat sun
    asap eod eow soon later now currently recently already yet ago next
    whose someone anyone everyone something anything everything nothing stuff thing guy ppl folk
    he she him his her mine your their myself yourself themselve
    actually basically really honestly quick quickly maybe probably pretty kinda sorta anyway btw fyi
    pls plz please thank thx hey hi hello ok okay lol hmm um uh q question
    ask asked asking say said tell told answer reply respond explain know think wonder wondering want wanted
    boss client prospect see seeing meet meeting visit visiting call prep prepare preparing ready
    说 问 讲 聊 告诉 回答 回复 知道 觉得 想 搞 弄 发 给我 帮 一下 老板 客户 领导 同事 那种 这种 这块
    拜访 见 见面 准备 我该 该""".split()
)
# Chinese words of these classes are also found by their part of speech: time words and pronouns.
FRAMING_POS = ("t", "r")
# Chinese question idioms ("怎么办", "咋整", "如何是好") segment as one word not tagged a pronoun;
# like "how" and "what" in English, they ask and say nothing of what about.
QUESTION_IDIOM = re.compile(r"^(怎|咋|如何)")
# A question asking what to ask the customer: then the sources' own questions are the answer
# (so does every question asking only that, WHAT_TO_ASK_CUE).
ASKS_FOR_QUESTIONS_CUE = r"\b(ask|asking|questions?)\b|哪些问题|什么问题|提问"
# Asking only that: which questions to put to the customer ("what should I ask", "discovery questions",
# "该问些什么"), not a question that mentions asking ("the client keeps asking if ...").
WHAT_TO_ASK_CUE = (
    r"\bwhat (should|do|can|would|to) (i|we)? ?ask\b|\b(discovery|qualifying) questions?\b|"
    r"\bquestions? (to|for me to|i should|we should) ask\b|问(他|她|他们|对方|客户|老板)?(些|点)?(什么|哪些|啥)|需求挖掘"
)
# Asking for the whole of something ("what are the risks", "有哪些风险"): a list, not its best item.
LIST_CUE = r"\bwhat(?: are|'re)\b|\blist\b|有哪些|都有什么|列出|哪几(个|条|项|点)"

STAGE_CUES: dict[str, str] = {
    "survey": r"\bsurvey\b|discovery|kick[- ]?off|site (visit|survey)|调研|摸底|需求调研|启动会",
    "go_live": r"go[- ]?live|going live|cut[- ]?over|switch(es|ing)? (over |on)?to the new system|flip(ping)? the switch|launch day|上线|切换|割接",
    "training": r"\btrain(ing)?\b|\bteach\b|onboard staff|培训|教.{0,10}(员工|店员|用)|上课|听课",
    "acceptance": r"acceptance|sign[- ]?off|close out|handover|hand-over|验收|结项|签字确认",
}


# A stage named as a point in time ("since kickoff", "上线以来") dates the question; it is not its subject.
_SINCE_BEFORE = re.compile(r"\bsince\s+(the\s+|our\s+|their\s+|its\s+)?$", re.IGNORECASE)
_SINCE_AFTER = re.compile(r"\s*(以来|至今)")


def _names_stage(pattern: str, question: str) -> bool:
    return any(
        not _SINCE_BEFORE.search(question[: match.start()]) and not _SINCE_AFTER.match(question[match.end() :])
        for match in re.finditer(pattern, question, re.IGNORECASE)
    )


def detect_stage(question: str) -> str | None:
    hits = [stage for stage, pattern in STAGE_CUES.items() if _names_stage(pattern, question)]
    return hits[0] if len(hits) == 1 else None


# Questions about a magnitude: the answer should carry the sources' numbers. A before/after
# comparison or an amount per period asks for the figures on both sides ("上线前后" alone is a time).
QUANTITY_CUE = (
    r"\bhow (much|many|long|far|fast|often)\b|\bwhat (rate|ratio|percentage|share|level)\b|\bnumbers?\b|\bfigures?\b|"
    r"\b(gains?|improve(ment)?s?|reduc(e|tion)s?|savings?|increases?|decreases?|faster|cheaper|lower|higher|amounts?|"
    r"before ?(/|&|and|vs\.?) ?after|"
    r"per (hour|day|week|month|quarter|year|store|person|order|meal)|target|threshold|bar|rate|worth|roi|payback)\b|"
    r"多少|几|比例|百分|多久|多长|降到|降了|提升|提高|降低|减少|节省|省下|改善|增加|数字|数据|标准|门槛|达标|回本|回报|前后.{0,3}(对比|变化|差别|区别)"
)


# What a customer like one can expect: asked of a customer described by its size or its likeness to
# others ("a 30-store tea chain", "类似规模的火锅客户"), it is answered from the comparable cases' figures.
# An expectation of results, not of a task ("how long does migration usually take?").
EXPECT_CUE = r"\b(expect(ed|ing)?|typical(ly)?|usually|on average)\b|一般|通常|平均|大概能|能达到"
OUTCOME_CUE = (
    r"\b(expect(ed|ing)?|results?|outcomes?|gains?|improve\w*|sav(e|es|ed|ing|ings)|reduc\w+|cut|lift|"
    r"increases?|impact|roi|numbers|figures)\b|效果|结果|收益|改善|降|省|提升|提高|减少|增加"
)
LIKENESS_CUE = (
    r"\b(similar|comparable|peers?|(customers?|chains?|brands?|companies) like (this|that|them|ours|us)|same size)\b|"
    r"类似|同类|同等|相似|同规模|差不多规模|这种规模|这个规模|这样规模"
)


def _tagged(question: str) -> list[tuple[str, str]]:
    # Imported here: jieba's tagger reads its word tags (half a second) on import, and only a
    # Chinese question needs it.
    from jieba import posseg

    segmenter()  # the tagger cuts with the shared segmenter: taught the corpus's terms first
    return [(word, flag) for word, flag in posseg.lcut(question)]


def framing_terms(question: str, tokens: Iterable[str]) -> frozenset[str]:
    """The question's tokens that frame it rather than say what it is about (see FRAMING_TERMS),
    and the words that only ask for a shape of answer (REQUEST_TERMS)."""
    tagged = _tagged(question) if is_han(question) else []
    framed = {word for word, flag in tagged if flag in FRAMING_POS and is_han(word)}
    return frozenset(
        token
        for token in tokens
        if token in FRAMING_TERMS
        or token in REQUEST_TERMS
        or QUESTION_IDIOM.match(token)
        or any(token in word for word in framed)
    )


def found(pattern: str, question: str) -> bool:
    return bool(re.search(pattern, question, re.IGNORECASE))


def cue_scores(question: str) -> dict[str, float]:
    """Each intent's summed cue weights."""
    return {
        intent: sum(weight for pattern, weight in cues if found(pattern, question)) for intent, cues in CUES.items()
    }


# Getting ready for something: with a value intent, a customer meeting (the playbook's questions,
# value points and proof); with a checklist intent, a stage.
PREP_CUE = r"\bprep(are|aring|ped)?\b|\bget(ting)? ready\b|准备|备课|做功课"
# Thanks, acknowledgements, praise and goodbyes, which small talk answers with "you're welcome"
# rather than a greeting.
THANKS_CUE = (
    r"\b(thanks?|thx|ty|cheers|appreciated?|great|helpful|perfect|got it|ok(ay)?|cool|nice|awesome|amazing|"
    r"lifesaver|legend|brilliant|love it|bye|goodbye|see (ya|you)|ttyl|later)\b|"
    r"谢|感谢|辛苦|收到|好的|明白|懂了|牛|厉害|好用|棒|赞|拜拜|再见|回头见|👍|🙏"
)

# The kinds of document an overview question names, by the documents' own nouns or the work they
# cover (a stage guide's implementation). What we sell, and to which customers, is the whole catalog.
KIND_CUES: dict[str, str] = {
    "playbook": r"\b(playbooks?|value guides?|pitch (decks?|guides?))\b|价值手册|手册",
    "stage_guide": r"\b(stages?|phases?|implementations?|implement|rollouts?|roll-outs?|guides?)\b|阶段|实施|交付|上线|指南",
    "case": r"\b(cases?|case stud(y|ies)|references?|(success|customer) stor(y|ies))\b|案例|标杆",
}


def named_kinds(question: str) -> tuple[str, ...]:
    return tuple(kind for kind, pattern in KIND_CUES.items() if found(pattern, question))


# Asking what something costs the customer: answered only by a source that states a price.
PRICE_CUE = (
    r"\b(price[sd]?|pricing|subscription fees?|licen[cs]e fees?|how much (is|are|does|do)\b.{0,40}\b(cost|charge))\b|"
    r"how much (is|are) (the |a |an |our |this |that )?[\w -]{0,30}(module|system|plan|licen[cs]e|seat|package|tier)\b|"
    r"报价|报个价|价格|价目|价钱|收费|年费|月费|使用费|服务费|授权费|定价|售价|怎么卖|卖多少|"
    r"(模块|系统|软件|套餐|版本|账号|许可)[^，,。？?省赚降减节挽]{0,12}多少钱|(模块|系统|软件|套餐|许可)的?费用?|"
    # What one store, one year or one day of something costs ("一家诊所一年多少钱"), not what it saves.
    r"[一每](年|个月|月|天|家|店|套|台|个)[^，,。？?省赚降减节挽回损亏扔废]{0,6}多少钱"
)
# The words a source states a price in, as search tokens.
PRICE_TERMS = frozenset(
    "price pricing fee subscription 价格 报价 收费 定价 售价 年费 月费 使用费 服务费 授权费".split()
)
# An amount of money: a currency sign or code beside a figure, or a figure in a currency's name. A source
# that states a price holds one; "fee" alone is as often a fee the customer charges its own clients.
MONEY = re.compile(
    r"(?:[¥$£€]|\b(?:RMB|CNY|USD|AUD|SGD|GBP|HKD|EUR|CAD|NZD)\s?)\d"
    r"|\d[\d,.]*\s?(?:万|千)?(?:元|块钱|美元|英镑|欧元|澳元|新元|港元|加元)"
    r"|\d[\d,.]*\s?(?:USD|AUD|SGD|GBP|HKD|EUR|CAD|NZD|RMB|CNY)\b"
)


# Slack writes emoji as :codes: ("thumbsup", "+1", "man-bowing").
EMOJI_CODE = r":[a-z0-9_+'-]+:"


def has_words(text: str) -> bool:
    """Whether a message says anything in words: emoji (Unicode or Slack's :codes:), punctuation and
    invisible characters (zero-width spaces) alone do not, and get no answer."""
    return any(ch.isalnum() for ch in re.sub(EMOJI_CODE, "", text))
