"""What Genesys (or the network) can do wrong, and how the adapter names it: deadlines, garbage,
huge bodies, network causes, login failures, permissions and metrics."""

from __future__ import annotations

import json
import logging
import time

import pytest
import urllib3

from bot.domain.target import Target, TargetKind
from bot.genesys.client import SdkGenesysClient
from bot.genesys.wire import MAX_ERROR_BODY
from bot.ports.genesys import (
    PERMISSIONS,
    GenesysAuthError,
    GenesysBadRequest,
    GenesysError,
    GenesysForbidden,
    GenesysTimeout,
    GenesysUnavailable,
    GenesysUnreadable,
)
from bot.simulator import GenesysSimulator
from tests.integration.genesys_helpers import CALLS, REPLACE, closed_port, new_id, queue_target, sample

pytest_plugins = ["tests.integration.genesys_fixtures"]

INVALID_HOST = "genesys-bot-test.invalid"


# -- one deadline per request --------------------------------------------------------------------


def test_a_dripped_answer_ends_at_the_deadline(sim: GenesysSimulator, make_client) -> None:
    client = make_client(request_deadline=3.0, read_timeout=10.0)
    client.check_access()
    c = sim.add_call()
    sim.inject_drip(method="GET", path=CALLS, interval=3.0)  # a byte every 3 s: each read "succeeds"
    started = time.monotonic()
    with pytest.raises(GenesysTimeout) as err:
        client.get_conversation(c.id)
    assert time.monotonic() - started < 3.0 + 2.0
    assert err.value.cause == "timeout" and err.value.host == "127.0.0.1"
    assert err.value.operation == "get_call" and err.value.maybe_executed is False
    assert len(sim.requests_matching("GET", CALLS)) == 1  # a timed-out read is not repeated


def test_a_post_past_its_deadline_may_have_happened_and_is_not_resent(sim: GenesysSimulator, make_client) -> None:
    client = make_client(request_deadline=3.0, read_timeout=10.0)
    client.check_access()
    q = sim.add_queue("Support")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=503, drip=3.0, execute_before_fault=True)
    started = time.monotonic()
    with pytest.raises(GenesysTimeout) as err:
        client.transfer(c.id, c.agent_participant_id, queue_target(q.id))
    assert time.monotonic() - started < 3.0 + 2.0
    assert err.value.maybe_executed is True and err.value.operation == "replace_queue"
    assert "may or may not have happened" in err.value.message
    assert len(sim.requests_matching("POST", REPLACE)) == 1


# -- answers that can't be read ------------------------------------------------------------------


def test_invalid_json_in_a_200_is_unreadable(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    c = sim.add_call()
    sim.inject_invalid_json(method="GET", path=CALLS)
    with pytest.raises(GenesysUnreadable) as err:
        client.get_conversation(c.id)
    (recorded,) = sim.requests_matching("GET", CALLS)
    assert err.value.correlation_id == recorded.correlation_id
    assert err.value.status == 200 and err.value.operation == "get_call"
    assert "not valid JSON" in err.value.message


@pytest.mark.parametrize(
    "body",
    [
        b"",  # a GET answered with nothing
        b"{}",  # no id: not a conversation
        b"[]",
        json.dumps({"id": "x", "participants": [{"id": "p", "startTime": "yesterday-ish"}]}).encode(),  # SDK fails
    ],
)
def test_answers_without_a_readable_model_are_unreadable(sim: GenesysSimulator, client, body: bytes) -> None:
    c = sim.add_call()
    sim.inject(method="GET", path=CALLS, status=200, body=body)
    with pytest.raises(GenesysUnreadable) as err:
        client.get_conversation(c.id)
    assert err.value.correlation_id == sim.requests_matching("GET", CALLS)[0].correlation_id
    assert err.value.operation == "get_call"


def test_unreadable_queue_page(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    sim.inject_invalid_json(method="GET", path=r"/routing/queues$")
    with pytest.raises(GenesysUnreadable) as err:
        client.list_queues()
    assert err.value.operation == "list_queues"


def test_a_huge_error_message_is_read_in_part_and_cut(
    sim: GenesysSimulator, client: SdkGenesysClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.check_access()
    read = 0
    original = urllib3.response.HTTPResponse.read1

    def counting_read1(self, amt=None, decode_content=None):  # type: ignore[no-untyped-def]
        nonlocal read
        data = original(self, amt, decode_content)
        read += len(data)
        return data

    monkeypatch.setattr(urllib3.response.HTTPResponse, "read1", counting_read1)
    c = sim.add_call()
    sim.inject_huge_error(method="GET", path=CALLS, status=500)  # a 20 MB message
    started = time.monotonic()
    with pytest.raises(GenesysUnavailable) as err:
        client.get_conversation(c.id)
    assert time.monotonic() - started < 5.0
    assert read <= MAX_ERROR_BODY + 65536, read
    assert err.value.status == 500 and err.value.operation == "get_call"
    assert len(err.value.message) <= 500 and len(str(err.value)) < 1000
    assert err.value.__cause__ is None and err.value.__suppress_context__  # tracebacks stop here
    context = err.value.__context__  # and what is kept in memory is small too
    assert context is None or len(str(context)) + len(repr(context)) + len(str(context.args)) < 5000


def test_a_huge_error_on_a_transfer_is_cut_too(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Support")
    c = sim.add_call()
    sim.inject_huge_error(method="POST", path=REPLACE, status=400)
    with pytest.raises(GenesysBadRequest) as err:
        client.transfer(c.id, c.agent_participant_id, queue_target(q.id))
    assert len(err.value.message) <= 500 and len(str(err.value)) < 1000
    assert err.value.maybe_executed is False


# -- network failures name their cause and host ----------------------------------------------------


def test_dns_failure(sim: GenesysSimulator, make_client, caplog: pytest.LogCaptureFixture) -> None:
    client = make_client(api_base=f"https://{INVALID_HOST}")
    caplog.set_level(logging.INFO, logger="bot.genesys")
    with pytest.raises(GenesysUnavailable) as err:
        client.get_queue(new_id())
    assert err.value.cause == "dns" and err.value.host == INVALID_HOST
    assert err.value.operation == "get_queue" and err.value.maybe_executed is False
    assert f"Could not resolve {INVALID_HOST} (DNS failure)" in err.value.message
    assert any("dns" in r.getMessage() and INVALID_HOST in r.getMessage() for r in caplog.records)


def test_dns_failure_at_login(make_client) -> None:
    client = make_client(login_base=f"https://login.{INVALID_HOST}")
    with pytest.raises(GenesysUnavailable) as err:
        client.check_access()
    assert err.value.cause == "dns" and err.value.host == f"login.{INVALID_HOST}"
    assert err.value.operation == "token"


def test_connection_refused(make_client) -> None:
    client = make_client(api_base=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(GenesysUnavailable) as err:
        client.get_queue(new_id())
    assert err.value.cause == "refused" and err.value.host == "127.0.0.1"
    assert "127.0.0.1 refused the connection" in err.value.message


def test_tls_error(sim: GenesysSimulator, make_client) -> None:
    client = make_client(api_base=f"https://127.0.0.1:{sim.port}")  # https to a plain-HTTP port
    with pytest.raises(GenesysUnavailable) as err:
        client.get_queue(new_id())
    assert err.value.cause == "tls" and err.value.host == "127.0.0.1"
    assert "TLS" in err.value.message
    with pytest.raises(GenesysUnavailable) as post:
        client.transfer(new_id(), new_id(), queue_target(new_id()))
    assert post.value.cause == "tls" and post.value.maybe_executed is False  # nothing was sent


# -- logins ----------------------------------------------------------------------------------------


def test_login_failure_is_logged_once_without_the_secret(
    sim: GenesysSimulator, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "wrong-secret-value"
    client = make_client(client_secret=secret)
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        with pytest.raises(GenesysAuthError):
            client.get_queue(new_id())
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "127.0.0.1" in warnings[0].getMessage() and "invalid_client" in warnings[0].getMessage()
    assert all(secret not in r.getMessage() and "Basic " not in r.getMessage() for r in caplog.records)
    assert len(sim.requests_matching("POST", r"^/oauth/token$")) == 3
    assert sim.requests_matching("GET", r"^/api/") == []


# -- permissions -----------------------------------------------------------------------------------


def _call_for(operation: str, sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    c = sim.add_call()
    q = sim.add_queue(f"Q {new_id()}")
    user = sim.add_user("Bob", f"bob-{new_id()}@example.com")
    calls = {
        "get_call": lambda: client.get_conversation(c.id),
        "list_queues": lambda: client.list_queues(),
        "get_queue": lambda: client.get_queue(q.id),
        "replace_queue": lambda: client.transfer(c.id, c.agent_participant_id, queue_target(q.id)),
        "replace_agent": lambda: client.transfer(c.id, c.agent_participant_id, Target(TargetKind.AGENT, user.id, "B")),
        "transfer_address": lambda: client.transfer(
            c.id, c.agent_participant_id, Target(TargetKind.NUMBER, "+14155550100", "n")
        ),
        "search_users": lambda: client.find_user_by_email(user.email),
        "get_user": lambda: client.get_user(user.id),
        "activity_query": lambda: client.live_interactions(user.id),
        "queue_observations": lambda: client.queue_health([q.id]),
        "estimated_wait": lambda: client.estimated_wait(q.id),
    }
    calls[operation]()


PATHS = {
    "get_call": ("GET", CALLS),
    "list_queues": ("GET", r"/routing/queues$"),
    "get_queue": ("GET", r"/routing/queues/[^/]+$"),
    "replace_queue": ("POST", r"/replace/queue$"),
    "replace_agent": ("POST", r"/replace/agent$"),
    "transfer_address": ("POST", r"/participants/[^/]+/transfer$"),
    "search_users": ("POST", r"/users/search$"),
    "get_user": ("GET", r"/users/[^/]+$"),
    "activity_query": ("POST", r"/conversations/activity/query$"),
    "queue_observations": ("POST", r"/queues/observations/query$"),
    "estimated_wait": ("GET", r"/estimatedwaittime$"),
}


@pytest.mark.parametrize("operation", sorted(PATHS))
def test_forbidden_names_the_operation_and_its_permission(sim: GenesysSimulator, client, operation: str) -> None:
    method, path = PATHS[operation]
    sim.inject(method=method, path=path, status=403, times=None)
    with pytest.raises(GenesysForbidden) as err:
        _call_for(operation, sim, client)
    assert err.value.operation == operation
    assert all(permission in err.value.message for permission in PERMISSIONS[operation])
    assert err.value.correlation_id


# -- metrics ---------------------------------------------------------------------------------------


def test_metrics_count_every_attempt(sim: GenesysSimulator, client: SdkGenesysClient, make_client) -> None:
    requests, seconds = "transferbot_genesys_requests_total", "transferbot_genesys_request_seconds_count"
    waits = "transferbot_genesys_rate_limit_wait_seconds_count"
    q = sim.add_queue("Support")
    client.check_access()
    before = {s: sample(requests, operation="get_queue", status=s) for s in ("200", "404", "500", "error")}
    before_seconds, before_waits = sample(seconds, operation="get_queue"), sample(waits)
    before_token = sample(requests, operation="token", status="200")

    client.get_queue(q.id)
    with pytest.raises(GenesysError):
        client.get_queue(new_id())
    sim.inject(method="GET", path=r"/routing/queues/", status=500)
    with pytest.raises(GenesysError):
        client.get_queue(q.id)
    dead = make_client(api_base=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(GenesysError):
        dead.get_queue(q.id)

    for status, added in (("200", 1), ("404", 1), ("500", 1), ("error", 2)):  # refused: tried twice
        assert sample(requests, operation="get_queue", status=status) - before[status] == added, status
    assert sample(seconds, operation="get_queue") - before_seconds == 5
    assert sample(waits) - before_waits >= 5
    assert sample(requests, operation="token", status="200") - before_token == 1  # the second client's login
