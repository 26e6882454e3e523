"""The previous store's schema (``schema_migrations`` versions 1 and 2) and how its rows become
rows of revision 0001. Used only by that revision, on databases created by the previous code.

What changes for an old row:
- the queue becomes the target (kind 'queue'); the ask is rebuilt as (conversation, queue name);
- the snapshot's call-only keys become the media-neutral ones (media 'call');
- ``outcome`` becomes a state and a problem code: succeeded stays succeeded, failed+'uncertain'
  becomes state 'uncertain', other failed/superseded outcomes become problem codes;
- channel_id becomes the origin, message_channel+message_ts the message ref;
- response_url (a short-lived credential), team_id and extra are dropped.
Old audit rows keep their history and gain kind 'state' plus their request's target columns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    false,
    inspect,
    literal,
    not_,
    select,
)
from sqlalchemy.engine import Connection

from bot.domain.problems import Code
from bot.store.types import UtcDateTime

_LEGACY_INDEXES = (
    "transfer_requests_one_open",
    "transfer_requests_state_expires",
    "audit_events_at",
    "audit_events_request",
)
_BATCH = 500

_md = MetaData()
legacy_requests = Table(
    "legacy_transfer_requests", _md,
    Column("id", String, primary_key=True),
    Column("conversation_id", String), Column("queue_id", String), Column("queue_name", String),
    Column("requester_id", String), Column("state", String),
    Column("created_at", UtcDateTime), Column("updated_at", UtcDateTime), Column("expires_at", UtcDateTime),
    Column("snapshot", Text), Column("channel_id", String), Column("message_channel", String),
    Column("message_ts", String), Column("acted_by", String), Column("acted_at", UtcDateTime),
    Column("outcome", String), Column("correlation_id", String), Column("needs_approval", Boolean),
    Column("previous_state", String),
)
legacy_audit = Table(
    "legacy_audit_events", _md,
    Column("id", Integer, primary_key=True),
    Column("request_id", String), Column("conversation_id", String), Column("from_state", String),
    Column("to_state", String), Column("actor", String), Column("at", UtcDateTime),
    Column("correlation_id", String), Column("detail", Text),
)

# Old problem codes (audit detail) whose new code has another name.
_CODE_ALIASES = {
    "not_found": Code.CONVERSATION_NOT_FOUND,
    "not_a_call": Code.MEDIA_NOT_SUPPORTED,
    "abandoned": Code.BOT_RESTARTED,
    "abandoned_uncertain": Code.UNCERTAIN,
}
_CODES = {c.value: c for c in Code}


def is_legacy(conn: Connection) -> bool:
    """True for a database the previous store created (its tables, not yet converted)."""
    inspector = inspect(conn)
    if not (inspector.has_table("schema_migrations") and inspector.has_table("transfer_requests")):
        return False
    return "queue_id" in {c["name"] for c in inspector.get_columns("transfer_requests")}


def set_aside(conn: Connection) -> None:
    """Rename the old tables out of the way (their index names would clash with the new ones)."""
    for name in _LEGACY_INDEXES:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    conn.exec_driver_sql("ALTER TABLE transfer_requests RENAME TO legacy_transfer_requests")
    conn.exec_driver_sql("ALTER TABLE audit_events RENAME TO legacy_audit_events")
    if conn.dialect.name == "postgresql":
        # A renamed table keeps its primary key's and sequence's names; the new tables need them.
        conn.exec_driver_sql("ALTER INDEX IF EXISTS transfer_requests_pkey RENAME TO legacy_transfer_requests_pkey")
        conn.exec_driver_sql("ALTER INDEX IF EXISTS audit_events_pkey RENAME TO legacy_audit_events_pkey")
        conn.exec_driver_sql("ALTER SEQUENCE IF EXISTS audit_events_id_seq RENAME TO legacy_audit_events_id_seq")
    columns = {c["name"] for c in inspect(conn).get_columns("legacy_transfer_requests")}
    if "previous_state" not in columns:  # schema version 1 only
        conn.exec_driver_sql("ALTER TABLE legacy_transfer_requests ADD COLUMN previous_state TEXT")


def copy_into(conn: Connection, requests: Table, audit: Table) -> None:
    """Convert every old request (in batches, by id) and every old audit row (in one statement)."""
    final_details = _final_details(conn)
    last = ""
    while True:
        rows = conn.execute(
            select(legacy_requests).where(legacy_requests.c.id > last).order_by(legacy_requests.c.id).limit(_BATCH)
        ).mappings().all()
        if not rows:
            break
        conn.execute(requests.insert(), [convert_request(row, final_details.get(row["id"])) for row in rows])
        last = rows[-1]["id"]
    _copy_audit(conn, audit)


def drop(conn: Connection) -> None:
    for table in ("legacy_audit_events", "legacy_transfer_requests", "schema_migrations"):
        conn.exec_driver_sql(f"DROP TABLE {table}")


def _final_details(conn: Connection) -> dict[str, str | None]:
    """The detail of each request's last move to failed/superseded (the old problem code)."""
    a = legacy_audit.c
    rows = conn.execute(
        select(a.request_id, a.detail).where(a.to_state.in_(("failed", "superseded"))).order_by(a.id)
    )
    return {request_id: detail for request_id, detail in rows}


def convert_request(row: Mapping[str, Any], final_detail: str | None = None) -> dict[str, object]:
    """One old transfer_requests row as a revision-0001 row."""
    state, problem = _state_and_problem(row["state"], row["outcome"], final_detail)
    requester = row["requester_id"]
    channel, ts = row["message_channel"], row["message_ts"]
    return {
        "id": row["id"],
        "state": state,
        "previous_state": row["previous_state"],
        "requester_id": requester,
        "via": "cli" if requester.startswith("cli:") else "slack",
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": 1,
        "ask": {"call": row["conversation_id"], "target": row["queue_name"], "now": False},
        "conversation_id": row["conversation_id"],
        "media": "call",
        "target_kind": "queue",
        "target_id": row["queue_id"],
        "target_name": row["queue_name"],
        "target_detail": None,
        "snapshot": convert_snapshot(row["snapshot"], row["conversation_id"]),
        "origin": json.dumps({"channel": row["channel_id"]}) if row["channel_id"] else None,
        "message_ref": f"{channel}:{ts}" if channel and ts else None,
        "needs_approval": bool(row["needs_approval"]),
        "approvals_required": 1,
        "approvers": [],
        "break_glass": False,
        "simulated": False,
        "expires_at": row["expires_at"],
        "acted_by": row["acted_by"],
        "acted_at": row["acted_at"],
        "problem": problem,
        "correlation_id": row["correlation_id"],
        "sent_at": None,
        "transfer_id": None,
        "confirm_deadline": None,
        "next_check_at": None,
        "lease_owner": None,
        "lease_until": None,
    }


def convert_snapshot(text: str | None, conversation_id: str) -> dict[str, object] | None:
    """The old CallSnapshot JSON in the new Snapshot shape (times stay fixed-width UTC text)."""
    if not text:
        return None
    old = json.loads(text)
    return {
        "conversation_id": old.get("conversation_id") or conversation_id,
        "media": "call",
        "agent_participant_id": old.get("agent_participant_id"),
        "agent_name": old.get("agent_name"),
        "agent_user_id": old.get("agent_user_id"),
        "queue_at_request_id": old.get("current_queue_id"),
        "queue_at_request_name": old.get("current_queue_name"),
        "started": old.get("call_started"),
        "target_health": None,
        "target_routing_status": None,
    }


def _state_and_problem(
    state: str, outcome: str | None, detail: str | None
) -> tuple[str, dict[str, object] | None]:
    if state == "failed" and outcome == "uncertain":
        return "uncertain", _problem(Code.UNCERTAIN)
    if state in ("failed", "superseded") and outcome:
        return state, _problem(_code(outcome, detail))
    return state, None


def _code(outcome: str, detail: str | None) -> Code:
    """superseded: outcome was the refusal ('ended' → call_ended); failed: detail held the code."""
    for candidate in (outcome, f"call_{outcome}", detail):
        if candidate in _CODE_ALIASES:
            return _CODE_ALIASES[candidate]
        if candidate in _CODES:
            return _CODES[candidate]
    if outcome == "failed" and not detail:
        return Code.FAILED_AFTER_ACCEPT  # Genesys accepted, then reported the transfer failed
    return Code.INTERNAL


def _problem(code: Code) -> dict[str, object]:
    return {"code": code.value, "facts": {}, "correlation_id": None}


def _copy_audit(conn: Connection, audit: Table) -> None:
    a, r = legacy_audit.c, legacy_requests.c
    columns = [
        "at", "request_id", "kind", "from_state", "to_state", "actor", "conversation_id", "media",
        "target_kind", "target_id", "target_name", "correlation_id", "reason", "via", "direct",
        "break_glass", "simulated",
    ]
    rows = (
        select(
            a.at, a.request_id, literal("state"), a.from_state, a.to_state, a.actor, a.conversation_id,
            literal("call"), literal("queue"), r.queue_id, r.queue_name, a.correlation_id, a.detail,
            case((r.requester_id.like("cli:%"), "cli"), else_="slack"),
            not_(r.needs_approval), false(), false(),
        )
        .select_from(legacy_audit.outerjoin(legacy_requests, r.id == a.request_id))
        .order_by(a.id)  # new ids in the old order: ties in time keep their order
    )
    conn.execute(audit.insert().from_select(columns, rows))
