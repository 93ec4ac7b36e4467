"""One composer per shape of answer. Each returns a finished `Answer` whose parts are in reading order."""

from __future__ import annotations

from collections.abc import Callable

from bot.answers.compose import benchmark, case, checklist, general, overview, smalltalk, value
from bot.answers.compose.context import Context
from bot.answers.model import Answer

Composer = Callable[[Context], Answer]
# Shapes answered without searching the passages: the catalog, a reply to small talk, and the
# comparable cases' figures (read from their front matter).
UNSEARCHED: dict[str, Composer] = {
    "overview": overview.compose,
    "smalltalk": smalltalk.compose,
    "quantify": benchmark.compose,
}


def composer_for(ctx: Context) -> Composer:
    """The intent's shape, as far as what was retrieved allows: a question after a case's figures
    gets its card (the metrics as numbers) even when it reads like a general question ("what
    happened to food cost per meal?"); a value answer needs a playbook to quote."""
    request = ctx.request
    if request.intent in UNSEARCHED:
        return UNSEARCHED[request.intent]
    if request.intent == "checklist":
        return checklist.compose
    top = ctx.kind_of(ctx.docs[0]) if ctx.docs else None
    if top == "case" and (request.intent == "case" or request.flags.wants_numbers):
        return case.compose
    if request.intent == "value" and top == "playbook":
        return value.compose
    return general.compose
