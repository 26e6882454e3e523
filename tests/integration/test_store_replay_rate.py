"""ReplayGuard and RateBudget: shared by replicas through the database."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot.store.requests import SqlRequestStore, open_store
from tests.integration.test_store import T0, run_together


def test_replay_guard(store: SqlRequestStore) -> None:
    guard = store.replay_guard()
    assert guard.first_time("evt-1", T0 + timedelta(minutes=5)) is True
    assert guard.first_time("evt-1", T0 + timedelta(minutes=9)) is False
    assert guard.first_time("evt-2", T0 + timedelta(minutes=10)) is True
    assert guard.purge(T0 + timedelta(minutes=4)) == 0
    assert guard.purge(T0 + timedelta(minutes=5)) == 1  # expired at that instant
    assert guard.first_time("evt-1", T0 + timedelta(minutes=15)) is True  # forgotten, so new again
    assert guard.first_time("evt-2", T0 + timedelta(minutes=15)) is False


def test_replay_guard_has_one_first_time_across_replicas(store_url: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        firsts = run_together(12, lambda i: replicas[i % 2].replay_guard().first_time("evt", T0))
        assert firsts.count(True) == 1
    finally:
        for replica in replicas:
            replica.close()


def test_rate_budget_refills_at_the_rate_up_to_burst(store: SqlRequestStore) -> None:
    budget = store.rate_budget()

    def take(now: float, key: str = "org") -> float:
        return budget.take(key, rate_per_second=2.0, burst=3, now=now)

    assert [take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]  # the burst
    assert take(100.0) == pytest.approx(0.5)  # empty: one token accrues in 1/rate
    assert take(100.25) == pytest.approx(0.25)  # half a token there
    assert take(100.5) == 0.0
    assert take(100.5) == pytest.approx(0.5)
    assert take(99.0) == pytest.approx(0.5)  # a clock behind the stored one refills nothing
    assert [take(1000.0) for _ in range(4)][-1] == pytest.approx(0.5)  # refilled to burst only
    assert take(100.0, key="other") == 0.0  # buckets are independent
    with pytest.raises(ValueError):
        budget.take("org", rate_per_second=0, burst=3, now=1.0)
    with pytest.raises(ValueError):
        budget.take("org", rate_per_second=1, burst=0.5, now=1.0)


def test_rate_budget_is_never_exceeded_by_two_replicas(store_url: str) -> None:
    """N threads × M takes across two engines: grants never exceed burst + rate × elapsed."""
    rate, burst, threads, takes = 40.0, 5, 8, 25
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        def hammer(i: int) -> list[tuple[float, float]]:
            budget = replicas[i % 2].rate_budget()
            calls = []
            for _ in range(takes):
                now = time.time()
                calls.append((now, budget.take("genesys", rate_per_second=rate, burst=burst, now=now)))
            return calls

        calls = [c for per_thread in run_together(threads, hammer) for c in per_thread]
        granted = sum(1 for _, wait in calls if wait == 0.0)
        elapsed = max(now for now, _ in calls) - min(now for now, _ in calls)
        assert granted <= burst + rate * elapsed
        assert granted >= burst  # and the budget is actually handed out
        assert all(0 < wait <= 1 / rate + 1e-9 for _, wait in calls if wait)
    finally:
        for replica in replicas:
            replica.close()


def test_a_pending_replay_key_goes_in_with_the_request_or_stops_it(store: SqlRequestStore) -> None:
    """bot.ports.replay_key: /transfer's replay key is written by the request's own insert."""
    from bot.ports.replay_key import Replayed, deferred_replay_check
    from tests.integration.test_store import audit_count, make_request

    def never(key, expires_at):  # add() settles the key itself; nothing may fall back to a second write
        raise AssertionError("checked separately")

    with deferred_replay_check("slash-1", T0 + timedelta(minutes=6), never) as pending:
        store.add(make_request("req-1", "conv-1"), actor="U1")
    assert pending.first_time is True
    assert store.replay_guard().first_time("slash-1", T0) is False  # the key is stored

    later = deferred_replay_check("slash-1", T0 + timedelta(minutes=6), never)
    with later as pending, pytest.raises(Replayed):
        store.add(make_request("req-2", "conv-2"), actor="U1")
    assert pending.first_time is False
    assert store.get("req-2") is None and audit_count(store) == 1  # nothing of it was written


def test_a_request_refused_for_another_reason_leaves_its_key_unchecked(store: SqlRequestStore) -> None:
    from bot.ports.replay_key import deferred_replay_check
    from bot.ports.store import ConversationBusy
    from tests.integration.test_store import make_request

    store.add(make_request("req-1", "conv-1"), actor="U1")
    later = deferred_replay_check("slash-2", T0 + timedelta(minutes=6), lambda k, e: True)
    with later as pending, pytest.raises(ConversationBusy):
        store.add(make_request("req-2", "conv-1"), actor="U1")  # conv-1 has an open request
    assert pending.first_time is None  # rolled back with the request: the guard checks it later
    assert store.replay_guard().first_time("slash-2", T0) is True
