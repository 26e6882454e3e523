"""Transfers in the simulator: to an agent, to an address, to a queue on every media, their
validation, and the outcome controls (delayed completion, failure after acceptance, auto-answer)."""

from __future__ import annotations

import json
import time
import uuid

import PureCloudPlatformClientV2 as gc
import pytest
from PureCloudPlatformClientV2.rest import ApiException

from bot.simulator import GenesysSimulator
from tests.integration.test_simulator_wire import raw, sdk, wire


@pytest.fixture
def sim():
    with GenesysSimulator(rate_limit_per_minute=None) as s:
        yield s


def path(cid: str, pid: str | None, tail: str) -> str:
    return f"/api/v2/conversations/{cid}/participants/{pid}/{tail}"


def agent_body(**fields: object) -> gc.TransferToAgentRequest:
    b = gc.TransferToAgentRequest()
    for k, v in fields.items():
        setattr(b, k, v)
    return b


def address_body(address: str) -> gc.TransferToAddressRequest:
    b = gc.TransferToAddressRequest()
    b.address = address
    return b


def queue_body(queue_id: str) -> gc.TransferToQueueRequest:
    b = gc.TransferToQueueRequest()
    b.queue_id = queue_id
    return b


def call_view(sim: GenesysSimulator, cid: str) -> gc.CallConversation:
    return wire(sim.call_json(cid), "CallConversation")


def leg(conv, pid):
    return next(p for p in conv.participants if p.id == pid)


def wait_until(check, timeout: float = 2.0):
    """Poll ``check`` (returns a value or None) every 20 ms until it returns something."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


# --------------------------------------------------------------------------- replace/agent
def test_replace_agent_with_sdk_replaces_the_leg_and_records_the_user(sim):
    q = sim.add_queue("Q")
    alice = sim.add_user("Alice Agent", "alice@example.com", queues=[q])
    bob = sim.add_user("Bob Agent", "bob@example.com", queues=[q])
    call = sim.add_call("connected", queue=q, agent_name="Alice Agent")
    api = gc.ConversationsApi(sdk(sim))

    assert api.post_conversation_participant_replace_agent(call.id, call.agent_participant_id,
                                                           agent_body(user_id=bob.id)) is None  # fmt: skip

    (post,) = sim.requests_matching("POST", r"/replace/agent$")
    assert (post.status, post.json, post.body) == (202, {"userId": bob.id}, json.dumps({"userId": bob.id}).encode())
    conv = api.get_conversations_call(call.id)
    old = leg(conv, call.agent_participant_id)
    assert (old.state, old.disconnect_type, old.user.id) == ("terminated", "transfer", alice.id)
    new = conv.participants[-1]
    assert (new.purpose, new.state, new.user.id, new.name) == ("user", "connected", bob.id, "Bob Agent")
    assert new.connected_time is not None and new.end_time is None
    (t,) = conv.recent_transfers
    assert (t.state, t.destination.user_id, t.destination.address, t.transfer_type) == (
        "Complete", bob.id, None, "Unattended")  # fmt: skip
    assert t.initiator.user_id == alice.id and t.modified_by.id == "sim-client"
    (executed,) = sim.transfers
    assert (executed.kind, executed.user_id, executed.queue_id) == ("agent", bob.id, None)
    assert sim.user(bob.id).routing_status == "IDLE"
    assert gc.UsersApi(sdk(sim)).get_user_routingstatus(bob.id).status == "INTERACTING"


def test_replace_agent_by_user_name_or_display_name_and_alerting_until_answered(sim):
    q = sim.add_queue("Q")
    bob = sim.add_user("Bob Agent", "Bob@Example.com")
    carol = sim.add_user("Carol Agent", "carol@example.com")
    token = sim.issue_token()
    sim.set_agent_answer(None)  # nobody picks up
    first = sim.add_call("connected", queue=q)
    r = raw(sim, "POST", path(first.id, first.agent_participant_id, "replace/agent"), token=token,
            body={"userName": "bob@EXAMPLE.com"})  # fmt: skip
    assert (r.status, r.raw) == (202, b"")
    new = call_view(sim, first.id).participants[-1]
    assert (new.user.id, new.state, new.connected_time) == (bob.id, "alerting", None)

    sim.set_agent_answer(0.15)
    second = sim.add_call("connected", queue=q)
    r = raw(sim, "POST", path(second.id, second.agent_participant_id, "replace/agent"), token=token,
            body={"userDisplayName": "carol agent", "transferType": "Attended"})  # fmt: skip
    assert r.status == 202
    conv = call_view(sim, second.id)
    assert (conv.participants[-1].user.id, conv.participants[-1].state) == (carol.id, "alerting")
    assert conv.recent_transfers[0].transfer_type == "Attended"
    assert wait_until(lambda: call_view(sim, second.id).participants[-1].state == "connected")


def test_replace_agent_to_voicemail(sim):
    bob = sim.add_user("Bob Agent", "bob@example.com", station=False)
    call = sim.add_call("connected", queue=sim.add_queue("Q"))
    r = raw(sim, "POST", path(call.id, call.agent_participant_id, "replace/agent"), token=sim.issue_token(),
            body={"userId": bob.id, "voicemail": True})  # fmt: skip
    assert r.status == 202
    conv = call_view(sim, call.id)
    assert (conv.participants[-1].purpose, conv.participants[-1].user.id) == ("voicemail", bob.id)
    assert conv.recent_transfers[0].state == "Complete"


def test_voice_transfer_to_a_user_without_station_is_accepted_then_fails(sim):
    erin = sim.add_user("Erin Agent", "erin@example.com", station=False)
    call = sim.add_call("connected", queue=sim.add_queue("Q"))
    sim.set_transfer_delay(0.15)
    r = raw(sim, "POST", path(call.id, call.agent_participant_id, "replace/agent"), token=sim.issue_token(),
            body={"userId": erin.id})  # fmt: skip
    assert r.status == 202
    assert call_view(sim, call.id).recent_transfers[0].state == "Pending"
    conv = wait_until(lambda: (c := call_view(sim, call.id)).recent_transfers[0].state == "Failed" and c)
    assert conv, "the transfer never failed"
    assert leg(conv, call.agent_participant_id).state == "connected"
    assert sim.transfers == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"userId": "00000000-0000-4000-8000-000000000000"}, 400, "invalid.value"),
        ({}, 400, "invalid.value"),
        ({"userName": "nobody@example.com"}, 400, "invalid.value"),
        ({"userId": "INACTIVE"}, 400, "invalid.value"),
        ({"userId": "DELETED"}, 400, "invalid.value"),
        ({"userId": "BOB", "voicemail": "yes"}, 400, "invalid.value"),
        ({"userId": "BOB", "transferType": "blind"}, 400, "invalid.value"),
        ({"userId": "BOB", "keepInternalMessageAlive": "no"}, 400, "invalid.value"),
        ({"userId": 42}, 400, "invalid.value"),
        ({"userId": "ALICE"}, 400, "bad.request"),  # already holds the call
        (b"{not json", 400, "bad.request"),
        (b"", 400, "bad.request"),
        (b"[1, 2]", 400, "bad.request"),
    ],
)
def test_replace_agent_validation(sim, body, status, code):
    q = sim.add_queue("Q")
    ids = {
        "BOB": sim.add_user("Bob Agent", "bob@example.com").id,
        "INACTIVE": sim.add_user("Ivan", "ivan@example.com", state="inactive").id,
        "DELETED": sim.add_user("Dan", "dan@example.com", state="deleted").id,
        "ALICE": sim.add_user("Alice Agent", "alice@example.com").id,
    }
    if isinstance(body, dict):
        body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    call = sim.add_call("connected", queue=q, agent_name="Alice Agent")
    r = raw(sim, "POST", path(call.id, call.agent_participant_id, "replace/agent"), token=sim.issue_token(),
            body=body, headers={"Content-Type": "application/json"})  # fmt: skip
    assert (r.status, r.json["code"], r.json["status"]) == (status, code, status)
    assert r.json["contextId"] == r.headers["inin-correlation-id"] and r.json["message"]
    assert sim.transfers == [] and call_view(sim, call.id).recent_transfers == []


def test_transfer_preconditions_apply_to_every_transfer_endpoint(sim):
    q = sim.add_queue("Q")
    bob = sim.add_user("Bob Agent", "bob@example.com")
    sam = sim.add_user("Sam Supervisor", "sam@example.com")
    bodies = {"replace/agent": {"userId": bob.id}, "replace/queue": {"queueId": q.id},
              "transfer": {"address": "+15550001111"}}  # fmt: skip
    token = sim.issue_token()
    live = sim.add_call("monitored", queue=q, supervisor=sam)
    ended = sim.add_call("ended", queue=q)
    for tail, body in bodies.items():
        cases = [
            (str(uuid.uuid4()), live.agent_participant_id, 404, "not.found"),  # unknown conversation
            (live.id, str(uuid.uuid4()), 400, "bad.request"),  # unknown participant
            (live.id, live.customer_participant_id, 400, "bad.request"),  # the customer
            (live.id, live.supervisor_participant_id, 400, "bad.request"),  # the monitor
            (ended.id, ended.agent_participant_id, 400, "bad.request"),  # not connected
        ]
        for cid, pid, status, code in cases:
            r = raw(sim, "POST", path(cid, pid, tail), token=token, body=body)
            assert (tail, r.status, r.json["code"]) == (tail, status, code), r.json
        r = raw(sim, "POST", path(live.id, live.agent_participant_id, tail), token=token, body=b"x",
                headers={"Content-Type": "text/plain"})  # fmt: skip
        assert (r.status, r.json["code"]) == (415, "unsupported.media.type")
        r = raw(sim, "GET", path(live.id, live.agent_participant_id, tail), token=token)
        assert r.status == 405
    assert sim.transfers == []


# --------------------------------------------------------------------------- /transfer
def test_transfer_to_address_adds_an_external_leg(sim):
    call = sim.add_call("connected", queue=sim.add_queue("Q"))
    api = gc.ConversationsApi(sdk(sim))
    api.post_conversation_participant_transfer(call.id, call.agent_participant_id, address_body("+1 (555) 010-2000"))
    conv = api.get_conversations_call(call.id)
    assert leg(conv, call.agent_participant_id).state == "terminated"
    ext = conv.participants[-1]
    assert (ext.purpose, ext.state, ext.address, ext.direction) == ("external", "connected", "+1 (555) 010-2000",
                                                                   "outbound")  # fmt: skip
    (t,) = conv.recent_transfers
    assert (t.state, t.destination.address, t.destination.user_id) == ("Complete", "+1 (555) 010-2000", None)
    assert sim.transfers[0].kind == "address" and sim.transfers[0].address == "+1 (555) 010-2000"


def test_transfer_to_address_resolves_queue_and_user_names(sim):
    q = sim.add_queue("Billing")
    bob = sim.add_user("Bob Agent", "bob@example.com")
    token = sim.issue_token()
    to_queue = sim.add_call("connected", queue=sim.add_queue("Q"))
    assert raw(sim, "POST", path(to_queue.id, to_queue.agent_participant_id, "transfer"), token=token,
               body={"address": "Billing"}).status == 202  # fmt: skip
    conv = call_view(sim, to_queue.id)
    assert (conv.participants[-1].purpose, conv.participants[-1].queue.id) == ("acd", q.id)
    assert conv.recent_transfers[0].destination.address == "Billing"
    to_user = sim.add_call("connected", queue=q)
    assert raw(sim, "POST", path(to_user.id, to_user.agent_participant_id, "transfer"), token=token,
               body={"address": "Bob Agent"}).status == 202  # fmt: skip
    t = call_view(sim, to_user.id).recent_transfers[0]
    assert (t.destination.user_id, t.destination.address) == (bob.id, "Bob Agent")


@pytest.mark.parametrize("media", ["chat", "email", "callback"])
def test_transfer_to_address_is_voice_only(sim, media):
    conv = sim.add_conversation(media, "connected", queue=sim.add_queue("Q"))
    api = gc.ConversationsApi(sdk(sim))
    with pytest.raises(ApiException) as ei:
        api.post_conversation_participant_transfer(conv.id, conv.agent_participant_id, address_body("+15550001111"))
    body = json.loads(ei.value.body)
    assert (ei.value.status, body["code"]) == (400, "bad.request") and "voice" in body["message"]
    assert sim.transfers == []


@pytest.mark.parametrize("body", [{}, {"address": ""}, {"address": "   "}, {"address": "Nowhere Land"},
                                  {"address": 15550001111}])  # fmt: skip
def test_transfer_to_address_validation(sim, body):
    call = sim.add_call("connected", queue=sim.add_queue("Q"))
    r = raw(sim, "POST", path(call.id, call.agent_participant_id, "transfer"), token=sim.issue_token(), body=body)
    assert (r.status, r.json["code"]) == (400, "invalid.value")


# --------------------------------------------------------------------------- replace/queue on every media
@pytest.mark.parametrize("media", ["chat", "email", "callback"])
def test_replace_queue_works_on_digital_media(sim, media):
    src, dst = sim.add_queue("Src"), sim.add_queue("Dst")
    conv_handle = sim.add_conversation(media, "connected", queue=src)
    api = gc.ConversationsApi(sdk(sim))
    api.post_conversation_participant_replace_queue(conv_handle.id, conv_handle.agent_participant_id,
                                                    queue_body(dst.id))  # fmt: skip
    conv = api.get_conversation(conv_handle.id)
    old = leg(conv, conv_handle.agent_participant_id)
    media_of = {"chat": "messages", "email": "emails", "callback": "callbacks"}[media]
    assert old.end_time is not None and getattr(old, media_of)[0].state == "disconnected"
    assert getattr(old, media_of)[0].disconnect_type == "transfer"
    new = conv.participants[-1]
    assert (new.purpose, new.queue_id, getattr(new, media_of)[0].state) == ("acd", dst.id, "connected")
    (t,) = conv.recent_transfers
    assert (t.state, t.destination.address) == ("Complete", dst.id)
    assert [x.kind for x in sim.transfers] == ["queue"]


# --------------------------------------------------------------------------- outcome controls
def test_delayed_completion_goes_pending_active_complete(sim):
    q = sim.add_queue("Q")
    call = sim.add_call("connected", queue=q)
    sim.set_transfer_outcome(call.id, "complete", delay=0.4, active_after=0.2)
    t0 = time.monotonic()
    r = raw(sim, "POST", path(call.id, call.agent_participant_id, "replace/queue"), token=sim.issue_token(),
            body={"queueId": q.id})  # fmt: skip
    assert r.status == 202
    seen = []
    while time.monotonic() - t0 < 1.5:
        conv = call_view(sim, call.id)
        state = conv.recent_transfers[0].state
        agent_live = leg(conv, call.agent_participant_id).state == "connected"
        if not seen or seen[-1][0] != state:
            seen.append((state, agent_live, time.monotonic() - t0))
        if state == "Complete":
            break
        time.sleep(0.02)
    assert [(s, live) for s, live, _ in seen] == [("Pending", True), ("Active", True), ("Complete", False)]
    assert 0.2 <= seen[1][2] < 0.4 and seen[2][2] >= 0.4
    assert call_view(sim, call.id).participants[-1].purpose == "acd"
    assert len(sim.transfers) == 1  # accepted to complete


@pytest.mark.parametrize(("outcome", "final"), [("failed", "Failed"), ("canceled", "Canceled"),
                                                ("timeout", "Timeout")])  # fmt: skip
def test_failure_after_acceptance_leaves_the_call_with_the_agent(sim, outcome, final):
    q = sim.add_queue("Q")
    call = sim.add_call("connected", queue=q)
    sim.set_transfer_outcome(call.id, outcome, times=1, delay=0.15)
    api = gc.ConversationsApi(sdk(sim))
    assert api.post_conversation_participant_replace_queue(call.id, call.agent_participant_id, queue_body(q.id)) is None
    conv = api.get_conversations_call(call.id)
    assert conv.recent_transfers[0].state == "Pending"
    assert leg(conv, call.agent_participant_id).state == "connected"
    # a second command while the first is pending is refused
    with pytest.raises(ApiException) as ei:
        api.post_conversation_participant_replace_queue(call.id, call.agent_participant_id, queue_body(q.id))
    assert ei.value.status == 400
    time.sleep(0.2)
    conv = api.get_conversations_call(call.id)
    assert conv.recent_transfers[0].state == final
    agent = leg(conv, call.agent_participant_id)
    assert (agent.state, agent.end_time) == ("connected", None)
    assert [p.purpose for p in conv.participants].count("acd") == 1  # only the original, ended one
    assert sim.transfers == []
    # times=1: the next command completes again
    api.post_conversation_participant_replace_queue(call.id, call.agent_participant_id, queue_body(q.id))
    conv = api.get_conversations_call(call.id)
    assert [t.state for t in conv.recent_transfers] == [final, "Complete"]


def test_pending_and_active_outcomes_never_finish_and_default_plan_applies_everywhere(sim):
    q = sim.add_queue("Q")
    token = sim.issue_token()
    sim.set_transfer_outcome(None, "active", times=2, delay=0.05)
    calls = [sim.add_call("connected", queue=q) for _ in range(3)]
    for c in calls:
        assert raw(sim, "POST", path(c.id, c.agent_participant_id, "replace/queue"), token=token,
                   body={"queueId": q.id}).status == 202  # fmt: skip
    time.sleep(0.1)
    states = [call_view(sim, c.id).recent_transfers[0].state for c in calls]
    assert states == ["Active", "Active", "Complete"]
    assert [leg(call_view(sim, c.id), c.agent_participant_id).state for c in calls] == [
        "connected", "connected", "terminated"]  # fmt: skip
    pending = sim.add_call("connected", queue=q)
    sim.set_transfer_outcome(pending.id, "pending")
    raw(sim, "POST", path(pending.id, pending.agent_participant_id, "replace/queue"), token=token,
        body={"queueId": q.id})  # fmt: skip
    assert call_view(sim, pending.id).recent_transfers[0].state == "Pending"
    with pytest.raises(ValueError):
        sim.set_transfer_outcome(pending.id, "exploded")


def test_recent_transfers_keep_the_last_twenty(sim):
    q1, q2 = sim.add_queue("Q1"), sim.add_queue("Q2")
    call = sim.add_call("queued", queue=q1)
    token = sim.issue_token()
    pid = call.acd_participant_id
    for i in range(22):
        assert raw(sim, "POST", path(call.id, pid, "replace/queue"), token=token,
                   body={"queueId": (q2 if i % 2 == 0 else q1).id}).status == 202  # fmt: skip
        pid = sim.call_json(call.id)["participants"][-1]["id"]
    conv = call_view(sim, call.id)
    assert len(conv.recent_transfers) == 20 and all(t.state == "Complete" for t in conv.recent_transfers)
    assert len(sim.transfers) == 22


# --------------------------------------------------------------------------- auto-answer
def test_auto_answer_lets_an_idle_member_pick_up_a_queue_transfer(sim):
    src, dst = sim.add_queue("Src"), sim.add_queue("Dst")
    sim.add_user("Aaron Away", "aaron@example.com", routing_status="OFF_QUEUE", queues=[dst])
    sim.add_user("Abby NoStation", "abby@example.com", station=False, queues=[dst])
    dave = sim.add_user("Dave Agent", "dave@example.com", queues=[dst])
    call = sim.add_call("connected", queue=src)
    sim.set_auto_answer(0.15)
    api = gc.ConversationsApi(sdk(sim))
    api.post_conversation_participant_replace_queue(call.id, call.agent_participant_id, queue_body(dst.id))
    conv = api.get_conversations_call(call.id)
    assert (conv.participants[-1].purpose, conv.participants[-1].state) == ("acd", "connected")
    assert [s.waiting for s in sim.queue_stats() if s.queue_id == dst.id] == [1]

    def answered():
        c = api.get_conversations_call(call.id)
        return c if c.participants[-1].purpose == "agent" else None

    conv = wait_until(answered)
    assert conv, "nobody answered"
    agent = conv.participants[-1]
    assert (agent.user.id, agent.state, agent.queue.id) == (dave.id, "connected", dst.id)
    acd = conv.participants[-2]
    assert (acd.purpose, acd.state, acd.disconnect_type) == ("acd", "terminated", "transfer")
    assert gc.UsersApi(sdk(sim)).get_user_routingstatus(dave.id).status == "INTERACTING"


def test_auto_answer_waits_while_nobody_is_idle_and_is_off_by_default(sim):
    src, dst = sim.add_queue("Src"), sim.add_queue("Dst")
    busy = sim.add_user("Busy Agent", "busy@example.com", queues=[dst])
    token = sim.issue_token()
    first = sim.add_call("connected", queue=src)
    raw(sim, "POST", path(first.id, first.agent_participant_id, "replace/queue"), token=token, body={"queueId": dst.id})
    time.sleep(0.05)
    assert sim.call_json(first.id)["participants"][-1]["purpose"] == "acd"  # off by default

    sim.set_auto_answer(0.0)
    sim.add_call("connected", queue=dst, agent_name="Busy Agent")  # busy is now INTERACTING
    second = sim.add_call("connected", queue=src)
    raw(sim, "POST", path(second.id, second.agent_participant_id, "replace/queue"), token=token,
        body={"queueId": dst.id})  # fmt: skip
    assert sim.call_json(second.id)["participants"][-1]["purpose"] == "acd"
    sim.update_user(busy, routing_status="IDLE")
    sim.add_user("Free Agent", "free@example.com", queues=[dst])
    last = sim.call_json(second.id)["participants"][-1]
    assert (last["purpose"], last["name"]) == ("agent", "Free Agent")
