"""Database fixtures shared by the integration and end-to-end tests.

PostgreSQL tests skip when no server is reachable, except in CI: with REQUIRE_POSTGRES=1 they
fail instead, so a broken database setup can never turn into a silently green run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

from bot.store import SqlRequestStore, open_store

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def with_query(url: str, **params: str) -> str:
    """url with extra query parameters (libpq reads e.g. options, application_name there)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a reachable PostgreSQL server (TEST_POSTGRES_URL, else 127.0.0.1:5432).

    Skips the test when unreachable; fails it instead when REQUIRE_POSTGRES=1.
    """
    url = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        message = f"PostgreSQL not reachable at {_redacted(url)}: {exc}".strip()
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{message} (REQUIRE_POSTGRES=1, so this is an error, not a skip)")
        pytest.skip(message)
    return url


def schema_of(url: str) -> str:
    """The schema an isolated_postgres_url points at."""
    options = dict(parse_qsl(urlsplit(url).query)).get("options", "")
    return options.rpartition("search_path=")[2]


@pytest.fixture
def isolated_postgres_url(postgres_url: str) -> Iterator[str]:
    """postgres_url pointed at a fresh, uniquely named schema that is dropped afterwards.

    Every connection made from this URL (any process) sees only that schema, so tests can run
    side by side on one server without seeing each other's tables.
    """
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_query(postgres_url, options=f"-csearch_path={schema}")
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A database URL with an empty database: an SQLite file, or an isolated PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("isolated_postgres_url")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlRequestStore]:
    """An open, migrated store on store_url; closed after the test."""
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()
