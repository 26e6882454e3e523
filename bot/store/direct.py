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

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ClauseElement

from bot.ports.store import StoreUnavailable

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


def _is_integrity_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.IntegrityError)


def run_direct(engine: Any, lock: Any, work: Callable[[DirectConnection], T], *,
               describe: Callable[[BaseException], str], cache: dict, kept: Any = None) -> T:
    """work(conn) in one write transaction on a driver connection: commit, or roll back and raise.

    `kept`: a connection this caller keeps checked out (SQLite: the one writer, used under `lock`);
    otherwise one is taken from the pool and given back.
    """
    sqlite = engine.dialect.name == "sqlite"
    with lock:
        try:
            raw = kept if kept is not None else engine.raw_connection()
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
                if isinstance(exc, Exception) and _is_driver_error(exc):
                    if not sqlite and getattr(driver, "closed", False):
                        raw.invalidate()
                    raise StoreUnavailable(describe(exc)) from exc
                raise
            finally:
                cursor.close()
        finally:
            if kept is None:
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


def _is_driver_error(exc: Exception) -> bool:
    if isinstance(exc, sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, psycopg.Error)
