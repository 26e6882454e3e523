"""bot.ports.replay_key: a slash command's replay key is checked once, at its first effect."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from bot.ports.replay_key import deferred_replay_check, first_time_so_far, unchecked_replay_key

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_outside_a_slack_request_everything_is_first_time() -> None:
    assert unchecked_replay_key() is None and first_time_so_far() is True


def test_the_key_is_checked_once_and_the_answer_kept() -> None:
    checks: list[str] = []

    def check(key: str, expires_at: datetime) -> bool:
        checks.append(key)
        return False  # a replay

    with deferred_replay_check("k", AT, check) as pending:
        assert unchecked_replay_key() is pending
        assert first_time_so_far() is False
        assert first_time_so_far() is False
        assert unchecked_replay_key() is None  # settled: a write must not insert it again
    assert checks == ["k"]
    assert unchecked_replay_key() is None  # gone with the request


def test_a_key_settled_by_a_write_is_not_checked_again() -> None:
    with deferred_replay_check("k", AT, lambda key, at: (_ for _ in ()).throw(AssertionError)) as pending:
        pending.first_time = True  # what SqlRequestStore.add does after inserting it
        assert first_time_so_far() is True


def test_another_thread_does_not_see_this_requests_key() -> None:
    seen: list[object] = []
    with deferred_replay_check("k", AT, lambda key, at: True):
        thread = threading.Thread(target=lambda: seen.append(unchecked_replay_key()))
        thread.start()
        thread.join()
    assert seen == [None]
