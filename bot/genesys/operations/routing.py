"""Queues: one page of the list, one queue, queue observations and estimated wait."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PureCloudPlatformClientV2 import QueueObservationQuery, QueueObservationQueryFilter, QueueObservationQueryPredicate

from bot.domain.conversation import Media, Queue, QueueHealth
from bot.genesys import mapping
from bot.genesys.operations.validate import require_uuid
from bot.ports.genesys import GenesysBadRequest, Priority, QueuePage

if TYPE_CHECKING:
    from bot.genesys.client import SdkGenesysClient

MAX_PAGE_SIZE = 100  # the documented safe maximum for /routing/queues
OBSERVATION_BATCH = 100  # queue ids per observations query
OBSERVATION_METRICS = ("oOnQueueUsers", "oWaiting")


def list_queues(client: SdkGenesysClient, *, name: str | None, page: int, page_size: int) -> QueuePage:
    """GET /routing/queues?pageNumber=&pageSize=[&name=]: one page, sorted by name."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise GenesysBadRequest(f"Invalid queue page {page} (size {page_size})", operation="list_queues")
    kwargs: dict[str, Any] = {"page_number": page, "page_size": page_size}
    if name is not None:
        kwargs["name"] = name
    return client.run(
        "list_queues",
        lambda: client.apis.routing.get_routing_queues(**kwargs),
        subject="listing queues" if name is None else f"listing queues named {name[:100]!r}",
        read=mapping.queue_page,
    ).value


def get_queue(client: SdkGenesysClient, queue_id: str) -> Queue:
    """GET /routing/queues/{id}."""
    require_uuid(queue_id, "queue", "get_queue")
    return client.run(
        "get_queue",
        lambda: client.apis.routing.get_routing_queue(queue_id),
        subject=f"reading queue {queue_id}",
        read=mapping.queue,
    ).value


def _observation_query(queue_ids: Sequence[str]) -> QueueObservationQuery:
    predicates = []
    for qid in queue_ids:
        predicate = QueueObservationQueryPredicate()
        predicate.type = "dimension"
        predicate.dimension = "queueId"
        predicate.value = qid
        predicates.append(predicate)
    query_filter = QueueObservationQueryFilter()
    query_filter.type = "or"
    query_filter.predicates = predicates
    query = QueueObservationQuery()
    query.filter = query_filter
    query.metrics = list(OBSERVATION_METRICS)
    return query


def queue_health(client: SdkGenesysClient, queue_ids: Sequence[str], priority: Priority) -> dict[str, QueueHealth]:
    """POST /analytics/queues/observations/query: one request per OBSERVATION_BATCH queues."""
    ids = list(dict.fromkeys(queue_ids))  # unique, in order
    for qid in ids:
        require_uuid(qid, "queue", "queue_observations")
    health: dict[str, QueueHealth] = {}
    for start in range(0, len(ids), OBSERVATION_BATCH):
        batch = ids[start : start + OBSERVATION_BATCH]
        query = _observation_query(batch)
        health.update(
            client.run(
                "queue_observations",
                lambda query=query: client.apis.analytics.post_analytics_queues_observations_query(query),
                subject=f"reading the health of {len(batch)} queue(s)",
                method="POST",
                priority=priority,
                read=lambda response, batch=batch: mapping.queue_health(response, batch),
            ).value
        )
    return health


def estimated_wait(client: SdkGenesysClient, queue_id: str, media: Media | None, priority: Priority) -> float | None:
    """GET /routing/queues/{id}[/mediatypes/{m}]/estimatedwaittime → first estimatedWaitTimeSeconds."""
    require_uuid(queue_id, "queue", "estimated_wait")
    api = client.apis.routing
    if media is None:
        call = lambda: api.get_routing_queue_estimatedwaittime(queue_id)  # noqa: E731
    else:
        media_type = mapping.ROUTING_MEDIA[media]
        call = lambda: api.get_routing_queue_mediatype_estimatedwaittime(queue_id, media_type)  # noqa: E731
    return client.run(
        "estimated_wait",
        call,
        subject=f"reading the estimated wait of queue {queue_id}",
        priority=priority,
        read=mapping.estimated_wait,
    ).value
