"""Users: find by email, read one (station and routing status), and what they are on right now."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from PureCloudPlatformClientV2 import (
    ConversationActivityQuery,
    ConversationActivityQueryFilter,
    ConversationActivityQueryMetric,
    ConversationActivityQueryPredicate,
    UserSearchCriteria,
    UserSearchRequest,
)

from bot.domain.conversation import GenesysUser, LiveInteraction
from bot.genesys import mapping
from bot.genesys.operations.validate import require_uuid
from bot.ports.genesys import GenesysBadRequest, GenesysError

if TYPE_CHECKING:
    from bot.genesys.client import SdkGenesysClient

log = logging.getLogger(__name__)

SEARCH_PAGE_SIZE = 25


def find_user_by_email(client: SdkGenesysClient, email: str) -> GenesysUser | None:
    """POST /users/search with one EXACT criterion on `email`; None when nobody has it."""
    email = email.strip()
    if not email or "@" not in email or len(email) > 320:
        raise GenesysBadRequest(
            "Refusing to search Genesys for something that is not an email address.", operation="search_users"
        )
    criterion = UserSearchCriteria()  # SDK models take no constructor kwargs
    criterion.type = "EXACT"
    criterion.fields = ["email"]
    criterion.value = email
    request = UserSearchRequest()
    request.query = [criterion]
    request.page_size = SEARCH_PAGE_SIZE
    return client.run(
        "search_users",
        lambda: client.apis.users.post_users_search(request),
        subject="searching Genesys users by email",
        method="POST",
        read=lambda response: mapping.first_user(response, email),
    ).value


def get_user(client: SdkGenesysClient, user_id: str) -> GenesysUser:
    """GET /users/{id}?expand=station, then GET /users/{id}/routingstatus (best effort)."""
    require_uuid(user_id, "user", "get_user")
    user = client.run(
        "get_user",
        lambda: client.apis.users.get_user(user_id, expand=["station"]),
        subject=f"reading user {user_id}",
        read=mapping.user,
    ).value
    try:
        status = client.run(
            "routing_status",
            lambda: client.apis.users.get_user_routingstatus(user_id),
            subject=f"reading the routing status of user {user_id}",
            read=mapping.routing_status,
        ).value
    except GenesysError as error:  # the user is known; their status is a nice-to-have
        log.info("Routing status of a Genesys user unavailable: %s", type(error).__name__)
        status = None
    return dataclasses.replace(user, routing_status=status)


def _activity_query(user_id: str) -> ConversationActivityQuery:
    metric = ConversationActivityQueryMetric()
    metric.metric = "oInteracting"
    metric.details = True
    predicate = ConversationActivityQueryPredicate()
    predicate.type = "dimension"
    predicate.dimension = "userId"
    predicate.value = user_id
    query_filter = ConversationActivityQueryFilter()
    query_filter.type = "and"
    query_filter.predicates = [predicate]
    query = ConversationActivityQuery()
    query.metrics = [metric]
    query.filter = query_filter
    query.group_by = ["conversationId"]  # activity queries need at least one groupBy dimension
    return query


def live_interactions(client: SdkGenesysClient, user_id: str) -> list[LiveInteraction]:
    """POST /analytics/conversations/activity/query: oInteracting with details for one user."""
    require_uuid(user_id, "user", "activity_query")
    query = _activity_query(user_id)
    return client.run(
        "activity_query",
        lambda: client.apis.analytics.post_analytics_conversations_activity_query(query),
        subject=f"looking up what user {user_id} is on",
        method="POST",
        read=lambda response: mapping.live_interactions(response, user_id),
    ).value
