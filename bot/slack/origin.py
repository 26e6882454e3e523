"""Slack's side of the opaque references the domain stores for a request.

`origin`: where it was asked (channel, and the requester for DMs/ephemerals).
`message_ref`: where its approval or result message lives (channel and ts).
The domain never looks inside either; only this module encodes and decodes them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_CHANNEL = re.compile(r"^[CGDU][A-Z0-9]{2,}$")
_TS = re.compile(r"^\d{1,12}\.\d{1,8}$")


@dataclass(frozen=True)
class Origin:
    channel: str | None  # None: no channel (the requester gets a DM)
    user: str


def encode_origin(channel: str | None, user: str) -> str:
    return json.dumps({"channel": channel if channel and _CHANNEL.match(channel) else None, "user": user},
                      sort_keys=True)


def decode_origin(text: str | None, fallback_user: str) -> Origin:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        data = {}
    channel = data.get("channel") if isinstance(data, dict) else None
    user = data.get("user") if isinstance(data, dict) else None
    return Origin(channel if isinstance(channel, str) and _CHANNEL.match(channel) else None,
                  user if isinstance(user, str) else fallback_user)


@dataclass(frozen=True)
class MessageRef:
    channel: str
    ts: str

    def encode(self) -> str:
        return f"{self.channel}:{self.ts}"


def decode_message_ref(text: str | None) -> MessageRef | None:
    if not text or ":" not in text:
        return None
    channel, ts = text.split(":", 1)
    if not _CHANNEL.match(channel) or not _TS.match(ts):
        return None
    return MessageRef(channel, ts)
