"""Where a conversation is being sent: a queue, an agent or an outside number."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class TargetKind(enum.StrEnum):
    QUEUE = "queue"
    AGENT = "agent"
    NUMBER = "number"


@dataclass(frozen=True)
class Target:
    """A resolved destination. `id` is what Genesys needs (queue id, user id, E.164 number);
    `name` is what people read (queue name, agent name, the number)."""

    kind: TargetKind
    id: str
    name: str
    detail: str | None = None  # e.g. the queue's division, the agent's email

    @property
    def label(self) -> str:
        return f"{self.name} ({self.detail})" if self.detail and self.kind is TargetKind.QUEUE else self.name


_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_NUMBER_CHARS = re.compile(r"^\+[\d\s().-]+$")


def normalize_number(text: str) -> str | None:
    """'+1 415-555 0100' → '+14155550100'; None when it is not an E.164 number."""
    text = text.strip()
    if not _NUMBER_CHARS.match(text):
        return None
    digits = "+" + re.sub(r"\D", "", text)
    return digits if _E164.match(digits) else None


def looks_like_number(text: str) -> bool:
    return bool(_NUMBER_CHARS.match(text.strip()))


def mask_number(number: str) -> str:
    """'+14155550100' → '+1 415 ••• 0100': enough to recognise, not enough to dial."""
    digits = number.lstrip("+")
    if len(digits) < 8:
        return "+" + "•" * len(digits)
    country = 1 if digits[0] in "17" else 2
    head, rest = digits[:country], digits[country:]
    area, tail = rest[:3], rest[-4:]
    return f"+{head} {area} ••• {tail}"


def number_allowed(number: str, prefixes: tuple[str, ...]) -> bool:
    return any(number.startswith(p) for p in prefixes)
