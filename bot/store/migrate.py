"""Bring a database's schema up to date, from any process, at open.

Nobody runs migrations by hand: every process calls migrate() when it opens the store. Several
replicas may start at once, so the check-and-upgrade runs in one transaction under a lock
(PostgreSQL: a transaction-scoped advisory lock keyed by the schema, so stores in different
schemas of one database don't wait for each other; SQLite: BEGIN IMMEDIATE, the write lock).
The loser of the race finds nothing left to do. DDL is transactional on both engines, so a failed
revision leaves the schema as it was.

Revisions are Alembic scripts in bot/store/migrations/versions. A database created by the
previous store (schema_migrations, versions 1 and 2) has no Alembic revision yet; revision 0001
recognises and converts it.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.store.database import Database

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# First key of the two-int advisory lock (the previous store's, so old and new processes
# exclude each other); the second is the schema name's hash.
_PG_LOCK_CLASS = 0x7472_616E  # "tran"
_VERSION_TABLE = "alembic_version"


def take_migration_lock(conn: Connection) -> None:
    """Hold the migration lock until this transaction ends (SQLite: BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:cls, hashtext(coalesce(current_schema(), '')))"),
            {"cls": _PG_LOCK_CLASS},
        )


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


def head_revision() -> str:
    head = _scripts().get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _newer(revision: str | None, db: Database) -> bool:
    if revision is None or revision in {script.revision for script in _scripts().walk_revisions()}:
        return False
    log.warning("%s is at schema revision %s, which this release does not know; not migrating",
                db.where, revision)
    return True


def current_revision(db: Database) -> str | None:
    """The database's Alembic revision (None: empty, or created by the previous store)."""
    return db.run(_revision_of)


def _revision_of(conn: Connection) -> str | None:
    if not inspect(conn).has_table(_VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()


def migrate(db: Database) -> list[str]:
    """Upgrade to the newest revision; returns the revisions applied now (oldest first).

    A database a newer release already migrated is left alone (revisions are additive, so this
    code keeps working on it), with a warning.
    """
    head = head_revision()
    current = current_revision(db)
    if current == head or _newer(current, db):  # the common case needs no lock
        return []

    def work(conn: Connection) -> list[str]:
        take_migration_lock(conn)
        before = _revision_of(conn)
        if before == head or _newer(before, db):
            return []
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        pending = _scripts().iterate_revisions(head, before)
        return [script.revision for script in reversed(list(pending))]

    applied = db.run(work, write=True)
    log.info("applied schema revisions %s (%s)", applied, db.where)
    return applied
