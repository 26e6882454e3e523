"""SdkGenesysClient against the Genesys simulator: every port method, retries, tokens and write safety."""

from __future__ import annotations

import inspect
import json
import threading
import time

import pytest

from bot.domain.conversation import Media
from bot.domain.target import Target, TargetKind
from bot.genesys.client import SdkGenesysClient
from bot.ports.genesys import (
    GenesysAuthError,
    GenesysBadRequest,
    GenesysForbidden,
    GenesysNotACall,
    GenesysNotFound,
    GenesysPort,
    GenesysRateLimited,
    GenesysTimeout,
    GenesysUnavailable,
    Priority,
)
from bot.simulator import GenesysSimulator
from tests.integration.genesys_helpers import CALLS, GENERIC, REPLACE, TOKEN, closed_port, new_id, queue_target

pytest_plugins = ["tests.integration.genesys_fixtures"]


def test_implements_every_port_method_with_its_signature() -> None:
    for name, declared in vars(GenesysPort).items():
        if inspect.isfunction(declared) and not name.startswith("_"):
            assert inspect.signature(getattr(SdkGenesysClient, name)) == inspect.signature(declared), name


def test_sdk_logging_is_silenced(client: SdkGenesysClient) -> None:
    import logging

    assert logging.getLogger("PureCloudPlatformClientV2").disabled


# -- reading conversations -----------------------------------------------------------------------


def test_call_maps_stale_duplicate_agents(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Support_Tier2", division="Home")
    c = sim.add_call(scenario="connected", queue=q, agent_name="Alice", stale_agent_duplicates=2)

    call = client.get_conversation(c.id)

    assert call.id == c.id and call.media is Media.CALL
    agents = [p for p in call.participants if p.purpose == "agent"]
    assert len(agents) == 3
    assert all(a.name == "Alice" and a.user_id == c.agent_user_id for a in agents)
    live = [a for a in agents if a.is_live]
    assert [a.id for a in live] == [c.agent_participant_id]
    assert live[0].connected_time is not None and live[0].connected_time.tzinfo is not None
    assert live[0].queue_id == q.id and live[0].held is False
    stale = [a for a in agents if not a.is_live]
    assert {a.id for a in stale} == set(c.stale_agent_participant_ids)
    assert all(a.state == "terminated" and a.connected_time is None and a.end_time is not None for a in stale)
    customer = next(p for p in call.participants if p.purpose == "customer")
    assert customer.id == c.customer_participant_id and customer.is_live
    assert call.recent_transfers == ()
    # A voice call needs one read: no generic read (which needs another permission).
    assert len(sim.requests_matching("GET", GENERIC)) == 0


@pytest.mark.parametrize(
    ("media", "expected"), [("chat", Media.CHAT), ("email", Media.EMAIL), ("callback", Media.CALLBACK)]
)
def test_other_media_are_read_through_the_generic_conversation(
    sim: GenesysSimulator, client: SdkGenesysClient, media: str, expected: Media
) -> None:
    q = sim.add_queue("Support_Tier2")
    bob = sim.add_user("Bob Agent", "bob@example.com", queues=[q])
    c = sim.add_conversation(media, "connected", agent=bob, queue=q)

    conv = client.get_conversation(c.id)

    assert conv.id == c.id and conv.media is expected
    assert [r.status for r in sim.requests_matching("GET", CALLS)] == [404]
    assert [r.status for r in sim.requests_matching("GET", GENERIC)] == [200]
    agent = next(p for p in conv.participants if p.id == c.agent_participant_id)
    assert agent.purpose == "agent" and agent.state == "connected" and agent.is_live
    assert agent.user_id == bob.id and agent.queue_id == q.id and agent.name == "Bob Agent"
    assert agent.connected_time is not None
    customer = next(p for p in conv.participants if p.id == c.customer_participant_id)
    assert customer.purpose == "customer"


def test_the_legacy_message_scenario_is_a_chat(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    c = sim.add_call(scenario="message")
    assert client.get_conversation(c.id).media is Media.CHAT


@pytest.mark.parametrize("scenario", ["monitored", "coached", "barged"])
def test_supervisor_legs_name_the_leg_they_watch(sim: GenesysSimulator, client, scenario: str) -> None:
    c = sim.add_call(scenario=scenario)
    conv = client.get_conversation(c.id)
    supervisor = next(p for p in conv.participants if p.id == c.supervisor_participant_id)
    assert supervisor.is_supervisor_leg
    field = {"monitored": "monitored", "coached": "coached", "barged": "barged"}[scenario]
    assert getattr(supervisor, f"{field}_participant_id") == c.agent_participant_id
    agent = next(p for p in conv.participants if p.id == c.agent_participant_id)
    assert not agent.is_supervisor_leg


@pytest.mark.parametrize("media", ["call", "chat"])
def test_an_unknown_leg_state_stays_unknown(sim: GenesysSimulator, client, media: str) -> None:
    c = sim.add_conversation(media, "unknown_state")
    conv = client.get_conversation(c.id)
    agent = next(p for p in conv.participants if p.id == c.agent_participant_id)
    assert agent.state == "outdated_sdk_version" and agent.end_time is None


def test_not_found_on_both_reads(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    with pytest.raises(GenesysNotFound) as missing:
        client.get_conversation(new_id())
    assert not isinstance(missing.value, GenesysNotACall)
    assert missing.value.status == 404 and missing.value.code == "not.found"
    assert missing.value.operation == "get_conversation"
    assert missing.value.correlation_id == sim.requests_matching("GET", GENERIC)[-1].correlation_id
    assert len(sim.requests_matching("GET", CALLS)) == 1


def test_a_media_the_bot_cannot_move_is_not_a_call(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    cid = new_id()
    body = {
        "id": cid,
        "participants": [{"id": new_id(), "purpose": "customer", "cobrowsesessions": [{"state": "connected"}]}],
    }
    sim.inject(method="GET", path=GENERIC, status=200, body=json.dumps(body).encode())
    with pytest.raises(GenesysNotACall) as err:
        client.get_conversation(cid)
    assert err.value.media == "co-browse" and err.value.operation == "get_conversation"
    assert "co-browse" in err.value.message


def test_forbidden_generic_read_names_the_view_permission(sim: GenesysSimulator, client) -> None:
    c = sim.add_conversation("chat", "connected")
    sim.inject(method="GET", path=GENERIC, status=403)
    with pytest.raises(GenesysForbidden) as err:
        client.get_conversation(c.id)
    assert err.value.operation == "get_conversation"
    assert "conversation:communication:view" in err.value.message


def test_forbidden_maps_with_correlation_id(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    c = sim.add_call()
    sim.inject(method="GET", path=CALLS, status=403)
    with pytest.raises(GenesysForbidden) as err:
        client.get_conversation(c.id)
    recorded = sim.requests_matching("GET", CALLS)
    assert len(recorded) == 1
    assert err.value.status == 403 and err.value.code == "missing.any.permissions"
    assert err.value.operation == "get_call"
    assert err.value.correlation_id == recorded[0].correlation_id
    assert "not allowed" in err.value.message


def test_get_retries_once_after_503(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    c = sim.add_call()
    sim.inject(method="GET", path=CALLS, status=503, times=1)
    assert client.get_conversation(c.id).id == c.id
    assert [r.status for r in sim.requests_matching("GET", CALLS)] == [503, 200]


def test_get_gives_up_after_a_second_503(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    c = sim.add_call()
    sim.inject(method="GET", path=CALLS, status=503, times=None)
    with pytest.raises(GenesysUnavailable) as err:
        client.get_conversation(c.id)
    assert err.value.maybe_executed is False and err.value.status == 503
    assert len(sim.requests_matching("GET", CALLS)) == 2


def test_get_retries_once_after_a_dropped_connection(sim: GenesysSimulator, client) -> None:
    c = sim.add_call()
    sim.inject_drop(method="GET", path=CALLS)
    assert client.get_conversation(c.id).id == c.id
    assert len(sim.requests_matching("GET", CALLS)) == 2


def test_get_hang_times_out(sim: GenesysSimulator, make_client) -> None:
    client = make_client(read_timeout=1.0)
    c = sim.add_call()
    sim.inject(method="GET", path=CALLS, status=None, hang=True)
    started = time.monotonic()
    with pytest.raises(GenesysTimeout) as err:
        client.get_conversation(c.id)
    assert time.monotonic() - started < 4.0
    assert err.value.maybe_executed is False and err.value.cause == "timeout"
    assert err.value.host == "127.0.0.1" and err.value.operation == "get_call"


def test_invalid_ids_are_refused_before_anything_is_sent(sim: GenesysSimulator, client) -> None:
    for bad in ("../../users/me", "", "6e1c5c1e-0000-4000-8000-00000000000Z"):
        with pytest.raises(GenesysBadRequest) as err:
            client.get_conversation(bad)
        assert err.value.operation == "get_call"
        with pytest.raises(GenesysBadRequest):
            client.get_queue(bad)
        with pytest.raises(GenesysBadRequest):
            client.get_user(bad)
    assert sim.requests_matching(None, r"^/api/") == []


# -- queues --------------------------------------------------------------------------------------


def test_list_queues_returns_one_page_at_a_time(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    for i in range(230):
        sim.add_queue(f"Q_{i:03d}", division="Sales" if i % 2 else "Home")
    sim.reset_requests()

    first = client.list_queues(page=1, page_size=100)
    last = client.list_queues(page=3, page_size=100)

    assert first.page_count == 3 and len(first.queues) == 100 and len(last.queues) == 30
    assert [q.name for q in first.queues][:2] == ["Q_000", "Q_001"]
    pages = sim.requests_matching("GET", r"^/api/v2/routing/queues$")
    assert [r.query["pageNumber"] for r in pages] == [["1"], ["3"]]
    assert all(r.query["pageSize"] == ["100"] for r in pages)
    sales = next(q for q in first.queues if q.name == "Q_001")
    assert sales.division_name == "Sales" and sales.division_id


def test_list_queues_by_name_and_get_queue(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Support_Tier2", division="Home")
    sim.add_queue("Support_Tier3")
    found = client.list_queues(name="Support_Tier2")
    assert [x.id for x in found.queues] == [q.id]
    assert found.queues[0].division_name == "Home"
    assert sim.requests_matching("GET", r"/routing/queues$")[-1].query["name"] == ["Support_Tier2"]
    assert client.list_queues(name="Nope").queues == []
    assert client.get_queue(q.id).name == "Support_Tier2"
    with pytest.raises(GenesysNotFound) as err:
        client.get_queue(new_id())
    assert err.value.operation == "get_queue"


def test_queue_health_in_one_request(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    busy = sim.add_queue("Busy")
    quiet = sim.add_queue("Quiet")
    for i in range(3):
        sim.add_user(f"Idle {i}", f"idle{i}@example.com", queues=[busy])
    sim.add_user("Away", "away@example.com", queues=[busy], routing_status="OFF_QUEUE")
    sim.add_conversation("call", "queued", queue=busy)
    sim.add_conversation("chat", "queued", queue=busy)

    health = client.queue_health([busy.id, quiet.id])

    assert health[busy.id].available == 3 and health[busy.id].waiting == 2
    assert health[quiet.id].available == 0 and health[quiet.id].waiting == 0
    (request,) = sim.requests_matching("POST", r"/analytics/queues/observations/query$")
    assert sorted(request.json["metrics"]) == ["oOnQueueUsers", "oWaiting"]
    assert request.json["filter"]["type"] == "or"
    assert {p["value"] for p in request.json["filter"]["predicates"]} == {busy.id, quiet.id}
    assert all(p["dimension"] == "queueId" for p in request.json["filter"]["predicates"])


def test_queue_health_batches_by_100(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    ids = [sim.add_queue(f"Q{i}").id for i in range(150)]
    health = client.queue_health(ids)
    assert set(health) == set(ids)
    requests = sim.requests_matching("POST", r"/analytics/queues/observations/query$")
    assert [len(r.json["filter"]["predicates"]) for r in requests] == [100, 50]


def test_estimated_wait(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Busy")
    sim.add_user("Idle", "idle@example.com", queues=[q], routing_status="INTERACTING")
    sim.add_conversation("call", "queued", queue=q)
    seconds = client.estimated_wait(q.id)
    assert seconds is None or seconds >= 0
    chat = client.estimated_wait(q.id, Media.CHAT)
    assert chat is None or chat >= 0
    paths = [r.path for r in sim.requests_matching("GET", r"estimatedwaittime$")]
    assert paths == [f"/api/v2/routing/queues/{q.id}/estimatedwaittime",
                     f"/api/v2/routing/queues/{q.id}/mediatypes/message/estimatedwaittime"]  # fmt: skip
    sim.inject(method="GET", path=r"estimatedwaittime$", status=200, body=b'{"results": []}')
    assert client.estimated_wait(q.id) is None
    sim.inject(method="GET", path=r"estimatedwaittime$", status=200,
               body=b'{"results": [{"intent": "ALL", "formula": "Best", "estimatedWaitTimeSeconds": 42}]}')  # fmt: skip
    assert client.estimated_wait(q.id) == 42.0


# -- users and what they are on ------------------------------------------------------------------


def test_find_user_by_email(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    bob = sim.add_user("Bob Agent", "bob@example.com")
    sim.add_user("Bobby", "bobby@example.com")
    found = client.find_user_by_email("bob@example.com")
    assert found is not None and found.id == bob.id and found.name == "Bob Agent"
    assert found.email == "bob@example.com" and found.active
    (request,) = sim.requests_matching("POST", r"/users/search$")
    assert request.json["query"] == [{"type": "EXACT", "fields": ["email"], "value": "bob@example.com"}]
    assert client.find_user_by_email("nobody@example.com") is None


def test_get_user_with_station_and_routing_status(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    bob = sim.add_user("Bob Agent", "bob@example.com", routing_status="IDLE")
    user = client.get_user(bob.id)
    assert (user.id, user.name, user.active, user.has_station, user.routing_status) == (
        bob.id, "Bob Agent", True, True, "IDLE"
    )  # fmt: skip
    (read,) = sim.requests_matching("GET", rf"/users/{bob.id}$")
    assert read.query["expand"] == ["station"]
    assert len(sim.requests_matching("GET", rf"/users/{bob.id}/routingstatus$")) == 1

    gone = sim.add_user("Gone", "gone@example.com", state="inactive", station=False, routing_status="OFF_QUEUE")
    user = client.get_user(gone.id)
    assert (user.active, user.has_station, user.routing_status) == (False, False, "OFF_QUEUE")


def test_get_user_survives_a_failing_routing_status(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    bob = sim.add_user("Bob Agent", "bob@example.com")
    sim.inject(method="GET", path=r"/routingstatus$", status=403, times=None)
    user = client.get_user(bob.id)
    assert user.id == bob.id and user.routing_status is None and user.has_station


def test_live_interactions(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Support")
    bob = sim.add_user("Bob Agent", "bob@example.com", queues=[q])
    call = sim.add_conversation("call", "connected", agent=bob, queue=q)
    chat = sim.add_conversation("chat", "connected", agent=bob, queue=q)
    sim.add_conversation("call", "connected", agent="Someone Else", queue=q)

    found = {i.conversation_id: i for i in client.live_interactions(bob.id)}

    assert set(found) == {call.id, chat.id}
    assert found[call.id].media is Media.CALL and found[chat.id].media is Media.CHAT
    assert found[call.id].queue_id == q.id and found[call.id].started is not None
    (request,) = sim.requests_matching("POST", r"/analytics/conversations/activity/query$")
    assert request.json["metrics"] == [{"metric": "oInteracting", "details": True}]
    assert request.json["groupBy"] == ["conversationId"]
    assert request.json["filter"] == {
        "type": "and",
        "predicates": [{"type": "dimension", "dimension": "userId", "value": bob.id}],
    }
    assert client.live_interactions(sim.add_user("Idle", "idle@example.com").id) == []


# -- the transfers -------------------------------------------------------------------------------


def test_queue_transfer_returns_correlation_id_and_posts_once(sim: GenesysSimulator, client) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call(scenario="connected")

    correlation_id = client.transfer(c.id, c.agent_participant_id, queue_target(q.id))

    posts = sim.requests_matching("POST", REPLACE)
    assert len(posts) == 1
    assert posts[0].json == {"queueId": q.id}  # no transferType: the server default is a blind transfer
    assert posts[0].path.endswith(f"/{c.id}/participants/{c.agent_participant_id}/replace/queue")
    assert correlation_id == posts[0].correlation_id
    assert [t.queue_id for t in sim.transfers] == [q.id]

    confirmed = client.get_conversation(c.id, priority=Priority.BACKGROUND)
    (entry,) = confirmed.recent_transfers
    assert entry.state == "Complete" and entry.id and entry.date_issued is not None
    assert entry.destination_address == q.id and entry.transfer_type == "Unattended"


def test_agent_transfer(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Support")
    bob = sim.add_user("Bob Agent", "bob@example.com", queues=[q])
    c = sim.add_call(scenario="connected", queue=q)

    correlation_id = client.transfer(c.id, c.agent_participant_id, Target(TargetKind.AGENT, bob.id, "Bob Agent"))

    (post,) = sim.requests_matching("POST", r"/replace/agent$")
    assert post.json == {"userId": bob.id} and post.correlation_id == correlation_id
    assert post.path.endswith(f"/{c.id}/participants/{c.agent_participant_id}/replace/agent")
    (entry,) = client.get_conversation(c.id).recent_transfers
    assert entry.destination_user_id == bob.id


def test_number_transfer(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    c = sim.add_call(scenario="connected")
    correlation_id = client.transfer(c.id, c.agent_participant_id, Target(TargetKind.NUMBER, "+14155550100", "+1 415"))
    (post,) = sim.requests_matching("POST", r"/participants/[^/]+/transfer$")
    assert post.json == {"address": "+14155550100"} and post.correlation_id == correlation_id


@pytest.mark.parametrize(
    ("cid", "pid", "target"),
    [
        ("../x", None, None),
        (None, "not-a-uuid", None),
        (None, None, Target(TargetKind.QUEUE, "../../users", "q")),
        (None, None, Target(TargetKind.AGENT, "bob", "Bob")),
        (None, None, Target(TargetKind.NUMBER, "+1 415 555 0100", "n")),
        (None, None, Target(TargetKind.NUMBER, "12345", "n")),
    ],
)
def test_invalid_transfers_send_nothing(sim: GenesysSimulator, client, cid, pid, target) -> None:
    c = sim.add_call()
    with pytest.raises(GenesysBadRequest) as err:
        client.transfer(cid or c.id, pid or c.agent_participant_id, target or queue_target(new_id()))
    assert err.value.operation in ("replace_queue", "replace_agent", "transfer_address")
    assert sim.requests_matching("POST", r"/participants/") == []


def test_transfer_bad_request_is_mapped(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call(scenario="ended")
    with pytest.raises(GenesysBadRequest) as err:
        client.transfer(c.id, c.agent_participant_id, queue_target(q.id))
    assert err.value.status == 400 and err.value.maybe_executed is False
    assert err.value.operation == "replace_queue"
    assert "not connected" in err.value.message


def test_503_on_post_is_not_resent(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=503, times=None)
    with pytest.raises(GenesysUnavailable) as err:
        client.transfer(c.id, c.agent_participant_id, queue_target(q.id))
    assert err.value.maybe_executed is True and err.value.status == 503
    assert len(sim.requests_matching("POST", REPLACE)) == 1


def test_dropped_connection_after_execution_is_not_resent(sim: GenesysSimulator, client) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject_drop(method="POST", path=REPLACE, execute_before_fault=True)
    with pytest.raises(GenesysUnavailable) as err:
        client.transfer(c.id, c.agent_participant_id, queue_target(q.id))
    assert err.value.maybe_executed is True and err.value.cause == "dropped"
    assert len(sim.requests_matching("POST", REPLACE)) == 1
    assert len(sim.transfers) == 1


def test_hung_post_times_out_without_resend(sim: GenesysSimulator, make_client) -> None:
    client = make_client(read_timeout=1.0)
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=None, hang=True, execute_before_fault=True)
    started = time.monotonic()
    with pytest.raises(GenesysTimeout) as err:
        client.transfer(c.id, c.agent_participant_id, queue_target(q.id))
    assert time.monotonic() - started < 4.0
    assert err.value.maybe_executed is True
    assert len(sim.requests_matching("POST", REPLACE)) == 1
    assert len(sim.transfers) == 1


def test_connect_failure_means_not_executed(make_client) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    client = make_client(api_base=dead, login_base=dead, connect_timeout=1.0)
    with pytest.raises(GenesysUnavailable) as err:
        client.transfer(new_id(), new_id(), queue_target(new_id()))
    assert err.value.maybe_executed is False and err.value.cause == "refused"


# -- 429s ----------------------------------------------------------------------------------------


def test_429_storm_on_post_is_retried_within_budget(sim: GenesysSimulator, client) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=429, headers={"Retry-After": "1"}, times=2)
    started = time.monotonic()

    correlation_id = client.transfer(c.id, c.agent_participant_id, queue_target(q.id))

    elapsed = time.monotonic() - started
    posts = sim.requests_matching("POST", REPLACE)
    assert [p.status for p in posts] == [429, 429, 202]
    assert correlation_id == posts[-1].correlation_id
    assert len(sim.transfers) == 1
    assert 1.8 <= elapsed < 10.0
    assert client.stats()["received_429"] == 2


def test_429_beyond_retry_count_raises_rate_limited(sim: GenesysSimulator, make_client) -> None:
    client = make_client(max_429_retries=3)
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=429, headers={"Retry-After": "0"}, times=None)
    with pytest.raises(GenesysRateLimited) as err:
        client.transfer(c.id, c.agent_participant_id, queue_target(q.id))
    assert err.value.status == 429 and err.value.maybe_executed is False
    posts = sim.requests_matching("POST", REPLACE)
    assert len(posts) == 4  # 1 + max_429_retries
    assert sim.transfers == []


def test_429_beyond_wait_budget_fails_fast(sim: GenesysSimulator, make_client) -> None:
    client = make_client(max_429_wait=20.0)
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=429, headers={"Retry-After": "30"}, times=None)
    started = time.monotonic()
    with pytest.raises(GenesysRateLimited) as err:
        client.transfer(c.id, c.agent_participant_id, queue_target(q.id))
    assert time.monotonic() - started < 3.0
    assert err.value.retry_after == 30
    assert len(sim.requests_matching("POST", REPLACE)) == 1
    assert sim.transfers == []


def test_429_without_retry_after_on_get_waits_a_default(sim: GenesysSimulator, client) -> None:
    c = sim.add_call()
    sim.inject(method="GET", path=CALLS, status=429, times=1)
    started = time.monotonic()
    assert client.get_conversation(c.id).id == c.id
    assert time.monotonic() - started >= 0.9
    assert [r.status for r in sim.requests_matching("GET", CALLS)] == [429, 200]


def test_client_side_pacing_avoids_429s(sim: GenesysSimulator, make_client) -> None:
    sim.set_rate_limit(600, 5)
    # 20% below the server's rate so network jitter cannot make us look faster than we are.
    client = make_client(rate_limit_per_minute=480, rate_burst=5)
    c = sim.add_call()
    for _ in range(12):
        client.get_conversation(c.id)
    assert sim.count_429 == 0
    assert client.stats()["received_429"] == 0


# -- tokens --------------------------------------------------------------------------------------


def test_token_fetched_once_for_many_calls(sim: GenesysSimulator, client) -> None:
    c = sim.add_call()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(2):
                client.get_conversation(c.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(sim.requests_matching("POST", TOKEN)) == 1
    stats = client.stats()
    assert stats["by_kind"]["token"] == 1 and stats["by_kind"]["get_call"] == 8
    assert stats["requests"] == 9


def test_token_expiry_mid_run_relogs_exactly_once(sim: GenesysSimulator, client) -> None:
    c = sim.add_call()
    client.get_conversation(c.id)
    sim.expire_tokens()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            client.get_conversation(c.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(sim.requests_matching("POST", TOKEN)) == 2
    assert client.stats()["by_kind"]["token"] == 2


def test_transfer_after_token_expiry_posts_exactly_once_successfully(sim, client) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    client.get_conversation(c.id)
    sim.expire_tokens()
    client.transfer(c.id, c.agent_participant_id, queue_target(q.id))
    assert [r.status for r in sim.requests_matching("POST", REPLACE)] == [401, 202]
    assert len(sim.transfers) == 1


def test_a_token_refused_twice_is_an_auth_error_after_one_relogin(sim: GenesysSimulator, client) -> None:
    c = sim.add_call()
    sim.inject(method="GET", path=CALLS, status=401, times=None)
    with pytest.raises(GenesysAuthError) as err:
        client.get_conversation(c.id)
    assert "even after a fresh login" in err.value.message and err.value.operation == "get_call"
    assert len(sim.requests_matching("GET", CALLS)) == 2
    assert len(sim.requests_matching("POST", TOKEN)) == 2


def test_wrong_secret_is_a_human_auth_error(sim: GenesysSimulator, make_client) -> None:
    client = make_client(client_secret="wrong-secret")
    with pytest.raises(GenesysAuthError) as err:
        client.check_access()
    assert "rejected the OAuth client id/secret" in err.value.message
    assert err.value.operation == "token" and err.value.host == "127.0.0.1"
    assert "wrong-secret" not in str(err.value)
    assert "wrong-secret" not in repr(client.token_provider)


def test_check_access(client: SdkGenesysClient, sim: GenesysSimulator) -> None:
    client.check_access()
    assert len(sim.requests_matching("POST", TOKEN)) == 1


def test_stats_shape(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    client.get_conversation(c.id)
    client.list_queues(name="Support_Tier2")
    client.get_queue(q.id)
    client.transfer(c.id, c.agent_participant_id, queue_target(q.id))
    stats = client.stats()
    assert stats["requests"] == 5 and stats["received_429"] == 0
    for kind in ("get_call", "list_queues", "get_queue", "replace_queue", "token"):
        assert stats["by_kind"][kind] == 1
