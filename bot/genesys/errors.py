"""Typed Genesys failures.

Each carries what support needs to trace it: HTTP status, Genesys `code`, message and the
ININ-Correlation-Id. The adapter raises these; nothing above it sees SDK or urllib3 exceptions.
"""

from __future__ import annotations


class GenesysError(Exception):
    """A Genesys call failed. `maybe_executed` is True when a write may have happened anyway."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
        maybe_executed: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        self.maybe_executed = maybe_executed

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        if self.correlation_id:
            parts.append(f"correlation_id={self.correlation_id}")
        return " ".join(parts)


class GenesysAuthError(GenesysError):
    """Login failed or the token was refused twice: credentials or OAuth client are wrong."""


class GenesysForbidden(GenesysError):
    """403: the OAuth client's role lacks a permission (or the division)."""


class GenesysNotFound(GenesysError):
    """404: no such conversation/queue, or not visible to this OAuth client."""


class GenesysBadRequest(GenesysError):
    """400/409/422: Genesys refused the request as invalid for the current state."""


class GenesysRateLimited(GenesysError):
    """429 that outlasted the bounded retry budget."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class GenesysUnavailable(GenesysError):
    """5xx or a dropped connection. For a POST, Genesys may already have executed it."""


class GenesysTimeout(GenesysError):
    """No answer within the configured timeout. For a POST, Genesys may already have executed it."""
