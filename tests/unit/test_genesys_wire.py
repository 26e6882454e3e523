"""Shared wire parsing: Retry-After, Genesys error bodies (bounded), headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.genesys.wire import MAX_ERROR_BODY, MAX_MESSAGE, clip, header_value, parse_error_body, parse_retry_after


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3.0), (" 1.5 ", 1.5), ("0", 0.0), ("-4", 0.0), ("", None), (None, None), ("soon", None), ("nan", None)],
)
def test_retry_after_seconds(raw: str | None, expected: float | None) -> None:
    assert parse_retry_after(raw) == expected


def test_retry_after_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:07 GMT", now=now) == 7.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0


def test_error_body_and_oauth_error() -> None:
    body = json.dumps({"message": "No  such\nthing", "code": "not.found", "status": 404, "contextId": "ctx-1"})
    info = parse_error_body(body)
    assert (info.code, info.message, info.context_id) == ("not.found", "No such thing", "ctx-1")
    oauth = parse_error_body(json.dumps({"error": "invalid_client", "error_description": "authentication failed"}))
    assert (oauth.code, oauth.message) == ("invalid_client", "authentication failed")
    assert parse_error_body("") == parse_error_body(None) == parse_error_body("[1]") == parse_error_body("<html>")


def test_huge_error_body_is_bounded_and_salvaged() -> None:
    body = json.dumps({"message": "x" * (20 << 20), "code": "too.big"})
    info = parse_error_body(body[:MAX_ERROR_BODY])  # what the HTTP client reads of it
    assert info.message is not None and len(info.message) <= MAX_MESSAGE
    assert info.code is None  # it came after the cut
    salvaged = parse_error_body(
        '{"code": "bad.request", "message": "Bad \\"thing\\" happened',
    )
    assert salvaged.code == "bad.request" and salvaged.message == 'Bad "thing" happened'


def test_clip() -> None:
    assert clip("a" * 600) == "a" * (MAX_MESSAGE - 1) + "…"
    assert clip("  ") is None and clip(None) is None
    assert clip("short") == "short"


def test_header_value_is_case_insensitive() -> None:
    assert header_value({"inin-correlation-id": "c"}, "ININ-Correlation-Id") == "c"
    assert header_value(None, "x") is None and header_value({}, "x") is None
