"""Value answers from the playbooks: what to pitch (the value points, which state what changes
by how much), or where we stand on an objection, a competitor or a weakness; with a
customer case as proof after the pitch when the question asks for it, or gets ready for a
customer meeting (then the playbook's own discovery questions are quoted too); or, asked only
what to ask the customer, those questions alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.answers.compose import case
from bot.answers.compose.context import Context, relevant
from bot.answers.labels import label
from bot.answers.model import Answer, Heading, Part, QuoteGroup
from bot.answers.quotes import Scorer, quote_groups
from bot.kb.chunking import Chunk
from bot.kb.search import DocHit

PLAYBOOKS = 2
PROOF_CARDS = 1


def compose(ctx: Context) -> Answer:
    request = ctx.request
    playbooks = [doc for doc in relevant(ctx.docs) if ctx.kind_of(doc) == "playbook"][:PLAYBOOKS]
    # A pitch is told to the customer, not asked of them. A discovery question shares the
    # user's question's shape and words, so it is closest in meaning to it and would crowd
    # out the value points that answer it. Getting ready for a meeting needs both.
    flags = request.flags
    scorer = replace(ctx.scorer(), statements_only=not (flags.asks_questions or flags.prep), pitch=flags.pitch)
    similarity = ctx.similarity()
    only_asks = flags.what_to_ask and not (flags.pitch or flags.prep or flags.position)
    asked = questions(ctx, playbooks[0], scorer, similarity) if only_asks else []
    groups = asked or quote_groups(ctx.index.passages(playbooks), scorer, ctx.citations, similarity)
    headline = label(request.lang, "position" if flags.position else "questions" if asked else "value")
    body: list[Part] = [Heading(headline), *groups]
    if flags.proof or flags.prep:
        body += proof(ctx, playbooks[0].doc_id)
    return ctx.answer("answered", body)


def questions(
    ctx: Context, playbook: DocHit, scorer: Scorer, similarity: Callable[[Chunk], Sequence[float]]
) -> list[QuoteGroup]:
    """Asked only what to ask the customer: the best playbook's own questions (none when it words
    them as statements, and the usual quotes answer instead)."""
    only = replace(scorer, questions_only=True)
    return quote_groups(ctx.index.passages([playbook]), only, ctx.citations, similarity)


def proof(ctx: Context, playbook: str) -> list[Part]:
    """The case that best backs the pitch, under its own heading after it (numbered after it too)."""
    case_filters = replace(ctx.filters, kind="case")
    found = ctx.index.search(ctx.request.question, case_filters, mode=ctx.mode)
    cards = case.cards(ctx, case.backing(ctx, playbook, found.docs), limit=PROOF_CARDS)
    return [Heading(label(ctx.request.lang, "cases", n=len(cards))), *cards] if cards else []
