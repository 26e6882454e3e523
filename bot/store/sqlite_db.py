"""SQLite engine: one shared connection behind a lock, WAL journal, explicit transactions.

SQLite allows one writer per database file anyway, so a single connection per process costs
little and keeps ``:memory:`` databases working. Other processes (or other store instances) on
the same file are coordinated by SQLite's own locks: writers start with BEGIN IMMEDIATE so they
queue on busy_timeout instead of failing when two try to upgrade a read lock at once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar, TypeVar

from bot.store.codec import time_from_text, time_to_text
from bot.store.db import Database, Tx

T = TypeVar("T")

MEMORY = ":memory:"


def sqlite_path(url: str) -> str:
    """File path of a sqlite URL: ``sqlite:///rel.db``, ``sqlite:////abs.db``, ``sqlite:///:memory:``."""
    rest = url[len("sqlite:") :]
    if rest in ("", "//", "//:memory:", "///:memory:"):
        return MEMORY
    if not rest.startswith("///") or len(rest) == 3:
        raise ValueError(
            "SQLite URLs look like sqlite:///relative/path.db, sqlite:////absolute/path.db "
            "or sqlite:///:memory:"
        )
    if "?" in rest:
        raise ValueError("SQLite URLs take no query parameters")
    return rest[3:]


def _enable_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch to WAL, so readers run while another process writes; it persists in the file.

    Switching needs an exclusive lock and SQLite does not always wait on busy_timeout for it
    (two processes opening a new file at once get "database is locked" straight away), so retry.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL").fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        return self._conn.execute(sql, tuple(params)).fetchall()


class SqliteDatabase(Database):
    dialect: ClassVar[str] = "sqlite"

    def __init__(self, path: str, *, busy_timeout_ms: int = 5000) -> None:
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: the sqlite3 module must not open transactions behind our back;
        # run() issues BEGIN/COMMIT itself.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if path != MEMORY:
                _enable_wal(conn, busy_timeout_ms / 1000)
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()

    def run(self, work: Callable[[Tx], T], *, write: bool = False) -> T:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise RuntimeError("the store is closed")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(_SqliteTx(conn))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

    def to_db_time(self, value: datetime) -> object:
        return time_to_text(value)

    def from_db_time(self, value: object) -> datetime:
        return time_from_text(str(value))

    def unique_violation(self, exc: BaseException) -> str | None:
        # "UNIQUE constraint failed: transfer_requests.conversation_id"
        if isinstance(exc, sqlite3.IntegrityError):
            message = str(exc)
            prefix = "UNIQUE constraint failed: "
            if message.startswith(prefix):
                return message[len(prefix) :]
        return None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
