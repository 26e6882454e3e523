"""Readiness checks: a success is cached, a failure only briefly, so /readyz turns 200 soon after the cause is gone."""

from __future__ import annotations

from bot.ops.health import Check, Readiness


def test_a_failing_check_is_asked_again_soon_and_a_passing_one_is_cached():
    answers, runs = ["the Genesys client is still loading", None, "must not be asked yet"], []

    def genesys() -> str | None:
        runs.append(1)
        return answers[len(runs) - 1]

    check = Check("genesys", genesys, cache_seconds=60.0, failing_cache_seconds=0.0)
    assert check.result() == "the Genesys client is still loading"
    assert check.result() is None  # asked again at once: the SDK is built now
    assert check.result() is None and len(runs) == 2  # the success is cached


def test_readiness_names_each_failing_check_with_its_reason():
    report = Readiness([Check("database", lambda: None), Check("slack", lambda: "auth.test refused: invalid_auth")])
    ok, body = report.report()
    assert not ok
    assert body == {"status": "not ready",
                    "checks": {"database": "ok", "slack": {"failing": "auth.test refused: invalid_auth"}}}
