"""RateBudget on SQL: one token bucket per key, shared by every replica.

Genesys limits requests per organisation, not per process, so replicas must draw from one budget.
Taking a token is a single UPDATE that refills the bucket for the time elapsed (capped at burst)
and takes one token only if one is there; the row lock it takes serialises replicas, and
PostgreSQL re-checks the condition on the latest row version, so tokens are never handed out
twice. Time is the caller's float seconds (time.time()); a clock behind the stored one refills
nothing rather than draining the bucket.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.engine import Connection

from bot.store.database import Database
from bot.store.tables import rate_buckets

B = rate_buckets.c
_MIN_WAIT = 1e-6  # a refusal always asks for some wait, however small


class SqlRateBudget:
    """Implements bot.ports.store.RateBudget."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def take(self, key: str, *, rate_per_second: float, burst: float, now: float) -> float:
        """Take one token from the shared bucket `key`: 0.0 if granted, else seconds to wait."""
        if rate_per_second <= 0 or burst < 1:
            raise ValueError("rate_per_second must be > 0 and burst >= 1")
        rate, burst, now = float(rate_per_second), float(burst), float(now)
        available = _available(rate, burst, now)
        grant = (
            update(rate_buckets).where(B.key == key, available >= 1)
            .values(tokens=available - 1, updated_at=case((B.updated_at < now, now), else_=B.updated_at))
            .returning(B.tokens)
        )
        create = (
            self._db.insert(rate_buckets).values(key=key, tokens=burst - 1, updated_at=now)
            .on_conflict_do_nothing(index_elements=["key"]).returning(B.key)
        )

        def work(conn: Connection) -> float:
            # The bucket usually exists; on first use another replica may create it at the same
            # moment, so after a lost insert the grant is tried once more.
            for statement in (grant, create, grant):
                if conn.execute(statement).first() is not None:
                    return 0.0
            tokens = conn.execute(select(available).where(B.key == key)).scalar_one()
            return max((1.0 - tokens) / rate, _MIN_WAIT)

        return self._db.run(work, write=True)


def _available(rate: float, burst: float, now: float) -> ColumnElement[float]:
    """Tokens in the bucket at `now`: what was left, plus what accrued since, capped at burst."""
    elapsed = case((B.updated_at < now, now - B.updated_at), else_=0.0)
    accrued = B.tokens + elapsed * rate
    return case((accrued > burst, burst), else_=accrued)
