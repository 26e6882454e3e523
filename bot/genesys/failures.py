"""Turning what went wrong on the wire into the port's errors (bot.ports.genesys).

Every error carries the operation (so a 403 can name the permission), the host, the HTTP status,
Genesys' code and correlation id when there is one, and whether a write may have happened.
Messages are for people: "Could not resolve api.mypurecloud.ie (DNS failure) while reading
conversation …". Genesys' own message is appended, cut to 500 characters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import urllib3
from PureCloudPlatformClientV2.rest import ApiException

from bot.genesys.http import Attempt, HttpStatusError, TransportFailure, UnreadableResponse
from bot.genesys.wire import CORRELATION_HEADER, clip, header_value, parse_error_body, parse_retry_after
from bot.ports.genesys import (
    PERMISSIONS,
    GenesysAuthError,
    GenesysBadRequest,
    GenesysError,
    GenesysForbidden,
    GenesysNotFound,
    GenesysRateLimited,
    GenesysTimeout,
    GenesysUnavailable,
    GenesysUnreadable,
)

log = logging.getLogger(__name__)

# cause -> (error class, what happened); {host} is filled in.
_CAUSES: dict[str, tuple[type[GenesysError], str]] = {
    "dns": (GenesysUnavailable, "Could not resolve {host} (DNS failure)"),
    "refused": (GenesysUnavailable, "{host} refused the connection"),
    "tls": (GenesysUnavailable, "The TLS (https) handshake with {host} failed"),
    "connect_timeout": (GenesysTimeout, "Timed out connecting to {host}"),
    "timeout": (GenesysTimeout, "{host} did not answer in time"),
    "dropped": (GenesysUnavailable, "The connection to {host} dropped"),
    "pool": (GenesysTimeout, "No free connection to {host} in time (too many requests in flight)"),
}
RETRYABLE_CAUSES = frozenset({"refused", "connect_timeout", "dropped"})
_MAYBE = " It may or may not have happened: check the conversation before trying again."


@dataclass(frozen=True)
class Context:
    """What was being done when it failed."""

    operation: str
    subject: str  # what was being done, as "while <subject>": "reading conversation <id>"
    write: bool = False


def transport_cause(failure: TransportFailure, sent: bool) -> str | None:
    """Which of the named causes a network failure was (None: none of them)."""
    error = failure.error
    if error is None:
        return "timeout"
    if isinstance(error, urllib3.exceptions.NameResolutionError):
        return "dns"
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return "refused"
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
        return "connect_timeout"
    if isinstance(error, urllib3.exceptions.SSLError):
        return "tls"
    if isinstance(error, urllib3.exceptions.EmptyPoolError | urllib3.exceptions.ClosedPoolError):
        return "pool"
    if isinstance(error, urllib3.exceptions.ReadTimeoutError):
        # urllib3 reports a TLS handshake that stalls as a read timeout; nothing was sent then.
        return "timeout" if sent else "connect_timeout"
    if isinstance(error, urllib3.exceptions.ProtocolError):
        return "dropped"
    return None


def from_transport(failure: TransportFailure, attempt: Attempt, ctx: Context) -> GenesysError:
    """No complete answer: name the cause and host; a write that left may have happened."""
    sent = attempt.sent or failure.phase == "body"
    cause = transport_cause(failure, sent)
    host = failure.host or attempt.host or "Genesys"
    maybe = ctx.write and sent
    log.info(
        "Genesys %s failed: %s (%s) on %s%s",
        ctx.operation,
        cause or "network error",
        type(failure.error).__name__ if failure.error else "deadline",
        host,
        ", request was sent" if sent else ", nothing was sent",
    )
    if cause is None:
        if isinstance(failure.error, urllib3.exceptions.DecodeError):
            return GenesysUnreadable(
                f"The answer from {host} could not be decoded while {ctx.subject}.",
                operation=ctx.operation, host=host, maybe_executed=maybe,
            )  # fmt: skip
        kind, what = GenesysUnavailable, f"Network problem with {host} ({type(failure.error).__name__})"
    else:
        kind, what = _CAUSES[cause]
        what = what.format(host=host)
    return kind(
        f"{what} while {ctx.subject}." + (_MAYBE if maybe else ""),
        operation=ctx.operation,
        host=failure.host or attempt.host,
        cause=cause,
        maybe_executed=maybe,
        correlation_id=attempt.correlation_id,
    )


def from_status(
    error: ApiException, attempt: Attempt | None, ctx: Context, *, auth_retried: bool = False
) -> GenesysError:
    """A complete non-2xx answer."""
    status = int(error.status or 0)
    info = error.error if isinstance(error, HttpStatusError) else parse_error_body(_body_text(error))
    headers = getattr(error, "headers", None)
    common: dict[str, Any] = {
        "status": status,
        "code": info.code,
        "correlation_id": header_value(headers, CORRELATION_HEADER) or info.context_id,
        "operation": ctx.operation,
        "host": attempt.host if attempt else None,
    }
    said = f" Genesys said: {info.message}" if info.message else ""
    if status == 401:
        again = " even after a fresh login" if auth_retried else ""
        return GenesysAuthError(
            f"Genesys refused the bot's access token{again} while {ctx.subject}; check the OAuth "
            "client (revoked, wrong region or org?)." + said,
            **common,
        )
    if status == 403:
        return GenesysForbidden(
            f"The bot's Genesys OAuth client is not allowed to do this ({ctx.subject}): "
            + _needs(ctx.operation)
            + said,
            **common,
        )
    if status == 404:
        return GenesysNotFound(
            f"Genesys found nothing while {ctx.subject} (it may not exist, or the bot may not see it)." + said,
            **common,
        )
    if status == 429:
        return GenesysRateLimited(
            f"Genesys is rate-limiting the bot; try again in a moment ({ctx.subject}).",
            retry_after=parse_retry_after(header_value(headers, "Retry-After")),
            **common,
        )
    if 400 <= status < 500:
        return GenesysBadRequest(f"Genesys refused the request while {ctx.subject} (HTTP {status})." + said, **common)
    if status >= 500:
        maybe = _MAYBE if ctx.write else ""
        return GenesysUnavailable(
            f"Genesys had a server error (HTTP {status}) while {ctx.subject}." + maybe + said,
            maybe_executed=ctx.write,
            **common,
        )
    return GenesysUnavailable(f"Unexpected answer from Genesys (HTTP {status}) while {ctx.subject}.", **common)


def unreadable(reason: str, attempt: Attempt | None, ctx: Context) -> GenesysUnreadable:
    """A 2xx we could not turn into a model: never build domain objects from it."""
    log.info(
        "Unreadable Genesys answer to %s: %s (correlation id %s)",
        ctx.operation, clip(reason, 200), attempt.correlation_id if attempt else None,
    )  # fmt: skip
    return GenesysUnreadable(
        f"Genesys answered with something the bot can't read while {ctx.subject} ({clip(reason, 200)}).",
        status=attempt.status if attempt else None,
        correlation_id=attempt.correlation_id if attempt else None,
        operation=ctx.operation,
        host=attempt.host if attempt else None,
        maybe_executed=ctx.write,
    )


def to_port_error(
    error: BaseException, attempt: Attempt | None, ctx: Context, *, auth_retried: bool = False
) -> GenesysError:
    """Any failure of one attempt (already known not to be retried) as a port error."""
    if isinstance(error, GenesysError):
        if error.operation is None:
            error.operation = ctx.operation
        return error
    if isinstance(error, TransportFailure):
        return from_transport(error, attempt or Attempt(ctx.operation, 0.0), ctx)
    if isinstance(error, UnreadableResponse):
        return unreadable(error.reason, attempt, ctx)
    if isinstance(error, ApiException) and error.status:
        return from_status(error, attempt, ctx, auth_retried=auth_retried)
    if attempt is not None and attempt.status is not None:
        # The answer arrived and was 2xx: the SDK failed to deserialise it (ApiException with
        # status 0 for a bad date, or a TypeError/ValueError on an unexpected shape).
        return unreadable(f"{type(error).__name__}: {error}", attempt, ctx)
    log.warning("Unexpected %s from the Genesys SDK during %s", type(error).__name__, ctx.operation)
    return GenesysError(
        f"Unexpected problem while {ctx.subject} ({type(error).__name__}).",
        operation=ctx.operation,
        maybe_executed=ctx.write and bool(attempt and attempt.sent),
    )


def _needs(operation: str) -> str:
    permissions = PERMISSIONS.get(operation)
    if not permissions:
        return "its role lacks a permission (or the division)."
    names = " or ".join(permissions)
    return f"its role needs {names} (in the division of what it is acting on)."


def _body_text(error: ApiException) -> str | None:
    body = getattr(error, "body", None)
    if isinstance(body, bytes):
        return body[:4096].decode("utf-8", errors="replace")
    return body[:4096] if isinstance(body, str) else None
