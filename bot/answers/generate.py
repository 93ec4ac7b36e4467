"""Optional generated answers: an LLM writes from the retrieved passages with
inline citations, and the guard decides whether the user sees it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.answers.citations import Citations, stale_notes
from bot.answers.compose.context import Context, relevant
from bot.answers.guard import GuardResult, check, sentences
from bot.answers.model import Answer, CaseCard, Paragraph, Part, QuoteGroup
from bot.settings import Settings

log = logging.getLogger(__name__)
PASSAGES_PER_DOC = 3

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


class LLMConfigError(ValueError):
    """The configured language model cannot be used; the message says why and what to do."""


def load_chat_model(settings: Settings) -> Any:
    """`llm` as `provider:model` ("openai:gpt-4o-mini", "ollama:qwen3"), through LangChain's
    init_chat_model, with the endpoint, key, timeout and retries from the settings."""
    from langchain.chat_models import init_chat_model

    assert settings.llm
    options: dict[str, Any] = {"timeout": settings.llm_timeout, "max_retries": settings.llm_retries}
    if settings.llm_base_url:
        options["base_url"] = settings.llm_base_url
    if settings.llm_api_key:
        options["api_key"] = settings.llm_api_key.get_secret_value()
    try:
        return init_chat_model(settings.llm, temperature=0, **options)
    except ImportError as error:
        raise LLMConfigError(
            f"llm {settings.llm!r} needs its provider package, which is not installed: "
            "pip install 'valuerelay[llm]' (langchain-openai, langchain-ollama)"
        ) from error
    except ValueError as error:
        raise LLMConfigError(f"llm {settings.llm!r}: {str(error).splitlines()[0]}") from error


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


OnText = Callable[[str], object]  # receives the model's answer as it is written, verified sentence by sentence


def generate(
    chat_model: Any, question: str, passages: Sequence[Passage], lang: str, on_text: OnText | None = None
) -> Generation | None:
    """The model's answer and the guard's verdict, or None when the model failed. With `on_text`,
    the reply is streamed and each sentence is handed on once it is complete and the guard passes
    everything written so far; after a sentence it rejects, nothing more is handed on."""
    evidence: dict[int, str] = {}
    for passage in passages:  # several passages of one section share a citation number
        evidence[passage.number] = f"{evidence.get(passage.number, '')}\n{passage.text}".strip()
    messages = build_messages(question, passages, lang)
    try:
        text = _invoke(chat_model, messages) if on_text is None else _stream(chat_model, messages, evidence, on_text)
    except Exception as error:  # a provider outage must not take the answer down with it
        log.warning("the language model failed (%s: %s); answering extractively", type(error).__name__, error)
        return None
    verdict = check(text, evidence)
    if not verdict.ok:
        log.warning("generated answer rejected by the guard: %s", "; ".join(verdict.problems))
    return Generation(text.strip(), verdict)


def _invoke(chat_model: Any, messages: list[tuple[str, str]]) -> str:
    reply = chat_model.invoke(messages)
    return reply.content if isinstance(reply.content, str) else str(reply.content)


def _stream(chat_model: Any, messages: list[tuple[str, str]], evidence: dict[int, str], on_text: OnText) -> str:
    text, shown, trusted = "", 0, True
    for chunk in chat_model.stream(messages):
        text += chunk.content if isinstance(chunk.content, str) else str(chunk.content)
        # The last sentence may still be growing, and its citation may yet follow its full stop.
        shown, trusted = _hand_on(sentences(text)[:-1], shown, trusted, evidence, on_text)
    _hand_on(sentences(text), shown, trusted, evidence, on_text)
    return text


def _hand_on(done: list[str], shown: int, trusted: bool, evidence: dict[int, str], on_text: OnText) -> tuple[int, bool]:
    """Hands on the complete sentences not shown yet while the guard passes all of them."""
    if not trusted or len(done) <= shown:
        return shown, trusted
    if not check(" ".join(done), evidence).ok:
        return shown, False
    on_text(("" if shown == 0 else " ") + " ".join(done[shown:]))
    return len(done), True


@dataclass
class Draft:
    """An answer's generation, ready to ask for: everything read from the index is read, so the
    model can be called outside the engine's lock, while other questions are answered."""

    answer: Answer
    passages: list[Passage]
    body: list[Part]  # the answer's parts without its quotes; the reply goes in at `at`
    at: int
    citations: Citations  # numbered again in reading order
    ctx: Context

    def complete(self, chat_model: Any, on_text: OnText | None = None) -> None:
        """Replace the quoted passages with the model's answer if, and only if, it passes the guard;
        `on_text` follows it as it is written (see `generate`)."""
        answer = self.answer
        generation = generate(chat_model, answer.question, self.passages, answer.lang, on_text)
        if generation is None or not generation.guard.ok:
            answer.guard_problems = generation.guard.problems if generation else ["the model failed"]
            return
        answer.generated = generation.text
        answer.body = [*self.body[: self.at], Paragraph(generation.text), *self.body[self.at :]]
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", generation.text)} | {
            p.citation for p in self.body if isinstance(p, CaseCard)
        }
        answer.citations = self.citations.cited(cited)
        answer.sources = self.ctx.sources(answer.citations)
        answer.notes = stale_notes(answer.citations, self.ctx.documents, answer.lang)


def draft(answer: Answer, ctx: Context) -> Draft:
    """The passages the model is given, where its reply goes, and the sources numbered again in
    reading order: cards that lead the answer, then the passages (where the quotes stood), then
    cards shown after them (a pitch's proof)."""
    citations = Citations(ctx.documents, ctx.today, ctx.index.settings.source_base_url)
    body: list[Part] = []
    passages: list[Passage] = []
    at = None
    for part in answer.body:
        if isinstance(part, QuoteGroup):
            if at is None:
                at, passages = len(body), _numbered_passages(ctx, citations)
            continue
        body.append(replace(part, citation=citations.cite(part.doc_id, "")) if isinstance(part, CaseCard) else part)
    if at is None:
        at, passages = len(body), _numbered_passages(ctx, citations)
    return Draft(answer, passages, body, at, citations, ctx)


def _numbered_passages(ctx: Context, citations: Citations) -> list[Passage]:
    passages = []
    for doc, chunks in ctx.index.passages(relevant(ctx.docs)):
        for chunk in chunks[:PASSAGES_PER_DOC]:
            number = citations.cite(doc.doc_id, chunk.section, doc.score)
            passages.append(Passage(number, chunk.title, chunk.section, chunk.text))
    return passages
