"""Retention by the sweeper (issue 11): two bot replicas on one database purge what RETENTION_DAYS says.

Store-level behaviour (batches, what stays, concurrent purges, the audit export) is in
tests/integration/test_retention.py; this is the running bot doing it on its own.
"""

from __future__ import annotations

import time

import pytest

from bot.store import open_store
from tests.integration.test_retention import audited, orphans, request_ids, seed
from tests.kit.bots import BotProcess
from tests.kit.env import bot_env
from tests.kit.net import free_port


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return request.getfixturevalue("isolated_postgres_url")


def test_two_replicas_sweep_out_finished_requests_past_retention_and_keep_the_rest(
        sim, slack, tmp_path, database_url):
    store = open_store(database_url)
    try:
        ids = seed(store, old_finished=40)
    finally:
        store.close()
    bots = [BotProcess(bot_env(slack, sim, database_url, RETENTION_DAYS="90", LOG_LEVEL="INFO"), port=free_port(),
                       log_path=tmp_path / f"replica-{i}.log") for i in range(2)]
    store = open_store(database_url)
    try:
        for bot in bots:
            bot.wait_ready(timeout=120)
        deadline = time.monotonic() + 60
        while request_ids(store) != ids["kept"]:  # the retention duty runs on each replica's first sweep
            assert time.monotonic() < deadline, f"not purged: {sorted(request_ids(store) - ids['kept'])[:5]}"
            time.sleep(0.2)

        assert audited(store) == ids["kept"]
        assert orphans(store) == [0, 0, 0, 0]
        for bot in bots:
            assert bot.proc.poll() is None
            # the sweeper reports a failing duty as "background duty retention failed/skipped"
            assert "duty retention" not in bot.log()
    finally:
        store.close()
        for bot in bots:
            bot.stop()


def test_a_longer_retention_keeps_them(sim, slack, tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    store = open_store(url)
    try:
        ids = seed(store, old_finished=10)
        bot = BotProcess(bot_env(slack, sim, url, RETENTION_DAYS="365"), port=free_port(),
                         log_path=tmp_path / "bot.log")
        try:
            bot.wait_ready(timeout=120)
            time.sleep(2)  # several sweeps (every duty runs on the first one)
            assert request_ids(store) == ids["gone"] | ids["kept"]
        finally:
            bot.stop()
    finally:
        store.close()
