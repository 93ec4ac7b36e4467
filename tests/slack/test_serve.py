"""`python -m bot run` / `serve` in a subprocess: the mode is picked from the credentials,
HTTP mode serves signed requests, Socket Mode opens its connection through the configured
Web API, and missing or refused credentials are one line, never a traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_slack import FakeSlack
from slack_payloads import (
    JSON,
    OPEN_CHANNEL,
    SIGNING_SECRET,
    as_blocks,
    checklist_items,
    event_body,
    mention_event,
    post,
)

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bot_env(**slack: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALUERELAY_", "SLACK_"))}
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", **slack)
    return env


def run_bot(cwd: Path, env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    # cwd: a folder without a .env, so only the environment given here counts.
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=240
    )


@pytest.fixture
def index_dir(sample_data_dir: Path) -> Path:
    return sample_data_dir


def test_run_without_slack_credentials_says_so_and_opens_the_chat(tmp_path: Path, index_dir: Path) -> None:
    result = run_bot(tmp_path, bot_env(), "run", "--data-dir", str(index_dir), stdin="/quit\n")
    assert result.returncode == 0, result.stderr
    notice = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(notice) == 1 and "Slack is not configured" in notice[0]
    assert "/quit" in result.stdout  # the chat's greeting
    assert "Traceback" not in result.stderr


def test_http_mode_without_a_signing_secret_is_a_one_line_error(
    tmp_path: Path, index_dir: Path, slack: FakeSlack
) -> None:
    env = bot_env(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_API_URL=slack.api_url)
    result = run_bot(tmp_path, env, "serve", "--http", "--data-dir", str(index_dir))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: cannot start the Slack app: SLACK_SIGNING_SECRET")
    assert "Traceback" not in result.stderr


def test_a_missing_token_is_named_before_the_index_or_the_models_load(tmp_path: Path) -> None:
    # No index in the data dir: had anything loaded first, the error would be about the index.
    result = run_bot(tmp_path, bot_env(), "serve", "--data-dir", str(tmp_path / "no-index"))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: cannot start the Slack app: SLACK_BOT_TOKEN is not set (see config/.env.example)"
    )


def test_an_unreachable_slack_api_is_a_one_line_error(tmp_path: Path, index_dir: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/"
    env = bot_env(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=closed)
    result = run_bot(tmp_path, env, "serve", "--http", "--data-dir", str(index_dir))
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot reach the Slack API at {closed}: ") and "Traceback" not in result.stderr


def test_run_with_an_app_token_in_dotenv_uses_socket_mode(tmp_path: Path, index_dir: Path, slack: FakeSlack) -> None:
    slack.queue("apps.connections.open", 200, {"ok": False, "error": "invalid_auth"})
    # Credentials from a .env file in the working directory, as `make run` reads them.
    (tmp_path / ".env").write_text(
        f"SLACK_BOT_TOKEN=xoxb-test-token\nSLACK_APP_TOKEN=xapp-1-test\nSLACK_API_URL={slack.api_url}\n",
        encoding="utf-8",
    )
    result = run_bot(tmp_path, bot_env(), "run", "--data-dir", str(index_dir))
    [opened] = slack.received("apps.connections.open")
    assert opened.headers.get("Authorization") == "Bearer xapp-1-test"
    assert result.returncode == 2
    assert "invalid_auth" in result.stderr.strip().splitlines()[-1] and "Traceback" not in result.stderr


@pytest.fixture
def http_bot(tmp_path: Path, index_dir: Path, slack: FakeSlack) -> Iterator[str]:
    """`python -m bot run` with a bot token and signing secret: HTTP mode on the configured port."""
    port = free_port()
    env = bot_env(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        VALUERELAY_SLACK_PORT=str(port),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--data-dir", str(index_dir)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    try:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        assert "Traceback" not in output, output


def test_run_with_a_token_and_signing_secret_serves_http(http_bot: str, slack: FakeSlack) -> None:
    status, text = post(http_bot, json.dumps({"type": "url_verification", "challenge": "c-789", "token": "t"}), JSON)
    assert status == 200 and "c-789" in text
    question = "Give me the acceptance checklist"
    assert (
        post(http_bot, event_body(mention_event(question, OPEN_CHANNEL, "1713000000.000100"), "EvServe1"), JSON)[0]
        == 200
    )
    [answer] = slack.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == OPEN_CHANNEL, timeout=120)
    assert answer.params["thread_ts"] == "1713000000.000100"
    assert checklist_items(as_blocks(answer.params))


def test_a_bad_digest_schedule_is_named_before_anything_loads(tmp_path: Path) -> None:
    env = bot_env(
        SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SIGNING_SECRET, VALUERELAY_DIGEST_CRON="every monday"
    )
    result = run_bot(tmp_path, env, "serve", "--http", "--data-dir", str(tmp_path / "no-index"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(
        "error: cannot start the Slack app: digest_cron 'every monday' is not a crontab expression"
    )
