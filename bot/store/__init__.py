"""Durable state on SQL (SQLAlchemy Core): SQLite for one process, PostgreSQL for replicas.

open_store(url) connects, migrates and returns the RequestStore; the Slack state, replay guard
and rate budget come from the same store (same database, same connection pool).
"""
