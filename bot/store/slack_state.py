"""The Slack layer's own state, on the store's database: response URLs, message sync, home views.

Response URLs are credentials (anyone holding one may post into the conversation for 30 minutes,
5 times), so they live in their own table, are counted per use, and are deleted once expired.

Sync bookkeeping lets any replica bring a request's Slack messages up to date: each request's
row says which version of the request its messages show; a replica leases the row while it
talks to Slack, then saves the version it showed. unsynced() lists the requests whose messages
are behind and that nobody is working on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Connection

from bot.store.database import Database
from bot.store.tables import slack_home_views, slack_response_urls, slack_sync, transfer_requests
from bot.store.types import utc

MAX_RESPONSE_URL_USES = 5  # Slack's limit per response_url
U = slack_response_urls.c
Y = slack_sync.c
H = slack_home_views.c
R = transfer_requests.c


@dataclass(frozen=True)
class SyncState:
    """What the request's Slack messages show: its version then, flags the Slack layer keeps
    (e.g. which messages exist), and how many attempts in a row failed."""

    synced_version: int = 0
    flags: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0


class SqlSlackState:
    def __init__(self, db: Database) -> None:
        self._db = db
        upsert = db.insert(slack_response_urls)
        # Built once and run on the driver (Database.run_direct): it follows every /transfer ack.
        self._remember = upsert.on_conflict_do_update(
            index_elements=["request_id"],
            set_={"url": upsert.excluded.url, "expires_at": upsert.excluded.expires_at, "uses": 0},
        )

    # ---- response URLs -------------------------------------------------------------------

    def remember_response_url(self, request_id: str, url: str, expires_at: datetime) -> None:
        """Keep the URL a slash command came with (replacing an older one), unused so far."""
        values = {"request_id": request_id, "url": url, "expires_at": utc(expires_at), "uses": 0}
        self._db.run_direct(lambda conn: conn.execute(self._remember, values))

    def take_response_url(self, request_id: str, now: datetime) -> str | None:
        """The URL, counting one use; None when absent, expired or used up."""
        statement = (
            update(slack_response_urls)
            .where(U.request_id == request_id, U.expires_at > utc(now), U.uses < MAX_RESPONSE_URL_USES)
            .values(uses=U.uses + 1)
            .returning(U.url)
        )
        return self._db.run(lambda conn: conn.execute(statement).scalar(), write=True)

    def forget_expired_response_urls(self, now: datetime) -> int:
        """Delete URLs that expired or were used up; returns how many."""
        statement = delete(slack_response_urls).where(
            or_(U.expires_at <= utc(now), U.uses >= MAX_RESPONSE_URL_USES)
        )
        return self._db.run(lambda conn: conn.execute(statement).rowcount, write=True)

    # ---- message sync --------------------------------------------------------------------

    def claim_sync(self, request_id: str, owner: str, now: datetime, lease_until: datetime) -> SyncState | None:
        """Lease the request's sync row (creating it); None while another owner's lease runs."""
        now = utc(now)
        insert = self._db.insert(slack_sync).values(
            request_id=request_id, synced_version=0, flags={}, attempts=0,
            lease_owner=owner, lease_until=utc(lease_until),
        )
        statement = insert.on_conflict_do_update(
            index_elements=["request_id"],
            set_={"lease_owner": insert.excluded.lease_owner, "lease_until": insert.excluded.lease_until},
            where=or_(Y.lease_until.is_(None), Y.lease_until < now, Y.lease_owner == owner),
        ).returning(Y.synced_version, Y.flags, Y.attempts)

        def work(conn: Connection) -> SyncState | None:
            row = conn.execute(statement).first()
            return None if row is None else SyncState(row.synced_version, dict(row.flags), row.attempts)

        return self._db.run(work, write=True)

    def save_sync(self, request_id: str, owner: str, synced_version: int, flags: Mapping[str, Any],
                  attempts: int = 0) -> bool:
        """Record what the messages now show and give the lease back; False if the lease was lost."""
        statement = (
            update(slack_sync).where(Y.request_id == request_id, Y.lease_owner == owner)
            .values(synced_version=int(synced_version), flags=dict(flags), attempts=int(attempts),
                    lease_owner=None, lease_until=None)
        )
        return self._db.run(lambda conn: conn.execute(statement).rowcount == 1, write=True)

    def release_sync(self, request_id: str, owner: str) -> None:
        """Give the lease back without recording anything (the next sweep tries again)."""
        statement = (
            update(slack_sync).where(Y.request_id == request_id, Y.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
        self._db.run(lambda conn: conn.execute(statement), write=True)

    def unsynced(self, now: datetime, limit: int, max_age_seconds: float) -> list[str]:
        """Requests changed within max_age whose messages are behind and whose sync lease is free,
        least recently changed first."""
        now = utc(now)
        statement = (
            select(R.id)
            .select_from(transfer_requests.outerjoin(slack_sync, Y.request_id == R.id))
            .where(
                R.updated_at >= now - timedelta(seconds=max_age_seconds),
                or_(Y.request_id.is_(None), R.version > Y.synced_version),
                or_(Y.lease_until.is_(None), Y.lease_until < now),
            )
            .order_by(R.updated_at, R.id)
            .limit(int(limit))
        )
        return self._db.run(lambda conn: list(conn.execute(statement).scalars()))

    # ---- App Home ------------------------------------------------------------------------

    def home_opened(self, user_id: str, at: datetime) -> None:
        """Remember that user_id looked at the bot's App Home (its view is then kept fresh)."""
        insert = self._db.insert(slack_home_views).values(user_id=user_id, opened_at=utc(at))
        statement = insert.on_conflict_do_update(
            index_elements=["user_id"], set_={"opened_at": insert.excluded.opened_at}
        )
        self._db.run(lambda conn: conn.execute(statement), write=True)

    def home_viewers(self, since: datetime) -> set[str]:
        """Users who opened the App Home at or after `since`."""
        statement = select(H.user_id).where(H.opened_at >= utc(since))
        return self._db.run(lambda conn: set(conn.execute(statement).scalars()))
