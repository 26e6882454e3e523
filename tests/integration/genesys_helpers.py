"""Helpers for the Genesys adapter tests (the fixtures are in genesys_fixtures.py)."""

from __future__ import annotations

import socket
import uuid

from bot.domain.target import Target, TargetKind
from bot.ops.metrics import REGISTRY

REPLACE = r"/replace/queue$"
TOKEN = r"^/oauth/token$"
CALLS = r"^/api/v2/conversations/calls/"
GENERIC = r"^/api/v2/conversations/[^/]+$"


def queue_target(queue_id: str, name: str = "Support_Tier2") -> Target:
    return Target(TargetKind.QUEUE, queue_id, name)


def new_id() -> str:
    return str(uuid.uuid4())


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample(name: str, **labels: str) -> float:
    """A metric's current value in the bot's registry (0 when never observed)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
