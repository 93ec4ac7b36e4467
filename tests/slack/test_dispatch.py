"""Listener behaviour through app.dispatch, with listeners run before dispatch returns so
that what must NOT happen can be checked too: thread follow-ups, channel scopes, failures,
rate limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fake_openai import SOURCE, FakeOpenAI, Reply
from fake_slack import BOT_ID, BOT_USER_ID, FakeSlack
from slack_bolt import App
from slack_payloads import (
    DELIVERY_CHANNEL,
    FORM,
    JSON,
    OPEN_CHANNEL,
    SALES_CHANNEL,
    USER,
    InlineExecutor,
    as_blocks,
    blocks_text,
    checklist_items,
    dispatch,
    event_body,
    mention_event,
    message_event,
)

from bot.answers.engine import Engine
from bot.answers.guard import sentences
from bot.kb.schema import DocumentMeta
from bot.records import Records
from bot.settings import ChannelScope, Settings
from bot.slack.app import build_app
from bot.slack.blocks import escape
from bot.slack.relay import Relay

_ids = iter(range(10**6))


def send(app: App, event: dict[str, Any]) -> None:
    response = dispatch(app, event_body(event, f"EvD{next(_ids)}"), JSON)
    assert response.status == 200, response.body


def posted(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [c.params for c in slack.received("chat.postMessage", lambda c: c.params.get("channel") == channel)]


def cited_docs(records: Records) -> list[list[str]]:
    return [[c.doc_id for c in shown.cited] for shown in reversed(records.answers())]


def test_follow_up_in_an_answered_thread_uses_the_thread_as_context(inline_app: App, slack: FakeSlack) -> None:
    root = "1712000000.000100"
    send(inline_app, mention_event("What do we pitch to hotpot chains about food cost?", OPEN_CHANNEL, root))
    slack.thread_messages[(OPEN_CHANNEL, root)] = [
        {"ts": root, "user": USER, "text": f"<@{BOT_USER_ID}> What do we pitch to hotpot chains about food cost?"},
        {"ts": "1712000000.000150", "bot_id": BOT_ID, "user": BOT_USER_ID, "text": "From 2 sources"},
        {"ts": "1712000000.000200", "user": USER, "text": "any numbers?", "thread_ts": root},
    ]
    send(inline_app, message_event("any numbers?", OPEN_CHANNEL, "1712000000.000200", thread_ts=root))
    answers = posted(slack, OPEN_CHANNEL)
    assert len(answers) >= 2 and all(a["thread_ts"] == root for a in answers)
    [replies] = slack.received("conversations.replies")
    assert replies.params["channel"] == OPEN_CHANNEL and replies.params["ts"] == root
    # With the thread as context the short follow-up is answered, not abstained on.
    assert "I don't know" not in blocks_text(as_blocks(answers[-1]))


def test_messages_in_threads_the_bot_never_answered_are_left_alone(inline_app: App, slack: FakeSlack) -> None:
    send(
        inline_app,
        message_event(
            "what about the go-live checklist?", OPEN_CHANNEL, "1712000000.000400", thread_ts="1712000000.000300"
        ),
    )
    send(inline_app, message_event("a plain channel message", OPEN_CHANNEL, "1712000000.000500"))
    assert posted(slack, OPEN_CHANNEL) == []


def test_follow_up_mode_mention_answers_only_mentions(
    slack_settings: Settings, engine: Engine, records: Records, slack: FakeSlack
) -> None:
    settings = slack_settings.model_copy(update={"slack_follow_up": "mention"})
    app = build_app(settings, Relay(settings, engine, records), listener_executor=InlineExecutor())
    root = "1712000000.000600"
    send(app, mention_event("Give me the training checklist", OPEN_CHANNEL, root))
    send(app, message_event("and for acceptance?", OPEN_CHANNEL, "1712000000.000700", thread_ts=root))
    assert len(posted(slack, OPEN_CHANNEL)) == 1
    send(app, mention_event("and for acceptance?", OPEN_CHANNEL, "1712000000.000800", thread_ts=root))
    assert len(posted(slack, OPEN_CHANNEL)) == 2


def test_edits_joins_and_the_bots_own_posts_are_not_questions(inline_app: App, slack: FakeSlack) -> None:
    send(
        inline_app,
        message_event("edited", "DDIRECT002", "1712000000.000900", channel_type="im", subtype="message_changed"),
    )
    send(inline_app, message_event("joined", OPEN_CHANNEL, "1712000000.001000", subtype="channel_join"))
    send(inline_app, mention_event("quoting myself", OPEN_CHANNEL, "1712000000.001100") | {"user": BOT_USER_ID})
    send(inline_app, message_event("ping", "DDIRECT002", "1712000000.001110", channel_type="im", user=BOT_USER_ID))
    other_bot = {"bot_id": "BOTHER0001", "subtype": "bot_message"}
    send(
        inline_app, message_event("Deploy finished", "DDIRECT002", "1712000000.001120", channel_type="im", **other_bot)
    )
    assert slack.received("chat.postMessage") == []


def restricted_document(engine: Engine, audience: str) -> DocumentMeta:
    """A document of the corpus whose audience excludes `audience` (whichever it is)."""
    return next(doc.meta for doc in engine.index.documents.values() if not {audience, "all"} & set(doc.meta.audience))


def test_a_channel_scope_hides_documents_its_audience_may_not_see(
    slack_settings: Settings, engine: Engine, records: Records, slack: FakeSlack
) -> None:
    audience_only = "CAUDIENCE1"
    settings = slack_settings.model_copy(
        update={"channel_scopes": {**slack_settings.channel_scopes, audience_only: ChannelScope(audience="sales")}}
    )
    app = build_app(settings, Relay(settings, engine, records), listener_executor=InlineExecutor())
    hidden = restricted_document(engine, "sales")
    question = hidden.title
    send(app, mention_event(question, OPEN_CHANNEL, "1712000000.001200"))
    send(app, mention_event(question, audience_only, "1712000000.001300"))
    open_sources, scoped_sources = cited_docs(records)
    assert hidden.id in open_sources  # findable where unscoped...
    assert scoped_sources and hidden.id not in scoped_sources  # ...never where the audience is sales
    [scoped_answer] = posted(slack, audience_only)
    assert escape(hidden.title) not in blocks_text(as_blocks(scoped_answer))
    for doc_id in scoped_sources:
        assert {"sales", "all"} & set(engine.index.documents[doc_id].meta.audience)


def test_a_channel_scope_limits_the_kinds(inline_app: App, engine: Engine, records: Records) -> None:
    send(inline_app, mention_event("Give me the go-live checklist", SALES_CHANNEL, "1712000000.001350"))
    send(
        inline_app,
        mention_event("What do we pitch to hotpot chains about food cost?", SALES_CHANNEL, "1712000000.001360"),
    )
    checklist_sources, pitch_sources = cited_docs(records)
    assert pitch_sources
    kinds = {engine.index.documents[doc_id].meta.kind for doc_id in checklist_sources + pitch_sources}
    assert kinds <= {"playbook", "case"}


def test_a_scope_keyed_by_channel_name_limits_the_kinds(
    inline_app: App, slack: FakeSlack, engine: Engine, records: Records
) -> None:
    send(
        inline_app,
        mention_event("What do we pitch to hotpot chains about food cost?", DELIVERY_CHANNEL, "1712000000.001400"),
    )
    [sources] = cited_docs(records)
    assert sources and {engine.index.documents[d].meta.kind for d in sources} == {"stage_guide"}
    [info] = slack.received("conversations.info")
    assert info.params["channel"] == DELIVERY_CHANNEL


def test_a_failure_posts_an_apology_in_the_thread_and_the_bot_keeps_serving(inline_app: App, slack: FakeSlack) -> None:
    # The channel's name cannot be read, so its scope is unknown: no answer, an apology.
    send(inline_app, mention_event("Give me the go-live checklist", "CUNKNOWN01", "1712000000.001500"))
    [apology] = posted(slack, "CUNKNOWN01")
    assert apology["thread_ts"] == "1712000000.001500"
    assert "Sorry" in apology["text"]
    send(inline_app, mention_event("Give me the go-live checklist", OPEN_CHANNEL, "1712000000.001600"))
    [answer] = posted(slack, OPEN_CHANNEL)
    assert checklist_items(as_blocks(answer))


def test_rate_limited_posts_are_retried_after_retry_after(inline_app: App, slack: FakeSlack) -> None:
    slack.queue("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
    send(inline_app, mention_event("Give me the survey checklist", OPEN_CHANNEL, "1712000000.001700"))
    first, second = posted(slack, OPEN_CHANNEL)
    assert first == second  # the same message, sent again once the limit passed
    assert checklist_items(as_blocks(second))


def test_thanks_in_a_followed_thread_gets_no_reply_and_thanks_to_the_bot_one_line(
    inline_app: App, slack: FakeSlack, records: Records
) -> None:
    root = "1712000000.002000"
    send(inline_app, mention_event("Give me the go-live checklist", OPEN_CHANNEL, root))
    slack.thread_messages[(OPEN_CHANNEL, root)] = [
        {"ts": root, "user": USER, "text": f"<@{BOT_USER_ID}> Give me the go-live checklist"},
        {"ts": "1712000000.002050", "bot_id": BOT_ID, "user": BOT_USER_ID, "text": "Go-live checklist"},
    ]
    send(inline_app, message_event("cheers, that helps!", OPEN_CHANNEL, "1712000000.002100", thread_ts=root))
    assert len(posted(slack, OPEN_CHANNEL)) == 1  # the checklist only

    send(inline_app, message_event("thanks!", "DDIRECT003", "1712000000.002200", channel_type="im"))
    [reply] = posted(slack, "DDIRECT003")
    shown = blocks_text(as_blocks(reply))
    assert shown.strip() and "\n" not in shown.strip() and "[1]" not in shown
    assert not any(block["type"] == "actions" for block in as_blocks(reply))  # nothing to vote on
    assert len(cited_docs(records)) == 1 and records.gaps() == []  # small talk is neither an answer nor a gap


def test_an_answer_that_keeps_the_asker_waiting_replaces_a_looking_it_up_line(
    slack_settings: Settings, engine: Engine, records: Records, slack: FakeSlack
) -> None:
    settings = slack_settings.model_copy(update={"slack_thinking_after": 0.0})
    app = build_app(settings, Relay(settings, engine, records), listener_executor=InlineExecutor())
    send(app, mention_event("Give me the go-live checklist", OPEN_CHANNEL, "1712000000.003000"))
    [placeholder, *rest] = posted(slack, OPEN_CHANNEL)
    assert placeholder["text"] == "Looking that up…" and placeholder["thread_ts"] == "1712000000.003000"
    [update] = slack.received("chat.update")
    assert update.params["channel"] == OPEN_CHANNEL and update.params["ts"].startswith("1700000000.")
    shown = blocks_text(as_blocks(update.params)) + "".join(blocks_text(as_blocks(p)) for p in rest)
    expected = engine.checklist("go_live").items
    assert all(escape(item["text"]) in shown for item in expected)  # the whole answer, in place of the line
    assert all(p["thread_ts"] == "1712000000.003000" for p in rest)


def test_a_looking_it_up_line_with_nothing_to_replace_it_is_removed(
    slack_settings: Settings, engine: Engine, records: Records, slack: FakeSlack
) -> None:
    settings = slack_settings.model_copy(update={"slack_thinking_after": 0.0})
    app = build_app(settings, Relay(settings, engine, records), listener_executor=InlineExecutor())
    root = "1712000000.004000"
    send(app, mention_event("Give me the go-live checklist", OPEN_CHANNEL, root))
    send(app, message_event("thanks, that helps", OPEN_CHANNEL, "1712000000.004100", thread_ts=root))
    [placeholder] = [p for p in posted(slack, OPEN_CHANNEL) if p["text"] == "Looking that up…"][1:]
    [deleted] = slack.received("chat.delete")
    assert deleted.params["ts"] != slack.received("chat.update")[0].params["ts"]  # the thanks' line, not the answer
    assert placeholder["thread_ts"] == root


def tick_body(message: dict[str, Any], block: dict[str, Any], user: str, ticked: bool) -> str:
    option = block["accessory"]["options"][0]
    action = {
        "type": "checkboxes",
        "action_id": "tick_item",
        "block_id": block["block_id"],
        "selected_options": [option] if ticked else [],
    }
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T0VALUE1"},
        "api_app_id": "AVALUE0001",
        "channel": {"id": OPEN_CHANNEL},
        "container": {
            "type": "message",
            "channel_id": OPEN_CHANNEL,
            "message_ts": message["ts"],
            "is_ephemeral": False,
        },
        "message": message,
        "response_url": "http://127.0.0.1:9/response/none",
        "trigger_id": "1.2.3",
        "actions": [action],
    }
    return urlencode({"payload": json.dumps(payload)})


def as_posted(params: dict[str, Any], ts: str) -> dict[str, Any]:
    """A posted message as Slack hands it back in an action payload: block ids filled in."""
    blocks = [{**b, "block_id": b.get("block_id") or f"b{i}"} for i, b in enumerate(as_blocks(params))]
    return {"ts": ts, "thread_ts": params["thread_ts"], "text": params["text"], "blocks": blocks}


def test_a_ticked_item_is_ticked_for_the_whole_thread_and_in_later_answers(
    inline_app: App, slack: FakeSlack, records: Records
) -> None:
    root = "1712000000.005000"
    send(inline_app, mention_event("Give me the go-live checklist", OPEN_CHANNEL, root))
    [answer, *_] = posted(slack, OPEN_CHANNEL)
    message = as_posted(answer, "1712000000.005001")
    items = [b for b in message["blocks"] if b.get("accessory", {}).get("action_id") == "tick_item"]
    assert len(items) >= 5 and not any("initial_options" in b["accessory"] for b in items)

    for block, ticked in ((items[0], True), (items[2], True), (items[2], False)):
        response = dispatch(inline_app, tick_body(message, block, "UIMPL0002", ticked), FORM)
        assert response.status == 200
    key = items[0]["accessory"]["options"][0]["value"]
    assert records.ticks(OPEN_CHANNEL, root) == {key}
    update = slack.received("chat.update")[-1].params
    assert update["ts"] == message["ts"]
    shown = {
        b["accessory"]["options"][0]["value"] for b in as_blocks(update) if "initial_options" in b.get("accessory", {})
    }
    assert shown == {key}  # everyone sees the first item ticked, the third unticked again

    # Asked again in the same thread: the new checklist shows what the team ticked.
    send(
        inline_app, message_event("and the go-live checklist again?", OPEN_CHANNEL, "1712000000.005100", thread_ts=root)
    )
    again = posted(slack, OPEN_CHANNEL)[-1]
    ticked_again = [b for b in as_blocks(again) if "initial_options" in b.get("accessory", {})]
    assert [b["accessory"]["options"][0]["value"] for b in ticked_again] == [key]


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


def llm_app(slack_settings: Settings, records: Records, model: FakeOpenAI, embedder_loader: Any) -> App:
    settings = model.settings(slack_settings, llm_retries=0)
    engine = Engine(settings, embedder_loader=embedder_loader)
    return build_app(settings, Relay(settings, engine, records), listener_executor=InlineExecutor())


PITCH_QUESTION = "What do we pitch to a 40-store hotpot chain worried about food cost? Any numbers?"


def first_source_sentence(request: dict[str, Any]) -> str:
    number, text = SOURCE.search(request["messages"][-1]["content"]).groups()
    return f"{sentences(text)[0]} [{number}]"


def test_a_generated_answer_is_streamed_into_its_thread_then_closed_with_its_sources(
    slack_settings: Settings, records: Records, model: FakeOpenAI, embedder_loader: Any, slack: FakeSlack
) -> None:
    model.responder = lambda request: Reply(first_source_sentence(request))
    app = llm_app(slack_settings, records, model, embedder_loader)
    root = "1712000000.006000"
    send(app, mention_event(PITCH_QUESTION, OPEN_CHANNEL, root))

    [start] = slack.received("chat.startStream")
    assert (start.params["channel"], start.params["thread_ts"]) == (OPEN_CHANNEL, root)
    assert start.params["recipient_user_id"] == USER and start.params["recipient_team_id"]
    streamed = "".join(
        chunk["text"] for c in slack.received(r"chat.startStream") + slack.received("chat.appendStream")
        for chunk in c.params.get("chunks", []) if chunk.get("type") == "markdown_text"
    )  # fmt: skip
    assert streamed == first_source_sentence(model.requests[0])
    [stop] = slack.received("chat.stopStream")
    below = [as_blocks(stop.params), *(as_blocks(p) for p in posted(slack, OPEN_CHANNEL))]
    shown = "\n".join(blocks_text(b) for b in below)
    assert "What to pitch" not in shown  # the streamed text took the heading's place, at the top
    assert "Customer proof" in shown and "Sources" in shown  # the rest of the answer below the text
    assert streamed not in shown  # not the text twice
    assert below[-1][-1]["type"] == "actions"  # the votes close the answer


def test_a_generation_rejected_after_part_was_streamed_is_replaced_by_the_quoted_answer(
    slack_settings: Settings, records: Records, model: FakeOpenAI, embedder_loader: Any, slack: FakeSlack
) -> None:
    model.responder = lambda request: Reply(f"{first_source_sentence(request)} Revenue rose 987654321% overnight. [1]")
    app = llm_app(slack_settings, records, model, embedder_loader)
    send(app, mention_event(PITCH_QUESTION, OPEN_CHANNEL, "1712000000.007000"))

    [stop] = slack.received("chat.stopStream")
    assert "blocks" not in stop.params
    [update] = slack.received("chat.update")
    assert update.params["ts"] == stop.params["ts"]
    shown = blocks_text(as_blocks(update.params))
    assert "987654321" not in shown and "[1]" in shown  # the quotes, with their sources
