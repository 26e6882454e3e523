"""Leases: which process is working on a request, and until when.

A process that takes a request into work (add with a lease, or a claim) holds it until
lease_until and renews it while it lives. When it dies the lease runs out and another replica's
sweeper claims the request. Claims are one UPDATE whose candidates are picked with
FOR UPDATE SKIP LOCKED on PostgreSQL, and whose conditions are checked again on the locked row,
so two replicas claiming at once never get the same request (SQLite serialises writers anyway).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Update, or_, select, update

from bot.domain.request import WORK_STATES, RequestState
from bot.store.tables import transfer_requests

R = transfer_requests.c
_WORK = tuple(sorted(s.value for s in WORK_STATES))


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(R.lease_until.is_(None), R.lease_until < now)


def abandoned(now: datetime) -> ColumnElement[bool]:
    """In a state some process must finish, and nobody's lease covers it."""
    return R.state.in_(_WORK) & _free(now)


def due_checks(now: datetime) -> ColumnElement[bool]:
    """Accepted by Genesys, due for a confirmation check, and nobody's lease covers it."""
    return (R.state == RequestState.ACCEPTED.value) & (R.next_check_at <= now) & _free(now)


def claim(condition: ColumnElement[bool], order: Any, owner: str, until: datetime, limit: int) -> Update:
    # A CTE, not ``id IN (subquery)``: PostgreSQL may re-run an IN subquery for every row, and
    # rows this statement already updated are then skipped by the lock, so LIMIT stops limiting.
    # A CTE that locks rows is evaluated exactly once.
    candidates = (
        select(R.id).where(condition).order_by(order, R.id).limit(limit)
        .with_for_update(skip_locked=True).cte("candidates")
    )
    return (
        update(transfer_requests)
        .where(R.id.in_(select(candidates.c.id)), condition)  # re-checked on the row actually locked
        .values(lease_owner=owner, lease_until=until)
        .returning(*transfer_requests.c)
    )


def renew(owner: str, until: datetime, states: Iterable[str]) -> Update:
    return (
        update(transfer_requests)
        .where(R.lease_owner == owner, R.state.in_(tuple(states)))
        .values(lease_until=until)
    )


def release(owner: str, free_from: datetime | None, request_id: str | None = None) -> Update:
    """Clear the owner; the request may be claimed once free_from has passed (None: at once)."""
    statement = update(transfer_requests).where(R.lease_owner == owner)
    if request_id is not None:
        statement = statement.where(R.id == request_id)
    return statement.values(lease_owner=None, lease_until=free_from)
