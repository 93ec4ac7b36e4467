"""Between Slack and the engine: channel scopes, one question at a time, answers on record.

Listeners hand plain values in (text, channel, user) and get Block Kit
messages out; they never see the index.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from bot.answers.catalog import ROLES, example_questions, onboarding_path, recent_changes, stale_documents
from bot.answers.chart import draw
from bot.answers.cues import detect_stage
from bot.answers.engine import Engine
from bot.answers.generate import OnText
from bot.answers.model import Answer, Chart, Heading, Paragraph, Part
from bot.answers.request import Intent
from bot.answers.router import named_module
from bot.kb.filters import Filters
from bot.kb.schema import STAGES
from bot.kb.search import detect_lang
from bot.records import Asked, Records, elapsed_ms
from bot.report.gaps import group_gaps
from bot.settings import ChannelScope, Settings
from bot.slack import blocks
from bot.slack.blocks import Message, Upload

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
SUBCOMMANDS = ("ask", "checklist", "case", "cases", "value", "quantify", "stale", "gaps", "help")


def _shown_by(on_text: OnText, shown: list[bool]) -> OnText:
    """`on_text`, noting whether each piece was shown: only a generation shown whole leaves its
    text out of the messages."""

    def show(text: str) -> bool:
        shown.append(bool(on_text(text)))
        return shown[-1]

    return show


def without_streamed(body: list[Part]) -> list[Part]:
    """The parts still to show once the generated text was streamed: not the text, nor the heading
    just above it (the streamed text took their place at the top)."""
    at = next(i for i, part in enumerate(body) if isinstance(part, Paragraph))
    start = at - 1 if at > 0 and isinstance(body[at - 1], Heading) else at
    return [*body[:start], *body[at + 1 :]]


def charts(answer: Answer) -> list[Upload]:
    """The answer's charts as PNG files, drawn once for whichever surface posts them."""
    drawn = [part for part in answer.body if isinstance(part, Chart)]
    return [Upload(f"{answer.intent}-{number}.png", chart.title, draw(chart)) for number, chart in enumerate(drawn, 1)]


@dataclass(frozen=True)
class Where:
    """Where a question was asked."""

    surface: str  # mention, thread, dm, command
    channel: str
    user: str
    thread_ts: str | None = None
    channel_name: str | None = None
    lang: str = "en"  # the asker's Slack language: help, notices and apologies are written in it
    asked_at: float = field(default_factory=time.monotonic)  # when the event arrived: the answer's latency


class Relay:
    def __init__(self, settings: Settings, engine: Engine, records: Records) -> None:
        self.settings = settings
        self.engine = engine
        self.records = records
        # One question at a time: the models use both cores already, and the engine
        # swaps snapshots between questions.
        self._lock = threading.Lock()
        self._generating = threading.BoundedSemaphore(settings.llm_concurrency)
        self.channel_names: dict[str, str | None] = {}  # channel id -> name, for name-keyed scopes
        self.user_langs: dict[str, str] = {}  # user id -> the language of their Slack locale
        # Admins write "#sales" or "sales" or an id; all mean the same channel.
        self._scopes = {key.lstrip("#"): scope for key, scope in settings.channel_scopes.items()}

    def prepare(self) -> bool:
        """Open a newly published snapshot now, beside the answers under way (not under their lock)."""
        return self.engine.prepare()

    @contextmanager
    def _engine(self) -> Iterator[Engine]:
        """The engine for one request, alone and on the newest snapshot an ingest published."""
        with self._lock:
            self.engine.refresh()
            yield self.engine

    # --- channel scopes ----------------------------------------------------
    @property
    def scopes_by_name(self) -> bool:
        """Whether some scope is keyed by channel name (resolving names costs an API call)."""
        return any(not CHANNEL_ID.match(key) for key in self._scopes)

    def scoped_by_id(self, channel: str) -> bool:
        return channel in self._scopes

    def _scope(self, channel: str, channel_name: str | None) -> ChannelScope | None:
        return self._scopes.get(channel) or (self._scopes.get(channel_name.lstrip("#")) if channel_name else None)

    def filters(self, channel: str, channel_name: str | None = None) -> Filters:
        scope = self._scope(channel, channel_name)
        if scope is None:
            return Filters()
        audience = None if scope.audience == "all" else scope.audience
        return Filters(audience=audience, kinds=tuple(scope.kinds))

    # --- answering -----------------------------------------------------------
    def ask(
        self,
        question: str,
        where: Where,
        history: tuple[str, ...] = (),
        intent: Intent | None = None,
        on_text: OnText | None = None,
    ) -> list[Message]:
        """The answer's messages. With `on_text`, a generated answer is handed on as it is written;
        when all of it was, the first message holds only what follows the text (see `Message.after_stream`)."""
        with self._engine() as engine:
            answer, pending = engine.ask_deferred(
                question,
                self.filters(where.channel, where.channel_name),
                record=True,
                history=history,
                intent=intent,
            )
        streamed: list[bool] = []  # per piece handed on: whether the surface showed it
        if pending is not None:
            # The model is asked outside the lock: a slow provider delays this answer, not everyone's.
            with self._generating:
                pending.complete(self.engine.chat_model, _shown_by(on_text, streamed) if on_text else None)
        # The guard checks each sentence alone, so a generation it passed was handed on whole,
        # unless Slack stopped showing it on the way.
        whole = bool(streamed) and all(streamed) and answer.generated is not None
        return self._deliver(answer, where, streamed=whole)

    def checklist(self, stage: str, module: str | None, where: Where) -> list[Message]:
        with self._engine() as engine:
            found = engine.checklist(stage, module, self.filters(where.channel, where.channel_name))
        return self._deliver(found.answer, where)

    def cases(self, query: str, where: Where) -> list[Message]:
        if query:
            return self.ask(query, where, intent="case")
        with self._engine() as engine:
            answer = engine.cases(None, filters=self.filters(where.channel, where.channel_name))
        answer.question = "cases"
        return self._deliver(answer, where)

    def quantify(self, text: str, where: Where) -> list[Message]:
        """`/relay quantify 40-store hotpot chain food_cost`: what comparable customers measured."""
        with self._engine() as engine:
            customer = engine.customer_in(text)
            result = engine.quantify(customer, self.filters(where.channel, where.channel_name), lang=detect_lang(text))
        result.answer.question = f"quantify {text}".strip()
        return self._deliver(result.answer, where)

    def _deliver(self, answer: Answer, where: Where, *, streamed: bool = False) -> list[Message]:
        if answer.intent == "smalltalk":
            # A "thanks" in a thread the bot follows is said to the people there, not to the bot;
            # asked of the bot directly, one line back, with nothing to vote on or record.
            return [] if where.surface == "thread" else blocks.answer_messages(answer, None)
        answer_id = self.records.record_answer(answer, self._asked(where))
        shown = replace(answer, body=without_streamed(answer.body)) if streamed else answer
        # An answer only its asker sees (a /relay reply) can be shared in the channel, when its text is kept.
        shareable = where.surface == "command" and not self.records.metadata_only
        messages = blocks.answer_messages(shown, answer_id, shareable=shareable)
        messages[0].after_stream = streamed
        if answer.checklist and where.thread_ts:  # a thread's checklist shows what the team ticked there
            ticked = self.records.ticks(where.channel, where.thread_ts)
            for message in messages:
                message.blocks = blocks.with_ticks(message.blocks, ticked)
        messages[-1].uploads.extend(charts(answer))
        return messages

    def _asked(self, where: Where) -> Asked:
        scope = self._scope(where.channel, where.channel_name)
        return Asked(
            surface=where.surface,
            channel=where.channel,
            thread_ts=where.thread_ts,
            user=where.user,
            role=scope.audience if scope is not None and scope.audience != "all" else None,  # a sales channel's askers
            latency_ms=elapsed_ms(where.asked_at),
        )

    def command(self, text: str, where: Where) -> list[Message]:
        """`/relay [ask|checklist|case|value|help] ...`; a bare question means ask."""
        words = text.strip().split(maxsplit=1)
        if not words:
            return [blocks.help_message(where.lang)]
        sub = words[0].lower()
        rest = words[1].strip() if len(words) > 1 else ""
        if sub not in SUBCOMMANDS:
            return self.ask(text.strip(), where)
        if sub == "help":
            return [blocks.help_message(where.lang)]
        if sub in ("case", "cases"):
            return self.cases(rest, where)
        if sub == "checklist":
            return self._checklist_command(rest, where)
        if sub == "quantify":
            return self.quantify(rest, where)
        if sub == "stale":
            return [self.stale(where.lang)]
        if sub == "gaps":
            return [self.gaps(where.lang)]
        if not rest:
            return [blocks.notice(blocks.text(where.lang, "empty"))]
        return self.ask(rest, where, intent="value" if sub == "value" else None)

    def _checklist_command(self, rest: str, where: Where) -> list[Message]:
        words = rest.split()
        named = [w.lower().replace("-", "_") for w in words if w.lower().replace("-", "_") in STAGES]
        stage = named[0] if named else detect_stage(rest)
        if stage is None:
            return [blocks.notice(blocks.text(where.lang, "need_stage", stages=", ".join(STAGES)))]
        return self.checklist(stage, named_module(rest, self.engine.index.modules), where)

    # --- home ------------------------------------------------------------------
    def home(self, lang: str = "en", today: dt.date | None = None) -> dict[str, Any]:
        today = today or dt.date.today()
        base = self.settings.source_base_url
        with self._engine() as engine:
            documents, changed = engine.index.documents, engine.index.changed
        paths = {role: onboarding_path(documents, role, today, base) for role in ROLES}
        examples = {role: example_questions(documents, role) for role in ROLES}
        return blocks.home_view(paths, examples, recent_changes(documents, changed, today, base), lang)

    def stale(self, lang: str, today: dt.date | None = None) -> Message:
        """`/relay stale`: the documents past their review date, most cited first, with their owners."""
        with self._engine() as engine:
            documents = engine.index.documents
        metas = ((document.meta, document.path) for document in documents.values())
        records = self.records
        stale = stale_documents(metas, today or dt.date.today(), records.citation_counts(), records.flagged_outdated())
        return blocks.stale_message(sorted(stale, key=lambda d: (-d.flagged, -d.cited, -d.days_overdue)), lang)

    def gaps(self, lang: str) -> Message:
        """`/relay gaps`: the recent unanswered questions, grouped by meaning, the largest groups first."""
        days = self.settings.digest_days
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        with self._engine() as engine:
            index = engine.index
            titles = {doc: d.meta.title for doc, d in index.documents.items()}
            owners = {doc: d.meta.owner for doc, d in index.documents.items()}
            groups = group_gaps(
                self.records.gaps(since=since),
                models=index.models,
                embed=index.embed_queries,
                titles=titles,
                owners=owners,
            )
        return blocks.gaps_message(groups, days, lang)

    def suggested_prompts(self, lang: str) -> list[dict[str, str]]:
        """One question per role that this corpus answers, for the split view's suggested prompts."""
        with self._engine() as engine:
            documents = engine.index.documents
        prompts = []
        for role in ROLES:
            asked = next((q for q in example_questions(documents, role) if not q.startswith("/")), None)
            if asked:
                prompts.append({"title": blocks.text(lang, f"prompt_{role}"), "message": asked})
        return prompts

    def shared(self, answer_id: int, user: str, lang: str) -> tuple[str, Message] | None:
        """The channel and the message that share an answer, when `user` asked it; None otherwise."""
        record = self.records.answer(answer_id)
        if record is None or record.user != user or record.channel is None:
            return None
        return record.channel, blocks.shared_message(user, record.question or "", record.answer or "", lang)

    def health(self) -> str | None:
        """None when the bot can answer: an index loaded and reachable, the records writable; else why not."""
        if not self.engine.index.documents:
            return "the index holds no documents"
        return self.engine.index.unreachable() or self.records.unwritable()

    def vote(self, answer_id: int, user: str, vote: str) -> bool:
        return self.records.vote(answer_id, user, vote)
