"""ReplayGuard on SQL: has this key (a Slack retry, a repeated click) been seen before?

One INSERT … ON CONFLICT DO NOTHING on a primary key: the first process to insert wins, on every
replica, with no read-then-write window. A key stays until purge() removes it after expires_at;
until then it counts as seen.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from bot.store.database import Database
from bot.store.direct import DirectConnection
from bot.store.tables import replay_keys
from bot.store.types import utc

K = replay_keys.c


class SqlReplayGuard:
    """Implements bot.ports.store.ReplayGuard."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # Built once and run on the driver (Database.run_direct): this is on every Slack request's
        # ack path, where SQLAlchemy's own CPU cost more than the INSERT.
        self._insert = db.insert(replay_keys).on_conflict_do_nothing(index_elements=["key"])

    def first_time(self, key: str, expires_at: datetime) -> bool:
        """True the first time `key` is seen (shared across replicas); False for a replay."""
        return self._db.run_direct(lambda conn: self.record(conn, key, expires_at))

    def record(self, conn: DirectConnection, key: str, expires_at: datetime) -> bool:
        """first_time inside a caller's own transaction (SqlRequestStore.add writes a slash
        command's key with its request); rolled back with it."""
        return conn.execute(self._insert, {"key": key, "expires_at": utc(expires_at)}) == 1

    def purge(self, now: datetime) -> int:
        """Forget keys that expired at or before now; returns how many."""
        statement = delete(replay_keys).where(K.expires_at <= utc(now))

        def work(conn: Connection) -> int:
            return conn.execute(statement).rowcount

        return self._db.run(work, write=True)
