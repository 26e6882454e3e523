"""Column types that behave the same on SQLite and PostgreSQL.

Times: the domain deals only in aware UTC datetimes, and a naive one reaching the store is a bug
upstream (it would silently shift by the host's offset), so it is refused, not guessed at.
PostgreSQL stores them as timestamptz. SQLite has no time type, so they are stored as fixed-width
UTC ISO text (``2024-05-01T12:00:00.000000Z``, the format the previous store used, so upgraded
rows need no rewriting): every value has the same width and offset, which makes plain text
comparison order instants correctly, and that is what keeps ``expires_at <= :now`` right.

JSON: stored as text on both engines (compact, keys sorted), so the SQL type is the same
everywhere and the previous store's TEXT columns upgrade in place.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


def utc(value: datetime) -> datetime:
    """The same instant in UTC; ValueError for a naive datetime."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the store only accepts timezone-aware values")
    return value.astimezone(UTC)


def time_to_text(value: datetime) -> str:
    """Fixed-width UTC ISO text, e.g. ``2024-05-01T12:00:00.000000Z`` (orders like the instants)."""
    return utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def time_from_text(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes: timestamptz on PostgreSQL, fixed-width ISO text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(27))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> object:
        if value is None:
            return None
        return time_to_text(value) if dialect.name == "sqlite" else utc(value)

    def process_result_value(self, value: object, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return utc(value)
        return time_from_text(str(value))


def to_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class JsonText(TypeDecorator[Any]):
    """A JSON value kept as text (the same SQL type on both engines)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: object, dialect: Dialect) -> str | None:
        return None if value is None else to_json(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)
