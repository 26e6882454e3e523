"""Client-credentials access tokens for Genesys Cloud, renewed before they expire.

Why not `ApiClient.get_client_credentials_token()`: it stores only `access_token` and throws away
`expires_in`, and the SDK never refreshes client-credentials tokens (it only refreshes code-grant
tokens that have a refresh_token; docs/genesys-api.md §4.3). So we POST to `/oauth/token`
ourselves — through the same GuardedHttpClient (timeouts, no blind retries) — keep the lifetime,
renew proactively, and let the adapter `invalidate()` a token that earned a 401.

Secrets: neither the client secret nor any token is ever logged or put into an exception message.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import urllib3
from PureCloudPlatformClientV2.http_request_options import HttpRequestOptions
from PureCloudPlatformClientV2.rest import ApiException

from bot.genesys.errors import (
    GenesysAuthError,
    GenesysError,
    GenesysRateLimited,
    GenesysTimeout,
    GenesysUnavailable,
)
from bot.genesys.http import GuardedHttpClient, header_value

log = logging.getLogger(__name__)

# When the server does not say how long a token lives, assume an hour: a 401 still triggers a
# re-login, this only bounds how stale our guess can get.
_DEFAULT_LIFETIME = 3600.0


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
        clock: Callable[[], float] = time.monotonic,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self._http = http
        self._url = login_base.rstrip("/") + "/oauth/token"
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        self._auth_header = "Basic " + basic  # the secret lives only here
        self._clock = clock
        self._on_request = on_request
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self.logins = 0  # successful logins, for tests and diagnostics

    def __repr__(self) -> str:  # never show credentials or tokens
        return f"TokenProvider(url={self._url!r}, logins={self.logins})"

    def get(self) -> str:
        """A valid access token, logging in first if there is none or it is about to expire."""
        token = self._token
        now = self._clock()
        if token is not None and not token.renew_due(now):
            return token.value
        with self._lock:
            token = self._token
            now = self._clock()
            if token is not None and not token.renew_due(now):
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
        if self._on_request is not None:
            self._on_request()
        started = self._clock()
        try:
            response = self._http.request(options)
        except ApiException as exc:
            raise _login_error(exc) from None
        except urllib3.exceptions.HTTPError as exc:
            raise _login_transport_error(exc) from None

        try:
            data = json.loads(response.data or "{}")
            value = data["access_token"]
            if not isinstance(value, str) or not value:
                raise ValueError("empty access_token")
        except (ValueError, KeyError, TypeError):
            raise GenesysAuthError(
                "Genesys login returned no usable access token (unexpected response).",
                status=response.status,
                correlation_id=header_value(self._http.last_headers(), "ININ-Correlation-Id"),
            ) from None
        try:
            lifetime = float(data.get("expires_in") or _DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            lifetime = _DEFAULT_LIFETIME
        if lifetime <= 0:
            lifetime = _DEFAULT_LIFETIME
        self.logins += 1
        log.info("Genesys login succeeded; token valid for %.0f s", lifetime)
        return _Token(value=value, lifetime=lifetime, obtained_at=started)


def _login_error(exc: ApiException) -> GenesysError:
    status = exc.status
    correlation_id = header_value(exc.headers, "ININ-Correlation-Id")
    code = None
    try:
        body = json.loads(exc.body) if exc.body else {}
        if isinstance(body, dict):
            code = body.get("error") or body.get("code")
            correlation_id = correlation_id or body.get("contextId")
    except (TypeError, ValueError):
        pass
    code = code if isinstance(code, str) else None
    if status in (400, 401, 403):
        return GenesysAuthError(
            "Genesys rejected the OAuth client id/secret (client-credentials login failed). "
            "Check the OAuth client's id, secret, grant type and region.",
            status=status,
            code=code,
            correlation_id=correlation_id,
        )
    if status == 429:
        retry_after = None
        raw = header_value(exc.headers, "Retry-After")
        try:
            retry_after = float(raw) if raw is not None else None
        except ValueError:
            retry_after = None
        return GenesysRateLimited(
            "Genesys is rate-limiting logins; try again shortly.",
            retry_after=retry_after,
            status=status,
            code=code,
            correlation_id=correlation_id,
        )
    return GenesysUnavailable(
        f"Genesys login service answered HTTP {status}; it may be unavailable.",
        status=status,
        code=code,
        correlation_id=correlation_id,
    )


def _login_transport_error(exc: urllib3.exceptions.HTTPError) -> GenesysError:
    if isinstance(exc, urllib3.exceptions.TimeoutError) and not isinstance(exc, urllib3.exceptions.NewConnectionError):
        return GenesysTimeout("Genesys login did not answer in time.")
    return GenesysUnavailable(f"Could not reach the Genesys login service ({type(exc).__name__}).")
