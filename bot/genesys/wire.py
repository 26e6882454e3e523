"""Reading what Genesys puts on the wire besides models: headers, Retry-After, error bodies.

One parser for each, shared by the login (tokens.py) and the API client, so both read a 429 or
an ErrorBody the same way. Everything is bounded: an error body is read up to MAX_ERROR_BODY
bytes and a Genesys message never grows past MAX_MESSAGE characters, wherever it ends up.
No SDK import: cheap, and testable on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

CORRELATION_HEADER = "ININ-Correlation-Id"
MAX_ERROR_BODY = 1 << 20  # bytes of an error body we ever read
MAX_MESSAGE = 500  # characters of a Genesys message we ever keep
_MAX_CODE = 120


def header_value(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """Case-insensitive lookup on any mapping (urllib3's HTTPHeaderDict or a plain dict)."""
    if not headers:
        return None
    lower = name.lower()
    for key, value in headers.items():
        if str(key).lower() == lower:
            return None if value is None else str(value)
    return None


def parse_retry_after(raw: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP date); None if unusable."""
    if raw is None:
        return None
    raw = raw.strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is not a number of seconds
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def clip(text: str | None, limit: int = MAX_MESSAGE) -> str | None:
    """At most `limit` characters, with an ellipsis when cut; None and blank stay None."""
    if text is None:
        return None
    text = " ".join(text[: 4 * limit].split())  # one line; never scan a huge string whole
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class ErrorInfo:
    """The useful part of a Genesys ErrorBody (or an OAuth error), already bounded."""

    code: str | None = None
    message: str | None = None
    context_id: str | None = None


def parse_error_body(body: str | bytes | None) -> ErrorInfo:
    """Read `code`, `message` and `contextId` from an ErrorBody or `error`/`error_description`
    from an OAuth error. Never raises; a cut or invalid body yields what can be salvaged."""
    if body is None:
        return ErrorInfo()
    if isinstance(body, bytes):
        body = body[:MAX_ERROR_BODY].decode("utf-8", errors="replace")
    body = body[:MAX_ERROR_BODY]
    if not body.strip():
        return ErrorInfo()
    try:
        data = json.loads(body)
    except ValueError:
        return _salvage(body)
    if not isinstance(data, dict):
        return ErrorInfo()
    code = _text(data.get("code")) or _text(data.get("error"))
    message = _text(data.get("message")) or _text(data.get("error_description")) or _text(data.get("description"))
    return ErrorInfo(
        code=clip(code, _MAX_CODE),
        message=clip(message),
        context_id=clip(_text(data.get("contextId")), _MAX_CODE),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _salvage(body: str) -> ErrorInfo:
    """A body cut at MAX_ERROR_BODY is not valid JSON; pick the leading string fields anyway."""
    return ErrorInfo(
        code=clip(_string_field(body, "code") or _string_field(body, "error"), _MAX_CODE),
        message=clip(_string_field(body, "message") or _string_field(body, "error_description")),
        context_id=clip(_string_field(body, "contextId"), _MAX_CODE),
    )


def _string_field(body: str, key: str) -> str | None:
    match = re.search(r'"' + re.escape(key) + r'"\s*:\s*"', body)
    if match is None:
        return None
    start = match.end()
    out: list[str] = []
    i = start
    # Scan at most a few times MAX_MESSAGE characters: the rest is never shown.
    end = min(len(body), start + 4 * MAX_MESSAGE)
    while i < end:
        ch = body[i]
        if ch == '"':
            break
        if ch == "\\" and i + 1 < end:
            out.append(body[i : i + 2])
            i += 2
            continue
        out.append(ch)
        i += 1
    raw = "".join(out)
    try:
        return json.loads('"' + raw + '"')
    except ValueError:
        return raw
