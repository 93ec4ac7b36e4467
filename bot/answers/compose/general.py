"""General answers: the best sentences of the best passages, quoted with their citations;
and the two ways of not answering: the closest passages, or nothing at all."""

from __future__ import annotations

from bot.answers.compose.context import Context, relevant
from bot.answers.labels import label
from bot.answers.model import Answer, Heading
from bot.answers.quotes import quote_groups

CLOSEST_QUOTES = 4


def compose(ctx: Context) -> Answer:
    passages = ctx.index.passages(relevant(ctx.docs))
    groups = quote_groups(passages, ctx.scorer(), ctx.citations, ctx.similarity())
    quoted = len({quote.citation for group in groups for quote in group.quotes})
    return ctx.answer("answered", [Heading(label(ctx.request.lang, "from_sources", n=quoted)), *groups])


def closest(ctx: Context) -> Answer:
    """The sources are about the question but do not state what it asks: their closest lines,
    under a heading no one can read as a yes."""
    passages = ctx.index.passages(relevant(ctx.docs))
    groups = quote_groups(passages, ctx.scorer(), ctx.citations, ctx.similarity(), max_quotes=CLOSEST_QUOTES)
    return ctx.answer("closest", [Heading(label(ctx.request.lang, "closest_quotes")), *groups])


def declined(ctx: Context) -> Answer:
    """Nothing in the sources is about the question: no quotes, no sources named."""
    return ctx.answer("declined", [Heading(label(ctx.request.lang, "dont_know"))])
