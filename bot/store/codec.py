"""Translate domain values to and from column values.

Kept apart from the SQL so both dialects share one definition of what a stored request looks
like. Datetimes are the delicate part: the domain only ever deals in timezone-aware UTC, and a
naive datetime reaching the store is a bug upstream (it would silently shift by the host's
offset), so it is refused instead of guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime

from bot.domain.model import CallSnapshot, RequestState, TransferRequest


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC; ValueError for a naive datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the store only accepts timezone-aware values")
    return value.astimezone(UTC)


def time_to_text(value: datetime) -> str:
    """Fixed-width UTC ISO text (``2024-05-01T12:00:00.000000Z``).

    Every value has the same width and offset, so plain string comparison orders instants
    correctly; that is what lets SQLite answer ``expires_at <= ?`` without date functions.
    """
    return to_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def time_from_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


_SNAPSHOT_TIMES = ("call_started",)


def snapshot_to_json(snapshot: CallSnapshot) -> str:
    data = asdict(snapshot)
    for name in _SNAPSHOT_TIMES:
        if data[name] is not None:
            data[name] = time_to_text(data[name])
    return json.dumps(data, sort_keys=True)


def snapshot_from_json(text: str) -> CallSnapshot:
    """Unknown keys are dropped and missing ones read as None, so old rows survive model edits."""
    data = json.loads(text)
    values = {f.name: data.get(f.name) for f in fields(CallSnapshot)}
    for name in _SNAPSHOT_TIMES:
        if values[name] is not None:
            values[name] = time_from_text(values[name])
    return CallSnapshot(**values)


# Columns of transfer_requests that map onto TransferRequest fields, in SELECT/INSERT order.
# updated_at and previous_state are bookkeeping columns with no field on the domain object.
REQUEST_COLUMNS: tuple[str, ...] = (
    "id",
    "conversation_id",
    "queue_id",
    "queue_name",
    "requester_id",
    "state",
    "created_at",
    "expires_at",
    "snapshot",
    "channel_id",
    "team_id",
    "message_channel",
    "message_ts",
    "response_url",
    "acted_by",
    "acted_at",
    "outcome",
    "correlation_id",
    "needs_approval",
    "extra",
)

_TIME_COLUMNS = frozenset({"created_at", "expires_at", "acted_at"})


def request_values(
    request: TransferRequest, encode_time: Callable[[datetime], object]
) -> tuple[object, ...]:
    """Column values for REQUEST_COLUMNS; extra must be JSON-serialisable (TypeError otherwise)."""
    values: list[object] = []
    for column in REQUEST_COLUMNS:
        value = getattr(request, column)
        if column == "state":
            value = RequestState(value).value
        elif column == "snapshot":
            value = snapshot_to_json(value)
        elif column == "extra":
            value = json.dumps(value or {}, sort_keys=True)
        elif column == "needs_approval":
            value = bool(value)
        elif column in _TIME_COLUMNS and value is not None:
            value = encode_time(value)
        values.append(value)
    return tuple(values)


def request_from_row(
    row: Sequence[object], decode_time: Callable[[object], datetime]
) -> TransferRequest:
    data = dict(zip(REQUEST_COLUMNS, row, strict=True))
    for column in _TIME_COLUMNS:
        if data[column] is not None:
            data[column] = decode_time(data[column])
    data["state"] = RequestState(data["state"])
    data["snapshot"] = snapshot_from_json(str(data["snapshot"]))
    data["extra"] = json.loads(str(data["extra"])) if data["extra"] else {}
    data["needs_approval"] = bool(data["needs_approval"])
    return TransferRequest(**data)  # type: ignore[arg-type]
