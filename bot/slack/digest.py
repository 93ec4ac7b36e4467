"""The weekly digest in Slack: a direct message to each owner with `owner_slack`, and a summary
with the largest gaps (owners mentioned) in `digest_channel`. Sent by `report --post`, or by
`serve` on `digest_cron` (see `jobs`); with several replicas, the first to claim the day sends it."""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient

from bot.report import owners_report
from bot.report.digest import owner_digests
from bot.report.model import Report
from bot.report.tables import summary
from bot.settings import Settings
from bot.slack import blocks
from bot.slack.blocks import Message
from bot.slack.relay import Relay

log = logging.getLogger(__name__)


class DigestConfigError(ValueError):
    """`digest_cron` is not a crontab expression."""


def post_digest(client: WebClient, report: Report, settings: Settings) -> int:
    """Send the digest for `report`; how many messages went out."""
    owners = report.owners_in_slack
    since, until = report.since.date(), report.until.date()
    sent = 0
    for digest in owner_digests(report, owners):
        channel = client.conversations_open(users=digest.slack_id)["channel"]["id"]
        _post(client, channel, blocks.digest_message(digest, since, until))
        sent += 1
    if settings.digest_channel:
        mentions = {owner: slack_id for owner, (slack_id, _) in owners.items()}
        gaps = blocks.gaps_message(report.gaps, settings.digest_days, "en", mentions)
        title = blocks.text("en", "summary_title", since=since, until=until)
        lines = [f"*{title}*", *(f"• {line}" for line in summary(report))]
        _post(client, settings.digest_channel, Message(title, blocks.sections(lines) + gaps.blocks))
        sent += 1
    return sent


def _post(client: WebClient, channel: str, message: Message) -> None:
    client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks)


def send_scheduled(relay: Relay, client: WebClient, *, today: dt.date | None = None) -> int:
    """The scheduled run: the first replica to claim today's digest sends it, the others nothing."""
    settings, records = relay.settings, relay.records
    if not records.first_delivery(f"digest-{today or dt.date.today()}"):
        return 0
    report = owners_report(settings, records, relay.engine.index, days=settings.digest_days)
    return post_digest(client, report, settings)


def digest_trigger(cron: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(cron)
    except ValueError as error:
        raise DigestConfigError(f"digest_cron {cron!r} is not a crontab expression: {error}") from error
