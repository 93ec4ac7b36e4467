"""Optional generated answers: an LLM writes from the retrieved passages with
inline citations, and the guard decides whether the user sees it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.answers.guard import GuardResult, check

log = logging.getLogger(__name__)

SYSTEM_PROMPT = """You answer questions from a SaaS company's field teams using ONLY the numbered sources given.
Rules:
- Every sentence ends with the citation(s) it rests on, like [1] or [2][3].
- Copy numbers exactly as the sources write them; never compute, round or convert them.
- Cite only the numbered sources given.
- If the sources do not answer the question, reply exactly: I don't know from our sources.
- Answer in {language}, in at most 6 sentences."""


@dataclass(frozen=True)
class Passage:
    number: int
    title: str
    section: str
    text: str


def load_chat_model(spec: str) -> Any:
    """`provider:model`, e.g. "openai:gpt-4o-mini", through LangChain's init_chat_model."""
    from langchain.chat_models import init_chat_model

    return init_chat_model(spec, temperature=0)


def build_messages(question: str, passages: Sequence[Passage], lang: str) -> list[tuple[str, str]]:
    sources = "\n\n".join(f"[{p.number}] {p.title} — {p.section}\n{p.text}" for p in passages)
    language = "Chinese" if lang == "zh" else "English"
    return [
        ("system", SYSTEM_PROMPT.format(language=language)),
        ("human", f"Sources:\n{sources}\n\nQuestion: {question}"),
    ]


@dataclass
class Generation:
    text: str
    guard: GuardResult


def generate(chat_model: Any, question: str, passages: Sequence[Passage], lang: str) -> Generation | None:
    """The model's answer and the guard's verdict, or None when the model failed."""
    try:
        reply = chat_model.invoke(build_messages(question, passages, lang))
    except Exception:  # a provider outage must not take the answer down with it
        log.exception("the language model failed; answering extractively")
        return None
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    evidence: dict[int, str] = {}
    for passage in passages:  # several passages of one section share a citation number
        evidence[passage.number] = f"{evidence.get(passage.number, '')}\n{passage.text}".strip()
    verdict = check(text, evidence)
    if not verdict.ok:
        log.warning("generated answer rejected by the guard: %s", "; ".join(verdict.problems))
    return Generation(text.strip(), verdict)
