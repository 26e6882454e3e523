"""Analytics observation endpoints: conversation activity and queue observations.

Both read the world's live state (nothing historical) and answer in the SDK 269 shapes:

* ``ConversationActivityResponse``: ``results[]`` of ``{group, data[{metric, count}], entities[]}``
  (``ConversationActivityData``); ``entities`` are ``ConversationActivityEntityData`` and appear only
  for metrics asked with ``details: true``. Note ``count`` sits directly on each ``data`` entry
  (``ConversationActivityMetricValue``), not under ``stats``. ``groupBy`` is required (400 without).
  ``results`` is left out when nothing matched.
* ``QueueObservationQueryResponse``: ``results[]`` of ``{group, data[{metric, qualifier?, stats{count}}]}``.
  User metrics (``oOnQueueUsers``/``oUserRoutingStatuses`` split by routing-status qualifier, only
  non-zero qualifiers listed; ``oOffQueueUsers``, ``oActiveUsers``, ``oMemberUsers``) are in the
  ``{queueId}`` group. Interaction metrics (``oWaiting``, ``oInteracting``, ``oAlerting``,
  ``oLongest*``) are in ``{queueId, mediaType}`` groups, one per media type asked for (every
  simulated media type when the filter has no mediaType predicate), so a queue's total waiting
  count is the sum over its groups.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.simulator.entities import ANALYTICS_MEDIA, Conversation, Leg, SimError, bad_request, invalid_value
from bot.simulator.render import drop_none, iso

if TYPE_CHECKING:
    from bot.simulator.world import World

ACTIVITY_METRICS = ("oAlerting", "oInteracting", "oLongestInteracting", "oLongestWaiting", "oWaiting")
ACTIVITY_DIMENSIONS = (
    "activeRouting", "addressFrom", "addressTo", "agentScore", "ani", "conversationId", "convertedFrom",
    "convertedTo", "direction", "dnis", "mediaType", "participantName", "queueId", "requestedLanguageId",
    "requestedRouting", "requestedRoutingSkillId", "routingPriority", "scoredAgentId", "sessionId", "teamId",
    "usedRouting", "userId",
)  # fmt: skip
QUEUE_METRICS = (
    "oActiveUsers", "oAlerting", "oInteracting", "oLongestInteracting", "oLongestWaiting", "oMemberUsers",
    "oOffQueueUsers", "oOnQueueUsers", "oUserPresences", "oUserRoutingStatuses", "oWaiting",
)  # fmt: skip
QUEUE_DIMENSIONS = ("mediaType", "queueId")
MEDIA_BY_ANALYTICS = {v: k for k, v in ANALYTICS_MEDIA.items()}
_BASE = {"oLongestInteracting": "oInteracting", "oLongestWaiting": "oWaiting"}


# ---------------------------------------------------------------------- filters
@dataclass
class _Predicate:
    dimension: str
    operator: str
    value: str | None

    def matches(self, item: dict[str, Any]) -> bool:
        present = item.get(self.dimension)
        if self.operator == "exists":
            return present is not None
        if self.operator == "notExists":
            return present is None
        return present is not None and str(present) == self.value


@dataclass
class _Filter:
    type: str = "and"
    predicates: list[_Predicate] = field(default_factory=list)
    clauses: list[_Filter] = field(default_factory=list)

    def matches(self, item: dict[str, Any]) -> bool:
        results = [p.matches(item) for p in self.predicates] + [c.matches(item) for c in self.clauses]
        if not results:
            return True
        return all(results) if self.type == "and" else any(results)

    def values(self, dimension: str) -> list[str]:
        """Values this filter (or its clauses) asks of ``dimension``, in order, without duplicates."""
        found = [p.value for p in self.predicates if p.dimension == dimension and p.value]
        for c in self.clauses:
            found += c.values(dimension)
        return list(dict.fromkeys(v for v in found if v is not None))


def _parse_filter(raw: Any, dimensions: tuple[str, ...], where: str = "filter") -> _Filter:
    if not isinstance(raw, dict):
        raise bad_request(f"{where} must be an object")
    ftype = raw.get("type")
    if ftype not in ("and", "or"):
        raise invalid_value(f"{where}.type must be 'and' or 'or', not {ftype!r}")
    preds, clauses = raw.get("predicates") or [], raw.get("clauses") or []
    if not isinstance(preds, list) or not isinstance(clauses, list):
        raise bad_request(f"{where}.predicates and {where}.clauses must be arrays")
    if not preds and not clauses:
        raise invalid_value(f"{where} needs at least one predicate or clause")
    return _Filter(
        type=ftype,
        predicates=[_parse_predicate(p, dimensions, f"{where}.predicates[{i}]") for i, p in enumerate(preds)],
        clauses=[_parse_filter(c, dimensions, f"{where}.clauses[{i}]") for i, c in enumerate(clauses)],
    )


def _parse_predicate(raw: Any, dimensions: tuple[str, ...], where: str) -> _Predicate:
    if not isinstance(raw, dict):
        raise bad_request(f"{where} must be an object")
    if raw.get("type", "dimension") != "dimension":
        raise invalid_value(f"{where}.type {raw.get('type')!r} is not supported here; use 'dimension'")
    dim, op, value = raw.get("dimension"), raw.get("operator", "matches"), raw.get("value")
    if dim not in dimensions:
        raise invalid_value(f"{where}.dimension {dim!r} is not one of {list(dimensions)}")
    if op not in ("matches", "exists", "notExists"):
        raise invalid_value(f"{where}.operator {op!r} is not valid")
    if op == "matches" and (not isinstance(value, str) or not value):
        raise invalid_value(f"{where}.value is required for operator 'matches'")
    return _Predicate(dim, op, value if isinstance(value, str) else None)


def _body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body is missing or not a JSON object")
    return body


# ---------------------------------------------------------------------- conversation activity
def _activity_metrics(body: dict[str, Any]) -> list[tuple[str, bool]]:
    metrics = body.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise invalid_value("metrics is required and must not be empty")
    out = []
    for i, m in enumerate(metrics):
        name = m.get("metric") if isinstance(m, dict) else None
        if name not in ACTIVITY_METRICS:
            raise invalid_value(f"metrics[{i}].metric {name!r} is not one of {list(ACTIVITY_METRICS)}")
        out.append((name, bool(m.get("details", False))))
    return out


def _group_by(body: dict[str, Any]) -> list[str]:
    group_by = body.get("groupBy")
    if not isinstance(group_by, list) or not group_by:
        raise SimError(400, "bad.request", "groupBy is required for conversation activity queries; "
                       "name at least one dimension (e.g. [\"userId\"] or [\"conversationId\"])")  # fmt: skip
    for dim in group_by:
        if dim not in ACTIVITY_DIMENSIONS:
            raise invalid_value(f"groupBy dimension {dim!r} is not one of {list(ACTIVITY_DIMENSIONS)}")
    return list(group_by)


def activity_query(world: World, raw: Any) -> dict[str, Any]:
    """POST /analytics/conversations/activity/query -> ConversationActivityResponse JSON."""
    body = _body(raw)
    metrics = _activity_metrics(body)
    group_by = _group_by(body)
    filt = _parse_filter(body["filter"], ACTIVITY_DIMENSIONS) if body.get("filter") is not None else _Filter()
    wanted = {_BASE.get(m, m) for m, _ in metrics}
    entities = [e for e in activity_entities(world) if e["metric"] in wanted and filt.matches(e)]
    if body.get("order") == "desc":
        entities.reverse()
    groups: dict[tuple[tuple[str, str], ...], list[dict[str, Any]]] = {}
    for e in entities:
        key = tuple((d, str(e[d])) for d in group_by if e.get(d) is not None)
        groups.setdefault(key, []).append(e)
    results = [r for key, items in groups.items() if (r := _activity_group(key, items, metrics))]
    answer: dict[str, Any] = {"entityIdDimension": "conversationId"}
    if results:
        answer["results"] = results
    return answer


def _activity_group(key: tuple[tuple[str, str], ...], items: list[dict[str, Any]],
                    metrics: list[tuple[str, bool]]) -> dict[str, Any] | None:  # fmt: skip
    data, detailed = [], []
    for metric, details in metrics:
        chosen = [e for e in items if e["metric"] == _BASE.get(metric, metric)]
        if metric in _BASE:
            chosen = sorted(chosen, key=lambda e: e["activityDate"])[:1]
        if not chosen:
            continue
        data.append({"metric": metric, "count": len(chosen)})
        if details:
            detailed += [{**e, "metric": metric} for e in chosen]
    if not data:
        return None
    result: dict[str, Any] = {"group": dict(key), "data": data}
    if detailed:
        result["entities"] = detailed
    return result


def activity_entities(world: World) -> list[dict[str, Any]]:
    """ConversationActivityEntityData for every live interaction (oInteracting, oAlerting, oWaiting)."""
    with world.lock:
        world.settle()
        out: list[dict[str, Any]] = []
        for conv in world.conversations.values():
            if not conv.ended:
                out += _conversation_entities(conv)
        return out


def _conversation_entities(conv: Conversation) -> list[dict[str, Any]]:
    holders = conv.holders()
    alerting = [g for g in conv.legs if g.state == "alerting" and g.purpose in ("agent", "user") and g.end is None]
    out = [_entity(conv, g, "oInteracting", g.connected) for g in holders]
    out += [_entity(conv, g, "oAlerting", g.alerting) for g in alerting]
    if not holders and not alerting:
        out += [_entity(conv, g, "oWaiting", g.start) for g in conv.legs if g.live and g.purpose == "acd"]
    return out


def _entity(conv: Conversation, leg: Leg, metric: str, at: float | None) -> dict[str, Any]:
    customer = next((g for g in conv.legs if g.purpose == "customer"), None)
    return drop_none(
        {
            "activityDate": iso(at or leg.start),
            "metric": metric,
            "conversationId": conv.id,
            "mediaType": ANALYTICS_MEDIA[conv.media],
            "userId": leg.user_id if leg.purpose != "acd" else None,
            "queueId": leg.queue_id,
            "direction": "inbound",
            "sessionId": leg.media_id,
            "participantName": customer.name if customer else None,
            "ani": customer.ani if customer else None,
            "dnis": customer.dnis if customer else None,
            "addressFrom": customer.address if customer else None,
            "requestedRoutings": ["Standard"],
            "usedRouting": "Standard" if metric != "oWaiting" else None,
            "routingPriority": 0,
        }
    )


# ---------------------------------------------------------------------- queue observations
def queue_observation_query(world: World, raw: Any) -> dict[str, Any]:
    """POST /analytics/queues/observations/query -> QueueObservationQueryResponse JSON."""
    body = _body(raw)
    metrics = body.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise invalid_value("metrics is required and must not be empty")
    for m in metrics:
        if m not in QUEUE_METRICS:
            raise invalid_value(f"metric {m!r} is not one of {list(QUEUE_METRICS)}")
    details = set(body.get("detailMetrics") or [])
    if body.get("filter") is None:
        raise invalid_value("filter is required and must name at least one queueId")
    filt = _parse_filter(body["filter"], QUEUE_DIMENSIONS)
    queue_ids = filt.values("queueId")
    if not queue_ids:
        raise invalid_value("filter must name at least one queueId")
    asked_media = filt.values("mediaType")
    for m in asked_media:
        if m not in MEDIA_BY_ANALYTICS:
            raise invalid_value(f"mediaType {m!r} is not one of {list(MEDIA_BY_ANALYTICS)}")
    media = asked_media or list(MEDIA_BY_ANALYTICS)
    results = []
    for qid in queue_ids:
        results += _queue_groups(world, qid, metrics, details, media)
    return {"results": results}


_USER_METRICS = ("oOnQueueUsers", "oUserRoutingStatuses", "oOffQueueUsers", "oActiveUsers", "oMemberUsers",
                 "oUserPresences")  # fmt: skip


def _queue_groups(world: World, qid: str, metrics: list[str], details: set[str],
                  media: list[str]) -> list[dict[str, Any]]:  # fmt: skip
    groups = []
    user_metrics = [m for m in metrics if m in _USER_METRICS]
    if user_metrics:
        snap = world.snapshot(qid)
        data = [d for m in user_metrics for d in _user_metric(m, snap)]
        groups.append({"group": {"queueId": qid}, "data": data})
    conv_metrics = [m for m in metrics if m not in _USER_METRICS]
    if conv_metrics:
        now = time.time()
        for m in media:
            snap = world.snapshot(qid, MEDIA_BY_ANALYTICS[m])
            data = [d for metric in conv_metrics if (d := _conversation_metric(metric, snap, metric in details, now))]
            groups.append({"group": {"queueId": qid, "mediaType": m}, "data": data})
    return groups


def _user_metric(metric: str, snap: Any) -> list[dict[str, Any]]:
    if metric in ("oOnQueueUsers", "oUserRoutingStatuses"):
        skip_off = metric == "oOnQueueUsers"
        return [{"metric": metric, "qualifier": s, "stats": {"count": n}}
                for s, n in sorted(snap.statuses.items()) if n and not (skip_off and s == "OFF_QUEUE")]  # fmt: skip
    counts = {
        "oOffQueueUsers": snap.statuses.get("OFF_QUEUE", 0),
        "oActiveUsers": len(snap.members),
        "oMemberUsers": len(snap.members),
    }
    if metric not in counts:
        return []  # presences are not simulated
    return [{"metric": metric, "stats": {"count": counts[metric]}}]


def _conversation_metric(metric: str, snap: Any, details: bool, now: float) -> dict[str, Any] | None:
    pairs = {"oWaiting": snap.waiting, "oInteracting": snap.interacting, "oAlerting": snap.alerting,
             "oLongestWaiting": snap.waiting, "oLongestInteracting": snap.interacting}[metric]  # fmt: skip
    if metric in _BASE:
        if not pairs:
            return None
        oldest = min(pairs, key=lambda p: p[1].connected or p[1].start)
        since = oldest[1].connected or oldest[1].start
        entry: dict[str, Any] = {"metric": metric, "stats": {"count": 1,
                                 "calculatedMetricValue": int((now - since) * 1000)}}  # fmt: skip
        pairs = [oldest]
    else:
        entry = {"metric": metric, "stats": {"count": len(pairs)}}
    if details and pairs:
        entry["observations"] = [_observation(c, g) for c, g in pairs]
    return entry


def _observation(conv: Conversation, leg: Leg) -> dict[str, Any]:
    """ObservationValue."""
    customer = next((g for g in conv.legs if g.purpose == "customer"), None)
    return drop_none(
        {
            "observationDate": iso(leg.connected or leg.start),
            "conversationId": conv.id,
            "sessionId": leg.media_id,
            "userId": leg.user_id if leg.purpose != "acd" else None,
            "direction": "inbound",
            "participantName": customer.name if customer else None,
            "ani": customer.ani if customer else None,
            "dnis": customer.dnis if customer else None,
            "routingPriority": 0,
        }
    )
