"""Value answers from the playbooks: what to pitch (the value points, which state what changes
by how much), or where we stand on an objection, a competitor or a weakness; with a
customer case as proof after the pitch when the question asks for it, or gets ready for a
customer meeting (then the playbook's own discovery questions are quoted too)."""

from __future__ import annotations

from dataclasses import replace

from bot.answers.compose import case
from bot.answers.compose.context import Context, relevant
from bot.answers.labels import label
from bot.answers.model import Answer, Heading, Part
from bot.answers.quotes import quote_groups

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
    groups = quote_groups(ctx.index.passages(playbooks), scorer, ctx.citations, ctx.similarity())
    headline = label(request.lang, "position" if request.flags.position else "value")
    body: list[Part] = [Heading(headline), *groups]
    if flags.proof or flags.prep:
        body += proof(ctx, playbooks[0].doc_id)
    return ctx.answer("answered", body)


def proof(ctx: Context, playbook: str) -> list[Part]:
    """The case that best backs the pitch, under its own heading after it (numbered after it too)."""
    case_filters = replace(ctx.filters, kind="case")
    found = ctx.index.search(ctx.request.question, case_filters, mode=ctx.mode)
    cards = case.cards(ctx, case.backing(ctx, playbook, found.docs), limit=PROOF_CARDS)
    return [Heading(label(ctx.request.lang, "cases", n=len(cards))), *cards] if cards else []
