"""Conversations as Genesys reports them: media, legs and the transfer commands it remembers.

Pure data: adapters translate wire formats into these. Genesys has no top-level state for a
conversation, so liveness is always derived from the legs (see rules.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Media(enum.StrEnum):
    """The media we can move. Genesys calls web/app messaging `messages`; people call it chat."""

    CALL = "call"
    CHAT = "chat"
    EMAIL = "email"
    CALLBACK = "callback"

    @property
    def noun(self) -> str:
        return self.value


@dataclass(frozen=True)
class Participant:
    """One leg of a conversation (CallMediaParticipant, or a Participant's media session).

    `state` is kept as Genesys sent it; a value the SDK did not know arrives as
    "outdated_sdk_version" and must be treated as unknown, never as ended.
    """

    id: str
    purpose: str
    state: str
    name: str | None = None
    user_id: str | None = None
    queue_id: str | None = None
    address: str | None = None
    start_time: datetime | None = None
    connected_time: datetime | None = None
    end_time: datetime | None = None
    held: bool = False
    monitored_participant_id: str | None = None
    coached_participant_id: str | None = None
    barged_participant_id: str | None = None

    @property
    def is_live(self) -> bool:
        return self.state == "connected" and self.end_time is None

    @property
    def is_supervisor_leg(self) -> bool:
        """Monitoring, coaching and barge-in legs listen in; they never hold the customer."""
        return bool(self.monitored_participant_id or self.coached_participant_id or self.barged_participant_id)


@dataclass(frozen=True)
class RecentTransfer:
    """An entry of recentTransfers: Genesys' own record of a transfer command and its state."""

    id: str | None
    state: str
    destination_user_id: str | None = None
    destination_address: str | None = None
    date_issued: datetime | None = None
    transfer_type: str | None = None


@dataclass(frozen=True)
class Conversation:
    """A live or ended interaction of one media type, with every leg Genesys lists."""

    id: str
    media: Media
    participants: tuple[Participant, ...]
    recent_transfers: tuple[RecentTransfer, ...] = ()


@dataclass(frozen=True)
class Queue:
    id: str
    name: str
    division_id: str | None = None
    division_name: str | None = None


@dataclass(frozen=True)
class QueueHealth:
    """What a supervisor wants to see before sending a caller somewhere (None = not known)."""

    available: int | None = None
    waiting: int | None = None
    estimated_wait_seconds: float | None = None


@dataclass(frozen=True)
class GenesysUser:
    id: str
    name: str
    email: str | None = None
    active: bool = True
    has_station: bool | None = None  # None: Genesys did not say
    routing_status: str | None = None


@dataclass(frozen=True)
class LiveInteraction:
    """One of an agent's live interactions, from an analytics activity query."""

    conversation_id: str
    media: Media | None
    queue_id: str | None = None
    started: datetime | None = None
