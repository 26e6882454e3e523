"""A PostgreSQL database created with SQL_ASCII still stores and reads requests as text."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from bot.domain.request import Ask, RequestState, TransferRequest
from bot.store import open_store


@pytest.mark.postgres
def test_sql_ascii_database_round_trips_states_and_non_ascii_text(postgres_url):
    name = f"sqlascii_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    url = urlunsplit(urlsplit(postgres_url)._replace(path=f"/{name}"))
    try:
        store = open_store(url)
        try:
            request = TransferRequest("e" * 32, "U0A", RequestState.RECEIVED, datetime.now(UTC),
                                      Ask("3f1c2a4e-9b7d-4c1e-8f00-1234567890ab", "Facturación – Nível 2"))
            store.add(request, actor="U0A")
            read = store.get(request.id)
            assert read.state is RequestState.RECEIVED and read.ask.target == "Facturación – Nível 2"
        finally:
            store.close()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
