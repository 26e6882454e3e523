"""Conversations of every media, supervisor legs and unknown states, as the SDK 269 reads them."""

from __future__ import annotations

import json
import uuid

import PureCloudPlatformClientV2 as gc
import pytest
from PureCloudPlatformClientV2.rest import ApiException

from bot.simulator import SCENARIOS, GenesysSimulator
from tests.integration.test_simulator_wire import outdated_values, raw, sdk, wire

MEDIA_ARRAY = {"chat": "messages", "email": "emails", "callback": "callbacks", "call": "calls"}
ARRAYS = ("calls", "callbacks", "chats", "cobrowsesessions", "emails", "messages", "screenshares", "videos")


@pytest.fixture
def sim():
    with GenesysSimulator(rate_limit_per_minute=None) as s:
        yield s


def media_states(p: gc.Participant) -> dict[str, list[str]]:
    return {a: [m.state for m in getattr(p, a)] for a in ARRAYS if getattr(p, a)}


@pytest.mark.parametrize("media", ["chat", "email", "callback"])
@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("connected", [("customer", "connected"), ("acd", "disconnected"), ("agent", "connected")]),
        ("queued", [("customer", "connected"), ("acd", "connected")]),
        ("ended", [("customer", "disconnected"), ("acd", "disconnected"), ("agent", "disconnected")]),
    ],
)
def test_digital_conversations_carry_their_media_array_and_are_not_calls(sim, media, scenario, expected):
    q = sim.add_queue("Q")
    bob = sim.add_user("Bob Agent", "bob@example.com", queues=[q])
    handle = sim.add_conversation(media, scenario, agent=bob, queue=q)
    token = sim.issue_token()

    r = raw(sim, "GET", f"/api/v2/conversations/{handle.id}", token=token)
    assert r.status == 200
    conv = wire(r.json, "Conversation")
    assert outdated_values(conv) == []
    key = MEDIA_ARRAY[media]
    assert [(p.purpose, media_states(p)) for p in conv.participants] == [
        (purpose, {key: [state]}) for purpose, state in expected
    ]
    agent = [p for p in conv.participants if p.purpose == "agent"]
    if agent:
        assert agent[0].user_id == bob.id and agent[0].id == handle.agent_participant_id
    assert conv.recent_transfers == []
    if scenario == "ended":
        assert conv.end_time is not None
    # the SDK's own call agrees, and the voice-only GET is a 404 with an error body
    api = gc.ConversationsApi(sdk(sim))
    assert api.get_conversation(handle.id).to_dict() == conv.to_dict()
    with pytest.raises(ApiException) as ei:
        api.get_conversations_call(handle.id)
    body = json.loads(ei.value.body)
    assert (ei.value.status, body["code"], body["status"]) == (404, "not.found", 404)
    assert body["contextId"] == ei.value.headers["ININ-Correlation-Id"]


def test_media_specific_fields(sim):
    q = sim.add_queue("Q")
    email = sim.add_conversation("email", "connected", queue=q, subject="Refund please")
    callback = sim.add_conversation("callback", "connected", queue=q, ani="tel:+15557654321")
    chat = sim.add_conversation("chat", "connected", queue=q)
    api = gc.ConversationsApi(sdk(sim))
    e = api.get_conversation(email.id).participants[-1].emails[0]
    assert (e.subject, e.state, e.direction) == ("Refund please", "connected", "inbound")
    cb = api.get_conversation(callback.id).participants[0].callbacks[0]
    assert cb.callback_numbers == ["+15557654321"] and cb.callback_user_name == "Pat Customer"
    m = api.get_conversation(chat.id).participants[-1].messages[0]
    assert (m.type, m.state) == ("webmessaging", "connected") and m.connected_time is not None


def test_voice_conversation_generic_and_call_views_agree(sim):
    call = sim.add_call("connected", queue=sim.add_queue("Q"), stale_agent_duplicates=1)
    token = sim.issue_token()
    generic = wire(raw(sim, "GET", f"/api/v2/conversations/{call.id}", token=token).json, "Conversation")
    voice = wire(raw(sim, "GET", f"/api/v2/conversations/calls/{call.id}", token=token).json, "CallConversation")
    assert [p.id for p in generic.participants] == [p.id for p in voice.participants]
    assert [p.calls[0].state for p in generic.participants] == [p.state for p in voice.participants]
    assert all(not p.messages and not p.emails and not p.callbacks for p in generic.participants)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "unknown_state"])
def test_every_voice_scenario_uses_only_known_fields_and_enums(sim, scenario):
    call = sim.add_call(scenario, queue=sim.add_queue("Q"))
    token = sim.issue_token()
    path = f"/api/v2/conversations/calls/{call.id}" if scenario != "message" else f"/api/v2/conversations/{call.id}"
    model = "CallConversation" if scenario != "message" else "Conversation"
    conv = wire(raw(sim, "GET", path, token=token).json, model)
    assert outdated_values(conv) == []
    generic = wire(raw(sim, "GET", f"/api/v2/conversations/{call.id}", token=token).json, "Conversation")
    assert outdated_values(generic) == []


@pytest.mark.parametrize(
    ("scenario", "field"),
    [("monitored", "monitored_participant_id"), ("coached", "coached_participant_id"),
     ("barged", "barged_participant_id")],
)  # fmt: skip
def test_supervisor_leg_points_at_the_agent_leg(sim, scenario, field):
    q = sim.add_queue("Q")
    sam = sim.add_user("Sam Supervisor", "sam@example.com", routing_status="OFF_QUEUE")
    call = sim.add_call(scenario, queue=q, supervisor=sam)
    api = gc.ConversationsApi(sdk(sim))

    conv = api.get_conversations_call(call.id)
    live_agents = [p for p in conv.participants if p.purpose == "agent" and p.state == "connected"]
    assert len(live_agents) == 2  # two connected agent-purpose legs ...
    agent, sup = live_agents
    assert agent.id == call.agent_participant_id and sup.id == call.supervisor_participant_id
    assert getattr(sup, field) == agent.id  # ... one of which watches the other
    assert sup.user.id == sam.id and sup.queue is None
    others = {"monitored_participant_id", "coached_participant_id", "barged_participant_id"} - {field}
    assert all(getattr(sup, f) is None for f in others)
    assert all(getattr(agent, f) is None for f in (field, *others))
    assert (sup.barged_time is not None) == (scenario == "barged")

    generic = api.get_conversation(call.id)
    g_sup = next(p for p in generic.participants if p.id == sup.id)
    assert getattr(g_sup, field) == agent.id and g_sup.calls[0].state == "connected"


def test_unknown_participant_state_reads_as_outdated_sdk_version(sim):
    call = sim.add_call("unknown_state", queue=sim.add_queue("Q"))
    token = sim.issue_token()
    r = raw(sim, "GET", f"/api/v2/conversations/calls/{call.id}", token=token)
    agent_json = next(p for p in r.json["participants"] if p["id"] == call.agent_participant_id)
    assert agent_json["state"] == "quantum"
    api = gc.ConversationsApi(sdk(sim))
    agent = next(p for p in api.get_conversations_call(call.id).participants if p.id == call.agent_participant_id)
    assert agent.state == "outdated_sdk_version" and agent.end_time is None
    generic = next(p for p in api.get_conversation(call.id).participants if p.id == call.agent_participant_id)
    assert generic.calls[0].state == "outdated_sdk_version"

    chat = sim.add_conversation("chat", "unknown_state", queue=sim.add_queue("Q2"))
    msg = next(p for p in api.get_conversation(chat.id).participants if p.id == chat.agent_participant_id)
    assert msg.messages[0].state == "outdated_sdk_version"

    # the switch works on any leg of any conversation too
    other = sim.add_call("connected", queue=sim.add_queue("Q3"))
    sim.set_participant_state(other.id, other.customer_participant_id, "teleported")
    customer = api.get_conversations_call(other.id).participants[0]
    assert customer.state == "outdated_sdk_version"


def test_impossible_combinations_are_refused(sim):
    with pytest.raises(ValueError):
        sim.add_conversation("chat", "ivr")
    with pytest.raises(ValueError):
        sim.add_conversation("chat", "monitored")
    with pytest.raises(ValueError):
        sim.add_conversation("fax", "connected")
    with pytest.raises(ValueError):
        sim.add_call("teleported")
    call = sim.add_conversation("voice", "connected")
    assert call.media == "call"
    with pytest.raises(ValueError):
        sim.add_conversation("call", conversation_id=call.id)


def test_unknown_conversation_is_404_on_both_reads(sim):
    token = sim.issue_token()
    for path in ("/api/v2/conversations/", "/api/v2/conversations/calls/"):
        r = raw(sim, "GET", path + str(uuid.uuid4()), token=token)
        assert (r.status, r.json["code"]) == (404, "not.found")
        assert r.json["contextId"] == r.headers["inin-correlation-id"]
