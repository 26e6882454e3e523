"""One SQLAlchemy engine and the only way the store runs SQL on it: short transactions.

PostgreSQL (several replicas): SQLAlchemy's QueuePool of psycopg connections with pre-ping, so a
connection the server or a proxy dropped while idle is replaced before use. Correctness comes
from the database (row locks taken by compare-and-set UPDATEs, unique indexes), never from
anything in-process.

SQLite (one process, maybe a command-line tool beside it): one file in WAL mode, so readers never
wait for the writer. SQLite allows one writer per file; writes are serialised in-process by a
lock and start with BEGIN IMMEDIATE (taking the file's write lock up front, waiting up to the busy
timeout for another process), so concurrent threads queue instead of failing with "database is
locked" half way through a transaction. ``:memory:`` uses a single shared connection.

Every database failure leaves here as StoreUnavailable (nothing was changed; the caller may retry),
except unique violations, which the store turns into ConversationBusy or ValueError.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Table, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.pool import QueuePool, StaticPool

from bot.ports.store import StoreUnavailable
from bot.ports.urgency import PriorityLock
from bot.store.direct import DirectConnection, SqliteGroupWriter, run_direct

T = TypeVar("T")
log = logging.getLogger(__name__)

MEMORY = ":memory:"
SQLITE_BUSY_TIMEOUT_S = 5.0
_URL_HELP = (
    "use sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:///:memory: "
    "or postgresql://user@host:port/dbname"
)


class Database:
    """An engine plus the transaction discipline of its dialect. Safe to share between threads."""

    def __init__(self, engine: Engine, *, where: str, single_connection: bool = False) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self.where = where  # for messages: never contains a password
        self._closed = False
        sqlite = self.dialect == "sqlite"
        # SQLite: one writer; acks someone is waiting on go first (see bot.ports.urgency).
        self._write_lock: Any = PriorityLock() if sqlite else contextlib.nullcontext()
        self._read_lock: Any = self._write_lock if single_connection else contextlib.nullcontext()
        self._direct_cache: dict = {}
        self._group_writes = sqlite and not single_connection
        self._group_writer: SqliteGroupWriter | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def run(self, work: Callable[[Connection], T], *, write: bool = False) -> T:
        """Run work(conn) in one transaction: commit if it returns, roll back if it raises.

        write=True announces a writing transaction (SQLite takes the write lock up front).
        work may run twice when the connection was lost before COMMIT was sent (nothing was
        committed then); a loss during COMMIT is reported, since its effect is unknown.
        """
        for attempt in (1, 2):
            committing = False
            try:
                with self._lock(write), self.engine.connect() as conn:
                    if write:
                        conn.execution_options(bot_write=True)
                    with conn.begin():
                        result = work(conn)
                        committing = True
                    return result
            except IntegrityError:
                raise
            except DBAPIError as exc:
                if exc.connection_invalidated and not committing and attempt == 1:
                    log.info("database connection lost (%s); retrying once", self.where)
                    continue
                raise StoreUnavailable(self.describe(exc)) from exc
            except StatementError as exc:
                # A value a column type refused (e.g. a naive datetime): the caller's mistake.
                if isinstance(exc.orig, ValueError | TypeError):
                    raise exc.orig from None
                raise StoreUnavailable(self.describe(exc)) from exc
            except (SQLAlchemyError, sqlite3.Error) as exc:  # pool timeout; SQLite's BEGIN (see _on_begin)
                raise StoreUnavailable(self.describe(exc)) from exc
        raise AssertionError("unreachable")

    def run_direct(self, work: Callable[[DirectConnection], T]) -> T:
        """A write transaction on the driver itself, for the ack path's INSERTs (see bot.store.direct).

        The same guarantees as run(write=True): work's writes are committed together or not at
        all, under SQLite's write lock and BEGIN IMMEDIATE; IntegrityError for unique violations,
        StoreUnavailable for the rest; no retry. On a SQLite file, one writer thread runs
        concurrent callers' works in one transaction (SqliteGroupWriter).
        """
        if self._closed:
            raise StoreUnavailable(f"the store is closed ({self.where})")
        if not self._group_writes:
            return run_direct(self.engine, self._write_lock, work, describe=self.describe, cache=self._direct_cache)
        writer = self._group_writer or self._start_group_writer()
        return writer.run(work)

    def _start_group_writer(self) -> SqliteGroupWriter:
        with self._write_lock:
            if self._closed:
                raise StoreUnavailable(f"the store is closed ({self.where})")
            if self._group_writer is None:
                try:
                    raw = self.engine.raw_connection()  # kept checked out: the writer's own
                    # These commits don't wait for fsync (WAL with synchronous=NORMAL): they
                    # survive the process being killed, and a power cut only from the next
                    # commit of any other connection on, which syncs the whole log. What is
                    # written here (a replay key, a new request, its response URL) is never
                    # the record that a transfer was sent; that always waits for the disk.
                    raw.driver_connection.execute("PRAGMA synchronous = NORMAL")
                except Exception as exc:
                    raise StoreUnavailable(self.describe(exc)) from exc
                self._group_writer = SqliteGroupWriter(raw, self._write_lock, self.engine.dialect,
                                                       describe=self.describe, cache=self._direct_cache)
            return self._group_writer

    def _lock(self, write: bool) -> Any:
        if self._closed:
            raise StoreUnavailable(f"the store is closed ({self.where})")
        return self._write_lock if write else self._read_lock

    def describe(self, exc: BaseException) -> str:
        """What went wrong, where: the driver's first line, never the SQL or its parameters."""
        orig = getattr(exc, "orig", None) or exc
        reason = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        return f"{self.where}: {type(orig).__name__}: {reason}"

    def insert(self, table: Table) -> Any:
        """INSERT with this dialect's ON CONFLICT clauses (the same API on both engines)."""
        return (sqlite_insert if self.dialect == "sqlite" else pg_insert)(table)

    def ping(self) -> None:
        self.run(lambda conn: conn.execute(text("SELECT 1")).scalar_one())

    def close(self) -> None:
        """Close every pooled connection; later calls raise StoreUnavailable. Idempotent."""
        with self._write_lock:
            self._closed = True
            writer, self._group_writer = self._group_writer, None
        if writer is not None:
            writer.close()  # finishes what is queued (it takes the write lock), then closes
        self.engine.dispose()


def unique_violation(exc: IntegrityError) -> str | None:
    """What a unique violation violated: PostgreSQL names the index, SQLite ``table.column``."""
    name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if name:
        return str(name)
    message = str(exc.orig)
    prefix = "UNIQUE constraint failed: "
    return message[len(prefix) :] if message.startswith(prefix) else None


def connect(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> Database:
    """A Database for ``sqlite:///…`` or ``postgresql://…`` (``postgres://``); ValueError otherwise."""
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        return _sqlite(_sqlite_path(url))
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return _postgres(url, pool_size=pool_size, max_overflow=max_overflow)
    # Only the scheme is echoed back: the rest of the URL may hold a password.
    raise ValueError(f"unsupported database URL scheme {scheme or '(none)'!r}: {_URL_HELP}")


# ---- SQLite ---------------------------------------------------------------------------------


def _sqlite_path(url: str) -> str:
    rest = url[len("sqlite:") :]
    if rest in ("", "//", "//:memory:", "///:memory:"):
        return MEMORY
    if not rest.startswith("///") or len(rest) == 3:
        raise ValueError(f"SQLite URLs look like sqlite:///relative/path.db, sqlite:////absolute/path.db "
                         f"or sqlite:///:memory: (got {url!r})")
    if "?" in rest:
        raise ValueError("SQLite URLs take no query parameters")
    return rest[3:]


def _sqlite(path: str) -> Database:
    memory = path == MEMORY
    if not memory:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # a file where the folder should be, no permission, read-only disk
            raise StoreUnavailable(f"SQLite database {path}: its folder can't be created "
                                   f"({error.strerror or type(error).__name__})") from None
    engine = create_engine(
        URL.create("sqlite", database=path),
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        poolclass=StaticPool if memory else QueuePool,
        hide_parameters=True,  # errors and logs never show values (response URLs are credentials)
        **({} if memory else {"pool_size": 4, "max_overflow": 4}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # The sqlite3 module must not open transactions behind our back; _on_begin does it.
        dbapi_conn.isolation_level = None
        dbapi_conn.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        if not memory:
            _enable_wal(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("bot_write", False)
        # Straight to the driver: this runs for every transaction, and it is only a BEGIN.
        driver: Any = conn.connection.driver_connection
        driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    return Database(engine, where=f"SQLite database {path}", single_connection=memory)


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL (it persists in the file), so readers run while another process writes.

    Switching needs an exclusive lock and SQLite does not always wait on busy_timeout for it
    (two processes opening a new file at once get "database is locked" straight away), so retry.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL").fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


# ---- PostgreSQL -----------------------------------------------------------------------------


def _postgres(url: str, *, pool_size: int, max_overflow: int) -> Database:
    try:
        parsed = make_url(url).set(drivername="postgresql+psycopg")
    except ArgumentError:
        raise ValueError(f"not a valid PostgreSQL URL: {_URL_HELP}") from None
    # client_encoding: on a SQL_ASCII database psycopg would otherwise hand back bytes, and every
    # state read would fail ("b'executing' is not a valid RequestState").
    connect_args: dict[str, object] = {"client_encoding": "utf8"}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = 10
    engine = create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=30,
        pool_pre_ping=True,  # replace connections dropped while idle (restarts, proxies)
        pool_recycle=1800,
        connect_args=connect_args,
        hide_parameters=True,
    )
    where = f"PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"
    return Database(engine, where=where)
