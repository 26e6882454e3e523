"""Analytics in the simulator: conversation activity, queue observations, estimated wait time."""

from __future__ import annotations

import json
import uuid

import PureCloudPlatformClientV2 as gc
import pytest
from PureCloudPlatformClientV2.rest import ApiException

from bot.simulator import GenesysSimulator
from tests.integration.test_simulator_wire import raw, sdk, wire

ACTIVITY = "/api/v2/analytics/conversations/activity/query"
OBSERVATIONS = "/api/v2/analytics/queues/observations/query"


@pytest.fixture
def sim():
    with GenesysSimulator(rate_limit_per_minute=None) as s:
        yield s


def activity_query(user_id: str, *, group_by: list[str] | None = None, metric: str = "oInteracting",
                   details: bool = True) -> gc.ConversationActivityQuery:  # fmt: skip
    m = gc.ConversationActivityQueryMetric()
    m.metric, m.details = metric, details
    p = gc.ConversationActivityQueryPredicate()
    p.dimension, p.value = "userId", user_id
    f = gc.ConversationActivityQueryFilter()
    f.type, f.predicates = "and", [p]
    q = gc.ConversationActivityQuery()
    q.metrics, q.filter = [m], f
    if group_by is not None:
        q.group_by = group_by
    return q


def observation_query(queue_ids: list[str], metrics: list[str], media: str | None = None) -> dict:
    predicates = [{"dimension": "queueId", "value": q} for q in queue_ids]
    clauses = [{"type": "or", "predicates": [{"dimension": "mediaType", "value": media}]}] if media else []
    body: dict = {"filter": {"type": "or", "predicates": predicates}, "metrics": metrics}
    if clauses:
        body["filter"] = {"type": "and", "clauses": [{"type": "or", "predicates": predicates}, *clauses]}
    return body


def pred(dimension: str, value: str) -> dict:
    return {"dimension": dimension, "value": value}


def flt(kind: str, *predicates: dict) -> dict:
    return {"type": kind, "predicates": list(predicates)}


@pytest.fixture
def busy_bob(sim):
    q1, q2 = sim.add_queue("Support"), sim.add_queue("Billing")
    bob = sim.add_user("Bob Agent", "bob@example.com", queues=[q1, q2])
    convs = {
        "call": sim.add_conversation("call", "connected", agent=bob, queue=q1),
        "chat": sim.add_conversation("chat", "connected", agent=bob, queue=q2),
        "email": sim.add_conversation("email", "connected", agent=bob, queue=q1),
        "ended": sim.add_conversation("call", "ended", agent=bob, queue=q1),
        "other": sim.add_conversation("call", "connected", agent="Someone Else", queue=q1),
    }
    return bob, q1, q2, convs


def test_activity_query_lists_every_live_interaction_of_the_user(sim, busy_bob):
    bob, q1, q2, convs = busy_bob
    analytics = gc.AnalyticsApi(sdk(sim))

    res = analytics.post_analytics_conversations_activity_query(activity_query(bob.id, group_by=["userId"]))

    assert isinstance(res, gc.ConversationActivityResponse)
    (group,) = res.results
    assert group.group == {"userId": bob.id}
    (data,) = group.data
    assert (data.metric, data.count) == ("oInteracting", 3)
    by_media = {e.media_type: e for e in group.entities}
    assert set(by_media) == {"voice", "message", "email"}
    voice = by_media["voice"]
    assert (voice.conversation_id, voice.user_id, voice.queue_id, voice.metric) == (
        convs["call"].id, bob.id, q1.id, "oInteracting")  # fmt: skip
    assert voice.activity_date.tzinfo is not None
    assert by_media["message"].conversation_id == convs["chat"].id and by_media["message"].queue_id == q2.id
    # the raw answer uses only SDK fields: count sits on the data entry, there is no "stats"
    body = gc.ApiClient().sanitize_for_serialization(activity_query(bob.id, group_by=["userId"]))
    r = raw(sim, "POST", ACTIVITY, token=sim.issue_token(), body=body)
    wire(r.json, "ConversationActivityResponse")
    assert "stats" not in r.json["results"][0]["data"][0]


def test_activity_query_groups_details_and_other_metrics(sim, busy_bob):
    bob, q1, _, convs = busy_bob
    waiting = sim.add_conversation("call", "queued", queue=q1)
    token = sim.issue_token()

    def query(body):
        r = raw(sim, "POST", ACTIVITY, token=token, body=body)
        assert r.status == 200, r.json
        return wire(r.json, "ConversationActivityResponse")

    per_conv = query({"metrics": [{"metric": "oInteracting"}], "groupBy": ["conversationId"],
                      "filter": {"type": "and", "predicates": [{"dimension": "userId", "value": bob.id}]}})  # fmt: skip
    assert sorted(g.group["conversationId"] for g in per_conv.results) == sorted(
        convs[k].id for k in ("call", "chat", "email"))  # fmt: skip
    assert all(g.entities is None for g in per_conv.results)  # details not asked

    voice_only = query({"metrics": [{"metric": "oInteracting", "details": True}], "groupBy": ["mediaType"],
                        "filter": flt("and", pred("userId", bob.id), pred("mediaType", "voice"))})  # fmt: skip
    (g,) = voice_only.results
    assert g.group == {"mediaType": "voice"} and [e.conversation_id for e in g.entities] == [convs["call"].id]

    waiting_q = query({"metrics": [{"metric": "oWaiting", "details": True}], "groupBy": ["queueId"],
                       "filter": {"type": "or", "predicates": [{"dimension": "queueId", "value": q1.id}]}})  # fmt: skip
    (g,) = waiting_q.results
    assert (g.group, g.data[0].count) == ({"queueId": q1.id}, 1)
    assert g.entities[0].conversation_id == waiting.id and g.entities[0].user_id is None

    nobody = query({"metrics": [{"metric": "oInteracting"}], "groupBy": ["userId"],
                    "filter": flt("and", pred("userId", str(uuid.uuid4())))})  # fmt: skip
    assert nobody.results is None


@pytest.mark.parametrize("group_by", [None, []])
def test_activity_query_without_group_by_is_rejected(sim, busy_bob, group_by):
    bob = busy_bob[0]
    analytics = gc.AnalyticsApi(sdk(sim))
    with pytest.raises(ApiException) as ei:
        analytics.post_analytics_conversations_activity_query(activity_query(bob.id, group_by=group_by))
    body = json.loads(ei.value.body)
    assert (ei.value.status, body["status"], body["code"]) == (400, 400, "bad.request")
    assert "groupBy" in body["message"] and body["contextId"] == ei.value.headers["ININ-Correlation-Id"]


@pytest.mark.parametrize(
    "body",
    [
        {"metrics": [{"metric": "oTalking"}], "groupBy": ["userId"]},
        {"metrics": [], "groupBy": ["userId"]},
        {"metrics": [{"metric": "oInteracting"}], "groupBy": ["shoeSize"]},
        {"metrics": [{"metric": "oInteracting"}], "groupBy": ["userId"], "filter": {"predicates": []}},
        {"metrics": [{"metric": "oInteracting"}], "groupBy": ["userId"],
         "filter": {"type": "and", "predicates": [{"dimension": "shoeSize", "value": "9"}]}},
        {"metrics": [{"metric": "oInteracting"}], "groupBy": ["userId"],
         "filter": {"type": "and", "predicates": [{"dimension": "userId"}]}},
        [1, 2],
    ],
)
def test_activity_query_validation(sim, body):
    r = raw(sim, "POST", ACTIVITY, token=sim.issue_token(), body=body)
    assert r.status == 400 and r.json["code"] in ("bad.request", "invalid.value")


def test_queue_observations_answer_all_queues_in_one_request(sim):
    support, billing, empty = sim.add_queue("Support"), sim.add_queue("Billing"), sim.add_queue("Empty")
    sim.add_user("Idle One", "idle1@example.com", queues=[support, billing])
    sim.add_user("Idle Two", "idle2@example.com", queues=[support])
    busy = sim.add_user("Busy", "busy@example.com", queues=[support])
    sim.add_user("Away", "away@example.com", routing_status="OFF_QUEUE", queues=[support])
    sim.add_user("Slow", "slow@example.com", routing_status="NOT_RESPONDING", queues=[billing])
    sim.add_user("Gone", "gone@example.com", state="inactive", queues=[support])
    sim.add_conversation("call", "connected", agent=busy, queue=support)
    for _ in range(2):
        sim.add_conversation("call", "queued", queue=support)
    sim.add_conversation("chat", "queued", queue=support)
    sim.add_conversation("call", "alerting", queue=billing, agent="Idle One")  # alerting is not waiting
    routing = gc.RoutingApi(sdk(sim))
    before = len(sim.requests)

    body = observation_query([support.id, billing.id, empty.id], ["oOnQueueUsers", "oWaiting", "oOffQueueUsers"])
    res = routing.post_analytics_queues_observations_query(wire(body, "QueueObservationQuery"))

    assert len(sim.requests) == before + 1
    assert isinstance(res, gc.QueueObservationQueryResponse)
    users, waiting = {}, {}
    for r in res.results:
        for d in r.data:
            if "mediaType" in r.group:
                waiting[(r.group["queueId"], r.group["mediaType"], d.metric)] = d.stats.count
            else:
                users[(r.group["queueId"], d.metric, d.qualifier)] = d.stats.count
    assert users == {
        (support.id, "oOnQueueUsers", "IDLE"): 2,
        (support.id, "oOnQueueUsers", "INTERACTING"): 1,
        (support.id, "oOffQueueUsers", None): 1,
        (billing.id, "oOnQueueUsers", "IDLE"): 1,
        (billing.id, "oOnQueueUsers", "NOT_RESPONDING"): 1,
        (billing.id, "oOffQueueUsers", None): 0,
        (empty.id, "oOffQueueUsers", None): 0,
    }
    assert waiting[(support.id, "voice", "oWaiting")] == 2
    assert waiting[(support.id, "message", "oWaiting")] == 1
    assert sum(v for (q, _, m), v in waiting.items() if q == billing.id and m == "oWaiting") == 0
    assert {m for (_, m, _) in waiting} == {"voice", "message", "email", "callback"}
    r = raw(sim, "POST", OBSERVATIONS, token=sim.issue_token(), body=body)
    wire(r.json, "QueueObservationQueryResponse")

    voice = raw(sim, "POST", OBSERVATIONS, token=sim.issue_token(),
                body={**observation_query([support.id], ["oWaiting", "oInteracting"], media="voice"),
                      "detailMetrics": ["oWaiting"]})  # fmt: skip
    parsed = wire(voice.json, "QueueObservationQueryResponse")
    (only,) = parsed.results
    assert only.group == {"queueId": support.id, "mediaType": "voice"}
    counts = {d.metric: d.stats.count for d in only.data}
    assert counts == {"oWaiting": 2, "oInteracting": 1}
    assert len(next(d for d in only.data if d.metric == "oWaiting").observations) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"metrics": ["oWaiting"]},
        {"metrics": [], "filter": flt("or", pred("queueId", "q"))},
        {"metrics": ["oSleeping"], "filter": flt("or", pred("queueId", "q"))},
        {"metrics": ["oWaiting"], "filter": flt("or", pred("mediaType", "voice"))},
        {"metrics": ["oWaiting"], "filter": flt("or", pred("userId", "u"))},
        {"metrics": ["oWaiting"], "filter": flt("and", pred("queueId", "q"), pred("mediaType", "pigeon"))},
    ],
)  # fmt: skip
def test_queue_observation_validation(sim, body):
    r = raw(sim, "POST", OBSERVATIONS, token=sim.issue_token(), body=body)
    assert (r.status, r.json["code"]) == (400, "invalid.value")


def test_estimated_wait_time(sim):
    q = sim.add_queue("Support", aht_seconds=240)
    routing = gc.RoutingApi(sdk(sim))
    sim.add_user("Idle", "idle@example.com", queues=[q])
    sim.add_user("Busy", "busy@example.com", queues=[q])
    sim.add_conversation("call", "connected", agent="Busy", queue=q)

    ewt = routing.get_routing_queue_estimatedwaittime(q.id)
    assert isinstance(ewt, gc.EstimatedWaitTimePredictions)
    (p,) = ewt.results
    assert (p.intent, p.formula, p.estimated_wait_time_seconds) == ("ALL", "SIMPLE", 0)  # someone is free

    for _ in range(3):
        sim.add_conversation("call", "queued", queue=q)
    sim.add_conversation("email", "queued", queue=q)
    # 4 waiting, 1 available, 2 on queue: ceil((4 - 1 + 1) * 240 / 2)
    assert routing.get_routing_queue_estimatedwaittime(q.id).results[0].estimated_wait_time_seconds == 480
    voice = routing.get_routing_queue_mediatype_estimatedwaittime(q.id, "call").results[0]
    assert (voice.intent, voice.estimated_wait_time_seconds) == ("CALL", 360)
    email = routing.get_routing_queue_mediatype_estimatedwaittime(q.id, "email").results[0]
    assert (email.intent, email.estimated_wait_time_seconds) == ("EMAIL", 120)
    token = sim.issue_token()
    wire(raw(sim, "GET", f"/api/v2/routing/queues/{q.id}/estimatedwaittime", token=token).json,
         "EstimatedWaitTimePredictions")  # fmt: skip

    r = raw(sim, "GET", f"/api/v2/routing/queues/{q.id}/mediatypes/pigeon/estimatedwaittime", token=token)
    assert (r.status, r.json["code"]) == (400, "invalid.value")
    with pytest.raises(ApiException) as ei:
        routing.get_routing_queue_estimatedwaittime(str(uuid.uuid4()))
    assert ei.value.status == 404 and json.loads(ei.value.body)["code"] == "not.found"
