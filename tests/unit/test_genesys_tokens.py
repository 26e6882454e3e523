"""TokenProvider: lifetime kept, proactive renewal, invalidation, single flight, human errors."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from PureCloudPlatformClientV2.rest import ApiException

from bot.genesys.errors import GenesysAuthError, GenesysUnavailable
from bot.genesys.tokens import TokenProvider

SECRET = "s3cr3t-value"


class _Resp:
    def __init__(self, status: int, data: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.reason = "x"
        self.data = data
        self._headers = headers or {}

    def getheaders(self) -> dict[str, str]:
        return self._headers


class FakeHttp:
    """Stands in for GuardedHttpClient: answers /oauth/token from a script."""

    def __init__(self, expires_in: int | None = 86400, delay: float = 0.0) -> None:
        self.expires_in = expires_in
        self.delay = delay
        self.calls: list[Any] = []
        self.fail_with: int | None = None
        self._lock = threading.Lock()

    def last_headers(self) -> dict[str, str]:
        return {}

    def request(self, options: Any) -> _Resp:
        with self._lock:
            self.calls.append(options)
            n = len(self.calls)
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with is not None:
            body = json.dumps({"error": "invalid_client", "description": "authentication failed"})
            raise ApiException(http_resp=_Resp(self.fail_with, body, {"ININ-Correlation-Id": "c-1"}))
        payload: dict[str, Any] = {"access_token": f"tok-{n}", "token_type": "bearer"}
        if self.expires_in is not None:
            payload["expires_in"] = self.expires_in
        return _Resp(200, json.dumps(payload))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def provider(http: FakeHttp, clock: Clock | None = None) -> TokenProvider:
    return TokenProvider(
        http,  # type: ignore[arg-type]
        "http://login.example/",
        "client",
        SECRET,
        clock=clock or Clock(),
    )


def test_request_shape() -> None:
    http = FakeHttp()
    provider(http).get()
    (options,) = http.calls
    assert options.url == "http://login.example/oauth/token"
    assert options.method == "POST"
    assert options.post_params == {"grant_type": "client_credentials"}
    assert options.headers["Authorization"].startswith("Basic ")
    assert options.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_token_is_cached_and_renewed_before_expiry() -> None:
    http, clock = FakeHttp(expires_in=1000), Clock()
    tokens = provider(http, clock)
    assert tokens.get() == "tok-1"
    clock.now = 899  # 101 s left > min(300, 100)
    assert tokens.get() == "tok-1"
    clock.now = 901  # 99 s left < 100: renew proactively
    assert tokens.get() == "tok-2"
    assert len(http.calls) == 2


def test_default_lifetime_margin_is_five_minutes() -> None:
    http, clock = FakeHttp(expires_in=86400), Clock()
    tokens = provider(http, clock)
    tokens.get()
    clock.now = 86400 - 301
    assert tokens.get() == "tok-1"
    clock.now = 86400 - 299
    assert tokens.get() == "tok-2"


def test_invalidate_only_drops_the_current_token() -> None:
    http = FakeHttp()
    tokens = provider(http)
    first = tokens.get()
    tokens.invalidate("Bearer " + first)
    second = tokens.get()
    assert second != first
    tokens.invalidate(first)  # stale: someone else already replaced it
    assert tokens.get() == second
    assert len(http.calls) == 2


def test_single_flight_login() -> None:
    http = FakeHttp(delay=0.2)
    tokens = provider(http)
    results: list[str] = []

    def get() -> None:
        results.append(tokens.get())

    threads = [threading.Thread(target=get) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == ["tok-1"] * 10
    assert len(http.calls) == 1


@pytest.mark.parametrize("status", [400, 401])
def test_rejected_credentials_are_a_human_auth_error(status: int) -> None:
    http = FakeHttp()
    http.fail_with = status
    tokens = provider(http)
    with pytest.raises(GenesysAuthError) as err:
        tokens.get()
    assert "rejected the OAuth client id/secret" in err.value.message
    assert err.value.status == status
    assert err.value.correlation_id == "c-1"
    assert SECRET not in str(err.value) and SECRET not in repr(tokens)


def test_failed_renewal_keeps_a_still_valid_token() -> None:
    http, clock = FakeHttp(expires_in=1000), Clock()
    tokens = provider(http, clock)
    assert tokens.get() == "tok-1"
    http.fail_with = 503
    clock.now = 950  # in the renewal window, not expired
    assert tokens.get() == "tok-1"
    clock.now = 1001  # expired: the failure surfaces
    with pytest.raises(GenesysUnavailable):
        tokens.get()
