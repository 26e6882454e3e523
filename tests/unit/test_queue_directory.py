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
