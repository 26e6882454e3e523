"""Short write transactions straight on the database driver, for Slack's ack path.

Why not SQLAlchemy here: a burst of 50 slash commands on 2 cores is served one GIL slice at a
time, so the slowest ack waits for the CPU of all the others. Profiled (py-spy, issue 11), half
of that CPU was SQLAlchemy's per-transaction and per-statement machinery (pool checkout, event
dispatch, cache-key generation, compiled-cache lookup) around three one-row INSERTs that SQLite
itself ran in microseconds. Here the same Core statements are compiled once for the engine's
dialect and run on the driver's cursor, with the columns' own bind processors, under the same
write lock and BEGIN IMMEDIATE as `Database.run`. Errors leave as the same exceptions:
IntegrityError for unique violations, StoreUnavailable for the rest.

Only INSERT/upsert statements with no RETURNING are meant for this; everything else stays on
`Database.run`.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ClauseElement

from bot.ports.store import StoreUnavailable
from bot.ports.urgency import urgent

T = TypeVar("T")


class Compiled:
    """One statement for one set of parameter names: SQL text, parameter order and converters."""

    __slots__ = ("constants", "names", "positional", "processors", "sql")

    def __init__(self, statement: ClauseElement, dialect: Any, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ()) if self.positional else tuple(compiled.binds)
        processors: dict[str, Callable[[Any], Any]] = {}
        constants: dict[str, Any] = {}  # values written into the statement itself (e.g. `uses = 0`)
        for name in self.names:
            bind = compiled.binds[name]
            if name not in keys:
                constants[name] = bind.effective_value
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = process
        self.processors = processors
        self.constants = constants

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self.constants:
            values = {**self.constants, **values}
        convert = self.processors
        if self.positional:
            return [convert[n](values[n]) if n in convert else values[n] for n in self.names]
        return {n: (convert[n](values[n]) if n in convert else values[n]) for n in self.names}


class DirectConnection:
    """What work() gets: execute(statement, values) → rows changed. Compiled forms are cached."""

    def __init__(self, cursor: Any, dialect: Any, cache: dict[tuple[int, frozenset[str]], Compiled]) -> None:
        self._cursor = cursor
        self._dialect = dialect
        self._cache = cache

    def execute(self, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        key = (id(statement), frozenset(values))
        compiled = self._cache.get(key)
        if compiled is None:
            compiled = self._cache[key] = Compiled(statement, self._dialect, list(values))
        try:
            self._cursor.execute(compiled.sql, compiled.parameters(values))
        except Exception as exc:
            if _is_integrity_error(exc):
                raise IntegrityError(compiled.sql, None, exc) from exc
            raise
        return self._cursor.rowcount


def _psycopg_error(exc: BaseException, name: str) -> bool:
    """Without importing psycopg: if it isn't loaded, none of its errors can exist. (Importing it to
    check cost a SQLite process ~50 ms and ~10 MB, measured on the start-up rehearsal's rollback.)"""
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, getattr(psycopg, name))


def _is_integrity_error(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.IntegrityError) or _psycopg_error(exc, "IntegrityError")


def _is_driver_error(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.Error) or _psycopg_error(exc, "Error")


def run_direct(engine: Any, lock: Any, work: Callable[[DirectConnection], T], *,
               describe: Callable[[BaseException], str], cache: dict) -> T:
    """work(conn) in one write transaction on a pooled driver connection: commit, or roll back and raise."""
    sqlite = engine.dialect.name == "sqlite"
    with lock:
        try:
            raw = engine.raw_connection()
        except Exception as exc:
            raise StoreUnavailable(describe(exc)) from exc
        try:
            driver = raw.driver_connection
            cursor = driver.cursor()
            try:
                if sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                result = work(DirectConnection(cursor, engine.dialect, cache))
                driver.commit() if not sqlite else cursor.execute("COMMIT")
                return result
            except BaseException as exc:
                _rollback(driver, sqlite)
                if isinstance(exc, IntegrityError | ValueError | TypeError | StoreUnavailable):
                    raise
                if _is_driver_error(exc):
                    if not sqlite and getattr(driver, "closed", False):
                        raw.invalidate()
                    raise StoreUnavailable(describe(exc)) from exc
                raise
            finally:
                cursor.close()
        finally:
            raw.close()  # back to the pool


def _rollback(driver: Any, sqlite: bool) -> None:
    try:
        if sqlite:
            if driver.in_transaction:
                driver.execute("ROLLBACK")
        else:
            driver.rollback()
    except Exception:  # the connection is gone; the pool's reset or invalidation deals with it
        pass


class _Pending:
    """One caller's work, waiting in the writer's queue.

    `done` is a bare lock, taken here and released by the writer: the caller blocks on it in C.
    threading.Event (a Condition, in Python) cost several times the GIL time per hand-over, and
    a burst makes a hundred of them.
    """

    __slots__ = ("done", "error", "result", "work")

    def __init__(self, work: Callable[[DirectConnection], Any]) -> None:
        self.work = work
        self.done = threading.Lock()
        self.done.acquire()
        self.result: Any = None
        self.error: BaseException | None = None


class SqliteGroupWriter:
    """SQLite's ack-path writes, run by one thread, many callers' works to a transaction.

    Why: measured on the start burst (50 /transfer at once), the same writes made by each ack's
    own thread cost ~75 ms of the slowest ack (the acks were as fast as a plain Bolt app's without
    them). Each thread held the write lock across its BEGIN … COMMIT while SQLite released the
    GIL inside each statement, so the other 49 threads ran Python in between and the lock
    changed hands 150 times. Here the writer takes whatever is queued, runs each work under its
    own SAVEPOINT (one caller's failure undoes only its own rows), and commits once.

    Callers see what run_direct gives: their result, IntegrityError (their rows undone),
    StoreUnavailable (the whole batch undone: nothing they asked for was written). A work may
    run twice (see _write_all), so it must do nothing but execute statements and return.
    """

    MAX_BATCH = 64

    def __init__(self, raw: Any, lock: Any, dialect: Any, *, describe: Callable[[BaseException], str],
                 cache: dict) -> None:
        self._raw = raw
        self._lock = lock
        self._dialect = dialect
        self._describe = describe
        self._cache = cache
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()  # None: closed, stop
        self._entry = threading.Lock()  # the closed check and the put, together; the counter
        self._closed = False
        self.batches = 0  # transactions committed or attempted (for tests and diagnostics)
        self.waiting = 0  # callers whose work is queued or being written (for tests and diagnostics)
        self._thread = threading.Thread(target=self._loop, name="sqlite-writer", daemon=True)
        self._thread.start()

    def run(self, work: Callable[[DirectConnection], T]) -> T:
        pending = _Pending(work)
        with self._entry:
            if self._closed:
                raise StoreUnavailable("the store is closed")
            self.waiting += 1
            self._queue.put(pending)
        pending.done.acquire()  # until the writer has written (or failed) it
        if pending.error is not None:
            raise pending.error
        return pending.result

    def close(self, timeout: float = 2.0) -> None:
        """Refuse new work, finish what is queued (bounded), then close the connection."""
        with self._entry:
            if not self._closed:
                self._closed = True
                self._queue.put(None)  # after everything already queued: that is written first
        self._thread.join(timeout)
        with contextlib.suppress(Exception):
            self._raw.close()

    def _loop(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            batch: list[_Pending] = []
            while first is not None:
                batch.append(first)
                if len(batch) == self.MAX_BATCH:
                    break
                try:
                    first = self._queue.get_nowait()
                except queue.Empty:
                    break
            stop = first is None  # closed: nothing can be queued behind it
            if not batch:
                continue
            with urgent(), self._lock:
                self._write(batch)
                self.batches += 1
            with self._entry:
                self.waiting -= len(batch)
            for pending in batch:
                pending.done.release()

    def _write(self, batch: list[_Pending]) -> None:
        driver = self._raw.driver_connection
        try:
            cursor = driver.cursor()
        except Exception as exc:
            self._fail(batch, exc)
            return
        try:
            if not self._write_all(cursor, driver, batch):
                self._write_each(cursor, driver, batch)
        except BaseException as exc:
            _rollback(driver, True)
            self._fail(batch, exc)
        finally:
            with contextlib.suppress(Exception):
                cursor.close()

    def _write_all(self, cursor: Any, driver: Any, batch: list[_Pending]) -> bool:
        """The common case, where no work fails: one transaction and no savepoints. False (all
        undone) when a work raised; _write_each then runs the batch again, each work on its own.

        Each statement gives up the GIL while SQLite runs it, and under a burst of acks taking it
        back waits behind the request threads: two statements per work fewer is what this saves.
        """
        cursor.execute("BEGIN IMMEDIATE")
        conn = DirectConnection(cursor, self._dialect, self._cache)
        results = []
        try:
            for pending in batch:
                results.append(pending.work(conn))
        except Exception:
            _rollback(driver, True)
            return False
        cursor.execute("COMMIT")
        for pending, result in zip(batch, results, strict=True):
            pending.result = result
        return True

    def _write_each(self, cursor: Any, driver: Any, batch: list[_Pending]) -> None:
        """Each work under its own SAVEPOINT: one caller's failure undoes only its own rows."""
        cursor.execute("BEGIN IMMEDIATE")
        conn = DirectConnection(cursor, self._dialect, self._cache)
        for pending in batch:
            cursor.execute("SAVEPOINT work")
            try:
                pending.result = pending.work(conn)
            except BaseException as exc:
                if not driver.in_transaction:  # SQLite gave up the whole transaction
                    raise
                cursor.execute("ROLLBACK TO work")
                pending.error = StoreUnavailable(self._describe(exc)) if _is_driver_error(exc) else exc
            cursor.execute("RELEASE work")
        cursor.execute("COMMIT")

    def _fail(self, batch: list[_Pending], exc: BaseException) -> None:
        error = StoreUnavailable(self._describe(exc))
        for pending in batch:
            pending.result = None
            pending.error = error
