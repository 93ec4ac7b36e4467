"""The server's jobs on a clock: none scheduled unless asked for, and the snapshot check opening a
newly published snapshot in the scheduler's thread, so the next question only switches to it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fake_slack import FakeSlack
from own_sample import OwnSample
from slack_sdk import WebClient

from bot.answers.engine import Engine
from bot.records import Records
from bot.settings import Settings
from bot.slack.jobs import schedule_jobs
from bot.slack.relay import Relay, Where


def client_of(slack: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test-token", base_url=slack.api_url)


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.05)
    return condition()


def test_no_job_is_scheduled_unless_the_settings_ask_for_one(relay: Relay, slack: FakeSlack) -> None:
    quiet = relay.settings.model_copy(update={"digest_cron": None, "snapshot_check_seconds": 0})
    assert schedule_jobs(Relay(quiet, relay.engine, relay.records), client_of(slack)) is None


def test_the_snapshot_check_opens_a_new_snapshot_before_the_question_that_switches_to_it(
    own_sample: OwnSample,
    slack_settings: Settings,
    embedder_loader: Callable[..., dict[str, Any]],
    records: Records,
    slack: FakeSlack,
    openings: list[tuple[str, str]],
) -> None:
    settings = slack_settings.model_copy(
        update={"data_dir": own_sample.settings.data_dir, "snapshot_check_seconds": 0.1, "digest_cron": None}
    )
    relay = Relay(settings, Engine(settings, embedder_loader=embedder_loader), records)
    first = relay.engine.index.snapshot.name
    scheduler = schedule_jobs(relay, client_of(slack))
    assert scheduler is not None
    try:
        published = own_sample.publish_without_a_case()
        assert wait_for(lambda: any(name == published.snapshot for name, _ in openings))
        assert relay.engine.index.snapshot.name == first  # opened, not yet switched to
        messages = relay.ask("go-live checklist", Where(surface="dm", channel="D0DIRECT1", user="U0ASKER1"))
    finally:
        scheduler.shutdown()
    assert messages and relay.engine.index.snapshot.name == published.snapshot
    [(_, thread)] = [opening for opening in openings if opening[0] == published.snapshot]
    assert thread.startswith("ThreadPoolExecutor")  # APScheduler's worker, not the question's thread
