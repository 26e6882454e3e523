"""Small helpers over the Genesys simulator that several scenarios use."""

from __future__ import annotations

import re

from bot.simulator import GenesysSimulator, RecordedRequest

_CALL = re.compile(r"^/api/v2/conversations/calls/([^/]+)$")
_REPLACE = re.compile(r"^/api/v2/conversations/([^/]+)/participants/[^/]+/replace/queue$")
_QUEUES = re.compile(r"^/api/v2/routing/queues(/[^/]+)?$")


def live_calls(sim: GenesysSimulator, count: int, from_queue: str = "Sales") -> list[str]:
    """`count` connected calls waiting with an agent in `from_queue`; their conversation ids."""
    source = sim.add_queue(from_queue)
    return [sim.add_call(scenario="connected", queue=source).id for _ in range(count)]


def kind_of(rec: RecordedRequest) -> str:
    """token | get_call | replace | queues | '<METHOD> <path>'."""
    if rec.path == "/oauth/token":
        return "token"
    if rec.method == "GET" and _CALL.match(rec.path):
        return "get_call"
    if rec.method == "POST" and _REPLACE.match(rec.path):
        return "replace"
    if rec.method == "GET" and _QUEUES.match(rec.path):
        return "queues"
    return f"{rec.method} {rec.path}"


def conversation_of(rec: RecordedRequest) -> str | None:
    m = _CALL.match(rec.path) or _REPLACE.match(rec.path)
    return m.group(1) if m else None
