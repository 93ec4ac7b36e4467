"""Small talk: one line in the asker's language, no sources, nothing recorded."""

from __future__ import annotations

from bot.answers.compose.context import Context
from bot.answers.labels import label
from bot.answers.model import Answer, Paragraph


def compose(ctx: Context) -> Answer:
    ctx.confidence = 1.0
    reply = label(ctx.request.lang, "welcome" if ctx.request.flags.thanks else "greeting")
    return ctx.answer("answered", [Paragraph(reply)])
