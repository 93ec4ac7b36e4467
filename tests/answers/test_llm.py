"""The LLM option for real: the langchain-openai client, configured from the settings, against a
local OpenAI-compatible server. A reply the guard passes is shown; a distorted, uncited, slow or
failed one leaves the extractive answer, and the user never waits on a broken provider."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fake_openai import SOURCE, FakeOpenAI, Reply
from test_cli import data_dir, run_bot  # noqa: F401 - the CLI's private copy of the sample index

from bot.answers.engine import Engine
from bot.answers.guard import sentences
from bot.records import Records
from bot.settings import Settings
from bot.slack.relay import Relay, Where

QUESTION = "What do we pitch to a 40-store hotpot chain worried about food cost? Any numbers?"


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def openai(fake_openai: FakeOpenAI) -> FakeOpenAI:
    fake_openai.requests.clear()
    return fake_openai


@pytest.fixture
def llm_engine(
    settings: Settings, embedder_loader: Callable[..., dict[str, Any]], openai: FakeOpenAI
) -> Callable[..., Engine]:
    def make(**overrides: Any) -> Engine:
        configured = openai.settings(settings, **{"llm_timeout": 2.0, "llm_retries": 0, **overrides})
        return Engine(configured, embedder_loader=embedder_loader)

    return make


def quoting(distort: bool = False, cite: bool = True) -> Callable[[dict[str, Any]], Reply]:
    """A model that answers with the first line stating a number in its sources, sentence by
    sentence with that source's citation (a number changed, or no citation, when asked)."""

    def respond(request: dict[str, Any]) -> Reply:
        prompt = request["messages"][-1]["content"]
        lines = [(n, sentences(text)) for n, text in SOURCE.findall(prompt)]
        number, said = next((n, said) for n, said in lines if re.search(r"\d", " ".join(said)))
        if distort:
            said = [re.sub(r"\d+", lambda m: str(int(m.group()) + 7), " ".join(said), count=1)]
        return Reply(" ".join(f"{s} [{number}]" if cite else s for s in said))

    return respond


def test_a_reply_the_guard_passes_is_shown_with_its_citations(
    llm_engine: Callable[..., Engine], openai: FakeOpenAI
) -> None:
    openai.responder = quoting()
    answer = llm_engine().ask(QUESTION, record=False)

    assert answer.generated is not None and answer.generated in answer.text
    assert answer.to_json()["generated"] is True
    assert re.search(r"\[\d+\]", answer.generated) and answer.citations
    [request] = openai.requests
    assert request["model"] == "gpt-test" and request["temperature"] == 0


@pytest.mark.parametrize(
    ("responder", "why"),
    [
        (quoting(distort=True), "a number the sources do not state"),
        (quoting(cite=False), "sentences without citations"),
        (lambda request: Reply(status=500), "the provider failing"),
    ],
)
def test_a_reply_the_guard_rejects_or_a_failure_leaves_the_extractive_answer(
    llm_engine: Callable[..., Engine], openai: FakeOpenAI, engine: Engine, responder: Any, why: str
) -> None:
    openai.responder = responder
    answer = llm_engine().ask(QUESTION, record=False)

    assert answer.generated is None, why
    assert answer.to_json()["generated"] is False
    assert answer.guard_problems
    assert answer.text == engine.ask(QUESTION, record=False).text
    assert len(openai.requests) == 1  # llm_retries 0


def test_a_provider_slower_than_the_timeout_is_not_waited_for(
    llm_engine: Callable[..., Engine], openai: FakeOpenAI
) -> None:
    openai.responder = lambda request: Reply(quoting()(request).content, delay=30)
    began = time.monotonic()
    answer = llm_engine(llm_timeout=1.0).ask(QUESTION, record=False)

    assert answer.generated is None and answer.status == "answered"
    assert time.monotonic() - began < 20  # the reply would have come after 30 s


def test_a_missing_provider_package_is_one_line_saying_what_to_install(
    data_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    # As if langchain-openai were not installed: a module of that name that cannot be imported.
    (tmp_path / "langchain_openai.py").write_text('raise ImportError("No module named langchain_openai")\n')
    env = {"VALUERELAY_LLM": "openai:gpt-4o-mini", "PYTHONPATH": str(tmp_path)}
    result = run_bot("ask", QUESTION, "--data-dir", str(data_dir), **env)

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "llm 'openai:gpt-4o-mini' needs its provider package" in line
    assert "pip install 'valuerelay[llm]'" in line


def test_ask_json_says_the_answer_was_generated_with_the_llm_set_in_the_environment(
    data_dir: Path,  # noqa: F811
    openai: FakeOpenAI,
) -> None:
    openai.responder = quoting()
    env = {"VALUERELAY_LLM": "openai:gpt-test", "VALUERELAY_LLM_BASE_URL": openai.base_url}
    result = run_bot("ask", QUESTION, "--json", "--data-dir", str(data_dir), VALUERELAY_LLM_API_KEY="sk-env", **env)

    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["generated"] is True and reply["status"] == "answered"
    assert openai.requests and "sk-env" not in result.stderr


def test_a_question_in_the_other_language_than_its_sources_is_answered_in_the_askers(
    llm_engine: Callable[..., Engine], openai: FakeOpenAI
) -> None:
    openai.responder = quoting()
    answer = llm_engine().ask("快餐店厨房显示屏按档口分单，出餐能快多少？", record=False)

    [request] = openai.requests
    prompt = request["messages"][-1]["content"]
    assert answer.lang == "zh" and re.search(r"^\[\d+\] [A-Za-z]", prompt, re.MULTILINE)  # English sources
    assert "Answer in Chinese" in request["messages"][0]["content"]


def test_the_slack_relay_asks_the_model_for_several_answers_at_once(
    llm_engine: Callable[..., Engine], openai: FakeOpenAI, records: Records
) -> None:
    # Each reply is held until two requests are in flight: a relay that asked the model under
    # its one-question lock would never have two, and both answers would fall back.
    both_waiting = threading.Barrier(2, timeout=15)
    met: list[bool] = []

    def respond(request: dict[str, Any]) -> Reply:
        try:
            both_waiting.wait()
            met.append(True)
        except threading.BrokenBarrierError:
            return Reply(status=503)
        return quoting()(request)

    openai.responder = respond
    engine = llm_engine(llm_timeout=30.0)
    relay = Relay(engine.settings, engine, records)
    questions = [QUESTION, "How long should the first training session be, and for how many people?"]
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda q: relay.ask(q, Where("mention", "C0OPEN01", "U0ASKER1")), questions))

    assert met == [True, True]
    assert all(replies) and len(openai.requests) == 2


def test_a_streamed_reply_is_handed_on_sentence_by_sentence_as_the_guard_passes_it(
    llm_engine: Callable[..., Engine], openai: FakeOpenAI
) -> None:
    openai.responder = quoting()
    answer, pending = llm_engine().ask_deferred(QUESTION, record=False)
    assert pending is not None
    pieces: list[str] = []
    pending.complete(llm_engine().chat_model, pieces.append)

    [request] = openai.requests
    assert request.get("stream") is True
    assert answer.generated is not None
    assert "".join(pieces).split() == " ".join(sentences(answer.generated)).split()  # all of it, in order
    assert len(pieces) >= 1 and all(re.search(r"\[\d+\]", piece) for piece in pieces)


def test_nothing_after_a_sentence_the_guard_rejects_is_handed_on(
    llm_engine: Callable[..., Engine], openai: FakeOpenAI
) -> None:
    good = quoting()
    bad = quoting(distort=True)

    def respond(request: dict[str, Any]) -> Reply:
        first = sentences(good(request).content)[0]
        return Reply(f"{first} {bad(request).content} {first}")

    openai.responder = respond
    answer, pending = llm_engine().ask_deferred(QUESTION, record=False)
    assert pending is not None
    pieces: list[str] = []
    pending.complete(llm_engine().chat_model, pieces.append)

    assert answer.generated is None and answer.guard_problems
    assert "".join(pieces).strip() == sentences(good(openai.requests[0]).content)[0]  # the first sentence only
