"""Crashes and outages around the transfer POST never leave a requester with the wrong answer, or none.

Real bot processes (python app.py --http) killed with SIGKILL or stopped with SIGTERM, on SQLite
and PostgreSQL; the next start (a new process) finishes or settles what the dead one left by
asking Genesys, never by sending the POST again.
"""

from __future__ import annotations

import dataclasses
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.domain.request import RequestState
from bot.store import open_store
from tests.kit.bots import BotProcess, InProcessBot
from tests.kit.env import bot_env
from tests.kit.net import free_port
from tests.kit.proxy import TcpProxy
from tests.kit.slack_client import SlackClientSide

REPLACE = r"/participants/[^/]+/replace/queue$"
CALL_READ = r"/conversations/calls/"
REQUESTER = "U0AGENT01"
CHANNEL = "C0FLOOR01"
S = RequestState


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return request.getfixturevalue("isolated_postgres_url")




def start_process(processes, tmp_path, slack, sim, url: str, name: str, **env: str) -> BotProcess:
    bot = BotProcess(bot_env(slack, sim, url, LOG_LEVEL="INFO", **env), port=free_port(),
                     log_path=tmp_path / f"{name}.log")
    processes.append(bot)
    bot.wait_ready(timeout=120)  # the Genesys SDK import is slow on a loaded machine
    return bot


def channel_hook(slack, user: str = REQUESTER, channel: str = CHANNEL) -> str:
    """A response_url whose in_channel posts land in `channel` (as Slack's do); returns its key."""
    return slack.open_response_url(channel=channel, user=user, command_text="/transfer").rsplit("/", 1)[1]


def texts(slack, key: str) -> list[str]:
    return [r.get("text", "") for r in slack.responses(key)]


def posts(sim) -> list:
    return sim.requests_matching("POST", REPLACE)


def stored(url: str, requester: str = REQUESTER) -> list:
    store = open_store(url)
    try:
        return store.for_requester(requester)
    finally:
        store.close()


def test_killed_right_after_the_ack_the_next_start_finishes_it_and_tells_the_requester(
        sim, slack, tmp_path, processes, database_url):
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    first = start_process(processes, tmp_path, slack, sim, database_url, "first")
    sim.inject("GET", CALL_READ, status=None, delay=20, times=1)  # the call read is slow

    reply, key = SlackClientSide(slack, "127.0.0.1", first.port).command(f"{call.id} Billing")
    assert reply.status == 200 and "Working on it" in reply.body
    slack.wait_for(lambda: sim.requests_matching("GET", CALL_READ), timeout=20)
    first.kill()

    left = stored(database_url)
    assert [(r.state, r.conversation_id) for r in left] == [(S.RECEIVED, call.id)]  # durable before the ack
    assert texts(slack, key) == []  # "Working on it" was all the requester saw

    start_process(processes, tmp_path, slack, sim, database_url, "second")
    answer = slack.wait_for(lambda: [t for t in texts(slack, key) if "Transferred" in t], timeout=45)
    assert "Billing" in answer[0]
    assert [p.json for p in posts(sim)] == [{"queueId": queue.id}]
    assert [t.queue_id for t in sim.transfers] == [queue.id]
    assert [r.state for r in stored(database_url)] == [S.SUCCEEDED]


def test_killed_while_the_post_is_in_flight_is_settled_from_genesys_and_reported_to_requester_and_channel(
        sim, slack, tmp_path, processes, database_url):
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Ann")
    first = start_process(processes, tmp_path, slack, sim, database_url, "first")
    sim.inject("POST", REPLACE, status=None, delay=3, times=1)  # Genesys is slow to answer the POST
    key = channel_hook(slack)

    SlackClientSide(slack, "127.0.0.1", first.port).command(f"{call.id} Billing", key=key)
    slack.wait_for(lambda: posts(sim), timeout=30)
    first.kill()
    slack.wait_for(lambda: sim.transfers, timeout=10)  # Genesys carries it out anyway
    assert [r.state for r in stored(database_url)] == [S.EXECUTING]
    assert texts(slack, key) == []

    second = start_process(processes, tmp_path, slack, sim, database_url, "second")
    # The lease is 15 s: recovery starts well within 30 s of the restart.
    slack.wait_for(lambda: [t for t in texts(slack, key) if "Transferred" in t], timeout=30)

    timeline = slack.timeline(CHANNEL, "U0SOMEONE")  # what everyone in the channel sees
    results = [m for m, _ in timeline if m.bot_id and "Transferred" in m.text]
    assert len(results) == 1
    assert f"<@{REQUESTER}>" in results[0].text and "Billing" in results[0].text
    assert not [t for t in texts(slack, key) if "Not transferred" in t]
    assert len(posts(sim)) == 1  # never resent
    assert [t.queue_id for t in sim.transfers] == [queue.id]
    [request] = stored(database_url)
    assert request.state is S.SUCCEEDED
    assert "recovering request" in second.log()


def test_killed_while_an_approved_post_is_in_flight_the_approval_message_and_the_requester_are_told(
        sim, slack, tmp_path, processes, database_url):
    url = database_url
    approvals = {"TRANSFER_APPROVERS": "U0SUP0001", "TRANSFER_APPROVAL_CHANNEL": "C0APPROVE"}
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Ann")
    first = start_process(processes, tmp_path, slack, sim, url, "first", **approvals)
    client = SlackClientSide(slack, "127.0.0.1", first.port)
    client.command(f"{call.id} Billing")
    [approval] = slack.wait_for(lambda: slack.api_calls("chat.postMessage"), timeout=30)
    request_id = approval["blocks"][2]["elements"][0]["value"]
    [(message, _)] = slack.timeline("C0APPROVE", "U0SUP0001")
    sim.inject("POST", REPLACE, status=None, delay=3, times=1)

    client.click("transfer_approve", request_id, user="U0SUP0001", channel="C0APPROVE", message_ts=message.ts)
    slack.wait_for(lambda: posts(sim), timeout=30)
    first.kill()
    slack.wait_for(lambda: sim.transfers, timeout=10)

    start_process(processes, tmp_path, slack, sim, url, "second", **approvals)
    replies = slack.wait_for(lambda: slack.timeline("C0APPROVE", "U0SUP0001")[0][1], timeout=30)
    assert len(replies) == 1 and f"<@{REQUESTER}>" in replies[0].text and "Transferred" in replies[0].text
    final = slack.wait_for(lambda: (m := slack.find_message("C0APPROVE", message.ts)) and "Transferred" in
                           str(m.blocks) and m, timeout=10)
    assert not [b for b in final.blocks if b.get("type") == "actions"]
    assert len(posts(sim)) == 1 and [t.queue_id for t in sim.transfers] == [queue.id]


def test_sigterm_with_sixty_transfers_in_flight_never_reports_not_transferred_for_a_done_transfer(
        sim, slack, tmp_path, processes):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    sim.set_rate_limit(None, 10)
    sim.add_queue("Billing")
    calls = [sim.add_call(scenario="connected", queue=sim.add_queue(f"Sales{i}")) for i in range(60)]
    tuning = {"TRANSFER_WORKERS": "8", "SHUTDOWN_GRACE_SECONDS": "6", "GENESYS_RATE_LIMIT_PER_MINUTE": "20000",
              "GENESYS_RATE_BURST": "200", "GENESYS_READ_TIMEOUT": "10", "GENESYS_REQUEST_DEADLINE": "15"}
    first = start_process(processes, tmp_path, slack, sim, url, "first", **tuning)
    client = SlackClientSide(slack, "127.0.0.1", first.port)
    sim.set_latency(2.0)

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda c: client.command(f"{c.id} Billing", user=f"U0AG{c.id[:6].upper()}"), calls))
    assert all(reply.status == 200 for reply, _ in replies)
    slack.wait_for(lambda: len(posts(sim)) >= 6, timeout=60)
    first.terminate(timeout=30)
    sim.set_latency(0.0)

    start_process(processes, tmp_path, slack, sim, url, "second", **tuning)
    keys = {call.id: key for call, (_, key) in zip(calls, replies, strict=True)}
    final = re.compile(r"Transferred|Not transferred|may or may not")
    slack.wait_for(lambda: all(any(final.search(t) for t in texts(slack, k)) for k in keys.values()), timeout=120)

    done = {t.conversation_id for t in sim.transfers}
    assert done, "some transfers were executed before or after the restart"
    for call_id, key in keys.items():
        said = texts(slack, key)
        if call_id in done:  # "Transferred", or at worst "may or may not" (a POST past its deadline)
            assert not [t for t in said if "Not transferred" in t or "unexpected" in t], (call_id, said)
        else:
            assert not [t for t in said if "Transferred" in t], (call_id, said)
    per_call = [p.path.split("/")[4] for p in posts(sim) if p.status != 429]
    assert len(per_call) == len(set(per_call))  # no call got a second POST


def test_postgres_refusing_connections_right_after_the_post_never_turns_a_202_into_not_transferred(
        sim, slack, isolated_postgres_url):
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(isolated_postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    via_proxy = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    bot = InProcessBot(bot_env(slack, sim, via_proxy))
    try:
        bot.runtime.genesys.wait_ready(90)
        client = SlackClientSide(slack, "127.0.0.1", bot.port)
        sim.inject("POST", REPLACE, status=None, delay=1.0, times=1)

        _, key = client.command(f"{call.id} Billing")
        slack.wait_for(lambda: posts(sim), timeout=20)
        proxy.stop()  # the database goes away while Genesys is answering 202
        slack.wait_for(lambda: posts(sim)[0].status == 202, timeout=10)
        time.sleep(10)  # refusing connections for 10 s
        assert not [t for t in texts(slack, key) if "Not transferred" in t or "unexpected" in t]
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432, port=proxy.port).start()

        answer = slack.wait_for(lambda: [t for t in texts(slack, key) if "Transferred" in t], timeout=40)
        assert "Billing" in answer[-1]
        assert not [t for t in texts(slack, key) if "Not transferred" in t or "unexpected" in t]
        assert len(posts(sim)) == 1 and [t.queue_id for t in sim.transfers] == [queue.id]
        assert bot.service.ctx.store.for_requester(REQUESTER)[0].state is S.SUCCEEDED
    finally:
        proxy.stop()
        bot.stop()


def test_database_outage_outlasting_the_store_retries_after_a_202_is_settled_once_it_returns(
        sim, slack, isolated_postgres_url):
    """The work gives up on the database, but the live process must not keep the request leased forever."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(isolated_postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    via_proxy = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    bot = InProcessBot(bot_env(slack, sim, via_proxy))
    ctx = bot.service.ctx
    ctx.config = dataclasses.replace(ctx.config, store_retry_seconds=1.0)  # gives up well inside the 15 s lease
    try:
        bot.runtime.genesys.wait_ready(90)
        client = SlackClientSide(slack, "127.0.0.1", bot.port)
        sim.inject("POST", REPLACE, status=None, delay=1.0, times=1)

        _, key = client.command(f"{call.id} Billing")
        slack.wait_for(lambda: posts(sim), timeout=20)
        proxy.stop()
        slack.wait_for(lambda: posts(sim)[0].status == 202, timeout=10)
        time.sleep(5)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432, port=proxy.port).start()

        answer = slack.wait_for(lambda: [t for t in texts(slack, key) if "Transferred" in t], timeout=40)
        assert "Billing" in answer[-1]
        assert not [t for t in texts(slack, key) if "Not transferred" in t or "unexpected" in t]
        assert len(posts(sim)) == 1 and [t.queue_id for t in sim.transfers] == [queue.id]
    finally:
        proxy.stop()
        bot.stop()
