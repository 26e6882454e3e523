"""Checks on what goes into a Genesys URL path, before anything is sent."""

from __future__ import annotations

from bot.domain.parsing import is_uuid
from bot.ports.genesys import GenesysBadRequest


def require_uuid(value: str, what: str, operation: str) -> None:
    """Ids go into URL paths, and the SDK leaves `/` and `..` unescaped: strict UUIDs only."""
    if not isinstance(value, str) or not is_uuid(value):
        shown = str(value)[:60]
        raise GenesysBadRequest(f"Refusing to send an invalid {what} id to Genesys: {shown!r}", operation=operation)
