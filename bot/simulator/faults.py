"""Injected faults: the next N requests matching (method, path regex) misbehave.

A fault can:
* answer with an error status (Genesys ErrorBody, optional extra headers such as Retry-After),
* answer with a raw ``body`` instead (status defaults to 200): e.g. invalid JSON behind a 200,
* make the ErrorBody ``message`` ``message_size`` bytes long (e.g. 20 MB, for size limits),
* delay the response (``delay``; with ``status=None`` it only delays and then answers normally),
* drip the response body one byte every ``drip`` seconds (headers go out at once), to test
  overall deadlines rather than per-read timeouts,
* send the headers and only ``truncate_after`` bytes of the body, then close the connection,
* drop the connection after reading the request (no response at all),
* hang (never answer until the simulator stops or ``hang_timeout`` passes, then close),
* with ``execute_before_fault=True``, first perform the request for real (e.g. the transfer is
  executed by "Genesys") and only then misbehave, modelling lost responses.

With ``status=None`` and no ``body`` the answer itself is the real one (possibly delayed, dripped
or truncated).

Faults are matched in registration order; the first one with remaining ``times`` wins and is
consumed (``times=None`` never runs out). ``path`` is a regex searched in the request path (no
query string).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

DEFAULT_CODES = {
    400: "bad.request",
    401: "bad.credentials",
    403: "missing.any.permissions",
    404: "not.found",
    408: "request.timeout",
    409: "conflict",
    415: "unsupported.media.type",
    429: "too.many.requests",
    500: "internal.server.error",
    502: "bad.gateway",
    503: "service.unavailable",
    504: "request.timeout",
}

DEFAULT_MESSAGES = {
    400: "The request could not be understood by the server due to malformed syntax.",
    401: "Invalid login credentials.",
    403: "You are missing the following permission(s): "
    "[conversation:communication:blindTransfer, conversation:communication:blindTransferQueue]",
    404: "The requested resource was not found.",
    429: "Rate limit exceeded the maximum. Retry the request in a few seconds.",
    500: "The server encountered an unexpected condition which prevented it from fulfilling the request.",
    502: "Bad gateway.",
    503: "Service Unavailable - The server is currently unavailable (because it is overloaded "
    "or down for maintenance).",
    504: "The request timed out.",
}


@dataclass
class Fault:
    method: str | None
    path: str
    status: int | None = None
    code: str | None = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop_connection: bool = False
    hang: bool = False
    times: int | None = 1
    execute_before_fault: bool = False
    body: bytes | None = None
    message_size: int | None = None
    drip: float = 0.0
    truncate_after: int | None = None
    hits: int = 0

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self._regex.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    @property
    def error_code(self) -> str:
        if self.code:
            return self.code
        return DEFAULT_CODES.get(self.status or 500, "internal.server.error")

    @property
    def error_message(self) -> str:
        message = self.message or DEFAULT_MESSAGES.get(self.status or 500, "Injected fault")
        if self.message_size is not None:
            filler = message + " "
            message = (filler * (self.message_size // len(filler) + 1))[: self.message_size]
        return message

    @property
    def replaces_answer(self) -> bool:
        """Whether the fault answers itself (status or raw body) instead of the real endpoint."""
        return self.status is not None or self.body is not None


class FaultRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the first live fault matching the request, if any."""
        with self._lock:
            for f in self._faults:
                if not f.exhausted and f.matches(method, path):
                    f.hits += 1
                    return f
            self._faults = [f for f in self._faults if not f.exhausted]
        return None

    @property
    def active(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if not f.exhausted]
