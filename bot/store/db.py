"""A minimal seam between the store and its two SQL engines.

The store's SQL is written once, with ``?`` placeholders; each engine supplies transactions,
its datetime representation and how to recognise a unique-index violation. Nothing here knows
about transfer requests, so the migration runner and the store can share it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar, Protocol, TypeVar

T = TypeVar("T")


class Tx(Protocol):
    """One open transaction. execute() returns the statement's rows ([] when it has none)."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple]: ...


class Database(ABC):
    """A connection (or a small set of them) to one database, safe to use from many threads."""

    dialect: ClassVar[str]

    @abstractmethod
    def run(self, work: Callable[[Tx], T], *, write: bool = False) -> T:
        """Run work(tx) in one transaction: commit if it returns, roll back if it raises.

        write=True announces that the transaction will write, so engines that lock per database
        (SQLite) take the write lock up front instead of failing half way through.
        work may be called twice if the connection dropped before anything was committed.
        """

    @abstractmethod
    def to_db_time(self, value: datetime) -> object:
        """Column value for an aware datetime; ValueError for a naive one."""

    @abstractmethod
    def from_db_time(self, value: object) -> datetime:
        """Aware UTC datetime from a column value."""

    @abstractmethod
    def unique_violation(self, exc: BaseException) -> str | None:
        """If exc is a unique violation, what was violated (engine-specific text), else None.

        PostgreSQL reports the constraint/index name; SQLite reports ``table.column``.
        """

    @abstractmethod
    def close(self) -> None: ...


def connect(url: str) -> Database:
    """Open the database a URL names: ``sqlite:///path.db`` or ``postgresql://...``."""
    scheme, sep, _ = url.partition(":")
    scheme = scheme.lower() if sep else ""
    if scheme == "sqlite":
        from bot.store.sqlite_db import SqliteDatabase, sqlite_path

        return SqliteDatabase(sqlite_path(url))
    if scheme in ("postgresql", "postgres"):
        from bot.store.postgres_db import PostgresDatabase

        return PostgresDatabase(url)
    # Only the scheme is echoed back: the rest of the URL may hold a password.
    raise ValueError(
        f"unsupported database URL scheme {scheme or '(none)'!r}: use "
        "sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:///:memory: "
        "or postgresql://user@host:port/dbname"
    )
