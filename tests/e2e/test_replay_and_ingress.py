"""What reaches /slack/events before Bolt: replays do nothing, unsigned traffic never reaches the parser or the log.

Replays: a signed request is valid for Slack's five minutes; the same bytes sent again (to this
replica or another one sharing the database) are acknowledged and dropped.
Ingress: a real bot process, its own log file, hostile unsigned bodies.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from bot.playground.slack_api import FakeSlack
from bot.simulator import GenesysSimulator
from bot.store.tables import transfer_requests
from tests.kit.bots import BotProcess, InProcessBot
from tests.kit.env import bot_env
from tests.kit.net import free_port
from tests.kit.slack_client import SlackClientSide

# Genesys requests a command would make (conversations, users, a transfer); the queue directory's own
# background refresh (queue list, health) may run at any time and is not one of them.
LOOKUPS = r"^/api/v2/(?!routing/queues|analytics/queues)"

REPLACE = r"/participants/[^/]+/replace/queue$"


def posts(sim) -> list:
    return sim.requests_matching("POST", REPLACE)


def stays(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    """True if `condition` holds throughout `seconds` (for "nothing else happens")."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not condition():
            return False
        time.sleep(0.05)
    return condition()


def transferred(slack, key: str) -> list[dict]:
    return [r for r in slack.responses(key) if "Transferred" in r.get("text", "")]


# ---- replays ------------------------------------------------------------------------------------


def replay_after_the_agent_changed(sim, slack, first: SlackClientSide, second: SlackClientSide) -> None:
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Ann")
    body, key = first.command_body(f"{call.id} Billing")
    ts = int(time.time())

    original = first.post(body, timestamp=ts)
    assert original.status == 200 and "Working on it" in original.body
    slack.wait_for(lambda: transferred(slack, key), timeout=30)
    sim.change_agent(call.id, agent_name="Bob")  # the customer is now with someone else
    reads = len(sim.requests_matching("GET", r"/conversations/calls/"))
    answers = len(slack.responses(key))

    replay = second.post(body, timestamp=ts)  # the same signed bytes, well inside Slack's 5 minutes

    assert replay.status == 200 and replay.body == ""
    assert stays(lambda: len(posts(sim)) == 1 and len(slack.responses(key)) == answers, seconds=3)
    assert len(sim.requests_matching("GET", r"/conversations/calls/")) == reads  # not even looked at
    assert [t.queue_id for t in sim.transfers] == [queue.id]


def test_a_replayed_slash_command_after_the_agent_changed_sends_no_second_post(sim, slack, client):
    client.bot.runtime.genesys.wait_ready(90)
    replay_after_the_agent_changed(sim, slack, client, client)


def test_replayed_commands_that_store_nothing_still_do_nothing(sim, slack, client):
    """Their replay key isn't written with a request, so it is checked before the form opens or, for
    an answer that is only the ack, before the answer leaves; the replay gets an empty 200."""
    form, _ = client.command_body("", trigger_id=slack.issue_trigger("U0AGENT01"))
    usage, usage_key = client.command_body("help")
    ts = int(time.time())
    assert client.post(form, timestamp=ts).status == 200
    slack.wait_api("views.open", 1)
    first_usage = client.post(usage, timestamp=ts)
    assert "/transfer <conversation-id> <queue name>" in first_usage.body

    replays = [client.post(form, timestamp=ts), client.post(usage, timestamp=ts)]

    assert [(r.status, r.body) for r in replays] == [(200, ""), (200, "")]
    assert stays(lambda: len(slack.api_calls("views.open")) == 1 and slack.responses(usage_key) == [], seconds=1.5)


def test_a_replayed_transfer_sent_at_once_stores_nothing(sim, slack, client):
    """Before its first request finished: the replay meets the key written with that request."""
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"), agent_name="Ann")
    sim.add_queue("Billing")
    body, _ = client.command_body(f"{call.id} Billing")
    ts = int(time.time())

    assert "Working on it" in client.post(body, timestamp=ts).body
    assert client.post(body, timestamp=ts).body == ""
    db = client.bot.runtime.store.db
    assert db.run(lambda conn: conn.execute(select(func.count()).select_from(transfer_requests)).scalar_one()) == 1


@pytest.mark.postgres
def test_a_replay_sent_to_a_second_replica_sharing_postgresql_is_caught_too(sim, slack, isolated_postgres_url):
    bots = [InProcessBot(bot_env(slack, sim, isolated_postgres_url)) for _ in range(2)]
    try:
        for bot in bots:
            bot.runtime.genesys.wait_ready(90)
        first, second = (SlackClientSide(slack, "127.0.0.1", bot.port) for bot in bots)
        replay_after_the_agent_changed(sim, slack, first, second)
    finally:
        for bot in bots:
            bot.stop()


# ---- hostile unsigned traffic, against a real process and its log ---------------------------------


@pytest.fixture(scope="module")
def ingress(tmp_path_factory) -> Iterator[tuple[BotProcess, GenesysSimulator, FakeSlack]]:
    sim = GenesysSimulator().start()
    slack = FakeSlack().start()
    folder = tmp_path_factory.mktemp("ingress")
    bot = BotProcess(bot_env(slack, sim, f"sqlite:///{folder / 'bot.db'}", LOG_LEVEL="DEBUG"), port=free_port(),
                     log_path=folder / "bot.log")
    try:
        bot.wait_healthy(timeout=60)
        yield bot, sim, slack
    finally:
        bot.stop()
        slack.stop()
        sim.stop()


def raw_post(port: int, body: bytes, headers: dict[str, str], *, chunked: bool = False) -> tuple[int, bytes]:
    """POST /slack/events over a plain socket (so a server that answers early can't hide the answer)."""
    lines = ["POST /slack/events HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        try:
            step = 1 << 20
            for i in range(0, len(body), step):
                part = body[i:i + step]
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed before taking it all: read what it said
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer


def unsigned(extra: dict[str, str] | None = None, **headers: str) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64, **(extra or {}), **headers}


MALFORMED = {
    "binary": (b"\xff\xfe\x00\x81garbage\x00", unsigned()),
    "payload_not_json": (b"payload=%7Bnot-json", unsigned()),
    "deeply_nested_json": (b'{"a":' * 150_000 + b"1" + b"}" * 150_000, unsigned({"Content-Type": "application/json"})),
    "deeply_nested_payload": (b"payload=" + b"%5B" * 150_000, unsigned()),
    "json_not_an_object": (b"[1, 2, 3]", unsigned({"Content-Type": "application/json"})),
    "wrong_types": (b'{"team": {"id": ["T1"]}, "user": {"id": {"x": 1}}, "api_app_id": [1]}',
                    unsigned({"Content-Type": "application/json"})),
    "no_signature_headers": (b"team_id=T0TEST&user_id=U0AGENT01",
                             {"Content-Type": "application/x-www-form-urlencoded"}),
    "timestamp_not_a_number": (b"team_id=T0TEST", unsigned({"X-Slack-Request-Timestamp": "yesterday"})),
    "timestamp_huge": (b"team_id=T0TEST", unsigned({"X-Slack-Request-Timestamp": "9" * 5000})),
    "signature_not_ascii": (b"team_id=T0TEST", unsigned({"X-Slack-Signature": "v0=\u00e9" + "0" * 63})),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_bodies_with_bad_signatures_get_401_and_no_traceback(ingress, name):
    bot, sim, _ = ingress
    body, headers = MALFORMED[name]
    before = len(bot.log())

    status, _ = raw_post(bot.port, body, headers)

    assert status == 401
    logged = bot.log()[before:]
    assert "Traceback" not in logged and "Exception" not in logged
    assert "signature check failed" in logged
    assert sim.requests_matching(None, LOOKUPS) == []


def test_a_20_mb_unsigned_body_gets_413_and_no_huge_log_line(ingress):
    bot, sim, _ = ingress
    before = len(bot.log())
    filler = b"text=" + b"A" * (20 << 20)

    for body, chunked in ((filler, False), (filler, True), (filler[: (1 << 20) + 4096], False)):
        status, answer = raw_post(bot.port, body, unsigned(), chunked=chunked)
        assert status == 413, answer[:200]

    logged = bot.log()[before:]
    assert max((len(line) for line in logged.splitlines()), default=0) < 2000
    assert "AAAAAAAAAAAAAAAAAAAA" not in logged
    assert sim.requests_matching(None, LOOKUPS) == []


def test_a_newline_in_an_unsigned_body_cannot_forge_a_log_line(ingress):
    bot, _, _ = ingress
    forged = "2026-01-01 00:00:00,000 ERROR bot.service.transfers: transfer FORGED of everything failed"
    before = len(bot.log())
    for body in (
        f"team_id=T0TEST%0A{forged}&user_id=U0X%0A{forged}",
        f"payload=%7B%22team%22%3A%7B%22id%22%3A%22T0%5Cn{forged}%22%7D%2C%22user%22%3A%7B%22id%22%3A%22U%5Cn%22%7D%7D",
    ):
        status, _ = raw_post(bot.port, body.replace(" ", "+").encode(), unsigned())
        assert status == 401
    raw_post(bot.port, f"{{\"team_id\": \"T0\\n{forged}\"}}".encode(), unsigned({"Content-Type": "application/json"}))

    logged = bot.log()[before:]
    assert "FORGED" not in logged
    assert not [line for line in logged.splitlines() if re.search(r"ERROR bot\.service\.transfers", line)]
    assert logged.count("signature check failed") == 3
