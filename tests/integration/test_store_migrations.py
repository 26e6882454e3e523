"""Migrations: fresh databases get exactly tables.py, opening is idempotent and race-free."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.domain.request import OPEN_STATES, RequestState
from bot.store.database import Database, connect
from bot.store.migrate import current_revision, head_revision, migrate
from bot.store.requests import SqlRequestStore, open_store
from bot.store.tables import metadata
from tests.integration.conftest import schema_of, with_query
from tests.integration.test_store import make_request, run_together


def schema_differences(db: Database) -> list:
    """What Alembic would have to change to make the database match tables.py ([] = identical)."""
    return db.run(lambda conn: compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                                metadata))


def test_fresh_database_gets_exactly_the_declared_schema(store_url: str) -> None:
    db = connect(store_url)
    try:
        assert current_revision(db) is None
        assert migrate(db) == [head_revision()]
        assert current_revision(db) == head_revision()
        assert schema_differences(db) == []
        assert migrate(db) == []
    finally:
        db.close()


def test_the_one_open_request_index_covers_exactly_the_open_states(store: SqlRequestStore) -> None:
    """compare_metadata does not look at partial-index predicates, so check this one by hand."""
    if store.dialect == "sqlite":
        sql = "SELECT sql FROM sqlite_master WHERE name = 'transfer_requests_one_open'"
    else:
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'transfer_requests_one_open' " \
              "AND schemaname = current_schema()"
    definition = store.db.run(lambda conn: conn.execute(text(sql)).scalar_one())
    assert "UNIQUE" in definition.upper()
    mentioned = {s for s in RequestState if f"'{s.value}'" in definition}
    assert mentioned == OPEN_STATES


def test_opening_again_and_again_changes_nothing(store_url: str) -> None:
    for _ in range(3):
        open_store(store_url).close()
    db = connect(store_url)
    try:
        assert db.run(lambda conn: conn.execute(text("SELECT COUNT(*) FROM alembic_version")).scalar_one()) == 1
        assert current_revision(db) == head_revision()
    finally:
        db.close()


def test_concurrent_first_open_migrates_once(store_url: str) -> None:
    def open_and_add(i: int) -> SqlRequestStore:
        s = open_store(store_url)
        s.add(make_request(f"req-{i}", f"conv-{i}"), actor="U")
        return s

    stores = run_together(6, open_and_add)
    try:
        assert all(stores[0].get(f"req-{i}") is not None for i in range(6))
        assert schema_differences(stores[0].db) == []
        tables = stores[0].db.run(lambda conn: inspect(conn).get_table_names())
        assert sorted(tables) == sorted([*metadata.tables, "alembic_version"])
    finally:
        for s in stores:
            s.close()


@pytest.mark.postgres
def test_the_migration_lock_is_per_schema(postgres_url: str, request: pytest.FixtureRequest) -> None:
    """A replica migrating one schema holds back that schema's openers, and nobody else."""
    busy_url = request.getfixturevalue("isolated_postgres_url")
    other_url = with_fresh_schema(request)
    with psycopg.connect(busy_url) as holder:  # a replica in the middle of migrating busy_url
        holder.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (0x7472616E,))

        started = time.monotonic()
        open_store(other_url).close()  # a different schema: not held back
        assert time.monotonic() - started < 5

        opened = threading.Event()
        waiter = threading.Thread(target=lambda: (open_store(busy_url).close(), opened.set()))
        waiter.start()
        assert not opened.wait(1.0)  # waits for the lock
        holder.rollback()  # the "migration" ends
        assert opened.wait(10)
        waiter.join()


def with_fresh_schema(request: pytest.FixtureRequest) -> str:
    """A second isolated schema in the same test (fixtures give one per test)."""
    postgres_url = request.getfixturevalue("postgres_url")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')  # type: ignore[call-overload]

    def drop() -> None:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[call-overload]

    request.addfinalizer(drop)
    url = with_query(postgres_url, options=f"-csearch_path={schema}")
    assert schema_of(url) == schema
    return url


def test_a_database_from_a_newer_release_is_left_alone(store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Revisions are additive, so an older replica in a rolling deploy keeps working."""
    open_store(store_url).close()
    db = connect(store_url)
    try:
        db.run(lambda conn: conn.execute(text("UPDATE alembic_version SET version_num = '9999'")), write=True)
        assert migrate(db) == []
        assert "9999" in caplog.text
    finally:
        db.close()
    with open_store(store_url) as store:
        store.add(make_request("req-1"), actor="U")
