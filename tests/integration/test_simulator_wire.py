"""The Genesys simulator speaks the documented wire format: proven with the real SDK and raw HTTP."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import PureCloudPlatformClientV2 as gc
import pytest
from PureCloudPlatformClientV2.rest import ApiException

from bot.simulator import GenesysSimulator, seed_demo

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# --------------------------------------------------------------------------- helpers
@pytest.fixture
def sim():
    with GenesysSimulator(rate_limit_per_minute=6000, burst=1000) as s:
        yield s


def sdk(sim: GenesysSimulator) -> gc.ApiClient:
    api = gc.ApiClient(host=sim.url)
    return api.get_client_credentials_token("sim-client", "sim-secret")


class Resp:
    def __init__(self, status: int, headers: dict[str, str], raw: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw = raw
        self.json = json.loads(raw) if raw else None


def raw(
    sim: GenesysSimulator,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: object = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
    conn: http.client.HTTPConnection | None = None,
) -> Resp:
    u = urlsplit(sim.url)
    c = conn or http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    out = Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    if conn is None:
        c.close()
    return out


def login(
    sim: GenesysSimulator, cid: str = "sim-client", secret: str = "sim-secret", grant: str = "client_credentials"
):
    basic = base64.b64encode(f"{cid}:{secret}".encode()).decode()
    return raw(
        sim,
        "POST",
        "/oauth/token",
        body=f"grant_type={grant}".encode(),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )


_PRIMITIVES = {"str", "int", "float", "bool", "date", "datetime", "object"}


def assert_known_fields(data: object, type_name: str, where: str = "$") -> None:
    """Every JSON key is a field of the SDK 269 model (recursively): the SDK silently drops unknown
    keys, so a misspelt field would otherwise go unnoticed."""
    if data is None or type_name in _PRIMITIVES:
        return
    if type_name.startswith("list["):
        assert isinstance(data, list), f"{where}: expected a list for {type_name}"
        for i, item in enumerate(data):
            assert_known_fields(item, type_name[5:-1], f"{where}[{i}]")
        return
    if type_name.startswith("dict("):
        value_type = type_name[5:-1].split(", ", 1)[1]
        for k, v in data.items():  # type: ignore[union-attr]
            assert_known_fields(v, value_type, f"{where}.{k}")
        return
    model = getattr(gc, type_name)()
    by_json = {j: py for py, j in model.attribute_map.items()}
    assert isinstance(data, dict), f"{where}: expected an object for {type_name}"
    for key, value in data.items():
        assert key in by_json, f"{where}.{key} is not a field of {type_name}"
        assert_known_fields(value, model.swagger_types[by_json[key]], f"{where}.{key}")


class _JsonResponse:
    def __init__(self, data: object) -> None:
        self.data = json.dumps(data)

    def getheader(self, name: str, default: object = None) -> object:
        return "application/json" if name.lower() == "content-type" else default


def wire(data: object, type_name: str):
    """Check ``data`` against the SDK model, then deserialize it the way the SDK does."""
    assert_known_fields(data, type_name)
    return gc.ApiClient().deserialize(_JsonResponse(data), type_name)


def outdated_values(model: object) -> list[str]:
    """Paths whose value the SDK replaced by "outdated_sdk_version" (an enum it does not know)."""
    found: list[str] = []

    def walk(value: object, path: str) -> None:
        if value == "outdated_sdk_version":
            found.append(path)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")

    walk(model.to_dict() if hasattr(model, "to_dict") else model, "$")
    return found


def replace_path(cid: str, pid: str) -> str:
    return f"/api/v2/conversations/{cid}/participants/{pid}/replace/queue"


def transfer_body(queue_id: str) -> gc.TransferToQueueRequest:
    b = gc.TransferToQueueRequest()
    b.queue_id = queue_id
    return b


# --------------------------------------------------------------------------- calls via the SDK
def test_connected_call_deserializes_with_sdk_and_lists_stale_agent_legs_first(sim):
    q = sim.add_queue("Support_Tier2")
    call = sim.add_call(scenario="connected", queue=q, agent_name="Alice Agent", stale_agent_duplicates=2)

    conv = gc.ConversationsApi(sdk(sim)).get_conversations_call(call.id)

    assert isinstance(conv, gc.CallConversation)
    assert conv.id == call.id
    parts = conv.participants
    assert [p.purpose for p in parts] == ["customer", "ivr", "acd", "agent", "agent", "agent"]
    customer, ivr, acd, stale1, stale2, agent = parts
    assert customer.id == call.customer_participant_id
    assert (customer.state, customer.end_time, customer.ani) == ("connected", None, "tel:+15551230001")
    assert ivr.state == "terminated" and ivr.end_time is not None and ivr.disconnect_type == "transfer"
    assert acd.state == "terminated" and acd.queue.id == q.id and acd.end_time is not None
    for stale in (stale1, stale2):
        assert stale.state == "terminated"
        assert stale.connected_time is None and stale.end_time is not None
        assert stale.user.id == agent.user.id
    assert agent.id == call.agent_participant_id
    assert (agent.state, agent.end_time, agent.name) == ("connected", None, "Alice Agent")
    assert agent.connected_time.tzinfo is not None and agent.connected_time > agent.start_time
    assert agent.queue.id == q.id
    assert conv.recent_transfers == [] and conv.recording_state == "none"
    for p in parts:
        assert UUID_RE.match(p.id)
        assert p.state != "outdated_sdk_version" and p.direction == "inbound"


def test_raw_call_json_shape_headers_and_keep_alive(sim):
    call = sim.add_call("connected", queue=sim.add_queue("Q"))
    token = sim.issue_token()
    u = urlsplit(sim.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    r1 = raw(sim, "GET", f"/api/v2/conversations/calls/{call.id}", token=token, conn=conn)
    r2 = raw(sim, "GET", f"/api/v2/conversations/calls/{call.id}", token=token, conn=conn)  # same socket
    conn.close()
    assert r1.status == r2.status == 200
    assert UUID_RE.match(r1.headers["inin-correlation-id"])
    assert r1.headers["inin-correlation-id"] != r2.headers["inin-correlation-id"]
    assert r1.headers["content-type"] == "application/json"
    assert int(r1.headers["content-length"]) == len(r1.raw)
    for h in ("inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset"):
        assert r1.headers[h].isdigit()
    body = r1.json
    assert "state" not in body and "startTime" not in body
    assert set(body) >= {"id", "participants", "otherMediaUris", "recentTransfers", "recordingState", "selfUri"}
    for p in body["participants"]:
        for k in ("startTime", "connectedTime", "endTime"):
            if k in p:
                assert ISO_MS_Z.match(p[k]), p[k]
    assert body == sim.call_json(call.id)


def test_unknown_call_raises_api_exception_404_with_error_body(sim):
    api = gc.ConversationsApi(sdk(sim))
    missing = str(uuid.uuid4())
    with pytest.raises(ApiException) as ei:
        api.get_conversations_call(missing)
    e = ei.value
    assert e.status == 404
    body = json.loads(e.body)
    assert body["code"] == "not.found" and body["status"] == 404
    assert body["contextId"] == e.headers["ININ-Correlation-Id"]
    assert body["details"] == [] and body["errors"] == []


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("ivr", [("customer", "connected"), ("ivr", "connected")]),
        ("queued", [("customer", "connected"), ("ivr", "terminated"), ("acd", "connected")]),
        ("alerting", [("customer", "connected"), ("ivr", "terminated"), ("acd", "connected"), ("agent", "alerting")]),
        (
            "ended",
            [("customer", "terminated"), ("ivr", "terminated"), ("acd", "terminated"), ("agent", "terminated")],
        ),
        (
            "conference",
            [
                ("customer", "connected"),
                ("ivr", "terminated"),
                ("acd", "terminated"),
                ("agent", "connected"),
                ("agent", "connected"),
            ],
        ),
    ],
)
def test_scenarios(sim, scenario, expected):
    call = sim.add_call(scenario=scenario, queue=sim.add_queue("Q"))
    conv = gc.ConversationsApi(sdk(sim)).get_conversations_call(call.id)
    assert [(p.purpose, p.state) for p in conv.participants] == expected
    if scenario == "ended":
        assert all(p.end_time is not None and p.disconnect_type for p in conv.participants)
    if scenario == "conference":
        agents = [p for p in conv.participants if p.purpose == "agent"]
        assert agents[0].user.id != agents[1].user.id
        assert [a.id for a in agents] == list(call.agent_participant_ids)
    if scenario == "alerting":
        assert conv.participants[-1].connected_time is None


def test_message_conversation_is_not_a_call(sim):
    call = sim.add_call(scenario="message", queue=sim.add_queue("Q"))
    api = gc.ConversationsApi(sdk(sim))
    with pytest.raises(ApiException) as ei:
        api.get_conversations_call(call.id)
    assert ei.value.status == 404
    conv = api.get_conversation(call.id)
    assert conv.id == call.id
    assert all(p.messages and not p.calls for p in conv.participants)
    assert {p.purpose for p in conv.participants} >= {"customer", "agent"}
    voice = sim.add_call("connected", queue=sim.add_queue("Q2"))
    generic = api.get_conversation(voice.id)
    assert all(p.calls and not p.messages for p in generic.participants)
    with pytest.raises(ApiException) as ei:
        api.get_conversation(str(uuid.uuid4()))
    assert ei.value.status == 404


def test_end_call_and_change_agent(sim):
    q = sim.add_queue("Q")
    api = gc.ConversationsApi(sdk(sim))
    call = sim.add_call("connected", queue=q, agent_name="Alice")
    new_pid = sim.change_agent(call.id, agent_name="Bob")
    conv = api.get_conversations_call(call.id)
    old = next(p for p in conv.participants if p.id == call.agent_participant_id)
    new = conv.participants[-1]
    assert (old.state, old.disconnect_type) == ("terminated", "transfer") and old.end_time is not None
    assert (new.id, new.purpose, new.state, new.name) == (new_pid, "agent", "connected", "Bob")
    assert new.user.id != old.user.id and new_pid != call.agent_participant_id

    sim.end_call(call.id)
    conv = api.get_conversations_call(call.id)
    assert all(p.state == "terminated" and p.end_time is not None for p in conv.participants)
    assert conv.participants[0].disconnect_type == "endpoint"


# --------------------------------------------------------------------------- queues
def test_queue_paging_with_sdk(sim):
    names = ["Zeta", "alpha", "Bravo", "charlie", "Delta", "echo", "Foxtrot"]
    created = {n: sim.add_queue(n) for n in names}
    routing = gc.RoutingApi(sdk(sim))
    seen = []
    for page in (1, 2, 3):
        listing = routing.get_routing_queues(page_size=3, page_number=page)
        assert isinstance(listing, gc.QueueEntityListing)
        assert (listing.total, listing.page_count, listing.page_number, listing.page_size) == (7, 3, page, 3)
        assert (listing.next_uri is None) == (page == 3)
        assert (listing.previous_uri is None) == (page == 1)
        assert "pageNumber=1" in listing.first_uri and "pageNumber=3" in listing.last_uri
        seen += [e.name for e in listing.entities]
    assert seen == sorted(names, key=str.lower)
    q = routing.get_routing_queue(created["Delta"].id)
    assert (q.id, q.name, q.division.name) == (created["Delta"].id, "Delta", "Home")
    assert q.division.id == created["Delta"].division_id and q.self_uri.endswith(q.id)
    assert routing.get_routing_queues(page_size=25).page_count == 1
    with pytest.raises(ApiException) as ei:
        routing.get_routing_queue(str(uuid.uuid4()))
    assert ei.value.status == 404


def test_queue_name_filter_wildcards_case_and_divisions(sim):
    home = sim.add_queue("Support_Tier2", division="Home")
    emea = sim.add_queue("Support_Tier2", division="EMEA")
    sim.add_queue("Support_Tier1")
    sim.add_queue("Billing_Support")
    routing = gc.RoutingApi(sdk(sim))

    def names(**kw):
        return sorted((e.name, e.division.name) for e in routing.get_routing_queues(**kw).entities)

    assert names(name="support_tier2") == [("Support_Tier2", "EMEA"), ("Support_Tier2", "Home")]
    assert names(name="Support") == []  # no wildcard: exact only
    assert [n for n, _ in names(name="support*")] == ["Support_Tier1", "Support_Tier2", "Support_Tier2"]
    assert [n for n, _ in names(name="*SUPPORT")] == ["Billing_Support"]
    assert len(names(name="*support*")) == 4
    only_emea = routing.get_routing_queues(name="Support_Tier2", division_id=[emea.division_id]).entities
    assert [q.id for q in only_emea] == [emea.id]
    assert home.division_id != emea.division_id


def test_queue_listing_bad_page_size(sim):
    r = raw(sim, "GET", "/api/v2/routing/queues?pageSize=501", token=sim.issue_token())
    assert r.status == 400 and r.json["code"] == "invalid.value"


# --------------------------------------------------------------------------- transfers
def test_replace_queue_with_sdk_then_call_shows_acd_leg_and_complete_transfer(sim):
    src, dst = sim.add_queue("Support_Tier1"), sim.add_queue("Support_Tier2")
    call = sim.add_call("connected", queue=src, stale_agent_duplicates=1)
    api = gc.ConversationsApi(sdk(sim))

    result = api.post_conversation_participant_replace_queue(call.id, call.agent_participant_id, transfer_body(dst.id))

    assert result is None
    posts = sim.requests_matching("POST", r"/replace/queue$")
    assert [(r.status, r.json, r.client_id) for r in posts] == [(202, {"queueId": dst.id}, "sim-client")]
    conv = api.get_conversations_call(call.id)
    agent = next(p for p in conv.participants if p.id == call.agent_participant_id)
    assert (agent.state, agent.disconnect_type) == ("terminated", "transfer") and agent.end_time is not None
    new_acd = conv.participants[-1]
    assert (new_acd.purpose, new_acd.state, new_acd.queue.id) == ("acd", "connected", dst.id)
    assert new_acd.connected_time is not None and new_acd.end_time is None
    (t,) = conv.recent_transfers
    assert (t.state, t.transfer_type, t.destination.address) == ("Complete", "Unattended", dst.id)
    assert [(x.conversation_id, x.participant_id, x.queue_id) for x in sim.transfers] == [
        (call.id, call.agent_participant_id, dst.id)
    ]

    # the replaced leg is no longer live: a second attempt is refused
    with pytest.raises(ApiException) as ei:
        api.post_conversation_participant_replace_queue(call.id, call.agent_participant_id, transfer_body(dst.id))
    assert ei.value.status == 400 and json.loads(ei.value.body)["code"] == "bad.request"
    assert len(sim.transfers) == 1


def test_replace_queue_validation_errors(sim):
    q = sim.add_queue("Q")
    call = sim.add_call("connected", queue=q)
    ended = sim.add_call("ended", queue=q)
    token = sim.issue_token()

    def post(cid, pid, body):
        return raw(sim, "POST", replace_path(cid, pid), token=token, body=body)

    r = post(str(uuid.uuid4()), call.agent_participant_id, {"queueId": q.id})
    assert (r.status, r.json["code"]) == (404, "not.found")
    r = post(call.id, call.agent_participant_id, {"queueId": str(uuid.uuid4())})
    assert (r.status, r.json["code"]) == (400, "invalid.value")
    r = post(call.id, call.agent_participant_id, {})
    assert (r.status, r.json["code"]) == (400, "invalid.value")
    r = post(call.id, call.agent_participant_id, {"queueId": q.id, "transferType": "outdated_sdk_version"})
    assert (r.status, r.json["code"]) == (400, "invalid.value")
    r = post(call.id, str(uuid.uuid4()), {"queueId": q.id})
    assert (r.status, r.json["code"]) == (400, "bad.request")
    r = post(ended.id, ended.agent_participant_id, {"queueId": q.id})
    assert (r.status, r.json["code"]) == (400, "bad.request") and "not connected" in r.json["message"]
    r = post(call.id, call.customer_participant_id, {"queueId": q.id})
    assert r.status == 400
    assert sim.transfers == []
    r = post(call.id, call.agent_participant_id, {"queueName": "Q"})
    assert (r.status, r.raw, "content-type" in r.headers) == (202, b"", False)


def test_transfer_outcomes_pending_failed_and_delay(sim):
    q = sim.add_queue("Q")
    token = sim.issue_token()

    def transfer(call):
        r = raw(sim, "POST", replace_path(call.id, call.agent_participant_id), token=token, body={"queueId": q.id})
        assert r.status == 202
        return sim.call_json(call.id)

    failed = sim.add_call("connected", queue=q)
    sim.set_transfer_outcome(failed.id, "failed")
    body = transfer(failed)
    assert body["recentTransfers"][0]["state"] == "Failed"
    assert body["participants"][-1]["id"] == failed.agent_participant_id
    assert body["participants"][-1]["state"] == "connected"

    pending = sim.add_call("connected", queue=q)
    sim.set_transfer_outcome(pending.id, "pending")
    body = transfer(pending)
    assert body["recentTransfers"][0]["state"] == "Pending"
    assert [p["purpose"] for p in body["participants"]][-1] == "agent"
    assert sim.transfers == []

    sim.set_transfer_delay(0.3)
    slow = sim.add_call("connected", queue=q)
    body = transfer(slow)
    assert body["recentTransfers"][0]["state"] == "Pending"
    assert body["participants"][-1]["state"] == "connected"
    time.sleep(0.35)
    body = sim.call_json(slow.id)
    assert body["recentTransfers"][0]["state"] == "Complete"
    assert (body["participants"][-1]["purpose"], body["participants"][-1]["queue"]["id"]) == ("acd", q.id)


# --------------------------------------------------------------------------- auth
def test_token_endpoint_and_auth_errors(sim):
    ok = login(sim)
    assert ok.status == 200
    assert ok.json["token_type"] == "bearer" and ok.json["expires_in"] == 86400 and ok.json["access_token"]
    assert "inin-correlation-id" in ok.headers

    bad = login(sim, secret="nope")
    assert bad.status == 401
    assert bad.json == {
        "error": "invalid_client",
        "description": "authentication failed",
        "error_description": "authentication failed",
    }
    assert login(sim, grant="password").status == 400
    with pytest.raises(ApiException) as ei:
        gc.ApiClient(host=sim.url).get_client_credentials_token("sim-client", "wrong")
    assert ei.value.status == 401

    r = raw(sim, "GET", "/api/v2/routing/queues")
    assert (r.status, r.json["code"]) == (401, "authentication.required")
    r = raw(sim, "GET", "/api/v2/routing/queues", token="not-a-token")
    assert (r.status, r.json["code"]) == (401, "bad.credentials")
    assert raw(sim, "GET", "/api/v2/routing/queues", token=ok.json["access_token"]).status == 200


def test_token_expiry_ttl_and_expire_tokens():
    with GenesysSimulator(token_ttl_seconds=1) as sim:
        token = login(sim).json["access_token"]
        assert raw(sim, "GET", "/api/v2/routing/queues", token=token).status == 200
        time.sleep(1.05)
        r = raw(sim, "GET", "/api/v2/routing/queues", token=token)
        assert (r.status, r.json["code"]) == (401, "credentials.expired")

    with GenesysSimulator() as sim:
        api = sdk(sim)
        routing = gc.RoutingApi(api)
        routing.get_routing_queues()
        sim.expire_tokens()
        with pytest.raises(ApiException) as ei:
            routing.get_routing_queues()
        assert ei.value.status == 401 and json.loads(ei.value.body)["code"] == "credentials.expired"
        api.get_client_credentials_token("sim-client", "sim-secret")
        assert routing.get_routing_queues().total == 0


# --------------------------------------------------------------------------- rate limit
def test_rate_limit_429_with_retry_after_per_client():
    with GenesysSimulator(rate_limit_per_minute=60, burst=2) as sim:
        sim.add_client("other", "other-secret")
        token = sim.issue_token()
        statuses = [raw(sim, "GET", "/api/v2/routing/queues", token=token) for _ in range(3)]
        assert [r.status for r in statuses] == [200, 200, 429]
        r429 = statuses[2]
        assert r429.headers["retry-after"] == "1"
        assert r429.json["code"] == "too.many.requests" and r429.json["status"] == 429
        assert r429.headers["inin-ratelimit-allowed"] == "60"
        assert statuses[1].headers["inin-ratelimit-count"] == "2"
        assert sim.count_429 == 1
        # the token endpoint is not rate limited, and another client has its own bucket
        assert all(login(sim).status == 200 for _ in range(4))
        assert raw(sim, "GET", "/api/v2/routing/queues", token=sim.issue_token("other")).status == 200
        time.sleep(1.05)  # one token refilled
        assert raw(sim, "GET", "/api/v2/routing/queues", token=token).status == 200
        sim.set_rate_limit(600, 50)
        assert all(raw(sim, "GET", "/api/v2/routing/queues", token=token).status == 200 for _ in range(20))


# --------------------------------------------------------------------------- faults
def test_fault_times_status_and_retry_after(sim):
    q = sim.add_queue("Q")
    call = sim.add_call("connected", queue=q)
    token = sim.issue_token()
    sim.inject(method="POST", path=r"/replace/queue$", status=503, code="service.unavailable", times=2)
    sim.inject(method="GET", path=r"/routing/queues$", status=429, headers={"Retry-After": "7"}, times=1)
    path = replace_path(call.id, call.agent_participant_id)

    results = [raw(sim, "POST", path, token=token, body={"queueId": q.id}) for _ in range(3)]
    assert [r.status for r in results] == [503, 503, 202]
    assert results[0].json["code"] == "service.unavailable"
    assert results[0].json["contextId"] == results[0].headers["inin-correlation-id"]
    r = raw(sim, "GET", "/api/v2/routing/queues", token=token)
    assert (r.status, r.headers["retry-after"], r.json["code"]) == (429, "7", "too.many.requests")
    assert raw(sim, "GET", "/api/v2/routing/queues", token=token).status == 200
    assert sim.count_429 == 1

    sim.inject(method=None, path=r"/routing/queues", status=500, times=None)
    assert [raw(sim, "GET", "/api/v2/routing/queues", token=token).status for _ in range(3)] == [500] * 3
    sim.clear_faults()
    assert raw(sim, "GET", "/api/v2/routing/queues", token=token).status == 200


def test_fault_5xx_after_execution_models_genesys_did_it_anyway(sim):
    q = sim.add_queue("Q")
    call = sim.add_call("connected", queue=q)
    sim.inject(status=502, execute_before_fault=True)
    r = raw(
        sim, "POST", replace_path(call.id, call.agent_participant_id), token=sim.issue_token(), body={"queueId": q.id}
    )
    assert r.status == 502
    assert len(sim.transfers) == 1
    assert sim.call_json(call.id)["recentTransfers"][0]["state"] == "Complete"


@pytest.mark.parametrize("execute", [False, True])
def test_drop_connection(sim, execute):
    q = sim.add_queue("Q")
    call = sim.add_call("connected", queue=q)
    sim.inject(drop_connection=True, execute_before_fault=execute)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        raw(
            sim,
            "POST",
            replace_path(call.id, call.agent_participant_id),
            token=sim.issue_token(),
            body={"queueId": q.id},
        )
    (rec,) = sim.requests_matching("POST", r"/replace/queue$")
    assert rec.status is None and rec.json == {"queueId": q.id}
    assert len(sim.transfers) == (1 if execute else 0)


def test_hang_times_out_client_without_blocking_others(sim):
    sim.add_queue("Q")
    token = sim.issue_token()
    sim.inject(method="GET", path=r"/routing/queues$", status=None, hang=True)
    t0 = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout)):
        raw(sim, "GET", "/api/v2/routing/queues", token=token, timeout=0.4)
    assert time.monotonic() - t0 < 2
    assert raw(sim, "GET", "/api/v2/routing/queues", token=token).status == 200  # others still served
    # stop() releases hung handlers promptly
    t1 = time.monotonic()
    sim.inject(method="GET", path=r"/routing/queues$", status=None, hang=True)
    errors: list[BaseException] = []

    def hung_client() -> None:
        try:
            raw(sim, "GET", "/api/v2/routing/queues", token=token)
        except (OSError, http.client.HTTPException) as e:
            errors.append(e)

    th = threading.Thread(target=hung_client)
    th.start()
    time.sleep(0.2)
    sim.stop()
    th.join(3)
    assert not th.is_alive() and time.monotonic() - t1 < 3
    assert len(errors) == 1  # connection closed without a response


def test_latency_and_delay_fault_are_concurrent(sim):
    token = sim.issue_token()
    sim.set_latency(0.3)
    t0 = time.monotonic()
    assert login(sim).status == 200  # the token endpoint is delayed too
    assert time.monotonic() - t0 >= 0.3
    sim.set_latency(0.0)

    sim.inject(method="GET", path=r"/routing/queues$", status=None, delay=0.5, times=None)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=120) as pool:
        statuses = list(pool.map(lambda _: raw(sim, "GET", "/api/v2/routing/queues", token=token).status, range(120)))
    elapsed = time.monotonic() - t0
    assert statuses == [200] * 120
    assert elapsed < 3.0, elapsed  # served concurrently, not 120 x 0.5 s


def test_unknown_path_and_wrong_method(sim):
    token = sim.issue_token()
    r = raw(sim, "GET", "/api/v2/nope", token=token)
    assert (r.status, r.json["code"]) == (404, "not.found")
    r = raw(sim, "DELETE", "/api/v2/routing/queues", token=token)
    assert r.status == 405
    call = sim.add_call("connected")
    r = raw(sim, "GET", replace_path(call.id, call.agent_participant_id), token=token)
    assert r.status == 405


def test_seed_demo_and_request_log(sim):
    seed = seed_demo(sim)
    assert {c for c in seed.calls} == {"connected", "ivr", "queued", "alerting", "ended", "conference", "message"}
    assert sum(q.name == "Support_Tier2" for q in seed.queues) == 2
    assert seed.calls["connected"].id in seed.summary()
    api = gc.ConversationsApi(sdk(sim))
    conv = api.get_conversations_call(seed.calls["connected"].id)
    assert [p.purpose for p in conv.participants].count("agent") == 3
    (rec,) = sim.requests_matching("GET", r"/conversations/calls/")
    assert rec.client_id == "sim-client" and rec.status == 200 and rec.query == {}
    sim.reset_requests()
    assert sim.requests == []
