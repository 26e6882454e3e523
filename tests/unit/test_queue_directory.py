"""Queue resolution: one shared lookup per name in a burst, cache, typeahead never waits."""

from __future__ import annotations

import threading
import time

from bot.service.queues import QueueDirectory
from tests.fakes.memory_genesys import MemoryGenesys


def test_concurrent_misses_for_one_name_share_one_lookup():
    genesys = MemoryGenesys()
    queue = genesys.add_queue("Support_Tier2")
    slow = genesys.list_queues

    def list_slowly(**kw):
        time.sleep(0.2)
        return slow(**kw)

    genesys.list_queues = list_slowly
    directory = QueueDirectory(genesys)
    results = []
    threads = [threading.Thread(target=lambda: results.append(directory.resolve("support_tier2"))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {q.id for q in results} == {queue.id}
    assert genesys.calls.count("list_queues") == 1
    directory.resolve("Support_Tier2")
    assert genesys.calls.count("list_queues") == 1


def test_catalog_pages_through_everything_once():
    genesys = MemoryGenesys()
    for i in range(250):
        genesys.add_queue(f"Q{i:03d}")
    directory = QueueDirectory(genesys)
    assert directory.refresh_catalog()
    assert len(directory.catalog()) == 250 and genesys.calls.count("list_queues") == 3



def test_estimated_waits_go_to_the_best_matches_of_the_latest_search():
    from bot.domain.conversation import QueueHealth

    genesys = MemoryGenesys()
    queues = [genesys.add_queue(f"Support {name}") for name in ("A", "B", "C", "D", "E", "F", "Tier 2")]
    for q in queues:
        genesys.health[q.id] = QueueHealth(1, 2, 30.0)
    asked: list[str] = []
    estimate = genesys.estimated_wait
    genesys.estimated_wait = lambda queue_id, *a, **kw: asked.append(queue_id) or estimate(queue_id, *a, **kw)
    now = [0.0]
    directory = QueueDirectory(genesys, clock=lambda: now[0])
    directory.refresh_catalog()
    tier2 = queues[-1].id
    directory.search("support")  # seven queues; "Support Tier 2" sorts last
    directory.refresh_health()
    assert len(asked) == 5 and tier2 not in asked  # one request per queue: only the first five

    now[0] = 11.0
    directory.search("tier 2")
    directory.refresh_health()

    assert asked[5:] == [tier2]  # the others' estimates are still fresh


def test_health_shown_while_people_type_is_never_older_than_15_seconds():
    from bot.domain.conversation import QueueHealth
    from bot.ports.genesys import GenesysUnavailable

    genesys = MemoryGenesys()
    queue = genesys.add_queue("Support Tier 2")
    genesys.health[queue.id] = QueueHealth(3, 5, None)
    now = [0.0]
    directory = QueueDirectory(genesys, clock=lambda: now[0])
    directory.refresh_catalog()
    directory.search("tier")
    assert directory.refresh_health() == 1
    genesys.health[queue.id] = QueueHealth(1, 9, None)

    now[0] = 5.0  # the next 5 s sweep: still fresh, nothing asked
    assert directory.refresh_health() == 0
    now[0] = 10.0  # the sweep after: old enough to refresh
    directory.search("tier")
    assert directory.refresh_health() == 1
    (option,) = directory.search("tier")
    assert (option.health.available, option.health.waiting) == (1, 9)

    def failing(*_a, **_kw):
        raise GenesysUnavailable("down", operation="queue_health", cause="timeout")

    genesys.queue_health = failing
    for second in (15.0, 20.0, 25.0):  # Genesys fails: the 10 s old figures may show until 15 s old
        now[0] = second
        directory.search("tier")
        directory.refresh_health()
        (option,) = directory.search("tier")
        assert (option.health is not None) == (second - 10.0 <= 15.0)
