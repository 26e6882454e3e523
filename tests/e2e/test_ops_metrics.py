"""Operating the bot (issue 11): /metrics names and labels, /readyz reasons, the Socket Mode ops server.

Metrics are read the way Prometheus reads them: GET /metrics of a real bot process (its own
registry, so every value is absolute), parsed with prometheus_client's own text parser.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.playground.slack_api import BOT_TOKEN
from bot.playground.waiting import wait_on
from tests.e2e.test_socket_mode import APP_TOKEN, SocketBotProcess
from tests.fakes.socket_mode import FakeSocketMode
from tests.kit.bots import BotProcess, InProcessBot
from tests.kit.env import SIGNING_SECRET, bot_env
from tests.kit.net import free_port
from tests.kit.proxy import TcpProxy
from tests.kit.slack_client import SlackClientSide

REPLACE = r"/participants/[^/]+/replace/queue$"
CALL_READ = r"/conversations/calls/"

# The contract: metric family -> its label names (dashboards and alerts rely on these).
CONTRACT = {
    "transferbot_transfers": ("counter", {"kind", "outcome"}),
    "transferbot_slack_ack_seconds": ("histogram", set()),
    "transferbot_genesys_requests": ("counter", {"operation", "status"}),
    "transferbot_genesys_request_seconds": ("histogram", {"operation"}),
    "transferbot_genesys_rate_limit_wait_seconds": ("histogram", set()),
    "transferbot_approvals_pending": ("gauge", set()),
    "transferbot_confirmations_pending": ("gauge", set()),
}
OUTCOMES = {"succeeded", "failed", "uncertain", "denied", "expired", "cancelled", "superseded", "refused"}


class Metrics:
    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def samples(self, family: str) -> list:
        return list(self.families[family].samples)

    def value(self, sample: str, **labels: str) -> float:
        """Sum of the samples called `sample` whose labels include `labels` (0 when none)."""
        family = re.sub(r"_(total|count|sum|bucket|created)$", "", sample)
        found = self.families.get(family)
        return sum(s.value for s in (found.samples if found else [])
                   if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()))

    def label_values(self) -> set[str]:
        return {v for f in self.families.values() if f.name.startswith("transferbot_")
                for s in f.samples for k, v in s.labels.items() if k != "le"}


def scrape(port: int) -> Metrics:
    reply = SlackClientSide(None, "127.0.0.1", port).get("/metrics")  # type: ignore[arg-type]
    assert reply.status == 200, reply.body
    return Metrics(reply.body)


def get_json(port: int, path: str) -> tuple[int, dict]:
    reply = SlackClientSide(None, "127.0.0.1", port).get(path)  # type: ignore[arg-type]
    return reply.status, json.loads(reply.body)


def until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll a bot endpoint (never while holding a fake's lock: the bot may be calling that fake)."""
    return wait_on(threading.Condition(), predicate, timeout, lambda: f"{what}: not within {timeout}s")


def ready(port: int, timeout: float = 60) -> None:
    until(lambda: get_json(port, "/readyz")[0] == 200, timeout, "/readyz 200")


def texts(slack, key: str) -> list[str]:
    return [r.get("text", "") for r in slack.responses(key)]


def answered(slack, key: str, pattern: str, timeout: float = 30) -> str:
    found = slack.wait_for(lambda: [t for t in texts(slack, key) if re.search(pattern, t)], timeout=timeout)
    return found[0]




def start_process(processes, tmp_path, slack, sim, url: str, name: str, **env: str) -> BotProcess:
    bot = BotProcess(bot_env(slack, sim, url, **env), port=free_port(), log_path=tmp_path / f"{name}.log")
    processes.append(bot)
    bot.wait_ready(timeout=120)  # the Genesys SDK import is slow on a loaded machine
    return bot


# -- metrics --------------------------------------------------------------------------------------


def test_metrics_names_and_labels_after_a_success_a_refusal_and_a_genesys_5xx(sim, slack, tmp_path, processes):
    billing = sim.add_queue("Billing")
    sales = sim.add_queue("Sales")
    ok_call, other, ended, flaky, unreachable = (sim.add_call(scenario="connected", queue=sales) for _ in range(5))
    sim.end_call(ended.id)
    bot = start_process(processes, tmp_path, slack, sim, f"sqlite:///{tmp_path / 'bot.db'}", "bot")
    client = SlackClientSide(slack, "127.0.0.1", bot.port)

    _, key = client.command(f"{ok_call.id} Billing", user="U0AGENTOK")
    answered(slack, key, "Transferred")
    _, key = client.command(f"{other.id} Nowhere Queue", user="U0AGENTUQ")
    answered(slack, key, "Not transferred|no queue|isn't a queue|not find")
    _, key = client.command(f"{ended.id} Billing", user="U0AGENTEND")
    answered(slack, key, "Not transferred.*ended")
    # Genesys answers 503 to the first read of this call; the read is retried and the transfer goes on.
    sim.inject("GET", rf"/conversations/calls/{flaky.id}$", status=503, times=1)
    _, key = client.command(f"{flaky.id} Billing", user="U0AGENTFL")
    answered(slack, key, "Transferred", timeout=45)
    # No answer at all to the reads of this call: refused, nothing sent.
    sim.inject("GET", rf"/conversations/calls/{unreachable.id}$", status=None, drop_connection=True, times=None)
    _, key = client.command(f"{unreachable.id} Billing", user="U0AGENTUR")
    answered(slack, key, "Not transferred.*could not be reached", timeout=45)
    assert [p.json for p in sim.requests_matching("POST", REPLACE)] == [{"queueId": billing.id}] * 2

    m = scrape(bot.port)

    for family, (kind, labels) in CONTRACT.items():
        assert family in m.families, f"{family} missing"
        assert m.families[family].type == kind, family
        for sample in m.samples(family):
            assert set(sample.labels) - {"le"} == labels, (family, sample.labels)
    # transfers: one success, two refusals (unknown queue, ended call); kind is the target kind
    assert m.value("transferbot_transfers_total", kind="queue", outcome="succeeded") == 2
    assert m.value("transferbot_transfers_total", kind="queue", outcome="refused") == 3
    assert {s.labels["outcome"] for s in m.samples("transferbot_transfers") if s.name.endswith("_total")} <= OUTCOMES
    assert {s.labels["kind"] for s in m.samples("transferbot_transfers")} == {"queue"}
    # Genesys requests: the HTTP status, or "error" when no answer came
    assert m.value("transferbot_genesys_requests_total", operation="token", status="200") >= 1
    assert m.value("transferbot_genesys_requests_total", operation="get_call", status="503") == 1
    dropped = [r for r in sim.requests_matching("GET", CALL_READ) if r.status is None]
    assert len(dropped) >= 1
    assert m.value("transferbot_genesys_requests_total", operation="get_call", status="error") == len(dropped)
    assert m.value("transferbot_genesys_requests_total", operation="get_call", status="200") >= 4
    assert m.value("transferbot_genesys_requests_total", operation="replace_queue", status="202") == 2
    statuses = {s.labels["status"] for s in m.samples("transferbot_genesys_requests")}
    assert all(re.fullmatch(r"[1-5]\d\d|error", s) for s in statuses), statuses
    calls_seen = sum(1 for r in sim.requests_matching("GET", CALL_READ))
    assert m.value("transferbot_genesys_requests_total", operation="get_call") == calls_seen
    assert m.value("transferbot_genesys_request_seconds_count", operation="replace_queue") >= 1
    assert m.value("transferbot_genesys_request_seconds_count", operation="get_call") == calls_seen
    assert m.value("transferbot_genesys_rate_limit_wait_seconds_count") >= calls_seen
    # every slash command was acked, and timed
    assert m.value("transferbot_slack_ack_seconds_count") == 5
    assert m.value("transferbot_approvals_pending") == 0
    assert m.value("transferbot_confirmations_pending") == 0
    # no label takes an unbounded value: no conversation id, user id, queue name or queue id
    values = m.label_values()
    for forbidden in (ok_call.id, other.id, ended.id, flaky.id, unreachable.id, "U0AGENTOK", "U0AGENTUQ",
                      "U0AGENTFL", "U0AGENTEND", "U0AGENTUR", "Billing", "Sales", "Nowhere Queue",
                      billing.id, sales.id):
        assert forbidden not in values
        assert not [v for v in values if forbidden.lower() in v.lower()], forbidden


def test_pending_gauges_come_from_the_shared_store_so_every_replica_reports_the_same(
        sim, slack, tmp_path, processes):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    approvals = {"TRANSFER_APPROVERS": "U0SUP0001", "TRANSFER_APPROVAL_CHANNEL": "C0APPROVE",
                 "TRANSFER_NO_APPROVAL_QUEUES": "Direct"}
    sim.add_queue("Billing")
    sim.add_queue("Direct")
    calls = [sim.add_call(scenario="connected", queue=sim.add_queue(f"Sales{i}")) for i in range(3)]
    first = start_process(processes, tmp_path, slack, sim, url, "first", **approvals)
    second = start_process(processes, tmp_path, slack, sim, url, "second", **approvals)
    client = SlackClientSide(slack, "127.0.0.1", first.port)

    for call in calls[:2]:
        client.command(f"{call.id} Billing")
    slack.wait_for(lambda: len(slack.api_calls("chat.postMessage")) >= 2, timeout=30)
    # Genesys accepts this one (202) but never confirms it: it waits for confirmation
    sim.set_transfer_outcome(calls[2].id, "pending")
    client.command(f"{calls[2].id} Direct")
    until(lambda: scrape(first.port).value("transferbot_confirmations_pending") == 1, 30, "confirmation pending")

    for bot in (first, second):  # the second replica handled none of them and still sees them
        m = scrape(bot.port)
        assert m.value("transferbot_approvals_pending") == 2, bot.log_path.name
        assert m.value("transferbot_confirmations_pending") == 1, bot.log_path.name
    assert scrape(second.port).value("transferbot_transfers_total") == 0  # counters stay per process


# -- readiness ------------------------------------------------------------------------------------


def _not_ready(port: int, check: str, timeout: float = 30) -> dict:
    """Poll /readyz until it answers 503 naming `check`; returns the body."""

    def failing() -> dict | None:
        status, body = get_json(port, "/readyz")
        return body if status == 503 and isinstance(body["checks"].get(check), dict) else None

    return until(failing, timeout, f"/readyz naming {check}")


def _no_secret(body: dict, *secrets: str) -> None:
    text = json.dumps(body)
    for secret in (BOT_TOKEN, SIGNING_SECRET, *secrets):
        assert secret not in text


def test_readyz_is_200_when_everything_answers(make_bot, sim):
    client = make_bot()
    status, body = get_json(client.port, "/readyz")
    if status != 200:  # the first checks may still be running (auth.test in the background)
        ready(client.port, 30)
        status, body = get_json(client.port, "/readyz")
    assert status == 200
    assert body == {"status": "ready", "checks": {"database": "ok", "genesys": "ok", "slack": "ok"}}
    assert get_json(client.port, "/healthz")[0] == 200


@pytest.mark.postgres
def test_readyz_names_the_database_when_it_is_gone(sim, slack, isolated_postgres_url):
    parts = urlsplit(isolated_postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    # trust auth ignores the password: it is here to prove /readyz never shows it
    password = "pg-Secret-4711"
    url = urlunsplit(parts._replace(netloc=f"{parts.username}:{password}@127.0.0.1:{proxy.port}"))
    bot = InProcessBot(bot_env(slack, sim, url))
    try:
        ready(bot.port, 30)
        proxy.stop()

        body = _not_ready(bot.port, "database")

        assert body["status"] == "not ready"
        assert body["checks"]["database"]["failing"].strip()
        assert body["checks"]["genesys"] == "ok" and body["checks"]["slack"] == "ok"
        _no_secret(body, password)
        assert get_json(bot.port, "/healthz")[0] == 200  # liveness: the process still serves
        proxy.start()
        ready(bot.port, 30)
    finally:
        proxy.stop()
        bot.stop()


def test_readyz_names_genesys_when_it_refuses_the_login(sim, slack, tmp_path):
    wrong = "wrong-client-secret-0042"
    env = bot_env(slack, sim, f"sqlite:///{tmp_path / 'bot.db'}", GENESYS_CLOUD_CLIENT_SECRET=wrong)
    bot = InProcessBot(env)
    try:
        body = _not_ready(bot.port, "genesys")

        reason = body["checks"]["genesys"]["failing"]
        assert re.search(r"401|invalid_client|credential|client", reason, re.I), reason
        assert body["checks"]["database"] == "ok"
        assert sim.requests_matching("POST", r"^/oauth/token$")  # it really tried to log in
        _no_secret(body, wrong, sim.client_secret)
    finally:
        bot.stop()


def test_readyz_names_slack_when_auth_test_fails(sim, slack, make_bot):
    slack.inject("auth.test", error="invalid_auth", times=None)
    client = make_bot()

    body = _not_ready(client.port, "slack")

    assert "invalid_auth" in body["checks"]["slack"]["failing"]
    assert body["checks"]["database"] == "ok" and body["checks"]["genesys"] == "ok"
    _no_secret(body)
    slack.clear_faults()  # auth.test is retried: once it succeeds the bot is ready
    ready(client.port, 30)


# -- Socket Mode ops server -----------------------------------------------------------------------


def test_socket_mode_serves_metrics_health_and_readiness_on_ops_port_and_times_acks(sim, slack, tmp_path):
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    ws = FakeSocketMode().start()
    slack.socket_mode_url = ws.url
    slack.app_token = APP_TOKEN
    ops_port = free_port()
    env = bot_env(slack, sim, f"sqlite:///{tmp_path / 'bot.db'}", SLACK_APP_TOKEN=APP_TOKEN,
                  OPS_PORT=str(ops_port), HOST="127.0.0.1")
    process = SocketBotProcess(env, log_path=tmp_path / "bot.log")
    try:
        ws.wait_connected(timeout=120, alive=process.alive)
        ready(ops_port, 60)
        assert get_json(ops_port, "/healthz") == (200, {"status": "ok", "mode": "socket", "genesys": "ready"})
        before = scrape(ops_port).value("transferbot_slack_ack_seconds_count")

        key = "k" + call.id[:8]
        payload = {
            "token": "deprecated", "team_id": "T0TEST", "team_domain": "test", "channel_id": "C0FLOOR01",
            "channel_name": "floor", "user_id": "U0AGENT01", "user_name": "agent", "command": "/transfer",
            "text": f"{call.id} Billing", "api_app_id": "A0TEST", "is_enterprise_install": "false",
            "response_url": slack.response_url(key), "trigger_id": "1.trigger",
        }
        ws.wait_ack(ws.push_slash_command(payload), timeout=10)
        help_envelope = ws.push_slash_command({**payload, "text": "help", "response_url": slack.response_url("h")})
        ws.wait_ack(help_envelope, timeout=10)
        answered(slack, key, "Transferred")

        m = scrape(ops_port)
        assert m.value("transferbot_slack_ack_seconds_count") - before == 2
        assert m.value("transferbot_slack_ack_seconds_sum") > 0
        assert m.value("transferbot_transfers_total", kind="queue", outcome="succeeded") == 1
        assert m.value("transferbot_genesys_requests_total", operation="replace_queue", status="202") == 1
    finally:
        process.stop()
        ws.stop()
