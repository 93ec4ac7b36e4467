"""The weekly digest against the fake Web API: a DM per owner with `owner_slack` holding their own
gaps, votes and stale documents, a summary in the digest channel that mentions them, and one
sending per day however many replicas are scheduled."""

from __future__ import annotations

import datetime as dt

from fake_slack import FakeSlack
from slack_payloads import as_blocks, blocks_text
from slack_sdk import WebClient

from bot.kb.schema import DocumentMeta
from bot.records import Records
from bot.report.build import OwnedDocuments
from bot.report.digest import owner_digests, owners_in_slack
from bot.report.model import Report
from bot.settings import Settings
from bot.slack.digest import post_digest, send_scheduled
from bot.slack.relay import Relay

CONTENT_CHANNEL = "C0CONTENT1"


def client_of(slack: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test-token", base_url=slack.api_url)


def test_each_owner_gets_their_own_items_and_the_channel_a_summary_naming_them(
    report: Report, owned: OwnedDocuments, slack_settings: Settings, slack: FakeSlack
) -> None:
    settings = slack_settings.model_copy(update={"digest_channel": CONTENT_CHANNEL})
    owners = owners_in_slack(meta for meta, _ in owned.metas.values())
    assert report.owners_in_slack == owners  # the report carries whom the digest reaches
    digests = owner_digests(report, owners)
    assert digests and all(d.gaps or d.votes or d.stale for d in digests)

    sent = post_digest(client_of(slack), report, settings)

    assert sent == len(digests) + 1
    opened = [call.params["users"] for call in slack.received("conversations.open")]
    assert opened == [d.slack_id for d in digests]
    for digest in digests:
        [dm] = slack.received("chat.postMessage", lambda c, d=digest: c.params["channel"] == f"D{d.slack_id}")
        shown = blocks_text(as_blocks(dm.params))
        for group in digest.gaps[:10]:
            assert group.examples[0][:20] in shown
        assert shown.count("×") == len(digest.gaps[:10])  # their gap groups, no one else's
    [summary] = slack.received("chat.postMessage", lambda c: c.params["channel"] == CONTENT_CHANNEL)
    assert f"<@{owners[report.gaps[0].owner][0]}>" in blocks_text(as_blocks(summary.params))


def test_a_digest_is_in_the_owners_language(owned: OwnedDocuments) -> None:
    owners = owners_in_slack(meta for meta, _ in owned.metas.values())
    langs = {}
    for meta, _ in owned.metas.values():
        langs.setdefault(meta.owner, []).append(meta.lang)
    assert owners and all(lang == max(set(langs[o]), key=langs[o].count) for o, (_, lang) in owners.items())


def test_an_owner_without_a_slack_id_gets_no_dm() -> None:
    base = {"kind": "playbook", "title": "T", "lang": "en", "verified": "2020-01-01", "segment": "x"}
    metas = [
        DocumentMeta.model_validate({**base, "id": "pb-a", "owner": "Ann", "owner_slack": "U0ANN"}),
        DocumentMeta.model_validate({**base, "id": "pb-b", "owner": "Bob"}),
    ]
    assert owners_in_slack(metas) == {"Ann": ("U0ANN", "en")}


def test_replicas_on_the_same_schedule_send_one_digest_a_day(relay: Relay, slack: FakeSlack, records: Records) -> None:
    today = dt.date(2026, 12, 7)
    first = send_scheduled(relay, client_of(slack), today=today)
    again = send_scheduled(relay, client_of(slack), today=today)
    assert first > 0 and again == 0  # the sample has stale documents whose owners are in Slack
    assert len(slack.received("chat.postMessage")) == first
    assert send_scheduled(relay, client_of(slack), today=today + dt.timedelta(days=7)) == first
