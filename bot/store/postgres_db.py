"""PostgreSQL engine: psycopg 3, a tiny connection pool, short explicit transactions.

Several bot replicas share one PostgreSQL database, so correctness comes from the database
(row locks taken by the compare-and-set UPDATE, unique indexes), not from anything in-process.
The pool only exists so threads don't each keep a connection forever. A connection that dropped
(server restart, idle timeout on a proxy) is replaced and the unit of work retried once -
but only when the failure happened before COMMIT was sent, because after that we cannot know
whether the transaction took effect.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import ClassVar, TypeVar

import psycopg
from psycopg import errors as pg_errors

from bot.store.codec import to_utc
from bot.store.db import Database, Tx

T = TypeVar("T")


class _PgTx:
    def __init__(self, cursor: psycopg.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        # The store's SQL uses "?" placeholders and never contains "?" or "%" literals;
        # without params nothing is rewritten (DDL is passed through as written).
        if params:
            self._cursor.execute(sql.replace("?", "%s"), tuple(params))  # type: ignore[arg-type]
        else:
            self._cursor.execute(sql)  # type: ignore[arg-type]
        return self._cursor.fetchall() if self._cursor.description is not None else []


class _Pool:
    """At most max_size connections; idle ones are kept for reuse, broken ones thrown away."""

    def __init__(self, conninfo: str, *, max_size: int, connect_timeout: int) -> None:
        self._conninfo = conninfo
        self._connect_timeout = connect_timeout
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_size)
        self._closed = False

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(
            self._conninfo, autocommit=False, connect_timeout=self._connect_timeout
        )

    @contextmanager
    def connection(self, *, fresh: bool = False) -> Iterator[psycopg.Connection]:
        if not self._slots.acquire(timeout=60):
            raise TimeoutError("no PostgreSQL connection became free within 60 s")
        conn: psycopg.Connection | None = None
        try:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the store is closed")
                if fresh:
                    self._discard_idle()
                while self._idle and conn is None:
                    candidate = self._idle.pop()
                    if not candidate.closed:
                        conn = candidate
            if conn is None:
                conn = self._connect()
            yield conn
        finally:
            if conn is not None:
                self._give_back(conn)
            self._slots.release()

    def _give_back(self, conn: psycopg.Connection) -> None:
        reusable = (
            not conn.closed
            and not conn.broken
            and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        )
        with self._lock:
            if reusable and not self._closed:
                self._idle.append(conn)
                return
        conn.close()

    def _discard_idle(self) -> None:
        """After one dropped connection the others are likely stale too (server restart)."""
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._discard_idle()


class PostgresDatabase(Database):
    dialect: ClassVar[str] = "postgresql"

    def __init__(self, url: str, *, max_size: int = 10, connect_timeout: int = 10) -> None:
        self._pool = _Pool(url, max_size=max_size, connect_timeout=connect_timeout)

    def run(self, work: Callable[[Tx], T], *, write: bool = False) -> T:
        # `write` needs no special treatment: PostgreSQL locks rows, not the database.
        for attempt in (1, 2):
            committing = False
            with self._pool.connection(fresh=attempt == 2) as conn:
                try:
                    with conn.cursor() as cursor:
                        result = work(_PgTx(cursor))
                    committing = True
                    conn.commit()
                    return result
                except (psycopg.OperationalError, psycopg.InterfaceError):
                    lost = conn.broken or conn.closed
                    self._rollback_quietly(conn)
                    if lost and attempt == 1 and not committing:
                        continue
                    raise
                except BaseException:
                    self._rollback_quietly(conn)
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _rollback_quietly(conn: psycopg.Connection) -> None:
        if conn.closed or conn.broken:
            return
        try:
            conn.rollback()
        except psycopg.Error:
            conn.close()

    def to_db_time(self, value: datetime) -> object:
        return to_utc(value)

    def from_db_time(self, value: object) -> datetime:
        if not isinstance(value, datetime):
            raise TypeError(f"expected a timestamptz, got {value!r}")
        return to_utc(value).astimezone(UTC)

    def unique_violation(self, exc: BaseException) -> str | None:
        if isinstance(exc, pg_errors.UniqueViolation):
            return exc.diag.constraint_name or ""
        return None

    def close(self) -> None:
        self._pool.close()
