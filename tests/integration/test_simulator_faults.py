"""Hostile answers from the simulator: invalid JSON, huge errors, dripped and truncated bodies,
dropped connections; faults, latency, rate limits and recording on the new endpoints; and no
tracebacks when a client hangs up."""

from __future__ import annotations

import http.client
import json
import socket
import struct
import time
from urllib.parse import urlsplit

import PureCloudPlatformClientV2 as gc
import pytest
from PureCloudPlatformClientV2.rest import ApiException

from bot.simulator import GenesysSimulator
from tests.integration.test_simulator_wire import raw, sdk

SEARCH_BODY = {"query": [{"type": "EXACT", "fields": ["email"], "value": "bob@example.com"}]}


@pytest.fixture
def sim():
    with GenesysSimulator(rate_limit_per_minute=None) as s:
        yield s


def connect(sim: GenesysSimulator, timeout: float = 5.0) -> socket.socket:
    u = urlsplit(sim.url)
    return socket.create_connection((u.hostname, u.port), timeout=timeout)


def reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN, like a killed client."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def get_bytes(sim: GenesysSimulator, path: str) -> tuple[int, str | None, bytes]:
    u = urlsplit(sim.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    c.request("GET", path, headers={"Authorization": f"Bearer {sim.issue_token()}"})
    r = c.getresponse()
    out = (r.status, r.getheader("Content-Type"), r.read())
    c.close()
    return out


def test_invalid_json_behind_a_200(sim):
    call = sim.add_call("connected", queue=sim.add_queue("Q"))
    fault = sim.inject_invalid_json("GET", r"/conversations/calls/")
    status, content_type, body = get_bytes(sim, f"/api/v2/conversations/calls/{call.id}")
    assert (status, content_type) == (200, "application/json")
    with pytest.raises(ValueError):
        json.loads(body)
    assert fault.hits == 1 and sim.requests[-1].status == 200

    # through the SDK: no exception, just an empty model - the caller must notice the missing id
    sim.inject_invalid_json("GET", r"/conversations/calls/")
    conv = gc.ConversationsApi(sdk(sim)).get_conversations_call(call.id)
    assert conv.id is None and conv.participants is None
    assert raw(sim, "GET", f"/api/v2/conversations/calls/{call.id}", token=sim.issue_token()).json["id"] == call.id


def test_huge_error_message(sim):
    sim.inject_huge_error("POST", r"/users/search$", status=500)
    t0 = time.monotonic()
    r = raw(sim, "POST", "/api/v2/users/search", token=sim.issue_token(), body=SEARCH_BODY, timeout=30)
    assert r.status == 500 and len(r.raw) > 20 * 1024 * 1024
    assert len(r.json["message"]) == 20 * 1024 * 1024 and r.json["code"] == "internal.server.error"
    assert int(r.headers["content-length"]) == len(r.raw)
    assert time.monotonic() - t0 < 15
    sim.inject_huge_error("GET", r"/routing/queues$", status=400, size=1000)
    with pytest.raises(ApiException) as ei:
        gc.RoutingApi(sdk(sim)).get_routing_queues()
    assert ei.value.status == 400 and len(json.loads(ei.value.body)["message"]) == 1000


def test_dripped_body_defeats_per_read_timeouts(sim):
    sim.inject("GET", r"/routing/queues$", status=None, body=b'{"ok": 1}', drip=0.08)
    t0 = time.monotonic()
    # every read returns within 0.5 s, so a per-read timeout never fires ...
    r = raw(sim, "GET", "/api/v2/routing/queues", token=sim.issue_token(), timeout=0.5)
    elapsed = time.monotonic() - t0
    assert (r.status, r.json) == (200, {"ok": 1})
    assert elapsed >= 8 * 0.08  # ... yet the whole answer took 9 bytes x 0.08 s
    # the real answer can be dripped too
    sim.add_queue("Q")
    sim.inject_drip("GET", r"/routing/queues$", interval=0.0005)
    r = raw(sim, "GET", "/api/v2/routing/queues", token=sim.issue_token())
    assert r.status == 200 and r.json["total"] == 1


def test_truncated_body(sim):
    sim.add_queue("Q")
    sim.inject("GET", r"/routing/queues$", status=None, truncate_after=20)
    with pytest.raises(http.client.IncompleteRead):
        raw(sim, "GET", "/api/v2/routing/queues", token=sim.issue_token())
    assert sim.requests[-1].outcome == "truncated"


@pytest.mark.parametrize("execute", [False, True])
def test_dropped_after_the_request_was_read(sim, execute):
    q = sim.add_queue("Q")
    bob = sim.add_user("Bob Agent", "bob@example.com")
    call = sim.add_call("connected", queue=q)
    sim.inject_drop("POST", r"/replace/agent$", execute_before_fault=execute)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        raw(sim, "POST", f"/api/v2/conversations/{call.id}/participants/{call.agent_participant_id}/replace/agent",
            token=sim.issue_token(), body={"userId": bob.id})  # fmt: skip
    (rec,) = sim.requests_matching("POST", r"/replace/agent$")
    assert (rec.status, rec.outcome, rec.json) == (None, "dropped", {"userId": bob.id})
    assert len(sim.transfers) == (1 if execute else 0)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v2/users/search", SEARCH_BODY),
        ("GET", "/api/v2/users/USER", None),
        ("GET", "/api/v2/users/USER/routingstatus", None),
        ("POST", "/api/v2/analytics/conversations/activity/query",
         {"metrics": [{"metric": "oInteracting"}], "groupBy": ["userId"]}),
        ("POST", "/api/v2/analytics/queues/observations/query",
         {"metrics": ["oWaiting"], "filter": {"type": "or", "predicates": [{"dimension": "queueId", "value": "Q"}]}}),
        ("GET", "/api/v2/routing/queues/Q/estimatedwaittime", None),
        ("GET", "/api/v2/routing/queues/Q/mediatypes/call/estimatedwaittime", None),
        ("GET", "/api/v2/conversations/CONV", None),
    ],
)  # fmt: skip
def test_new_endpoints_need_a_token_are_rate_limited_recorded_and_faultable(method, path, body):
    with GenesysSimulator(rate_limit_per_minute=60, burst=2) as sim:
        ids = {"USER": sim.add_user("Bob Agent", "bob@example.com").id, "Q": sim.add_queue("Q").id,
               "CONV": sim.add_conversation("chat", "connected").id}  # fmt: skip
        for k, v in ids.items():
            path = path.replace(k, v)
        body = json.loads(json.dumps(body).replace('"Q"', json.dumps(ids["Q"]))) if body else None
        token = sim.issue_token()
        assert raw(sim, method, path, body=body).status == 401
        sim.inject(method, path.replace("/api/v2", "") + "$", status=503, times=1)
        statuses = [raw(sim, method, path, token=token, body=body).status for _ in range(4)]
        assert statuses == [503, 200, 200, 429]  # the fault bypasses the bucket of 2
        recs = sim.requests_matching(method, "^" + path + "$")
        assert [r.status for r in recs] == [401, 503, 200, 200, 429]
        assert all(r.client_id == "sim-client" for r in recs[2:])
        sim.set_rate_limit(None, 1)
        sim.set_latency(0.2)
        t0 = time.monotonic()
        assert raw(sim, method, path, token=token, body=body).status == 200
        assert time.monotonic() - t0 >= 0.2


def test_client_hang_ups_print_no_traceback(sim, capfd):
    sim.add_queue("Q")
    token = sim.issue_token()
    request = f"GET /api/v2/routing/queues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    # 1) killed while the answer is dripping
    sim.inject("GET", r"/routing/queues$", status=None, drip=0.01)
    s = connect(sim)
    s.sendall(request)
    assert s.recv(12).startswith(b"HTTP/1.1 200")
    reset(s)
    # 2) killed in the middle of the request line / headers / body
    for partial in (b"GET /api/v2/rout", request[:-2], b"POST /api/v2/users/search HTTP/1.1\r\n"
                    b"Content-Length: 500\r\nContent-Type: application/json\r\n\r\n{\"query\""):  # fmt: skip
        s = connect(sim)
        s.sendall(partial)
        time.sleep(0.05)
        reset(s)
    # 3) garbage chunked framing
    s = connect(sim)
    s.sendall(b"POST /api/v2/users/search HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    s.recv(10)
    s.close()
    time.sleep(0.3)
    assert raw(sim, "GET", "/api/v2/routing/queues", token=token).status == 200  # still serving
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err
