"""The store's schema, as an ordered list of migrations the app applies itself on open.

Nobody runs SQL by hand: every process calls migrate() when it opens the store. Several replicas
may start at once, so the whole check-and-apply runs in one transaction under a lock
(PostgreSQL: a transaction-scoped advisory lock; SQLite: BEGIN IMMEDIATE, i.e. the write lock),
and the loser of the race just finds nothing left to do. DDL is transactional in both engines,
so a failed migration leaves the schema as it was.

Rules for new migrations: append, never edit a released one; keep them additive (new columns
nullable or defaulted) so replicas still running the previous release keep working.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.store.db import Database, Tx

log = logging.getLogger(__name__)

# First key of the two-int advisory lock; the second is the schema name's hash, so stores in
# different schemas of one database (e.g. parallel test runs) don't wait for each other.
_PG_LOCK_CLASS = 0x7472_616E  # "tran"


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        return getattr(self, dialect)


_OPEN = "state IN ('pending', 'approved', 'executing')"  # keep in sync with OPEN_STATES

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "transfer requests and audit events",
        sqlite=(
            """CREATE TABLE transfer_requests (
                id TEXT PRIMARY KEY,
                conversation_id TEXT NOT NULL,
                queue_id TEXT NOT NULL,
                queue_name TEXT NOT NULL,
                requester_id TEXT NOT NULL,
                state TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                expires_at TEXT,
                snapshot TEXT NOT NULL,
                channel_id TEXT,
                team_id TEXT,
                message_channel TEXT,
                message_ts TEXT,
                response_url TEXT,
                acted_by TEXT,
                acted_at TEXT,
                outcome TEXT,
                correlation_id TEXT,
                needs_approval INTEGER NOT NULL DEFAULT 0,
                extra TEXT NOT NULL DEFAULT '{}'
            )""",
            f"""CREATE UNIQUE INDEX transfer_requests_one_open
                ON transfer_requests (conversation_id) WHERE {_OPEN}""",
            "CREATE INDEX transfer_requests_state_expires ON transfer_requests (state, expires_at)",
            """CREATE TABLE audit_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                request_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                from_state TEXT,
                to_state TEXT NOT NULL,
                actor TEXT NOT NULL,
                at TEXT NOT NULL,
                correlation_id TEXT,
                detail TEXT
            )""",
            "CREATE INDEX audit_events_at ON audit_events (at)",
        ),
        postgresql=(
            """CREATE TABLE transfer_requests (
                id TEXT PRIMARY KEY,
                conversation_id TEXT NOT NULL,
                queue_id TEXT NOT NULL,
                queue_name TEXT NOT NULL,
                requester_id TEXT NOT NULL,
                state TEXT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                expires_at TIMESTAMPTZ,
                snapshot TEXT NOT NULL,
                channel_id TEXT,
                team_id TEXT,
                message_channel TEXT,
                message_ts TEXT,
                response_url TEXT,
                acted_by TEXT,
                acted_at TIMESTAMPTZ,
                outcome TEXT,
                correlation_id TEXT,
                needs_approval BOOLEAN NOT NULL DEFAULT FALSE,
                extra TEXT NOT NULL DEFAULT '{}'
            )""",
            f"""CREATE UNIQUE INDEX transfer_requests_one_open
                ON transfer_requests (conversation_id) WHERE {_OPEN}""",
            "CREATE INDEX transfer_requests_state_expires ON transfer_requests (state, expires_at)",
            """CREATE TABLE audit_events (
                id BIGSERIAL PRIMARY KEY,
                request_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                from_state TEXT,
                to_state TEXT NOT NULL,
                actor TEXT NOT NULL,
                at TIMESTAMPTZ NOT NULL,
                correlation_id TEXT,
                detail TEXT
            )""",
            "CREATE INDEX audit_events_at ON audit_events (at)",
        ),
    ),
    Migration(
        2,
        "previous_state for single-statement audited transitions; audit lookup by request",
        # UPDATE ... SET previous_state = state, state = ? RETURNING previous_state tells the
        # audit insert which state the compare-and-set actually left, without a second read.
        sqlite=(
            "ALTER TABLE transfer_requests ADD COLUMN previous_state TEXT",
            "CREATE INDEX audit_events_request ON audit_events (request_id, id)",
        ),
        postgresql=(
            "ALTER TABLE transfer_requests ADD COLUMN previous_state TEXT",
            "CREATE INDEX audit_events_request ON audit_events (request_id, id)",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

_BOOTSTRAP = {
    "sqlite": """CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at TEXT NOT NULL
    )""",
    "postgresql": """CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL
    )""",
}


def _check_order(migrations: tuple[Migration, ...]) -> None:
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)):
        raise ValueError(f"migration versions must be unique and ascending: {versions}")


_check_order(MIGRATIONS)


def migrate(
    db: Database,
    *,
    target: int | None = None,
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> list[int]:
    """Bring the schema up to `target` (default: latest). Returns the versions applied now."""
    _check_order(migrations)

    def work(tx: Tx) -> list[int]:
        if db.dialect == "postgresql":
            tx.execute(
                f"SELECT pg_advisory_xact_lock({_PG_LOCK_CLASS}, "
                "hashtext(coalesce(current_schema(), '')))"
            )
        tx.execute(_BOOTSTRAP[db.dialect])
        done = {row[0] for row in tx.execute("SELECT version FROM schema_migrations")}
        applied: list[int] = []
        for migration in migrations:
            if target is not None and migration.version > target:
                break
            if migration.version in done:
                continue
            for statement in migration.statements(db.dialect):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) "
                "VALUES (?, ?, ?)",
                (migration.version, migration.description, db.to_db_time(datetime.now(UTC))),
            )
            applied.append(migration.version)
        unknown = done - {m.version for m in migrations}
        if unknown:
            # A newer release already migrated this database; additive migrations keep us working.
            log.warning("database has schema versions this code does not know: %s", sorted(unknown))
        return applied

    applied = db.run(work, write=True)
    if applied:
        log.info("applied schema migrations %s", applied)
    return applied


def applied_versions(db: Database) -> list[int]:
    """Versions recorded in schema_migrations, ascending."""
    rows = db.run(lambda tx: tx.execute("SELECT version FROM schema_migrations ORDER BY version"))
    return [row[0] for row in rows]
