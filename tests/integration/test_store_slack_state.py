"""The Slack layer's state: response URLs, message sync bookkeeping, App Home viewers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from bot.domain.request import RequestState
from bot.store.requests import SqlRequestStore, open_store
from bot.store.slack_state import MAX_RESPONSE_URL_USES, SyncState
from tests.integration.test_store import T0, make_request, run_together

S = RequestState
URL = "https://hooks.slack.com/commands/T1/1/abc"


def test_response_urls_are_counted_and_forgotten(store: SqlRequestStore) -> None:
    slack = store.slack_state()
    expires = T0 + timedelta(minutes=30)
    slack.remember_response_url("req-1", URL, expires)
    slack.remember_response_url("req-2", URL + "2", T0 + timedelta(minutes=1))
    assert [slack.take_response_url("req-1", T0) for _ in range(6)] == [URL] * MAX_RESPONSE_URL_USES + [None]
    assert slack.take_response_url("missing", T0) is None
    assert slack.take_response_url("req-2", T0 + timedelta(minutes=1)) is None  # expired at that instant
    assert slack.take_response_url("req-2", T0) == URL + "2"

    slack.remember_response_url("req-1", URL + "new", expires)  # a new command: a fresh URL
    assert slack.take_response_url("req-1", T0) == URL + "new"

    slack.remember_response_url("req-3", URL + "3", expires)
    for _ in range(MAX_RESPONSE_URL_USES):
        slack.take_response_url("req-3", T0)
    # req-2 expired, req-3 used up: both deleted (they are credentials); req-1 stays.
    assert slack.forget_expired_response_urls(T0 + timedelta(minutes=2)) == 2
    stored = store.db.run(lambda c: c.execute(text("SELECT request_id, url FROM slack_response_urls")).all())
    assert [tuple(row) for row in stored] == [("req-1", URL + "new")]
    assert slack.forget_expired_response_urls(expires) == 1
    assert slack.take_response_url("req-1", T0) is None


def test_a_response_url_is_used_at_most_five_times_across_replicas(store_url: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        replicas[0].slack_state().remember_response_url("req-1", URL, T0 + timedelta(minutes=30))
        taken = run_together(12, lambda i: replicas[i % 2].slack_state().take_response_url("req-1", T0))
        assert taken.count(URL) == MAX_RESPONSE_URL_USES
    finally:
        for replica in replicas:
            replica.close()


def test_sync_leases_and_saved_state(store: SqlRequestStore) -> None:
    slack = store.slack_state()
    until = T0 + timedelta(seconds=30)
    assert slack.claim_sync("req-1", "a", T0, until) == SyncState(0, {}, 0)
    assert slack.claim_sync("req-1", "b", T0, until) is None  # a holds it
    assert slack.claim_sync("req-1", "a", T0, until) == SyncState(0, {}, 0)  # re-entrant
    assert slack.save_sync("req-1", "b", 3, {"x": 1}) is False  # not b's to save
    assert slack.save_sync("req-1", "a", 3, {"approval": "C1:1.1", "dm": True}, attempts=0) is True
    # Saving gave the lease back.
    assert slack.claim_sync("req-1", "b", T0, until) == SyncState(3, {"approval": "C1:1.1", "dm": True}, 0)
    assert slack.claim_sync("req-1", "a", T0 + timedelta(seconds=29), until) is None
    taken_over = slack.claim_sync("req-1", "a", until + timedelta(microseconds=1), until + timedelta(seconds=30))
    assert taken_over == SyncState(3, {"approval": "C1:1.1", "dm": True}, 0)  # b's lease ran out
    assert slack.save_sync("req-1", "b", 4, {}) is False  # b lost it
    slack.release_sync("req-1", "a")
    assert slack.claim_sync("req-1", "c", T0, until) is not None
    slack.save_sync("req-1", "c", 3, {"approval": "C1:1.1"}, attempts=2)
    assert slack.claim_sync("req-1", "d", T0, until) == SyncState(3, {"approval": "C1:1.1"}, 2)


def test_one_sync_claim_wins_across_replicas(store_url: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        wins = run_together(10, lambda i: replicas[i % 2].slack_state().claim_sync(
            "req-1", f"owner-{i}", T0, T0 + timedelta(seconds=30)))
        assert len([w for w in wins if w is not None]) == 1
    finally:
        for replica in replicas:
            replica.close()


def test_unsynced_lists_requests_whose_messages_are_behind(store: SqlRequestStore) -> None:
    slack = store.slack_state()
    now = T0 + timedelta(minutes=10)
    store.add(make_request("new", "c-new", created_at=T0 + timedelta(minutes=1)), actor="U")
    store.add(make_request("synced", "c-s", created_at=T0 + timedelta(minutes=2)), actor="U")
    store.add(make_request("behind", "c-b", created_at=T0 + timedelta(minutes=3)), actor="U")
    store.add(make_request("busy", "c-busy", created_at=T0 + timedelta(minutes=4)), actor="U")
    store.add(make_request("ancient", "c-a", created_at=T0 - timedelta(days=2)), actor="U")
    for rid in ("synced", "behind"):
        slack.claim_sync(rid, "me", now, now + timedelta(seconds=30))
        slack.save_sync(rid, "me", 1, {})
    store.set_message_ref("behind", "C1:1.1")  # version 2 now
    slack.claim_sync("busy", "other", now, now + timedelta(seconds=30))

    assert slack.unsynced(now, 10, max_age_seconds=3600) == ["new", "behind"]
    assert slack.unsynced(now, 1, max_age_seconds=3600) == ["new"]
    assert slack.unsynced(now + timedelta(minutes=1), 10, max_age_seconds=3600) == ["new", "behind", "busy"]
    assert "ancient" in slack.unsynced(now, 10, max_age_seconds=3 * 86400)
    # A state change (not only a message ref) puts a synced request back on the list.
    store.transition("synced", [S.PENDING], S.DENIED, actor="U-SUP", at=now)
    assert slack.unsynced(now, 10, max_age_seconds=3600) == ["new", "behind", "synced"]


def test_home_viewers(store: SqlRequestStore) -> None:
    slack = store.slack_state()
    slack.home_opened("U1", T0)
    slack.home_opened("U2", T0 + timedelta(minutes=5))
    assert slack.home_viewers(T0) == {"U1", "U2"}
    assert slack.home_viewers(T0 + timedelta(minutes=1)) == {"U2"}
    slack.home_opened("U1", T0 + timedelta(minutes=10))  # opened again: the latest time counts
    assert slack.home_viewers(T0 + timedelta(minutes=6)) == {"U1"}
    assert slack.home_viewers(T0 + timedelta(hours=1)) == set()
