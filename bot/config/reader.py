"""Reading environment values while collecting every problem, so one run reports them all."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Values copied unchanged from .env.example must not pass for real ones.
PLACEHOLDERS = frozenset(
    {
        "xoxb-your-bot-token",
        "your-signing-secret",
        "xapp-your-app-level-token",
        "00000000-0000-0000-0000-000000000000",
        "your-client-secret",
    }
)


class Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str, default: str = "") -> str:
        return (self.env.get(name) or default).strip()

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def required(self, name: str, expected: str, where: str, pattern: str | None = None) -> str:
        value = self.text(name)
        if not value:
            self.problem(f"{name} is missing: expected {expected}. {where}")
        elif value in PLACEHOLDERS:
            self.problem(f"{name} is still the placeholder from .env.example: expected {expected}. {where}")
        elif pattern and not re.match(pattern, value):
            self.problem(f"{name} is malformed: expected {expected}. {where}")
        return value

    def optional_secret(self, name: str, expected: str, pattern: str) -> str:
        value = self.text(name)
        if value in PLACEHOLDERS:
            self.problem(f"{name} is still the placeholder from .env.example: expected {expected} or nothing.")
        elif value and not re.match(pattern, value):
            self.problem(f"{name} is malformed: expected {expected}.")
        return value

    def number(self, name: str, default: float, *, low: float, high: float, integer: bool = True) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            self.problem(f"{name} is malformed: expected {kind} between {low:g} and {high:g}, got {raw!r}.")
            return default
        if not low <= value <= high:
            self.problem(f"{name} is out of range: expected {low:g}..{high:g}, got {raw}.")
            return default
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        raw = self.text(name).lower()
        if not raw:
            return default
        if raw in {"1", "true", "yes", "on"}:
            return True
        if raw in {"0", "false", "no", "off"}:
            return False
        self.problem(f"{name} is malformed: expected true or false, got {raw!r}.")
        return default

    def choice(self, name: str, default: str, choices: set[str]) -> str:
        value = self.text(name, default).lower()
        if value not in choices:
            self.problem(f"{name} is malformed: expected one of {', '.join(sorted(choices))}, got {value!r}.")
            return default
        return value


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]
