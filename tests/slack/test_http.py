"""HTTP mode end to end: signed requests to /slack/events on a real WSGI server, answers
read back from the fake Slack Web API the bot talks to."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.parse

import pytest
from fake_slack import FakeSlack
from slack_payloads import (
    DM_CHANNEL,
    FORM,
    JSON,
    OPEN_CHANNEL,
    USER,
    as_blocks,
    blocks_text,
    checklist_items,
    command_body,
    event_body,
    mention_event,
    message_event,
    post,
    signed_headers,
    vote_body,
)

from bot.answers.engine import Engine
from bot.kb.schema import STAGES, CaseMeta, StageGuideMeta
from bot.records import Records
from bot.slack.blocks import SHARE, VOTES, answer_messages, escape

PITCH = "What do we pitch to a 40-store hotpot chain worried about food cost? Any proof with numbers?"


def in_channel(channel: str):
    return lambda call: call.params.get("channel") == channel


def path_ends(name: str):
    return lambda call: call.path.endswith(name)


def answer_id_of(blocks: list[dict]) -> str:
    [actions] = [b for b in blocks if b["type"] == "actions"]
    return actions["elements"][0]["value"]


def test_mention_is_answered_in_its_thread_with_numbered_sources(
    endpoint: str, slack: FakeSlack, engine: Engine
) -> None:
    status, _ = post(endpoint, event_body(mention_event(PITCH, OPEN_CHANNEL, "1711000000.000100"), "EvMention1"), JSON)
    assert status == 200
    expected = engine.ask(PITCH, record=False)
    count = len(answer_messages(expected, 0))  # each case card's table ends a message
    calls = slack.wait_for("chat.postMessage", count=count, where=in_channel(OPEN_CHANNEL))
    assert len(calls) == count and all(call.params["thread_ts"] == "1711000000.000100" for call in calls)
    blocks = [block for call in calls for block in as_blocks(call.params)]
    text = blocks_text(blocks)
    assert not expected.abstained
    for cited in expected.citations:
        assert f"[{cited.number}] " in text and escape(cited.title) in text
    assert escape(expected.headline) in text
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == list(VOTES)
    assert all(call.headers.get("Authorization") == "Bearer xoxb-test-token" for call in calls)


def test_a_retried_event_is_answered_once(endpoint: str, slack: FakeSlack) -> None:
    body = event_body(mention_event("Give me the go-live checklist", OPEN_CHANNEL, "1711000000.000200"), "EvRetry1")
    assert post(endpoint, body, JSON)[0] == 200
    slack.wait_for("chat.postMessage", where=in_channel(OPEN_CHANNEL))
    retry_headers = {**signed_headers(body, JSON), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert post(endpoint, body, JSON, retry_headers)[0] == 200
    # A new event after the retry is answered; the retry never is.
    other = event_body(mention_event("Give me the training checklist", OPEN_CHANNEL, "1711000000.000300"), "EvRetry2")
    assert post(endpoint, other, JSON)[0] == 200
    calls = slack.wait_for("chat.postMessage", count=2, where=in_channel(OPEN_CHANNEL))
    # The retry was dropped before its acknowledgement, so no answer to it can still be on its way.
    threads = [c.params["thread_ts"] for c in slack.received("chat.postMessage", in_channel(OPEN_CHANNEL))]
    assert sorted(threads) == ["1711000000.000200", "1711000000.000300"], calls


def test_bad_or_stale_signatures_are_refused(endpoint: str, slack: FakeSlack) -> None:
    body = event_body(mention_event(PITCH, OPEN_CHANNEL, "1711000000.000400"), "EvForged1")
    assert post(endpoint, body, JSON, signed_headers(body, JSON, secret="not-the-secret"))[0] == 401
    assert post(endpoint, body, JSON, signed_headers(body, JSON, timestamp=int(time.time()) - 3600))[0] == 401
    tampered = signed_headers(body, JSON)
    assert post(endpoint, body.replace("hotpot", "HOTPOT"), JSON, tampered)[0] == 401
    assert post(endpoint, body, JSON, {"Content-Type": JSON})[0] == 401
    # Refused before any listener was scheduled.
    assert slack.received("chat.postMessage") == []


def test_url_verification_challenge(endpoint: str) -> None:
    status, text = post(endpoint, json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}), JSON)
    assert status == 200 and "c-123" in text


def test_direct_message_is_answered_directly(endpoint: str, slack: FakeSlack, engine: Engine) -> None:
    question = "验收要准备什么？"
    event = message_event(question, DM_CHANNEL, "1711000000.000500", channel_type="im")
    assert post(endpoint, event_body(event, "EvDm1"), JSON)[0] == 200
    [call] = slack.wait_for("chat.postMessage", where=in_channel(DM_CHANNEL))
    assert call.params.get("thread_ts") is None
    expected = engine.ask(question, record=False)
    text = blocks_text(as_blocks(call.params))
    assert escape(expected.headline) in text


def responses(slack: FakeSlack) -> list[dict]:
    """Every message sent to response URLs, once the last one of the answer (with the buttons) is in."""
    slack.wait_for("response_url", where=lambda c: any(b["type"] == "actions" for b in as_blocks(c.params)))
    return [c.params for c in slack.received("response_url")]


def test_relay_help_is_the_immediate_reply(endpoint: str, slack: FakeSlack) -> None:
    status, ack = post(endpoint, command_body("help", OPEN_CHANNEL, slack.response_url("help")), FORM)
    assert status == 200
    assert "/relay checklist" in ack and "/relay case" in ack
    status, ack = post(endpoint, command_body("", OPEN_CHANNEL, slack.response_url("bare")), FORM)
    assert "/relay value" in ack


def test_relay_checklist_renders_the_whole_checklist_verbatim(endpoint: str, slack: FakeSlack, engine: Engine) -> None:
    status, ack = post(endpoint, command_body("checklist go-live", OPEN_CHANNEL, slack.response_url("cl")), FORM)
    assert status == 200 and "Looking that up" in ack
    sent = responses(slack)
    assert all(p["response_type"] == "ephemeral" for p in sent)
    shown = [item for p in sent for item in checklist_items(as_blocks(p))]
    expected = engine.checklist("go_live").items
    assert len(expected) >= 10
    assert shown == [escape(item["text"]) for item in expected]


def test_relay_checklist_narrowed_to_a_module(endpoint: str, slack: FakeSlack, engine: Engine) -> None:
    full = engine.checklist("go_live").items
    module = next(
        m
        for m in ("pos", "food_cost", "supply_chain", "membership")
        if 0 < len(engine.checklist("go_live", m).items) < len(full)
    )
    post(endpoint, command_body(f"checklist go_live {module}", OPEN_CHANNEL, slack.response_url("clm")), FORM)
    [call] = slack.wait_for("response_url")
    shown = checklist_items(as_blocks(call.params))
    assert shown == [escape(item["text"]) for item in engine.checklist("go_live", module).items]


def test_relay_checklist_without_a_stage_says_which_stages_exist(endpoint: str, slack: FakeSlack) -> None:
    post(endpoint, command_body("checklist please", OPEN_CHANNEL, slack.response_url("nostage")), FORM)
    [call] = slack.wait_for("response_url")
    assert all(stage in call.params["text"] for stage in STAGES)


def table_rows(blocks: list[dict]) -> list[list[str]]:
    return [[cell["text"] for cell in row] for b in blocks if b["type"] == "table" for row in b["rows"]]


def test_relay_case_renders_cards_with_a_metrics_table(endpoint: str, slack: FakeSlack, engine: Engine) -> None:
    query = "hotpot chain food cost"
    post(endpoint, command_body(f"case {query}", OPEN_CHANNEL, slack.response_url("case")), FORM)
    expected = engine.ask(query, intent="case", record=False)
    calls = slack.wait_for("response_url", count=len(answer_messages(expected, 0)))
    assert expected.cards
    card = expected.cards[0]
    assert escape(card.customer) in blocks_text(calls[0].params["blocks"])
    # Slack takes one table per message: each card's metrics end their message.
    assert all(sum(b["type"] == "table" for b in c.params["blocks"]) <= 1 for c in calls)
    rows = table_rows(calls[0].params["blocks"])
    assert rows[1:] == [
        [m.name, m.format_value(m.before), m.format_value(m.after), m.describe_change("en"), m.period or "—"]
        for m in card.metrics
    ]


def test_relay_quantify_replies_with_the_figures_and_sends_the_chart_to_the_askers_dm(
    endpoint: str, slack: FakeSlack, engine: Engine
) -> None:
    text = "quantify 40-store hotpot chain"
    post(endpoint, command_body(text, OPEN_CHANNEL, slack.response_url("quantify")), FORM)
    expected = engine.quantify(engine.customer_in(text), lang="en")
    calls = slack.wait_for("response_url", count=len(answer_messages(expected.answer, 0)))
    rows = [row for call in calls for row in table_rows(call.params["blocks"])]
    customers = [row[0] for row in rows if row[0].startswith("[")]
    assert [c.meta.customer for c in expected.benchmark.cases] == [c.split("] ", 1)[1] for c in customers]
    for metric in expected.benchmark.metrics:
        assert any(row[0] == metric.name and row[1] == str(metric.n) for row in rows)
    [done] = slack.wait_for("files.completeUploadExternal")
    assert done.params["channel_id"] == f"D{USER}"  # the reply is private, so is its chart
    [png] = slack.uploaded.values()
    assert png.startswith(b"\x89PNG")


def test_a_question_about_what_a_customer_can_expect_gets_the_chart_in_its_thread(
    endpoint: str, slack: FakeSlack
) -> None:
    question = "what results can a 30-store bakery chain typically expect?"
    post(endpoint, event_body(mention_event(question, OPEN_CHANNEL, "1711000000.000700"), "EvQuantify1"), JSON)
    [done] = slack.wait_for("files.completeUploadExternal")
    assert (done.params["channel_id"], done.params["thread_ts"]) == (OPEN_CHANNEL, "1711000000.000700")
    answer = slack.received("chat.postMessage", in_channel(OPEN_CHANNEL))
    assert any(b["type"] == "table" for call in answer for b in as_blocks(call.params))


def test_a_chart_slack_refuses_costs_the_picture_only(
    endpoint: str, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.queue("files.getUploadURLExternal", 200, {"ok": False, "error": "missing_scope"})
    question = "what results can a 30-store bakery chain typically expect?"
    post(endpoint, event_body(mention_event(question, OPEN_CHANNEL, "1711000000.000800"), "EvQuantify2"), JSON)
    answer = slack.wait_for("chat.postMessage", where=in_channel(OPEN_CHANNEL))
    assert any(b["type"] == "table" for call in answer for b in as_blocks(call.params))
    deadline = time.monotonic() + 30
    while "missing_scope" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "could not post quantify-1.png" in caplog.text
    assert not slack.received("files.completeUploadExternal")
    assert not any("Sorry" in c.params.get("text", "") for c in slack.received("chat.postMessage"))


def test_relay_value_and_bare_questions(endpoint: str, slack: FakeSlack, engine: Engine) -> None:
    post(endpoint, command_body("value 茶饮连锁 食材成本", OPEN_CHANNEL, slack.response_url("value")), FORM)
    expected = engine.ask("茶饮连锁 食材成本", intent="value", record=False)
    [value, *_] = slack.wait_for("response_url", count=len(answer_messages(expected, 0)))
    assert escape(expected.headline) in blocks_text(value.params["blocks"])
    pitch = engine.ask(PITCH, record=False)
    post(endpoint, command_body(PITCH, OPEN_CHANNEL, slack.response_url("bare")), FORM)
    post(endpoint, command_body(f"ask {PITCH}", OPEN_CHANNEL, slack.response_url("ask")), FORM)
    count = len(answer_messages(pitch, 0))
    bare, asked = (
        blocks_text(
            [b for call in slack.wait_for("response_url", count, path_ends(name)) for b in call.params["blocks"]]
        )
        for name in ("/bare", "/ask")
    )
    titles = [escape(c.title) for c in pitch.citations]
    assert titles and all(t in bare and t in asked for t in titles)


def test_feedback_button_stores_the_vote_and_tells_only_the_voter(
    endpoint: str, slack: FakeSlack, records: Records, engine: Engine
) -> None:
    post(endpoint, event_body(mention_event(PITCH, OPEN_CHANNEL, "1711000000.000600"), "EvVote1"), JSON)
    expected = answer_messages(engine.ask(PITCH, record=False), 0)
    answer = slack.wait_for("chat.postMessage", count=len(expected), where=in_channel(OPEN_CHANNEL))
    answer_id = answer_id_of(as_blocks(answer[-1].params))
    body = vote_body(
        "vote_outdated", answer_id, OPEN_CHANNEL, "1700000000.000900", slack.response_url("v"), "1711000000.000600"
    )
    assert post(endpoint, body, FORM)[0] == 200
    [ack] = slack.wait_for("chat.postEphemeral")
    assert ack.params["user"] == USER and ack.params["channel"] == OPEN_CHANNEL
    assert ack.params["thread_ts"] == "1711000000.000600"
    assert "outdated" in ack.params["text"]
    [vote] = records.votes()
    assert (vote.vote, vote.voter, vote.answer.id, vote.answer.question) == ("outdated", USER, int(answer_id), PITCH)
    assert vote.answer.answer and vote.answer.cited
    assert records.flagged_outdated() == {doc: 1 for doc in {c.doc_id for c in vote.answer.cited}}
    assert slack.received("chat.postMessage", in_channel(OPEN_CHANNEL)) == answer  # nothing public


def test_app_home_shows_onboarding_paths_from_the_corpus(endpoint: str, slack: FakeSlack, engine: Engine) -> None:
    event = {
        "type": "app_home_opened",
        "user": USER,
        "channel": "DHOME00001",
        "tab": "home",
        "event_ts": "1711000000.0007",
    }
    assert post(endpoint, event_body(event, "EvHome1"), JSON)[0] == 200
    [call] = slack.wait_for("views.publish")
    assert call.params["user_id"] == USER
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    text = blocks_text(view["blocks"])
    guides = sorted(
        (d.meta for d in engine.index.documents.values() if isinstance(d.meta, StageGuideMeta)),
        key=lambda meta: STAGES.index(meta.stage),
    )
    positions = [text.index(escape(meta.title)) for meta in guides]
    assert positions == sorted(positions)  # stage guides in the order of an implementation
    for role_heading in ("Sales", "Implementation", "New hire", "Recently changed"):
        assert role_heading in text
    assert "Try:" in text


def test_relay_case_without_a_query_lists_every_case_within_slack_limits(
    endpoint: str, slack: FakeSlack, engine: Engine
) -> None:
    post(endpoint, command_body("case", OPEN_CHANNEL, slack.response_url("all-cases")), FORM)
    sent = responses(slack)
    assert all(len(p["blocks"]) <= 50 for p in sent)
    assert all(len(b["text"]["text"]) <= 3000 for p in sent for b in p["blocks"] if b["type"] == "section")
    text = "\n".join(blocks_text(p["blocks"]) for p in sent)
    customers = [d.meta.customer for d in engine.index.documents.values() if isinstance(d.meta, CaseMeta)]
    assert customers and all(escape(customer) in text for customer in customers)
    assert sum(1 for p in sent for b in p["blocks"] if b["type"] == "actions") == 1


def test_an_asker_with_a_chinese_slack_locale_gets_the_bots_own_words_in_chinese(
    endpoint: str, slack: FakeSlack, engine: Engine
) -> None:
    slack.locales[USER] = "zh-CN"
    status, ack = post(endpoint, command_body("help", OPEN_CHANNEL, slack.response_url("help-zh")), FORM)
    help_text = blocks_text(json.loads(ack)["blocks"])
    assert status == 200 and "引用资料原文" in help_text and "/relay checklist" in help_text
    status, ack = post(endpoint, command_body("checklist please", OPEN_CHANNEL, slack.response_url("stage-zh")), FORM)
    assert "正在查找" in ack
    [notice] = slack.wait_for("response_url", where=path_ends("/stage-zh"))
    assert notice.params["text"].startswith("请指定阶段") and all(stage in notice.params["text"] for stage in STAGES)
    event = {"type": "app_home_opened", "user": USER, "channel": "DHOME00002", "tab": "home", "event_ts": "1.2"}
    post(endpoint, event_body(event, "EvHomeZh"), JSON)
    [home] = slack.wait_for("views.publish")
    view = home.params["view"]
    text = blocks_text((json.loads(view) if isinstance(view, str) else view)["blocks"])
    assert "销售" in text and "可以这样问" in text and "Sales:" not in text
    # Looked up once for the user, with the locale asked for.
    [lookup] = slack.received("users.info")
    assert lookup.params["user"] == USER and lookup.params["include_locale"] in ("1", "true")


def test_without_a_locale_the_bot_speaks_english(endpoint: str, slack: FakeSlack) -> None:
    slack.queue("users.info", 200, {"ok": False, "error": "missing_scope"})
    status, ack = post(endpoint, command_body("help", OPEN_CHANNEL, slack.response_url("help-en")), FORM)
    assert status == 200 and "answers from our playbooks" in blocks_text(json.loads(ack)["blocks"])


def share_body(answer_id: str, user: str, response_url: str) -> str:
    body = json.loads(urllib.parse.parse_qs(vote_body(SHARE, answer_id, OPEN_CHANNEL, "1", response_url))["payload"][0])
    body["user"]["id"] = user
    body["container"]["is_ephemeral"] = True
    return urllib.parse.urlencode({"payload": json.dumps(body)})


def test_a_private_relay_answer_can_be_shared_in_its_channel_by_its_asker_only(
    endpoint: str, slack: FakeSlack, engine: Engine
) -> None:
    question = "Give me the acceptance checklist"
    post(endpoint, command_body(question, OPEN_CHANNEL, slack.response_url("share")), FORM)
    sent = responses(slack)
    [buttons] = [b for p in sent for b in as_blocks(p) if b["type"] == "actions"]
    [share] = [e for e in buttons["elements"] if e["action_id"] == SHARE]
    assert share["text"]["text"] == "Share in channel"

    assert post(endpoint, share_body(share["value"], "UOTHER0001", slack.response_url("s1")), FORM)[0] == 200
    [refused] = slack.wait_for("response_url", where=path_ends("/s1"))
    assert "Only the person who asked" in refused.params["text"]
    assert not slack.received("chat.postMessage", in_channel(OPEN_CHANNEL))

    assert post(endpoint, share_body(share["value"], USER, slack.response_url("s2")), FORM)[0] == 200
    [public] = slack.wait_for("chat.postMessage", where=in_channel(OPEN_CHANNEL))
    text = blocks_text(as_blocks(public.params))
    assert f"<@{USER}> shared an answer to “{question}”" in text
    expected = engine.ask(question, record=False)
    assert all(escape(c.title) in text for c in expected.citations)  # with its sources
    assert all(escape(item["text"]) in text for item in engine.checklist("acceptance").items)
    [done] = slack.wait_for("response_url", where=path_ends("/s2"))
    assert done.params["text"] == "Shared in the channel."


def test_mentions_have_no_share_button_they_are_public_already(endpoint: str, slack: FakeSlack) -> None:
    post(
        endpoint,
        event_body(mention_event("Give me the training checklist", OPEN_CHANNEL, "1711000000.000900"), "EvNoShare"),
        JSON,
    )
    calls = slack.wait_for("chat.postMessage", where=lambda c: any(b["type"] == "actions" for b in as_blocks(c.params)))
    actions = [
        e["action_id"] for c in calls for b in as_blocks(c.params) if b["type"] == "actions" for e in b["elements"]
    ]
    assert SHARE not in actions and actions == list(VOTES)


def test_sharing_where_the_bot_was_not_invited_says_how_to_invite_it(endpoint: str, slack: FakeSlack) -> None:
    post(endpoint, command_body("Give me the survey checklist", OPEN_CHANNEL, slack.response_url("s0")), FORM)
    [share] = [
        e
        for p in responses(slack)
        for b in as_blocks(p)
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == SHARE
    ]
    slack.queue("chat.postMessage", 200, {"ok": False, "error": "not_in_channel"})
    post(endpoint, share_body(share["value"], USER, slack.response_url("s3")), FORM)
    [reply] = slack.wait_for("response_url", where=path_ends("/s3"))
    assert "not_in_channel" in reply.params["text"] and "/invite @ValueRelay" in reply.params["text"]


def test_relay_stale_lists_the_documents_past_review_with_their_owners(
    endpoint: str, slack: FakeSlack, engine: Engine
) -> None:
    post(endpoint, command_body("stale", OPEN_CHANNEL, slack.response_url("stale")), FORM)
    [reply] = slack.wait_for("response_url", where=path_ends("/stale"))
    text = blocks_text(as_blocks(reply.params))
    today = dt.date.today()
    stale = [d.meta for d in engine.index.documents.values() if d.meta.is_stale(today)]
    assert stale  # the sample corpus keeps two documents past review on purpose
    assert f"{len(stale)} document(s) past their review date" in text
    for meta in stale:
        assert escape(meta.title) in text and escape(meta.owner) in text
    fresh = [d.meta for d in engine.index.documents.values() if not d.meta.is_stale(today)]
    assert not any(escape(meta.title) in text for meta in fresh)


def test_relay_gaps_lists_what_was_not_answered_grouped_with_the_closest_documents(
    endpoint: str, slack: FakeSlack, records: Records
) -> None:
    asked = ["有没有邮轮餐饮的客户案例？", "Any cruise ship catering customer we could show?"]
    for n, question in enumerate(asked):
        post(endpoint, event_body(mention_event(question, OPEN_CHANNEL, f"1712000000.00{n}900"), f"EvGap{n}"), JSON)
    slack.wait_for("chat.postMessage", count=2, where=in_channel(OPEN_CHANNEL))
    assert sorted(g.question or "" for g in records.gaps()) == sorted(asked)

    post(endpoint, command_body("gaps", OPEN_CHANNEL, slack.response_url("gaps")), FORM)

    [reply] = slack.wait_for("response_url", where=path_ends("/gaps"))
    text = blocks_text(as_blocks(reply.params))
    assert "unanswered questions in the last 7 days" in text
    assert sum(text.count(f"“{escape(q)}”") for q in asked) >= 1 and "×" in text
