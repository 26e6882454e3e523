"""Hostile or broken Genesys answers: bounded text, honest outcomes, overall deadlines, one shared budget.

The simulator misbehaves on purpose (a 20 MB error message, invalid JSON behind a 200 or a 202,
a body dripped a byte at a time); the assertions read what Slack showed, what the bot logged and
what Genesys received.
"""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.kit.bots import BotProcess
from tests.kit.env import bot_env
from tests.kit.net import free_port
from tests.kit.slack_client import SlackClientSide

REPLACE = r"/participants/[^/]+/replace/queue$"
CALL_READ = r"/conversations/calls/"
DEADLINE = 4.0  # GENESYS_REQUEST_DEADLINE in tests/kit/env.py
CALL_STATES = ("already ended", "waiting in a queue", "still in the IVR", "still ringing", "conference",
               "found nothing")


@pytest.fixture
def bot(client):
    client.bot.runtime.genesys.wait_ready(90)
    return client


def posts(sim) -> list:
    return sim.requests_matching("POST", REPLACE)


def answer(slack, key: str, timeout: float = 30.0) -> str:
    return slack.wait_responses(key, timeout=timeout)[0]["text"]


def final(slack, key: str) -> str | None:
    """The requester's last word once it is final (a direct result is edited in place until confirmed)."""
    texts = [r.get("text", "") for r in slack.responses(key)]
    return texts[-1] if texts and "waiting for Genesys to confirm" not in texts[-1] else None


def longest_run(text: str, word: str) -> int:
    runs = re.findall(f"(?:{re.escape(word)} ?)+", text)
    return max((len(r) for r in runs), default=0)


# ---- bounded text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "status"), [("POST", REPLACE, 400), ("GET", CALL_READ, 400)])
def test_a_20_mb_error_message_is_cut_to_500_characters_in_slack_and_in_the_log(
        sim, slack, bot, caplog, method, path, status):
    caplog.set_level(logging.INFO)
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    sim.inject(method, path, status=status, message="HUGE", message_size=20 << 20, times=None)

    _, key = bot.command(f"{call.id} Billing")

    text = answer(slack, key)
    assert "HUGE" in text
    assert longest_run(text, "HUGE") <= 500
    assert len(text) < 3000
    logged = [r.getMessage() for r in caplog.records] + [r.exc_text or "" for r in caplog.records]
    if method == "POST":
        assert any("HUGE" in line for line in logged)  # the failed transfer is logged with what Genesys said
    assert max(longest_run(line, "HUGE") for line in logged) <= 500
    assert max(len(line) for line in logged) < 5000
    assert len(posts(sim)) == (1 if method == "POST" else 0)


# ---- unreadable answers ----------------------------------------------------------------------------


def test_invalid_json_in_a_200_is_reported_as_unreadable_with_its_correlation_id_never_as_a_call_state(
        sim, slack, bot):
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    sim.inject_invalid_json("GET", CALL_READ, times=None)

    _, key = bot.command(f"{call.id} Billing")

    text = answer(slack, key)
    assert "Genesys sent an answer I can't read" in text
    unreadable = [r for r in sim.requests_matching("GET", CALL_READ) if r.status == 200]
    assert unreadable and any(r.correlation_id in text for r in unreadable)
    assert not [state for state in CALL_STATES if state in text]
    assert posts(sim) == []


def test_invalid_json_behind_the_transfers_202_is_never_reported_as_not_transferred(sim, slack, bot):
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    sim.inject("POST", REPLACE, status=202, body=b'{"id": "cut sh', execute_before_fault=True, times=1)

    _, key = bot.command(f"{call.id} Billing")

    # Genesys said 2xx: the bot asks Genesys how it went instead of guessing from the unreadable body.
    slack.wait_for(lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")], timeout=30)
    said = " ".join(r.get("text", "") for r in slack.responses(key))
    assert "Not transferred" not in said
    assert len(posts(sim)) == 1 and [t.queue_id for t in sim.transfers] == [queue.id]


# ---- overall deadlines -----------------------------------------------------------------------------


def test_a_dripped_transfer_answer_ends_as_a_timeout_within_the_deadline_and_is_never_resent(sim, slack, bot):
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    # Headers at once, then one byte a second: every socket read succeeds, the whole answer never comes.
    sim.inject("POST", REPLACE, status=503, body=b'{"message": "' + b"." * 120 + b'"}', drip=1.0,
               execute_before_fault=True, times=1)

    _, key = bot.command(f"{call.id} Billing")

    post = slack.wait_for(lambda: posts(sim), timeout=30)[0]
    text = answer(slack, key, timeout=30)
    told = time.monotonic()
    assert "may or may not have happened" in text and "did not resend" in text.lower().replace("*", "")
    assert told - post.at < DEADLINE + 5
    time.sleep(1.0)
    assert len(posts(sim)) == 1


def test_a_dripped_call_read_ends_as_a_timeout_within_the_deadline(sim, slack, bot):
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    sim.inject_drip("GET", CALL_READ, interval=1.0, times=None)

    _, key = bot.command(f"{call.id} Billing")

    first = slack.wait_for(lambda: sim.requests_matching("GET", CALL_READ), timeout=30)[0]
    text = answer(slack, key, timeout=60)
    told = time.monotonic()
    assert "did not answer in time" in text
    reads = sim.requests_matching("GET", CALL_READ)
    assert told - reads[-1].at < DEADLINE + 5  # the last attempt ended within its deadline
    assert told - first.at < len(reads) * (DEADLINE + 5)
    assert posts(sim) == []


# ---- one budget for one OAuth client ---------------------------------------------------------------


@pytest.mark.postgres
def test_two_replicas_on_one_oauth_client_share_one_budget_no_429_and_nobody_refused(
        sim, slack, isolated_postgres_url, tmp_path):
    sim.set_rate_limit(300, 10)  # what Genesys allows one OAuth client
    sim.add_queue("Billing")
    # 60 commands are ~160 Genesys requests: half a minute at the limit, where two replicas pacing
    # alone (600/min between them) would draw 429s within seconds.
    calls = [sim.add_call(scenario="connected", queue=sim.add_queue(f"Sales{i}")) for i in range(60)]
    env = bot_env(slack, sim, isolated_postgres_url, GENESYS_READ_TIMEOUT="10", GENESYS_REQUEST_DEADLINE="15",
                  LOG_LEVEL="INFO")
    bots = [BotProcess(env, port=free_port(), log_path=tmp_path / f"replica{i}.log") for i in range(2)]
    try:
        for replica in bots:
            replica.wait_ready(timeout=120)
        clients = [SlackClientSide(slack, "127.0.0.1", replica.port) for replica in bots]
        sim.reset_requests()

        def ask(i: int):
            return clients[i % 2].command(f"{calls[i].id} Billing", user=f"U0AG{i:05d}")[1]

        with ThreadPoolExecutor(max_workers=30) as pool:
            keys = list(pool.map(ask, range(len(calls))))
        said = slack.wait_for(lambda: [final(slack, k) for k in keys] if all(final(slack, k) for k in keys) else None,
                              timeout=180)
    finally:
        for replica in bots:
            replica.stop()
    assert sim.count_429 == 0
    assert [t for t in said if "Transferred" not in t] == []
    assert len(sim.transfers) == len(calls)
