"""Benchmark, not a test: ack and answer latencies of the HTTP-mode Slack bot under a burst of
signed mentions, with a local OpenAI-compatible stand-in that takes LLM_DELAY seconds per reply.

    HF_HUB_OFFLINE=1 .venv/bin/python tests/bench/slack_latency.py [--data-dir .data-eval] [--mentions 20] [--delay 1]

The model's reply quotes a numbered source line, with its citation, so the guard passes it and
the generated answer is what Slack gets. Prints p50/p95/max of the ack and of the answer."""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS), str(TESTS / "slack")]

from fake_openai import SOURCE, FakeOpenAI, Reply  # noqa: E402
from fake_slack import FakeSlack  # noqa: E402
from slack_payloads import JSON, OPEN_CHANNEL, SIGNING_SECRET, event_body, mention_event, post  # noqa: E402

from bot.answers.engine import Engine  # noqa: E402
from bot.records import Records  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.slack.app import build_app, http_server  # noqa: E402
from bot.slack.relay import Relay  # noqa: E402

QUESTIONS = (
    "What do we pitch to a 40-store hotpot chain worried about food cost?",
    "Give me the go-live checklist",
    "验收要准备什么",
    "any bakery customer with numbers?",
)


def quoting(delay: float) -> Any:
    def respond(request: dict[str, Any]) -> Reply:
        prompt = request["messages"][-1]["content"]
        found = SOURCE.search(prompt)
        # The passage's first sentence, cited: every number in it is in the cited source.
        first = re.split(r"(?<=[。！？.!?])\s*", found.group(2).strip())[0] if found else ""
        text = f"{first} [{found.group(1)}]" if found else "I don't know from our sources."
        return Reply(text, delay=delay)

    return respond


def first_messages(slack: FakeSlack) -> list[Any]:
    """The calls that put an answer's first words in its thread: a post, or the start of a stream."""
    return [c for c in slack.calls if c.method in ("chat.postMessage", "chat.startStream")]


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered):.2f} s · p95 {p95:.2f} s · max {ordered[-1]:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path(".data-eval"))
    parser.add_argument("--mentions", type=int, default=20)
    parser.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args()
    slack, model = FakeSlack(), FakeOpenAI()
    model.responder = quoting(args.delay)
    settings = model.settings(
        load_settings(data_dir=args.data_dir),
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        slack_thinking_after=600.0,  # the answer itself is timed, not a "Looking that up…" line
    )
    engine = Engine(settings)
    engine.warm_up()
    records = tempfile.TemporaryDirectory()  # the benchmark's answers stay out of the index's records
    relay = Relay(settings, engine, Records(Path(records.name)))
    answering = ThreadPoolExecutor(10)
    server = http_server(
        build_app(settings, relay, listener_executor=answering), settings, "127.0.0.1", 0, answering, relay
    )
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    while not server.server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{server.port}/slack/events"
    sent: dict[str, float] = {}
    acks: list[float] = []
    start = threading.Barrier(args.mentions)

    def mention(i: int) -> None:
        ts = f"1715000000.{i:06d}"
        body = event_body(mention_event(QUESTIONS[i % len(QUESTIONS)], OPEN_CHANNEL, ts), f"EvBench{i}")
        start.wait()
        sent[ts] = time.monotonic()
        assert post(url, body, JSON)[0] == 200
        acks.append(time.monotonic() - sent[ts])

    with ThreadPoolExecutor(args.mentions) as burst:
        list(burst.map(mention, range(args.mentions)))
    deadline = time.monotonic() + 600
    while {c.params.get("thread_ts") for c in first_messages(slack)} < set(sent):
        assert time.monotonic() < deadline, "answers missing after 600 s"
        time.sleep(0.05)
    first: dict[str, float] = {}
    for call in first_messages(slack):
        first.setdefault(call.params["thread_ts"], call.received)
    answers = [first[ts] - sent[ts] for ts in sent]
    done = slack.wait_for("chat.stopStream", count=sum(1 for _ in slack.received("chat.startStream")), timeout=600)
    closed = [c.received for c in done]
    print(f"{args.mentions} concurrent mentions, model stand-in {args.delay:.1f} s per reply")
    print(f"ack:    {percentiles(acks)}")
    print(f"answer: {percentiles(answers)} (from the mention to the answer's first words in Slack)")
    if closed:
        print(
            f"streams: {len(closed)} generated answers streamed, the last closed {max(closed) - min(sent.values()):.2f} s after the burst"
        )
    print(f"model calls: {len(model.requests)}")
    server.shutdown()
    serving.join()  # shutdown waits for the answers still being posted
    records.cleanup()


if __name__ == "__main__":
    main()
