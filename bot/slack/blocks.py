"""Block Kit builders: pure functions from answers and catalogs to Slack message payloads.

Slack caps a section's text at 3,000 characters and a message at 50 blocks,
and takes one table block per message, shown at its end. Long answers are
packed line by line into as many sections and messages as they need; a line
longer than a section is split across sections; each table ends its message.
Nothing is ever cut.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any

from slack_sdk.models.blocks import RawTextObject, TableBlock, TableBlockColumnSettings

from bot.answers.catalog import DocSummary, StaleDocument
from bot.answers.labels import label, localized
from bot.answers.model import (
    Answer,
    CaseCard,
    Chart,
    ChecklistGroup,
    Citation,
    Heading,
    Listing,
    Note,
    Paragraph,
    Part,
    QuoteGroup,
    Sources,
    Table,
)
from bot.kb.schema import STAGES
from bot.report.digest import OwnerDigest
from bot.report.model import GapGroup

Block = dict[str, Any]
SECTION_LIMIT = 3000
MESSAGE_BLOCK_LIMIT = 50
TABLE_ROW_LIMIT = 100
CODE_FENCE = "```"
VOTES: dict[str, str] = {"vote_helpful": "helpful", "vote_not_helpful": "not_helpful", "vote_outdated": "outdated"}
SHARE = "share_answer"
TICK = "tick_item"

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "helpful": "Helpful",
        "not_helpful": "Not helpful",
        "outdated": "Outdated",
        "continued": "(continued, part {part} of {parts})",
        "apology": "Sorry, something went wrong while answering. The error was logged; please try again.",
        "thanks_helpful": "Thanks! Your vote (helpful) was recorded.",
        "thanks_not_helpful": "Thanks. Your vote (not helpful) was recorded for the content owners.",
        "thanks_outdated": "Thanks. The sources were flagged as outdated for the content owners.",
        "vote_unknown": "That answer is no longer on record, so the vote could not be stored.",
        "working": "Looking that up…",
        "need_stage": "Which stage? Use one of: {stages}. Example: `/relay checklist go_live pos`",
        "empty": "Ask a question after the subcommand, e.g. `/relay ask what do we pitch to hotpot chains?`",
        "help_title": "ValueRelay help",
        "none_stale": "No document is past its review date or flagged outdated.",
        "stale_heading": "{n} document(s) past their review date or flagged outdated, most flagged and cited first:",
        "stale_line": "• {title} · {owner} · review due {due} · cited in {cited} answers",
        "stale_overdue": " · {days} days overdue",
        "stale_flagged": " · flagged outdated in {flagged} answers",
        "gaps_heading": "{n} group(s) of unanswered questions in the last {days} days, the largest first:",
        "none_gaps": "No unanswered questions in the last {days} days.",
        "gap_line": "• {count}× “{example}” → {title}",
        "digest_title": "Your ValueRelay digest, {since} to {until}",
        "digest_gaps": "*Questions the sources could not answer, closest to your documents:*",
        "digest_votes": "*Answers citing your documents that were voted down:*",
        "digest_vote": "• {title}: {not_helpful} not helpful, {outdated} outdated · “{question}”",
        "digest_stale": "*Due for review or flagged outdated:*",
        "summary_title": "ValueRelay weekly summary, {since} to {until}",
        "done": "Done",
        "share": "Share in channel",
        "shared_by": "{user} shared an answer to “{question}”:",
        "shared": "Shared in the channel.",
        "share_refused": "Only the person who asked can share this answer.",
        "share_failed": "I could not post in this channel ({error}); invite me with `/invite @ValueRelay`.",
        "searching": "Searching the playbooks, guides and cases…",
        "prompt_sales": "Before a sales call",
        "prompt_implementation": "During a rollout",
        "prompt_new_hire": "New here",
        "home_sales": "Sales: read these before your first calls",
        "home_implementation": "Implementation: the stages in order, then the value you deliver",
        "home_new_hire": "New hire: one pass through the trade",
        "home_playbook": "playbook",
        "home_stage_guide": "stage guide",
        "home_case": "case",
        "home_verified": "verified {date}",
        "home_stale": ":warning: *stale*",
        "home_try": "Try: ",
        "home_recent": "*Recently changed in the knowledge base*",
        "home_indexed": "indexed {date}",
    },
    "zh": {
        "helpful": "有帮助",
        "not_helpful": "没帮助",
        "outdated": "内容过时",
        "continued": "（续，第 {part}/{parts} 部分）",
        "apology": "抱歉，回答时出错了。错误已记录，请稍后再试。",
        "thanks_helpful": "谢谢！已记录你的评价（有帮助）。",
        "thanks_not_helpful": "谢谢，已记录你的评价（没帮助），内容负责人会看到。",
        "thanks_outdated": "谢谢，已把这些资料标记为过时，内容负责人会跟进。",
        "vote_unknown": "找不到这条回答的记录，评价未能保存。",
        "working": "正在查找…",
        "need_stage": "请指定阶段：{stages}。例如 `/relay checklist go_live pos`",
        "empty": "请在子命令后写上问题，例如 `/relay ask 火锅连锁怎么讲食材成本？`",
        "help_title": "ValueRelay 帮助",
        "none_stale": "没有过了复核期或被标为过时的资料。",
        "stale_heading": "{n} 份资料已过复核期或被标为过时（按被标记、被引用次数排序）：",
        "stale_line": "• {title} · {owner} · 应于 {due} 复核 · 被 {cited} 条回答引用",
        "stale_overdue": " · 已过期 {days} 天",
        "stale_flagged": " · {flagged} 条回答被标为过时",
        "gaps_heading": "最近 {days} 天有 {n} 组未能回答的问题（数量多的在前）：",
        "none_gaps": "最近 {days} 天没有未能回答的问题。",
        "gap_line": "• {count}× “{example}” → {title}",
        "digest_title": "ValueRelay 内容周报（{since} 至 {until}）",
        "digest_gaps": "*资料没能回答、最接近你负责的资料的问题：*",
        "digest_votes": "*引用你的资料、被评为“没帮助”或“过时”的回答：*",
        "digest_vote": "• {title}：{not_helpful} 个没帮助，{outdated} 个过时 · “{question}”",
        "digest_stale": "*需要复核或被标为过时：*",
        "summary_title": "ValueRelay 内容周报（{since} 至 {until}）",
        "done": "完成",
        "share": "分享到频道",
        "shared_by": "{user} 分享了“{question}”的回答：",
        "shared": "已分享到频道。",
        "share_refused": "只有提问的人可以分享这条回答。",
        "share_failed": "无法在这个频道发消息（{error}），请先用 `/invite @ValueRelay` 邀请我。",
        "searching": "正在查找价值手册、阶段指南和客户案例…",
        "prompt_sales": "销售拜访前",
        "prompt_implementation": "实施上线中",
        "prompt_new_hire": "新同事入门",
        "home_sales": "销售：第一次拜访客户前先读这些",
        "home_implementation": "实施：按阶段顺序，再看你交付的价值",
        "home_new_hire": "新同事：把这门生意从头过一遍",
        "home_playbook": "价值手册",
        "home_stage_guide": "阶段指南",
        "home_case": "客户案例",
        "home_verified": "核实于 {date}",
        "home_stale": ":warning: *已过期*",
        "home_try": "可以这样问：",
        "home_recent": "*知识库最近更新*",
        "home_indexed": "入库于 {date}",
    },
}


def text(lang: str, key: str, **values: object) -> str:
    return localized(TEXT, lang, key, **values)


@dataclass(frozen=True)
class Upload:
    """A file posted after the message it belongs to (a chart)."""

    filename: str
    title: str
    content: bytes


@dataclass
class Message:
    """One chat message: fallback text for notifications, its blocks, and files to post after it."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    # The answer's text was streamed into a message already: these blocks go below it.
    after_stream: bool = False

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def escape(raw: str) -> str:
    """Slack's three control characters; everything else is shown as written."""
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_long(line: str, limit: int = SECTION_LIMIT) -> list[str]:
    """A line cut into pieces of at most `limit` characters, at a space when there is one."""
    pieces = []
    while len(line) > limit:
        cut = line.rfind(" ", limit // 2, limit)
        cut = cut if cut > 0 else limit
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


def pack(lines: Iterable[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Lines joined into texts of at most `limit` characters each."""
    texts: list[str] = []
    current: str | None = None
    for line in lines:
        for piece in split_long(line, limit):
            if current is None:
                current = piece
            elif len(current) + 1 + len(piece) <= limit:
                current = f"{current}\n{piece}"
            else:
                texts.append(current)
                current = piece
    if current is not None:
        texts.append(current)
    return texts


def sections(lines: Iterable[str]) -> list[Block]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in pack(lines)]


def table_blocks(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[Block]:
    """Slack table blocks, the header repeated atop each when the rows need more than one."""
    room = TABLE_ROW_LIMIT - 1
    chunks = [rows[i : i + room] for i in range(0, len(rows), room)] or [[]]
    wrapped = [TableBlockColumnSettings(is_wrapped=True) for _ in header]

    def cells(row: Sequence[str]) -> list[RawTextObject]:
        return [RawTextObject(text=cell or "—") for cell in row]

    return [
        TableBlock(rows=[cells(header), *(cells(row) for row in chunk)], column_settings=wrapped).to_dict()
        for chunk in chunks
    ]


def context(line: str) -> list[Block]:
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": chunk}]} for chunk in pack([line])]


def link(title: str, url: str | None) -> str:
    """A linked title; Slack link text cannot hold "|", so such a title is shown beside its link."""
    if url and "|" not in title:
        return f"<{url}|{escape(title)}>"
    return f"*{escape(title)}*" + (f" <{url}>" if url else "")


def citation_line(citation: Citation, lang: str) -> str:
    parts = [f"[{citation.number}] {link(citation.title, citation.url)}"]
    if citation.section:
        parts.append(escape(citation.section))
    parts.append(escape(citation.owner))
    parts.append(f"{label(lang, 'verified')} {citation.verified}")
    if citation.stale:
        parts.append(f":warning: *{label(lang, 'stale_flag')}*")
    return " · ".join(parts)


@singledispatch
def part_blocks(part: Part, lang: str) -> list[Block]:
    raise TypeError(f"no Block Kit rendering for {type(part).__name__}")


@part_blocks.register
def _(part: Heading, lang: str) -> list[Block]:
    return sections([f"*{escape(part.text)}*"])


@part_blocks.register
def _(part: Paragraph, lang: str) -> list[Block]:
    return sections(escape(part.text).splitlines())


@part_blocks.register
def _(part: Note, lang: str) -> list[Block]:
    return context(escape(part.text))


@part_blocks.register
def _(part: QuoteGroup, lang: str) -> list[Block]:
    lines = [f"*{escape(part.heading)}*"] if part.heading else []
    return sections([*lines, *(f"• {escape(quote.text)} [{quote.citation}]" for quote in part.quotes)])


@part_blocks.register
def _(part: ChecklistGroup, lang: str) -> list[Block]:
    """Each item verbatim in its own section with a checkbox beside it: a checkbox's own label
    holds 75 characters, an item may hold more."""
    blocks = sections([f"*{escape(part.section)}* [{part.citation}]"])
    for item in part.items:
        first, *rest = sections([escape(item)])
        done = {"text": {"type": "mrkdwn", "text": text(lang, "done")}, "value": item_key(part.section, item)}
        first["accessory"] = {"type": "checkboxes", "action_id": TICK, "options": [done]}
        blocks += [first, *rest]
    return blocks


def item_key(section: str, item: str) -> str:
    """A checklist item's identity in a thread: the same item ticks alike in every answer."""
    return hashlib.sha256(f"{section}\n{item}".encode()).hexdigest()[:16]


def with_ticks(blocks: list[Block], ticked: frozenset[str]) -> list[Block]:
    """The blocks with the checklist items in `ticked` shown ticked, and the others not."""
    out = []
    for block in blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == TICK:
            options = accessory["options"]
            accessory = {key: value for key, value in accessory.items() if key != "initial_options"}
            if options[0]["value"] in ticked:
                accessory["initial_options"] = options
            block = {**block, "accessory": accessory}
        out.append(block)
    return out


@part_blocks.register
def _(part: Listing, lang: str) -> list[Block]:
    entries = [f"• {escape(entry.text)} [{entry.citation}]" for entry in part.entries]
    return sections([f"*{escape(part.heading)}*", *entries])


@part_blocks.register
def _(part: CaseCard, lang: str) -> list[Block]:
    head = (
        f"*{escape(part.customer)}* [{part.citation}] — {escape(part.industry)} · {label(lang, 'size')}: "
        f"{escape(part.size)} · {label(lang, 'modules')}: {escape(', '.join(part.modules))}"
    )
    # Slack shows a table at the end of its message, so the customer's words come before the figures.
    blocks = sections([head, *([f"> {escape(part.quote)}"] if part.quote else [])])
    if part.metrics:
        header = [label(lang, key) for key in ("metric", "before", "after", "change", "period")]
        rows = [
            [m.name, m.format_value(m.before), m.format_value(m.after), m.describe_change(lang), m.period or ""]
            for m in part.metrics
        ]
        blocks += table_blocks(header, rows)
    return blocks


@part_blocks.register
def _(part: Chart, lang: str) -> list[Block]:
    return []  # posted as an image file after the message (see `Upload`); the tables state its figures


@part_blocks.register
def _(part: Table, lang: str) -> list[Block]:
    return table_blocks(part.header, part.rows)


@part_blocks.register
def _(part: Sources, lang: str) -> list[Block]:
    lines = [f"*{label(lang, 'sources')}*", *(citation_line(c, lang) for c in part.citations)]
    return [{"type": "divider"}, *sections(lines)]


def answer_body(answer: Answer) -> list[Block]:
    """Everything but the feedback buttons, in reading order."""
    return [block for part in answer.parts for block in part_blocks(part, answer.lang)]


def feedback_actions(answer_id: int, lang: str, *, shareable: bool = False) -> Block:
    """The vote buttons; for an answer only its asker sees, also "Share in channel"."""
    buttons = [
        {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": text(lang, vote)},
            "value": str(answer_id),
            **({"style": "primary"} if vote == "helpful" else {}),
        }
        for action_id, vote in VOTES.items()
    ]
    if shareable:
        share = {"type": "plain_text", "text": text(lang, "share")}
        buttons.append({"type": "button", "action_id": SHARE, "text": share, "value": str(answer_id)})
    return {"type": "actions", "block_id": "feedback", "elements": buttons}


def shared_message(user: str, question: str, answer: str, lang: str) -> Message:
    """An answer its asker shared in the channel, as they saw it, sources included."""
    lead = text(lang, "shared_by", user=f"<@{user}>", question=escape(question))
    return Message(lead, sections([lead, *escape(answer).splitlines()]))


def pages_of(blocks: Sequence[Block]) -> list[list[Block]]:
    """Blocks in messages of at most 50, each table ending its message: Slack takes one table per
    message and shows it at the end."""
    pages: list[list[Block]] = [[]]
    for block in blocks:
        if len(pages[-1]) == MESSAGE_BLOCK_LIMIT:
            pages.append([])
        pages[-1].append(block)
        if block["type"] == "table":
            pages.append([])
    return [page for page in pages if page] or [[]]


def paginate(body: list[Block], tail: Sequence[Block], fallback: str, lang: str) -> list[Message]:
    """Blocks spread over as many messages as needed; `tail` (e.g. the buttons) ends the last one."""
    pages = pages_of(body)
    if len(pages[-1]) + len(tail) > MESSAGE_BLOCK_LIMIT or any(b["type"] == "table" for b in pages[-1][-1:]):
        pages.append([])
    pages[-1] = [*pages[-1], *tail]
    pages = [page for page in pages if page] or [[]]
    total = len(pages)
    return [
        Message(fallback if i == 0 else text(lang, "continued", part=i + 1, parts=total), page)
        for i, page in enumerate(pages)
    ]


def answer_messages(answer: Answer, answer_id: int | None, *, shareable: bool = False) -> list[Message]:
    fallback = answer.headline or answer.question or label(answer.lang, "sources")
    tail = [feedback_actions(answer_id, answer.lang, shareable=shareable)] if answer_id is not None else []
    return paginate(answer_body(answer), tail, fallback[:SECTION_LIMIT], answer.lang)


def notice(message: str) -> Message:
    return Message(message, sections([escape(message)]))


HELP_LINES: dict[str, list[str]] = {
    "en": [
        "*ValueRelay* answers from our playbooks, stage guides and customer cases, quoting them with sources.",
        "• `/relay <question>` or `/relay ask <question>`: an answer quoted from the sources",
        f"• `/relay checklist <stage> [module]`: the complete checklist of a stage ({', '.join(STAGES)}), verbatim",
        "• `/relay case [what or industry]`: customer cases with before → after numbers",
        "• `/relay value <customer and concern>`: what to pitch, from the value playbooks",
        "• `/relay quantify <customer>`: what comparable customers measured, e.g. `/relay quantify 40-store hotpot chain`",
        "• `/relay stale`: the documents past their review date or flagged outdated, with their owners",
        "• `/relay gaps`: the questions we could not answer lately, grouped, with the closest documents",
        "• `/relay help`: this help",
        "Mention me in a channel to get the answer in a thread (follow-ups in the thread keep the context), "
        "or send me a direct message. Rate each answer with the buttons under it: the content owners read the votes.",
    ],
    "zh": [
        "*ValueRelay* 根据价值手册、实施阶段指南和客户案例回答问题，引用原文并注明出处。",
        "• `/relay <问题>` 或 `/relay ask <问题>`：引用资料原文的回答",
        f"• `/relay checklist <阶段> [模块]`：某个阶段的完整清单（{', '.join(STAGES)}），一字不改",
        "• `/relay case [内容或行业]`：客户案例及上线前后的数据",
        "• `/relay value <客户和关注点>`：价值手册里的推荐讲法",
        "• `/relay quantify <客户>`：同类客户的实测效果，例如 `/relay quantify 40 家门店的火锅连锁`",
        "• `/relay stale`：已过复核期或被标为过时的资料及其负责人",
        "• `/relay gaps`：最近没能回答的问题（按意思分组）及最接近的资料",
        "• `/relay help`：本帮助",
        "在频道里 @我，我会在帖子里回答（帖子里的追问会带上上下文），也可以直接私信我。"
        "每个回答下面都有评价按钮，内容负责人会看到你的评价。",
    ],
}


STALE_SHOWN = 10


def stale_message(stale: Sequence[StaleDocument], lang: str) -> Message:
    """The documents past their review date, as `/relay stale` lists them."""
    if not stale:
        return notice(text(lang, "none_stale"))
    lines = [f"*{text(lang, 'stale_heading', n=len(stale))}*"]
    lines += [_stale_line(d, lang) for d in stale[:STALE_SHOWN]]
    return Message(lines[0].strip("*"), sections(lines))


def _stale_line(d: StaleDocument, lang: str) -> str:
    line = text(lang, "stale_line", title=escape(d.title), owner=escape(d.owner), due=d.review_due, cited=d.cited)
    if d.days_overdue > 0:
        line += text(lang, "stale_overdue", days=d.days_overdue)
    return line + (text(lang, "stale_flagged", flagged=d.flagged) if d.flagged else "")


def gaps_message(
    groups: Sequence[GapGroup], days: int, lang: str, mentions: Mapping[str, str] | None = None
) -> Message:
    """Groups of unanswered questions, as `/relay gaps` and the channel summary list them; an owner
    with a Slack id is mentioned."""
    if not groups:
        return notice(text(lang, "none_gaps", days=days))
    lines = [f"*{text(lang, 'gaps_heading', n=len(groups), days=days)}*"]
    lines += [_gap_line(g, lang, mentions or {}) for g in groups[:STALE_SHOWN]]
    return Message(lines[0].strip("*"), sections(lines))


def _gap_line(group: GapGroup, lang: str, mentions: Mapping[str, str]) -> str:
    example = escape(group.examples[0]) if group.examples else "…"
    line = text(lang, "gap_line", count=group.count, example=example, title=escape(group.closest_title or "—"))
    owner = mentions.get(group.owner or "")
    return line + (f" · <@{owner}>" if owner else f" · {escape(group.owner)}" if group.owner else "")


def digest_message(digest: OwnerDigest, since: dt.date, until: dt.date) -> Message:
    """An owner's weekly direct message: their gaps, votes and stale documents."""
    lang = digest.lang
    lines = [f"*{text(lang, 'digest_title', since=since, until=until)}*"]
    if digest.gaps:
        lines += [text(lang, "digest_gaps"), *(_gap_line(g, lang, {}) for g in digest.gaps[:STALE_SHOWN])]
    if digest.votes:
        lines.append(text(lang, "digest_votes"))
        lines += [
            text(lang, "digest_vote", title=escape(v.title), not_helpful=v.not_helpful, outdated=v.outdated,
                 question=escape(v.questions[0]) if v.questions else "…")
            for v in digest.votes[:STALE_SHOWN]
        ]  # fmt: skip
    if digest.stale:
        lines += [text(lang, "digest_stale"), *(_stale_line(d, lang) for d in digest.stale[:STALE_SHOWN])]
    return Message(lines[0].strip("*"), sections(lines))


def help_message(lang: str = "en") -> Message:
    return Message(text(lang, "help_title"), sections(HELP_LINES.get(lang, HELP_LINES["en"])))


def doc_line(number: int, doc: DocSummary, lang: str, when: str | None = None) -> str:
    parts = [
        f"{number}. {link(doc.title, doc.url)}",
        text(lang, f"home_{doc.kind}") if f"home_{doc.kind}" in TEXT["en"] else doc.kind,
        escape(doc.owner),
        text(lang, "home_verified", date=doc.verified),
    ]
    if when:
        parts.append(when)
    if doc.stale:
        parts.append(text(lang, "home_stale"))
    return " · ".join(parts)


def home_view(
    paths: dict[str, list[DocSummary]], examples: dict[str, list[str]], recent: Sequence[DocSummary], lang: str = "en"
) -> dict[str, Any]:
    """The App Home tab, its framing in the user's language (the documents' titles as written)."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "ValueRelay"}},
        *sections(HELP_LINES.get(lang, HELP_LINES["en"])[:1]),
    ]
    for role, docs in paths.items():
        blocks.append({"type": "divider"})
        lines = [f"*{text(lang, f'home_{role}')}*", *(doc_line(i, doc, lang) for i, doc in enumerate(docs, 1))]
        blocks += sections(lines)
        if examples.get(role):
            blocks += context(text(lang, "home_try") + "  ·  ".join(f"“{escape(q)}”" for q in examples[role]))
    if recent:
        blocks.append({"type": "divider"})
        lines = [text(lang, "home_recent")]
        lines += [
            doc_line(i, doc, lang, text(lang, "home_indexed", date=doc.changed[:10]) if doc.changed else None)
            for i, doc in enumerate(recent, 1)
        ]
        blocks += sections(lines)
    return {"type": "home", "blocks": blocks}
