"""Queue listing semantics, the side-panel controls and the demo seed."""

from __future__ import annotations

import PureCloudPlatformClientV2 as gc
import pytest

from bot.simulator import GenesysSimulator, demo_id, seed_demo
from tests.integration.test_simulator_wire import raw, sdk, wire


@pytest.fixture
def sim():
    with GenesysSimulator(rate_limit_per_minute=None) as s:
        yield s


# --------------------------------------------------------------------------- GET /routing/queues
@pytest.fixture
def queues(sim):
    made = [
        sim.add_queue("Support_Tier1"),
        sim.add_queue("Support_Tier2"),
        sim.add_queue("Support_Tier2", division="EMEA"),
        sim.add_queue("Billing_Support"),
        sim.add_queue("Sales"),
        sim.add_queue("Sup*port"),
    ]
    return made


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("*", ["Billing_Support", "Sales", "Sup*port", "Support_Tier1", "Support_Tier2", "Support_Tier2"]),
        ("**", ["Billing_Support", "Sales", "Sup*port", "Support_Tier1", "Support_Tier2", "Support_Tier2"]),
        ("support_tier2", ["Support_Tier2", "Support_Tier2"]),  # exact, case-insensitive
        ("Support", []),  # no wildcard: no partial match
        ("support*", ["Support_Tier1", "Support_Tier2", "Support_Tier2"]),
        ("*SUPPORT", ["Billing_Support"]),
        ("*support*", ["Billing_Support", "Support_Tier1", "Support_Tier2", "Support_Tier2"]),
        ("**tier1**", ["Support_Tier1"]),
        ("Sup*port", ["Sup*port"]),  # an inner asterisk is literal
        ("*ales", ["Sales"]),
        ("nothing*", []),
    ],
)
def test_queue_name_filter_wildcards(sim, queues, name, expected):
    listing = gc.RoutingApi(sdk(sim)).get_routing_queues(name=name, page_size=100)
    assert [q.name for q in listing.entities] == expected
    assert listing.total == len(expected)


def test_queue_filter_divisions_ids_and_paging(sim, queues):
    routing = gc.RoutingApi(sdk(sim))
    home = queues[0].division_id
    emea = queues[2].division_id
    assert [q.id for q in routing.get_routing_queues(name="*tier2", division_id=[emea]).entities] == [queues[2].id]
    both = routing.get_routing_queues(name="*", division_id=[home, emea], page_size=100)
    assert both.total == 6
    assert routing.get_routing_queues(division_id=["*"]).total == 6
    seen = []
    for page in (1, 2, 3):
        listing = routing.get_routing_queues(name="*", page_size=2, page_number=page, sort_order="desc")
        assert (listing.total, listing.page_count) == (6, 3)
        assert "name=%2A" in listing.self_uri and (listing.next_uri is None) == (page == 3)
        seen += [q.name for q in listing.entities]
    assert seen == sorted((q.name for q in queues), key=str.lower, reverse=True)
    by_id = routing.get_routing_queues(id=[queues[1].id, queues[4].id])
    assert sorted(q.name for q in by_id.entities) == ["Sales", "Support_Tier2"]
    r = raw(sim, "GET", "/api/v2/routing/queues?pageNumber=0", token=sim.issue_token())
    assert (r.status, r.json["code"]) == (400, "invalid.value")
    r = raw(sim, "GET", "/api/v2/routing/queues?pageSize=ten", token=sim.issue_token())
    assert (r.status, r.json["code"]) == (400, "bad.request")


def test_queue_member_counts_follow_simulated_users(sim):
    q = sim.add_queue("Q", member_count=9, joined_member_count=7)
    routing = gc.RoutingApi(sdk(sim))
    assert (routing.get_routing_queue(q.id).member_count, routing.get_routing_queue(q.id).joined_member_count) == (9, 7)
    sim.add_user("A", "a@example.com", queues=[q])
    sim.add_user("B", "b@example.com", queues=[q], state="inactive")
    got = routing.get_routing_queue(q.id)
    assert (got.member_count, got.joined_member_count) == (2, 1)
    wire(raw(sim, "GET", f"/api/v2/routing/queues/{q.id}", token=sim.issue_token()).json, "Queue")
    wire(raw(sim, "GET", "/api/v2/routing/queues", token=sim.issue_token()).json, "QueueEntityListing")


# --------------------------------------------------------------------------- side panel
def test_live_conversations_and_queue_stats(sim):
    support, billing = sim.add_queue("Support"), sim.add_queue("Billing")
    bob = sim.add_user("Bob Agent", "bob@example.com", queues=[support])
    sim.add_user("Dave Agent", "dave@example.com", queues=[support, billing])
    sim.add_user("Heidi Agent", "heidi@example.com", queues=[support], routing_status="OFF_QUEUE")
    call = sim.add_conversation("call", "connected", agent=bob, queue=support, started_seconds_ago=300)
    chat = sim.add_conversation("chat", "queued", queue=support, started_seconds_ago=200)
    cb = sim.add_conversation("callback", "alerting", agent="Dave Agent", queue=billing, started_seconds_ago=100)
    mon = sim.add_conversation("call", "monitored", agent="Judy", supervisor="Sam", queue=billing,
                               started_seconds_ago=50)  # fmt: skip
    ended = sim.add_conversation("email", "ended", queue=support)

    rows = {r.id: r for r in sim.live_conversations()}
    assert ended.id not in rows and list(rows) == [call.id, chat.id, cb.id, mon.id]
    assert (rows[call.id].media, rows[call.id].state, rows[call.id].agent_name, rows[call.id].queue_name) == (
        "call", "connected", "Bob Agent", "Support")  # fmt: skip
    assert rows[call.id].agent_participant_id == call.agent_participant_id
    assert (rows[chat.id].media, rows[chat.id].state, rows[chat.id].agent_name) == ("chat", "waiting", None)
    assert (rows[cb.id].media, rows[cb.id].state, rows[cb.id].agent_name) == ("callback", "alerting", "Dave Agent")
    assert (rows[mon.id].agent_name, rows[mon.id].supervisor_name) == ("Judy", "Sam")

    stats = {s.name: s for s in sim.queue_stats()}
    s = stats["Support"]
    assert (s.members, s.on_queue, s.available, s.interacting, s.waiting) == (3, 2, 1, 1, 1)
    assert s.estimated_wait_seconds == 150  # a new arrival is 2nd in line: ceil((1 - 1 + 1) x 300 / 2)
    assert (stats["Billing"].waiting, stats["Billing"].interacting) == (0, 1)

    sim.end_conversation(call.id)
    sim.end_conversation(chat.id)
    assert [r.id for r in sim.live_conversations()] == [cb.id, mon.id]
    s = {s.name: s for s in sim.queue_stats()}["Support"]
    assert (s.available, s.interacting, s.waiting) == (2, 0, 0)
    with pytest.raises(KeyError):
        sim.end_conversation("nope")


def test_transfer_state_shows_in_the_side_panel(sim):
    q = sim.add_queue("Q")
    call = sim.add_call("connected", queue=q)
    sim.set_transfer_outcome(call.id, "pending")
    raw(sim, "POST", f"/api/v2/conversations/{call.id}/participants/{call.agent_participant_id}/replace/queue",
        token=sim.issue_token(), body={"queueId": q.id})  # fmt: skip
    (row,) = [r for r in sim.live_conversations() if r.id == call.id]
    assert (row.state, row.transfer_state) == ("connected", "Pending")


def test_update_user(sim):
    q = sim.add_queue("Q")
    u = sim.add_user("Bob Agent", "bob@example.com")
    sim.update_user(u.id, queues=[q], station=False, state="inactive", routing_status="OFF_QUEUE")
    assert (u.queue_ids, u.station, u.state, u.routing_status) == ({q.id}, False, "inactive", "OFF_QUEUE")
    assert sim.user("Bob Agent") is u and sim.users == [u]
    with pytest.raises(ValueError):
        sim.update_user(u, routing_status="ASLEEP")


# --------------------------------------------------------------------------- demo seed
def test_seed_demo_org(sim):
    seed = seed_demo(sim)
    assert {(q.name, q.division_name) for q in seed.queues} == {
        ("Support_Tier1", "Home"), ("Support_Tier2", "Home"), ("Billing", "Home"), ("Sales", "Home"),
        ("Escalations", "Home"), ("Support_Tier2", "EMEA")}  # fmt: skip
    assert seed.users["alice"].email == "alice@example.com" and seed.users["alice"].name == "Alice Agent"
    assert seed.users["bob"].id == demo_id("user:bob")
    assert seed.conversations["bob_call"].id == demo_id("conversation:bob_call")
    assert seed.calls["connected"].id == demo_id("call:connected")
    statuses = {u.routing_status for u in seed.users.values()}
    assert statuses >= {"IDLE", "OFF_QUEUE", "NOT_RESPONDING"}
    assert {c.media for c in seed.conversations.values()} == {"call", "message", "email", "callback"}
    assert sim.world.auto_answer is not None

    # Bob: one voice call among his chats and emails
    api = gc.AnalyticsApi(sdk(sim))
    q = gc.ConversationActivityQuery()
    q.metrics = [wire({"metric": "oInteracting", "details": True}, "ConversationActivityQueryMetric")]
    q.group_by = ["userId"]
    q.filter = wire({"type": "and", "predicates": [{"dimension": "userId", "value": seed.users["bob"].id}]},
                    "ConversationActivityQueryFilter")  # fmt: skip
    entities = api.post_analytics_conversations_activity_query(q).results[0].entities
    voice = [e.conversation_id for e in entities if e.media_type == "voice"]
    assert voice == [seed.conversations["bob_call"].id] and len(entities) == 3

    # queue health is uneven: waiting work in Support_Tier1 with nobody free, an agent free in Tier2
    stats = {(s.name, s.division_name): s for s in sim.queue_stats()}
    tier1 = stats[("Support_Tier1", "Home")]
    assert tier1.waiting >= 3 and tier1.available == 0 and tier1.estimated_wait_seconds > 0
    assert stats[("Support_Tier2", "Home")].available >= 1

    # the monitored call has two connected agent-purpose legs, one of them the monitor
    mon = gc.ConversationsApi(sdk(sim)).get_conversations_call(seed.conversations["monitored"].id)
    agents = [p for p in mon.participants if p.purpose == "agent" and p.state == "connected"]
    assert len(agents) == 2 and agents[1].monitored_participant_id == agents[0].id
    assert "bob@example.com" in seed.summary() and seed.conversations["bob_chat"].id in seed.summary()

    again = seed_demo(sim)  # idempotent
    assert again.users["bob"] is seed.users["bob"] and again.conversations == {}
    assert len(sim.users) == len(seed.users)
