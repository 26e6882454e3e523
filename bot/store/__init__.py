"""Durable state on SQL (SQLAlchemy Core): SQLite for one process, PostgreSQL for replicas.

open_store(url) connects, migrates and returns the RequestStore; the Slack state, replay guard
and rate budget come from the same store (same database, same connection pool):
store.slack_state(), store.replay_guard(), store.rate_budget().
"""

from bot.store.requests import SqlRequestStore, open_store

__all__ = ["SqlRequestStore", "open_store"]
