"""Client-credentials access tokens for Genesys Cloud, renewed before they expire.

Why not `ApiClient.get_client_credentials_token()`: it keeps only `access_token`, throws away
`expires_in`, and the SDK never refreshes client-credentials tokens (docs/genesys-facts.md §4).
So we POST to `/oauth/token` ourselves, through the same GuardedHttpClient (deadline, bounded
body, no blind retries), keep the lifetime, renew early, and let the client `invalidate()` a
token that earned a 401.

Secrets: neither the client secret nor a token is ever logged or put into an exception. A failed
login is logged once at WARNING (host and Genesys' error code); repeats of the same failure go
to DEBUG until a login succeeds, so a wrong secret does not flood the log.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from PureCloudPlatformClientV2.http_request_options import HttpRequestOptions

from bot.genesys import failures
from bot.genesys.http import Attempt, GuardedHttpClient, HttpStatusError, TransportFailure, UnreadableResponse
from bot.genesys.wire import CORRELATION_HEADER, header_value, parse_retry_after
from bot.ports.genesys import (
    GenesysAuthError,
    GenesysError,
    GenesysRateLimited,
    GenesysUnavailable,
)

log = logging.getLogger(__name__)

OPERATION = "token"
# When the server does not say how long a token lives, assume an hour: a 401 still triggers a
# re-login, this only bounds how stale our guess can get.
_DEFAULT_LIFETIME = 3600.0
_CONTEXT = failures.Context(OPERATION, "logging in to Genesys")


@dataclass(frozen=True)
class _Token:
    value: str
    lifetime: float
    obtained_at: float

    def remaining(self, now: float) -> float:
        return self.obtained_at + self.lifetime - now

    def renew_due(self, now: float) -> bool:
        # Renew when less than min(300 s, 10% of the lifetime) remains: 5 minutes early for the
        # default 24 h token, 30 s early for the shortest (300 s) one.
        margin = min(300.0, 0.1 * self.lifetime)
        return self.remaining(now) < margin


class TokenProvider:
    """Single-flight token cache: many threads, one login at a time."""

    def __init__(
        self,
        http: GuardedHttpClient,
        login_base: str,
        client_id: str,
        client_secret: str,
        *,
        deadline: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._url = login_base.rstrip("/") + "/oauth/token"
        self.host = urlsplit(self._url).hostname or self._url
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        self._auth_header = "Basic " + basic  # the secret lives only here
        self._deadline = deadline
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self._last_failure: tuple[object, ...] | None = None
        self.logins = 0  # successful logins, for tests and diagnostics

    def __repr__(self) -> str:  # never show credentials or tokens
        return f"TokenProvider(url={self._url!r}, logins={self.logins})"

    def get(self) -> str:
        """A valid access token, logging in first if there is none or it is about to expire."""
        token = self._token
        if token is not None and not token.renew_due(self._clock()):
            return token.value
        with self._lock:
            token = self._token
            if token is not None and not token.renew_due(self._clock()):
                return token.value  # another thread logged in while we waited
            try:
                self._token = self._login()
            except GenesysError:
                # A proactive renewal failed but the old token is still good: use it for now and
                # try again on the next call rather than failing a user's request.
                if token is not None and token.remaining(self._clock()) > 0:
                    log.warning("Genesys token renewal failed; keeping the current token for now")
                    return token.value
                raise
            return self._token.value

    def invalidate(self, token: str | None) -> None:
        """Forget `token` (it got a 401) so the next `get()` logs in again.

        Only the current token is dropped: if another thread already replaced it, nothing happens,
        so a burst of 401s for the same stale token still causes exactly one re-login.
        """
        if token is None:
            return
        if token.startswith("Bearer "):
            token = token[len("Bearer ") :]
        with self._lock:
            if self._token is not None and self._token.value == token:
                self._token = None

    # -- the login itself ---------------------------------------------------------------------

    def _login(self) -> _Token:
        options = HttpRequestOptions(
            url=self._url,
            method="POST",
            headers={
                "Authorization": self._auth_header,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            post_params={"grant_type": "client_credentials"},
        )
        attempt = Attempt(OPERATION, time.monotonic() + self._deadline, expect_body=True)
        started = self._clock()
        try:
            response = self._http.send(options, attempt)
            token = self._read(response.data, started, attempt)
        except (HttpStatusError, TransportFailure, UnreadableResponse) as error:
            raise self._failed(error, attempt) from None
        self._last_failure = None
        self.logins += 1
        log.info("Genesys login at %s succeeded; token valid for %.0f s", self.host, token.lifetime)
        return token

    def _read(self, body: str, started: float, attempt: Attempt) -> _Token:
        try:
            data = json.loads(body or "{}")
            value = data["access_token"]
            if not isinstance(value, str) or not value:
                raise ValueError("empty access_token")
        except (ValueError, KeyError, TypeError):
            raise UnreadableResponse("no usable access_token in the login answer", status=attempt.status) from None
        try:
            lifetime = float(data.get("expires_in") or _DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            lifetime = _DEFAULT_LIFETIME
        if not lifetime > 0:
            lifetime = _DEFAULT_LIFETIME
        return _Token(value=value, lifetime=lifetime, obtained_at=started)

    def _failed(self, error: Exception, attempt: Attempt) -> GenesysError:
        mapped = self._map(error, attempt)
        key = (type(mapped).__name__, mapped.status, mapped.code, mapped.cause)
        level = logging.WARNING if key != self._last_failure else logging.DEBUG
        self._last_failure = key
        log.log(
            level,
            "Genesys login at %s failed: %s (HTTP %s, code %s%s)",
            self.host,
            type(mapped).__name__,
            mapped.status if mapped.status is not None else "-",
            mapped.code or "-",
            f", cause {mapped.cause}" if mapped.cause else "",
        )
        return mapped

    def _map(self, error: Exception, attempt: Attempt) -> GenesysError:
        if isinstance(error, TransportFailure):
            return failures.from_transport(error, attempt, _CONTEXT)
        if isinstance(error, UnreadableResponse):
            return failures.unreadable(error.reason, attempt, _CONTEXT)
        assert isinstance(error, HttpStatusError)
        status = int(error.status or 0)
        info = error.error
        common: dict[str, object] = {
            "status": status,
            "code": info.code,
            "correlation_id": header_value(error.headers, CORRELATION_HEADER) or info.context_id,
            "operation": OPERATION,
            "host": self.host,
        }
        if status in (400, 401, 403):
            return GenesysAuthError(
                f"Genesys rejected the OAuth client id/secret (client-credentials login at {self.host} "
                "failed). Check the OAuth client's id, secret, grant type and region.",
                **common,  # type: ignore[arg-type]
            )
        if status == 429:
            return GenesysRateLimited(
                "Genesys is rate-limiting logins; try again shortly.",
                retry_after=parse_retry_after(header_value(error.headers, "Retry-After")),
                **common,
            )
        return GenesysUnavailable(
            f"The Genesys login service at {self.host} answered HTTP {status}; it may be unavailable.",
            **common,  # type: ignore[arg-type]
        )
