"""TokenProvider: lifetime kept, proactive renewal, invalidation, single flight, human errors."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import pytest

from bot.genesys.http import Attempt, BoundedResponse, HttpStatusError
from bot.genesys.tokens import TokenProvider
from bot.genesys.wire import parse_error_body
from bot.ports.genesys import GenesysAuthError, GenesysUnavailable

SECRET = "s3cr3t-value"


class FakeHttp:
    """Stands in for GuardedHttpClient: answers /oauth/token from a script."""

    def __init__(self, expires_in: int | None = 86400, delay: float = 0.0) -> None:
        self.expires_in = expires_in
        self.delay = delay
        self.calls: list[Any] = []
        self.fail_with: int | None = None
        self._lock = threading.Lock()

    def send(self, options: Any, attempt: Attempt) -> BoundedResponse:
        assert attempt.operation == "token"
        with self._lock:
            self.calls.append(options)
            n = len(self.calls)
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with is not None:
            body = json.dumps({"error": "invalid_client", "description": "authentication failed"})
            response = BoundedResponse(self.fail_with, "x", body, {"ININ-Correlation-Id": "c-1"})
            attempt.status = self.fail_with
            raise HttpStatusError(response, parse_error_body(body))
        payload: dict[str, Any] = {"access_token": f"tok-{n}", "token_type": "bearer"}
        if self.expires_in is not None:
            payload["expires_in"] = self.expires_in
        attempt.status = 200
        return BoundedResponse(200, "OK", json.dumps(payload), {})


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
    assert err.value.code == "invalid_client"
    assert err.value.operation == "token" and err.value.host == "login.example"
    assert err.value.correlation_id == "c-1"
    assert SECRET not in str(err.value) and SECRET not in repr(tokens)


def test_login_failure_is_logged_once_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    http = FakeHttp()
    http.fail_with = 401
    tokens = provider(http)
    caplog.set_level(logging.DEBUG, logger="bot.genesys")
    for _ in range(3):
        with pytest.raises(GenesysAuthError):
            tokens.get()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    line = warnings[0].getMessage()
    assert "login.example" in line and "invalid_client" in line and "401" in line
    basic = "Basic "
    assert all(SECRET not in r.getMessage() and basic not in r.getMessage() for r in caplog.records)

    http.fail_with = None
    tokens.get()  # success resets: the next failure is news again
    http.fail_with = 401
    tokens.invalidate(tokens.get())
    caplog.clear()
    with pytest.raises(GenesysAuthError):
        tokens.get()
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


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
