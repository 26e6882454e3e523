"""Requests for every media and target; votes, leases, replay keys, rate budgets, Slack state.

A fresh database gets these tables. A database the previous store created (schema_migrations
versions 1 and 2) is converted in place: its tables are set aside, every row is copied into the
new shape (see bot/store/legacy.py), then the old tables are dropped.

The tables are written out here as they are at this revision (not imported from tables.py):
a revision is history, and later revisions change tables.py, not this file.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store import legacy
from bot.store.types import JsonText, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_OPEN = sa.text("state IN ('accepted', 'approved', 'executing', 'pending')")  # OPEN_STATES at 0001


def upgrade() -> None:
    bind = op.get_bind()
    converting = legacy.is_legacy(bind)
    if converting:
        legacy.set_aside(bind)
    requests, audit = _create_tables()
    if converting:
        legacy.copy_into(bind, requests, audit)
        legacy.drop(bind)


def downgrade() -> None:
    """Drops everything (the previous store's schema is not recreated)."""
    for table in ("slack_home_views", "slack_response_urls", "slack_sync", "rate_buckets", "replay_keys",
                  "audit_events", "approval_votes", "transfer_requests"):
        op.drop_table(table)


def _create_tables() -> tuple[sa.Table, sa.Table]:
    requests = op.create_table(
        "transfer_requests",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("previous_state", sa.String(), nullable=True),
        sa.Column("requester_id", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ask", JsonText(), nullable=False),
        sa.Column("conversation_id", sa.String(), nullable=True),
        sa.Column("media", sa.String(), nullable=True),
        sa.Column("target_kind", sa.String(), nullable=True),
        sa.Column("target_id", sa.String(), nullable=True),
        sa.Column("target_name", sa.String(), nullable=True),
        sa.Column("target_detail", sa.String(), nullable=True),
        sa.Column("snapshot", JsonText(), nullable=True),
        sa.Column("origin", sa.String(), nullable=True),
        sa.Column("message_ref", sa.String(), nullable=True),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("approvals_required", sa.Integer(), nullable=False),
        sa.Column("approvers", JsonText(), nullable=False),
        sa.Column("break_glass", sa.Boolean(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("acted_by", sa.String(), nullable=True),
        sa.Column("acted_at", UtcDateTime(), nullable=True),
        sa.Column("problem", JsonText(), nullable=True),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("transfer_id", sa.String(), nullable=True),
        sa.Column("confirm_deadline", UtcDateTime(), nullable=True),
        sa.Column("next_check_at", UtcDateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("transfer_requests_one_open", "transfer_requests", ["conversation_id"], unique=True,
                    sqlite_where=_OPEN, postgresql_where=_OPEN)
    op.create_index("transfer_requests_state_expires", "transfer_requests", ["state", "expires_at"])
    op.create_index("transfer_requests_state_lease", "transfer_requests", ["state", "lease_until"])
    op.create_index("transfer_requests_state_check", "transfer_requests", ["state", "next_check_at"])
    op.create_index("transfer_requests_state_created", "transfer_requests", ["state", "created_at"])
    op.create_index("transfer_requests_lease_owner", "transfer_requests", ["lease_owner"])
    op.create_index("transfer_requests_updated", "transfer_requests", ["updated_at"])
    op.create_index("transfer_requests_requester", "transfer_requests", ["requester_id", "created_at"])

    op.create_table(
        "approval_votes",
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("approver", sa.String(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "approver", name="approval_votes_pkey"),
    )

    audit = op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("from_state", sa.String(), nullable=True),
        sa.Column("to_state", sa.String(), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("conversation_id", sa.String(), nullable=True),
        sa.Column("media", sa.String(), nullable=True),
        sa.Column("target_kind", sa.String(), nullable=True),
        sa.Column("target_id", sa.String(), nullable=True),
        sa.Column("target_name", sa.String(), nullable=True),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("via", sa.String(), nullable=True),
        sa.Column("direct", sa.Boolean(), nullable=True),
        sa.Column("break_glass", sa.Boolean(), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("audit_events_at", "audit_events", ["at", "id"])
    op.create_index("audit_events_request", "audit_events", ["request_id", "id"])

    op.create_table(
        "replay_keys",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("replay_keys_expires", "replay_keys", ["expires_at"])

    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )

    op.create_table(
        "slack_sync",
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("synced_version", sa.Integer(), nullable=False),
        sa.Column("flags", JsonText(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_table(
        "slack_response_urls",
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index("slack_response_urls_expires", "slack_response_urls", ["expires_at"])
    op.create_table(
        "slack_home_views",
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index("slack_home_views_opened", "slack_home_views", ["opened_at"])
    return requests, audit
