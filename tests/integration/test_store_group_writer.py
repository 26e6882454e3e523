"""SQLite's ack-path writes: one writer thread, many callers' works to a transaction, each undone alone."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.ports.store import StoreUnavailable
from bot.store.requests import open_store
from bot.store.tables import replay_keys
from tests.integration.test_store import T0, run_together

INSERT_KEY = replay_keys.insert()  # no ON CONFLICT: a second insert of a key is a unique violation


def _keys(store) -> int:
    return store._db.run(lambda conn: conn.execute(select(func.count()).select_from(replay_keys)).scalar_one())


def _insert(key: str):
    return lambda conn: conn.execute(INSERT_KEY, {"key": key, "expires_at": T0 + timedelta(minutes=5)})


@pytest.fixture
def store(tmp_path: Path):
    opened = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    yield opened
    opened.close()


def test_waiting_writes_share_one_transaction(store) -> None:
    db = store._db
    db.run_direct(_insert("warm-up"))  # starts the writer thread
    writer = db._group_writer
    before = writer.batches
    with db._write_lock:  # the writer can't start a transaction: callers queue up behind it
        threads = [threading.Thread(target=db.run_direct, args=(_insert(f"k{i}"),)) for i in range(20)]
        for thread in threads:
            thread.start()
        while writer.waiting < 20:  # queued, or taken by the writer and waiting for the lock
            threading.Event().wait(0.005)
    for thread in threads:
        thread.join(10)
    assert _keys(store) == 21
    assert writer.batches - before <= 2  # one for the first caller at most, one for the rest


def test_one_callers_failure_undoes_only_its_own_rows(store) -> None:
    db = store._db
    db.run_direct(_insert("taken"))

    def both(i: int):
        def work(conn):
            conn.execute(INSERT_KEY, {"key": f"mine-{i}", "expires_at": T0})
            if i % 5 == 0:
                conn.execute(INSERT_KEY, {"key": "taken", "expires_at": T0})  # violates the key
            return i
        try:
            return db.run_direct(work)
        except IntegrityError:
            return "refused"

    results = run_together(20, both)
    assert [r for r in results if r == "refused"] == ["refused"] * 4
    assert sorted(r for r in results if r != "refused") == [i for i in range(20) if i % 5]
    # The refused callers' first rows were undone with them; everyone else's stayed.
    assert _keys(store) == 1 + 16


def test_an_exception_in_a_work_reaches_its_caller_and_undoes_its_rows(store) -> None:
    def bad(conn):
        conn.execute(INSERT_KEY, {"key": "half", "expires_at": T0})
        raise ValueError("a value the caller got wrong")

    with pytest.raises(ValueError, match="got wrong"):
        store._db.run_direct(bad)
    assert store._db.run_direct(_insert("next")) == 1
    assert _keys(store) == 1


def test_after_close_writes_are_refused(store) -> None:
    store._db.run_direct(_insert("before"))
    store.close()
    with pytest.raises(StoreUnavailable):
        store._db.run_direct(_insert("after"))


def test_savepoints_only_when_a_work_fails(store) -> None:
    """The common batch is one plain transaction; a failure re-runs it with a savepoint per work."""
    db = store._db
    db.run_direct(_insert("first"))  # starts the writer thread and its connection
    statements: list[str] = []
    db._group_writer._raw.driver_connection.set_trace_callback(statements.append)
    db.run_direct(_insert("plain"))
    assert not [s for s in statements if s.startswith("SAVEPOINT")]
    assert statements[-1] == "COMMIT"
    statements.clear()
    with pytest.raises(IntegrityError):
        db.run_direct(_insert("plain"))  # the key exists: this work fails
    assert statements.count("SAVEPOINT work") == 1 and "ROLLBACK TO work" in statements
    assert _keys(store) == 2


def test_the_ack_path_is_prepared_before_the_first_write(store) -> None:
    """The bot does this at start-up, so the first acks of a burst don't open a connection, start a
    thread and compile statements; the rehearsal leaves nothing behind."""
    assert store._db._group_writer is None and store._db._direct_cache == {}  # nothing written yet
    store.prepare_ack_writes()
    writer = store._db._group_writer
    assert writer is not None and writer._thread.is_alive()
    compiled = dict(store._db._direct_cache)
    assert len(compiled) == 3  # the replay key, the request, its audit event
    assert _keys(store) == 0 and store.get("rehearsal") is None
    assert store.audit_since(T0 - timedelta(days=3650)) == []
    store.prepare_ack_writes()
    assert store._db._group_writer is writer and store._db._direct_cache == compiled  # nothing new
    assert store._db.run_direct(_insert("k")) == 1


def test_preparing_a_sqlite_store_never_loads_the_postgresql_driver(tmp_path: Path) -> None:
    """The rehearsal ends in a rollback; telling a driver error from ours must not import psycopg."""
    url = f"sqlite:///{tmp_path / 'b.db'}"
    code = ("import sys; from bot.store import open_store; "
            f"s = open_store({url!r}); s.prepare_ack_writes(); s.close(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
