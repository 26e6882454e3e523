"""SDK models → domain types. Pure functions; nothing here talks to Genesys.

A model that lacks what the domain can't do without (an id) raises ShapeError, which the client
reports as GenesysUnreadable: a domain object is never built from garbage. Leg states are kept
exactly as the SDK gives them, including "outdated_sdk_version" for a state it does not know
(the domain treats that as unknown, never as ended).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.domain.conversation import (
    Conversation,
    GenesysUser,
    LiveInteraction,
    Media,
    Participant,
    Queue,
    QueueHealth,
    RecentTransfer,
)
from bot.ports.genesys import QueuePage


class ShapeError(ValueError):
    """A 2xx answer without what any sane answer has."""


# Which session lists on a generic Participant mark a conversation's media, in the order that
# decides it: a callback conversation may also hold the call it placed, so callbacks come first.
MEDIA_MARKERS: tuple[tuple[Media, tuple[str, ...]], ...] = (
    (Media.CALLBACK, ("callbacks",)),
    (Media.CHAT, ("messages", "chats")),  # web/app messaging; `chats` is the legacy chat
    (Media.EMAIL, ("emails",)),
    (Media.CALL, ("calls",)),
)
# Which sessions describe a leg of that media (a callback's leg is live on its placed call).
MEDIA_SESSIONS: dict[Media, tuple[str, ...]] = {
    Media.CALLBACK: ("callbacks", "calls"),
    Media.CHAT: ("messages", "chats"),
    Media.EMAIL: ("emails",),
    Media.CALL: ("calls",),
}
# Media the bot can't move, as people name them.
OTHER_MEDIA = {
    "cobrowsesessions": "co-browse",
    "screenshares": "screen share",
    "screen_monitorings": "screen monitoring",
    "social_expressions": "social media",
    "videos": "video",
    "internal_messages": "internal message",
}
ANALYTICS_MEDIA = {
    "voice": Media.CALL,
    "message": Media.CHAT,
    "chat": Media.CHAT,
    "email": Media.EMAIL,
    "callback": Media.CALLBACK,
}
# Media types in routing paths (…/mediatypes/{m}/estimatedwaittime). [U] not checked on a live org.
ROUTING_MEDIA = {Media.CALL: "call", Media.CHAT: "message", Media.EMAIL: "email", Media.CALLBACK: "callback"}
_ENDED = frozenset({"disconnected", "terminated"})


def _id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ShapeError(f"{what} without an id")
    return value


def _ref_id(ref: Any) -> str | None:
    value = getattr(ref, "id", None) if ref is not None else None
    return value if isinstance(value, str) and value else None


def _when(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


# -- conversations ------------------------------------------------------------------------------


def recent_transfer(t: Any) -> RecentTransfer:
    """A TransferResponse; match it by id, not by destination (docs/genesys-facts.md §1)."""
    destination = getattr(t, "destination", None)
    return RecentTransfer(
        id=getattr(t, "id", None),
        state=getattr(t, "state", None) or "",
        destination_user_id=getattr(destination, "user_id", None),
        destination_address=getattr(destination, "address", None),
        date_issued=_when(getattr(t, "date_issued", None)),
        transfer_type=getattr(t, "transfer_type", None),
    )


def call_conversation(model: Any) -> Conversation:
    """CallConversation (GET /conversations/calls/{id}): every leg is a CallMediaParticipant."""
    conversation_id = _id(getattr(model, "id", None), "call")
    legs = tuple(
        Participant(
            id=_id(p.id, "participant"),
            purpose=p.purpose or "",
            state=p.state or "",
            name=p.name,
            user_id=_ref_id(p.user),
            queue_id=_ref_id(p.queue),
            address=p.address,
            start_time=_when(p.start_time),
            connected_time=_when(p.connected_time),
            end_time=_when(p.end_time),
            held=bool(p.held),
            monitored_participant_id=p.monitored_participant_id,
            coached_participant_id=p.coached_participant_id,
            barged_participant_id=p.barged_participant_id,
        )
        for p in (model.participants or [])
    )
    transfers = tuple(recent_transfer(t) for t in (model.recent_transfers or []))
    return Conversation(id=conversation_id, media=Media.CALL, participants=legs, recent_transfers=transfers)


def media_of(model: Any) -> Media | str | None:
    """The media of a generic Conversation: a Media, the name of one we can't move, or None."""
    participants = list(getattr(model, "participants", None) or [])
    for media, fields in MEDIA_MARKERS:
        if any(getattr(p, field, None) for p in participants for field in fields):
            return media
    for field, label in OTHER_MEDIA.items():
        if any(getattr(p, field, None) for p in participants):
            return label
    return None


def movable_conversation(model: Any) -> Conversation | str | None:
    """A generic Conversation of a media we can move, else the name of its media (None: no media)."""
    _id(getattr(model, "id", None), "conversation")
    media = media_of(model)
    return generic_conversation(model, media) if isinstance(media, Media) else media


def generic_conversation(model: Any, media: Media) -> Conversation:
    """A generic Conversation (GET /conversations/{id}) seen through one media's sessions.

    Who a leg is (id, purpose, user, queue, name, supervisor links) comes from the participant;
    how it is doing (state, hold, connect/disconnect times) from its session of that media.
    Participants with no session of that media take no part in it and are left out.
    """
    conversation_id = _id(getattr(model, "id", None), "conversation")
    fields = MEDIA_SESSIONS[media]
    legs: list[Participant] = []
    for p in model.participants or []:
        session = _current_session(s for field in fields for s in (getattr(p, field, None) or []))
        if session is None:
            continue
        legs.append(
            Participant(
                id=_id(p.id, "participant"),
                purpose=p.purpose or "",
                state=getattr(session, "state", None) or "",
                name=p.name,
                user_id=p.user_id,
                queue_id=p.queue_id,
                address=p.address,
                start_time=_when(p.start_time),
                connected_time=_when(getattr(session, "connected_time", None)) or _when(p.connected_time),
                end_time=_when(getattr(session, "disconnected_time", None)) or _when(p.end_time),
                held=bool(getattr(session, "held", False)),
                monitored_participant_id=p.monitored_participant_id,
                coached_participant_id=p.coached_participant_id,
                barged_participant_id=p.barged_participant_id,
            )
        )
    transfers = tuple(recent_transfer(t) for t in (model.recent_transfers or []))
    return Conversation(id=conversation_id, media=media, participants=tuple(legs), recent_transfers=transfers)


def _current_session(sessions: Iterable[Any]) -> Any | None:
    """The last session that has not ended, else the last one (a leg can be re-offered)."""
    last = current = None
    for s in sessions:
        last = s
        if (getattr(s, "state", None) or "") not in _ENDED:
            current = s
    return current if current is not None else last


# -- queues -----------------------------------------------------------------------------------


def queue(model: Any) -> Queue:
    """A Queue with its division (people tell same-named queues apart by division)."""
    division = getattr(model, "division", None)
    return Queue(
        id=_id(getattr(model, "id", None), "queue"),
        name=getattr(model, "name", None) or "",
        division_id=getattr(division, "id", None),
        division_name=getattr(division, "name", None),
    )


def queue_page(listing: Any) -> QueuePage:
    """One QueueEntityListing page; page_count lets the caller stop paging."""
    entities = getattr(listing, "entities", None)
    if entities is None and getattr(listing, "page_count", None) is None:
        raise ShapeError("queue listing without entities")
    page_count = getattr(listing, "page_count", None)
    return QueuePage(
        queues=[queue(q) for q in entities or []], page_count=page_count if isinstance(page_count, int) else None
    )


def queue_health(response: Any, queue_ids: Sequence[str]) -> dict[str, QueueHealth]:
    """available = oOnQueueUsers qualified IDLE; waiting = oWaiting over every media type.

    oOnQueueUsers is counted from the queue-wide group; if Genesys only gives it per media
    type, the largest of those (the same people are on queue for every media).
    """
    wanted = set(queue_ids)
    idle_total: dict[str, int] = {}
    idle_by_media: dict[str, int] = {}
    waiting: dict[str, int] = {}
    seen: set[str] = set()
    for result in getattr(response, "results", None) or []:
        group = getattr(result, "group", None) or {}
        qid = group.get("queueId")
        if qid not in wanted:
            continue
        seen.add(qid)
        per_media = bool(group.get("mediaType"))
        for datum in getattr(result, "data", None) or []:
            count = _count(datum)
            if datum.metric == "oWaiting":
                waiting[qid] = waiting.get(qid, 0) + count
            elif datum.metric == "oOnQueueUsers" and (datum.qualifier or "").upper() == "IDLE":
                if per_media:
                    idle_by_media[qid] = max(idle_by_media.get(qid, 0), count)
                else:
                    idle_total[qid] = idle_total.get(qid, 0) + count
    health: dict[str, QueueHealth] = {}
    for qid in queue_ids:
        if qid not in seen:
            health[qid] = QueueHealth()
            continue
        available = idle_total[qid] if qid in idle_total else idle_by_media.get(qid, 0)
        health[qid] = QueueHealth(available=available, waiting=waiting.get(qid, 0))
    return health


def _count(datum: Any) -> int:
    count = getattr(getattr(datum, "stats", None), "count", None)
    return count if isinstance(count, int) and count > 0 else 0


def estimated_wait(predictions: Any) -> float | None:
    """The first prediction's seconds; None when Genesys has no estimate."""
    for result in getattr(predictions, "results", None) or []:
        seconds = getattr(result, "estimated_wait_time_seconds", None)
        return float(seconds) if isinstance(seconds, int | float) and seconds >= 0 else None
    return None


# -- users ------------------------------------------------------------------------------------


def user(model: Any, routing_status: str | None = None) -> GenesysUser:
    """A User; has_station is None unless Genesys returned the (expanded) station."""
    station = getattr(model, "station", None)
    has_station = None
    if station is not None:
        has_station = any(
            getattr(station, name, None) is not None
            for name in ("associated_station", "effective_station", "default_station")
        )
    return GenesysUser(
        id=_id(getattr(model, "id", None), "user"),
        name=getattr(model, "name", None) or "",
        email=getattr(model, "email", None),
        active=getattr(model, "state", None) == "active",
        has_station=has_station,
        routing_status=routing_status,
    )


def first_user(response: Any, email: str) -> GenesysUser | None:
    """The search hit whose email is exactly `email` (case-insensitive), else the first hit."""
    results = list(getattr(response, "results", None) or [])
    if not results:
        return None
    wanted = email.casefold()
    exact = [u for u in results if (getattr(u, "email", None) or "").casefold() == wanted]
    return user((exact or results)[0])


def routing_status(model: Any) -> str | None:
    """RoutingStatus.status (IDLE, INTERACTING, OFF_QUEUE, …)."""
    status = getattr(model, "status", None)
    return status if isinstance(status, str) and status else None


def live_interactions(response: Any, user_id: str) -> list[LiveInteraction]:
    """One LiveInteraction per conversation the user is interacting on (activity query entities)."""
    found: dict[str, LiveInteraction] = {}
    for result in getattr(response, "results", None) or []:
        for entity in getattr(result, "entities", None) or []:
            cid = getattr(entity, "conversation_id", None)
            if not cid or cid in found:
                continue
            if entity.metric not in (None, "oInteracting") or entity.user_id not in (None, user_id):
                continue
            found[cid] = LiveInteraction(
                conversation_id=cid,
                media=ANALYTICS_MEDIA.get((entity.media_type or "").lower()),
                queue_id=entity.queue_id,
                started=_when(entity.activity_date),
            )
    return list(found.values())
