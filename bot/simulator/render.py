"""Wire rendering: the simulator's state as Genesys Cloud JSON.

Shapes follow the SDK 269 models named in each function (their ``attribute_map`` gives the JSON
names); absent values are omitted, as Genesys omits them. Times are ISO-8601 UTC with milliseconds
(``2026-11-25T10:02:03.123Z``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.simulator.entities import API, Conversation, Leg, SimQueue, SimUser, Transfer, not_found

if TYPE_CHECKING:
    from bot.simulator.world import World

MEDIA_KEYS = {"call": "calls", "message": "messages", "email": "emails", "callback": "callbacks"}
PROVIDERS = {"call": "Edge", "message": "PureCloud Messaging", "email": "PureCloud Email",
             "callback": "PureCloud Callback"}  # fmt: skip


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> "2026-11-25T10:02:03.123Z" (None stays None)."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def ref(entity_id: str | None, uri: str) -> dict[str, str] | None:
    """DomainEntityRef ``{id, selfUri}`` under ``uri``."""
    if entity_id is None:
        return None
    return {"id": entity_id, "selfUri": f"{uri}/{entity_id}"}


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# ---------------------------------------------------------------------- queues
def queue_json(q: SimQueue, member_count: int, joined_member_count: int) -> dict[str, Any]:
    """Queue."""
    return drop_none(
        {
            "id": q.id,
            "name": q.name,
            "description": q.description,
            "division": {
                "id": q.division_id,
                "name": q.division_name,
                "selfUri": f"{API}/authorization/divisions/{q.division_id}",
            },
            "memberCount": member_count,
            "userMemberCount": member_count,
            "joinedMemberCount": joined_member_count,
            "selfUri": f"{API}/routing/queues/{q.id}",
        }
    )


def queue_listing(
    entities: list[dict[str, Any]], total: int, page_size: int, page_number: int, uri: Callable[[int], str]
) -> dict[str, Any]:
    """QueueEntityListing for one page; ``uri(n)`` builds the link to page n."""
    page_count = -(-total // page_size)
    listing: dict[str, Any] = {
        "entities": entities,
        "pageSize": page_size,
        "pageNumber": page_number,
        "total": total,
        "pageCount": page_count,
        "firstUri": uri(1),
        "selfUri": uri(page_number),
        "lastUri": uri(max(page_count, 1)),
    }
    if page_number < page_count:
        listing["nextUri"] = uri(page_number + 1)
    if page_number > 1:
        listing["previousUri"] = uri(min(page_number - 1, max(page_count, 1)))
    return listing


def estimated_wait_json(seconds: int, intent: str = "ALL") -> dict[str, Any]:
    """EstimatedWaitTimePredictions with one SIMPLE-formula prediction."""
    return {"results": [{"intent": intent, "formula": "SIMPLE", "estimatedWaitTimeSeconds": seconds}]}


# ---------------------------------------------------------------------- conversations
def call_json(world: World, cid: str) -> dict[str, Any]:
    """CallConversation; SimError 404 for an unknown or non-voice conversation."""
    with world.lock:
        conv = world.conversations.get(cid)
        if conv is None or conv.media != "call":
            raise not_found(f"Conversation {cid} not found")
        conv = world.conversation(cid)
        now = time.time()
        return {
            "id": conv.id,
            "participants": [call_participant(leg) for leg in conv.legs],
            "otherMediaUris": [],
            "recentTransfers": [transfer_json(t, now) for t in conv.transfers],
            "recordingState": "none",
            "divisions": divisions_json(conv),
            "selfUri": f"{API}/conversations/calls/{conv.id}",
        }


def conversation_json(world: World, cid: str) -> dict[str, Any]:
    """Conversation: participants carry their media array (calls, messages, emails or callbacks)."""
    with world.lock:
        conv = world.conversation(cid)
        now = time.time()
        ends = [g.end for g in conv.legs]
        return drop_none(
            {
                "id": conv.id,
                "startTime": iso(conv.start),
                "endTime": iso(max(e for e in ends if e is not None)) if conv.ended else None,
                "participants": [generic_participant(world, conv, leg) for leg in conv.legs],
                "recordingState": "none" if conv.media == "call" else None,
                "divisions": divisions_json(conv),
                "recentTransfers": [transfer_json(t, now) for t in conv.transfers],
                "selfUri": f"{API}/conversations/{conv.id}",
            }
        )


def divisions_json(conv: Conversation) -> list[dict[str, Any]]:
    """ConversationDivisionMembership list."""
    if conv.division_id is None:
        return []
    return [{"division": ref(conv.division_id, f"{API}/authorization/divisions"), "entities": []}]


def _supervision(leg: Leg) -> dict[str, Any]:
    return {
        "monitoredParticipantId": leg.monitored_id,
        "coachedParticipantId": leg.coached_id,
        "bargedParticipantId": leg.barged_id,
    }


def call_participant(leg: Leg) -> dict[str, Any]:
    """CallMediaParticipant."""
    return drop_none(
        {
            "id": leg.id,
            "name": leg.name,
            "address": leg.address,
            "startTime": iso(leg.start),
            "startAlertingTime": iso(leg.alerting),
            "connectedTime": iso(leg.connected),
            "endTime": iso(leg.end),
            "purpose": leg.purpose,
            "state": leg.state,
            "direction": leg.direction,
            "disconnectType": leg.disconnect_type,
            "held": leg.held,
            "wrapupRequired": leg.wrapup_required,
            "user": ref(leg.user_id, f"{API}/users"),
            "queue": ref(leg.queue_id, f"{API}/routing/queues"),
            "provider": "Edge",
            "muted": False,
            "confined": False,
            "recording": False,
            "recordingState": "none",
            "ani": leg.ani,
            "dnis": leg.dnis,
            **_supervision(leg),
            "bargedTime": iso(leg.barged_time),
        }
    )


def media_entry(conv: Conversation, leg: Leg) -> dict[str, Any]:
    """One element of a participant's Call / Message / Email / Callback array."""
    entry = drop_none(
        {
            "state": leg.state,
            "id": leg.media_id,
            "direction": leg.direction,
            "held": leg.held,
            "disconnectType": leg.disconnect_type,
            "startAlertingTime": iso(leg.alerting),
            "connectedTime": iso(leg.connected),
            "disconnectedTime": iso(leg.end),
            "provider": PROVIDERS[conv.media],
        }
    )
    if conv.media == "call":
        entry.update(recording=False, recordingState="none", muted=False, confined=False)
    elif conv.media == "message":
        entry["type"] = "webmessaging"
    elif conv.media == "email":
        entry.update(subject=conv.subject, messagesSent=1, autoGenerated=False, spam=False)
    else:
        customer = next((g for g in conv.legs if g.purpose == "customer"), None)
        number = (customer.address or "") if customer else ""
        entry.update(
            callbackNumbers=[number.removeprefix("tel:")],
            callbackUserName=customer.name if customer else None,
            skipEnabled=True,
            externalCampaign=False,
        )
    return entry


def generic_participant(world: World, conv: Conversation, leg: Leg) -> dict[str, Any]:
    """Participant (of the generic Conversation): no top-level state, the media array has it."""
    q = world.queues.get(leg.queue_id) if leg.queue_id else None
    return drop_none(
        {
            "id": leg.id,
            "startTime": iso(leg.start),
            "endTime": iso(leg.end),
            "connectedTime": iso(leg.connected),
            "name": leg.name,
            "userId": leg.user_id,
            "userUri": f"{API}/users/{leg.user_id}" if leg.user_id else None,
            "queueId": leg.queue_id,
            "queueName": q.name if q else None,
            "purpose": leg.purpose,
            "address": leg.address,
            "ani": leg.ani,
            "dnis": leg.dnis,
            "wrapupRequired": leg.wrapup_required,
            **_supervision(leg),
            "attributes": {},
            MEDIA_KEYS[conv.media]: [media_entry(conv, leg)],
        }
    )


def transfer_json(t: Transfer, now: float) -> dict[str, Any]:
    """TransferResponse (one recentTransfers entry). ``initiator`` is the user whose leg was
    replaced; ``modifiedBy`` the OAuth client that sent the command (both unverified guesses)."""
    destination = drop_none({"userId": t.user_id, "address": t.destination_address})
    initiator = t.initiator_user_id
    modified_by = ref(t.issued_by, f"{API}/oauth/clients") if t.issued_by else ref(initiator, f"{API}/users")
    return drop_none(
        {
            "id": t.id,
            "state": t.state(now),
            "dateIssued": iso(t.issued),
            "initiator": {"userId": initiator} if initiator else None,
            "modifiedBy": modified_by,
            "destination": destination,
            "transferType": t.transfer_type,
        }
    )


# ---------------------------------------------------------------------- users
def user_json(world: World, user: SimUser, expand: set[str]) -> dict[str, Any]:
    """User; ``expand`` may ask for "station" (UserStations) and "routingStatus" (RoutingStatus)."""
    division_name = next((n for n, i in world.divisions.items() if i == user.division_id), None)
    division_uri = f"{API}/authorization/divisions/{user.division_id}"
    body: dict[str, Any] = {
        "id": user.id,
        "name": user.name,
        "division": drop_none({"id": user.division_id, "name": division_name, "selfUri": division_uri}),
        "email": user.email,
        "primaryContactInfo": [{"address": user.email, "mediaType": "EMAIL", "type": "PRIMARY"}],
        "addresses": [],
        "state": user.state,
        "username": user.email,
        "version": 1,
        "acdAutoAnswer": False,
        "selfUri": f"{API}/users/{user.id}",
    }
    if "station" in expand:
        body["station"] = stations_json(user)
    if "routingStatus" in expand:
        body["routingStatus"] = routing_status_json(world, user)
    return body


def stations_json(user: SimUser) -> dict[str, Any]:
    """UserStations: associated/effective only while the user has a station."""
    last = {
        "id": user.station_id,
        "name": f"{user.name} WebRTC Phone",
        "type": "inin_webrtc_softphone",
        "webRtcCallAppearances": 100,
    }
    if not user.station:
        return {"lastAssociatedStation": last}
    current = {**last, "associatedUser": ref(user.id, f"{API}/users"), "associatedDate": iso(user.status_since)}
    return {"associatedStation": current, "effectiveStation": current, "defaultStation": last,
            "lastAssociatedStation": current}  # fmt: skip


def routing_status_json(world: World, user: SimUser) -> dict[str, Any]:
    """RoutingStatus with the effective status (IDLE shows INTERACTING while on an interaction)."""
    return {"userId": user.id, "status": world.effective_status(user), "startTime": iso(user.status_since)}


def users_search_json(world: World, users: list[SimUser], total: int, page_size: int, page_number: int,
                      expand: set[str]) -> dict[str, Any]:  # fmt: skip
    """UsersSearchResponse; like Genesys, ``results`` is left out when nothing matched."""
    body: dict[str, Any] = {
        "total": total,
        "pageCount": -(-total // page_size),
        "pageSize": page_size,
        "pageNumber": page_number,
        "types": ["users"],
    }
    if users:
        body["results"] = [user_json(world, u, expand) for u in users]
    return body
