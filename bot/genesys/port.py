"""What the service needs from Genesys Cloud. Implemented by the SDK adapter (sdk_client.py).

All methods raise bot.genesys.errors.GenesysError subclasses, never SDK exceptions.
Ids passed in are already validated UUIDs (see domain.parsing.is_uuid).
"""

from __future__ import annotations

import enum
from typing import Protocol

from bot.domain.model import Call, Queue


class Priority(enum.IntEnum):
    """Rate-limit priority: work that moves a transfer forward goes before confirmation reads."""

    CRITICAL = 0
    BACKGROUND = 1


class GenesysPort(Protocol):
    def get_call(self, conversation_id: str, *, priority: Priority = Priority.CRITICAL) -> Call:
        """GET /api/v2/conversations/calls/{id}."""
        ...

    def find_queues(self, name: str | None) -> list[Queue]:
        """GET /api/v2/routing/queues?name=… following every page; None lists all queues."""
        ...

    def get_queue(self, queue_id: str) -> Queue:
        """GET /api/v2/routing/queues/{id}."""
        ...

    def replace_with_queue(self, conversation_id: str, participant_id: str, queue_id: str) -> str | None:
        """POST …/participants/{pid}/replace/queue. Never replayed blindly. Returns the correlation id."""
        ...
