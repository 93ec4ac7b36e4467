"""What the server does on a clock, beside the answers: the weekly digest (`digest_cron`), and a
look for a newly published index snapshot (`snapshot_check_seconds`), opened then, so that the
question after a publish does not wait for it."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from bot.slack.digest import digest_trigger, send_scheduled
from bot.slack.relay import Relay

log = logging.getLogger(__name__)


def schedule_jobs(relay: Relay, client: WebClient) -> BackgroundScheduler | None:
    """Start the jobs the settings ask for; None when they ask for none."""
    settings = relay.settings
    scheduler = BackgroundScheduler(daemon=True, job_defaults={"max_instances": 1, "coalesce": True})
    if settings.digest_cron:
        scheduler.add_job(_send_digest, digest_trigger(settings.digest_cron), args=(relay, client), name="digest")
    if settings.snapshot_check_seconds:
        every = IntervalTrigger(seconds=settings.snapshot_check_seconds)
        scheduler.add_job(_prepare_snapshot, every, args=(relay,), name="snapshot check")
    if not scheduler.get_jobs():
        return None
    scheduler.start()
    for job in scheduler.get_jobs():
        log.info("%s scheduled (next %s)", job.name, job.next_run_time)
    return scheduler


def _send_digest(relay: Relay, client: WebClient) -> None:
    try:
        log.info("digest: %d messages sent", send_scheduled(relay, client))
    except Exception:  # a failed digest must not stop the bot: logged, tried again next week
        log.exception("digest failed")


def _prepare_snapshot(relay: Relay) -> None:
    try:
        relay.prepare()
    except Exception:  # the question after the publish opens it instead
        log.exception("opening a newly published snapshot ahead failed")
