"""Queue resolution against a fake Genesys port: exact client-side match, suggestions, cache."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.domain.model import Queue
from bot.service.problems import Problem
from bot.service.queues import QueueDirectory


class FakeQueues:
    """Stands in for the Genesys port at the boundary; counts lookups."""

    def __init__(self, queues: list[Queue], *, case_sensitive_filter: bool = False, delay: float = 0.0) -> None:
        self.queues = queues
        self.case_sensitive = case_sensitive_filter
        self.delay = delay
        self.calls: list[str | None] = []
        self._lock = threading.Lock()

    def find_queues(self, name: str | None) -> list[Queue]:
        with self._lock:
            self.calls.append(name)
        time.sleep(self.delay)
        if name is None:
            return list(self.queues)
        if self.case_sensitive:
            return [q for q in self.queues if q.name == name]
        return [q for q in self.queues if q.name.casefold() == name.casefold()]

    def get_queue(self, queue_id: str) -> Queue:
        return next(q for q in self.queues if q.id == queue_id)


QUEUES = [Queue("q1", "Support_Tier1", "d1", "Home"), Queue("q2", "Support_Tier2", "d1", "Home"),
          Queue("q3", "Billing", "d1", "Home"), Queue("q4", "Escalations", "d1", "Home"),
          Queue("q5", "Escalations", "d2", "EMEA")]


def test_exact_match_is_case_and_space_insensitive_even_if_the_server_filter_is_not():
    genesys = FakeQueues(QUEUES, case_sensitive_filter=True)
    assert QueueDirectory(genesys).resolve("  support_tier2 ").id == "q2"
    assert genesys.calls == ["support_tier2", None]


def test_cache_means_one_lookup_per_name_until_ttl():
    now = [0.0]
    genesys = FakeQueues(QUEUES)
    directory = QueueDirectory(genesys, ttl_seconds=300, clock=lambda: now[0])
    directory.resolve("Billing")
    directory.resolve("billing")
    assert genesys.calls == ["Billing"]
    now[0] = 301
    directory.resolve("Billing")
    assert genesys.calls == ["Billing", "Billing"]


def test_unknown_name_suggests_up_to_three_close_names():
    with pytest.raises(Problem) as info:
        QueueDirectory(FakeQueues(QUEUES)).resolve("Suport Tier2")
    assert info.value.code == "queue_not_found"
    assert 1 <= len(info.value.suggestions) <= 3 and "Support_Tier2" in info.value.suggestions


def test_same_name_in_two_divisions_is_refused():
    with pytest.raises(Problem) as info:
        QueueDirectory(FakeQueues(QUEUES)).resolve("Escalations")
    assert info.value.code == "queue_ambiguous"
    assert "Home" in info.value.message and "EMEA" in info.value.message


def test_concurrent_misses_for_one_name_share_a_single_lookup():
    genesys = FakeQueues(QUEUES, delay=0.2)
    directory = QueueDirectory(genesys)
    with ThreadPoolExecutor(20) as pool:
        ids = list(pool.map(lambda _: directory.resolve("Billing").id, range(20)))
    assert ids == ["q3"] * 20
    assert genesys.calls == ["Billing"]
