"""Every table the bot stores, written once for SQLite and PostgreSQL (SQLAlchemy Core).

This is the schema the code reads and writes. Migrations (bot/store/alembic) change a database
into it; tests check that a migrated database matches this metadata on both engines.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from bot.domain.request import OPEN_STATES
from bot.store.types import JsonText, UtcDateTime

metadata = MetaData()

OPEN_STATE_VALUES: tuple[str, ...] = tuple(sorted(s.value for s in OPEN_STATES))

transfer_requests = Table(
    "transfer_requests",
    metadata,
    Column("id", String, primary_key=True),
    Column("state", String, nullable=False),
    Column("previous_state", String),  # the state the last transition left (for its audit row)
    Column("requester_id", String, nullable=False),
    Column("via", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),  # last transition or vote
    Column("version", Integer, nullable=False),  # bumped by every change; Slack sync compares it
    Column("ask", JsonText, nullable=False),
    Column("conversation_id", String),  # unknown until a RECEIVED request is validated
    Column("media", String),
    Column("target_kind", String),
    Column("target_id", String),
    Column("target_name", String),
    Column("target_detail", String),
    Column("snapshot", JsonText),
    Column("origin", String),
    Column("message_ref", String),
    Column("needs_approval", Boolean, nullable=False),
    Column("approvals_required", Integer, nullable=False),
    Column("approvers", JsonText, nullable=False),
    Column("break_glass", Boolean, nullable=False),
    Column("simulated", Boolean, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("acted_by", String),
    Column("acted_at", UtcDateTime),
    Column("problem", JsonText),
    Column("correlation_id", String),
    Column("sent_at", UtcDateTime),
    Column("transfer_id", String),
    Column("confirm_deadline", UtcDateTime),
    Column("next_check_at", UtcDateTime),
    Column("lease_owner", String),
    Column("lease_until", UtcDateTime),
)
_r = transfer_requests.c
# At most one open request per conversation: what makes a second /transfer (or a race) fail.
Index(
    "transfer_requests_one_open",
    _r.conversation_id,
    unique=True,
    sqlite_where=_r.state.in_(OPEN_STATE_VALUES),
    postgresql_where=_r.state.in_(OPEN_STATE_VALUES),
)
Index("transfer_requests_state_expires", _r.state, _r.expires_at)  # due_for_expiry
Index("transfer_requests_state_lease", _r.state, _r.lease_until)  # claim_abandoned
Index("transfer_requests_state_check", _r.state, _r.next_check_at)  # claim_due_checks
Index("transfer_requests_state_created", _r.state, _r.created_at)  # pending
Index("transfer_requests_lease_owner", _r.lease_owner)  # renew_leases, release_all
Index("transfer_requests_updated", _r.updated_at)  # recent_finished, purge, unsynced
Index("transfer_requests_requester", _r.requester_id, _r.created_at)  # for_requester

approval_votes = Table(
    "approval_votes",
    metadata,
    Column("request_id", String, nullable=False),
    Column("approver", String, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("request_id", "approver", name="approval_votes_pkey"),  # one vote each
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("request_id", String, nullable=False),  # no foreign key: refused clicks may name none
    Column("kind", String, nullable=False),
    Column("from_state", String),
    Column("to_state", String),
    Column("actor", String, nullable=False),
    Column("conversation_id", String),
    Column("media", String),
    Column("target_kind", String),
    Column("target_id", String),
    Column("target_name", String),
    Column("correlation_id", String),
    Column("reason", Text),
    Column("via", String),
    Column("direct", Boolean),
    Column("break_glass", Boolean),
    Column("simulated", Boolean),
    sqlite_autoincrement=True,  # ids never reused, so (at, id) keeps insertion order for ties
)
Index("audit_events_at", audit_events.c.at, audit_events.c.id)
Index("audit_events_request", audit_events.c.request_id, audit_events.c.id)

replay_keys = Table(
    "replay_keys",
    metadata,
    Column("key", String, primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False),
)
Index("replay_keys_expires", replay_keys.c.expires_at)

rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("key", String, primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),  # seconds (the caller's clock), not a datetime
)

# ---- the Slack layer's own state (bot/store/slack_state.py) ---------------------------------

slack_sync = Table(
    "slack_sync",
    metadata,
    Column("request_id", String, primary_key=True),
    Column("synced_version", Integer, nullable=False),
    Column("flags", JsonText, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_owner", String),
    Column("lease_until", UtcDateTime),
)

# Response URLs are short-lived credentials: kept apart from everything else and deleted on expiry.
slack_response_urls = Table(
    "slack_response_urls",
    metadata,
    Column("request_id", String, primary_key=True),
    Column("url", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("uses", Integer, nullable=False),
)
Index("slack_response_urls_expires", slack_response_urls.c.expires_at)

slack_home_views = Table(
    "slack_home_views",
    metadata,
    Column("user_id", String, primary_key=True),
    Column("opened_at", UtcDateTime, nullable=False),
)
Index("slack_home_views_opened", slack_home_views.c.opened_at)
