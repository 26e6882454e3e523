"""Domain objects ↔ column values, in one place, so every query reads and writes the same shape.

Datetimes always come back aware and in UTC; a naive one is refused (ValueError) before any SQL
runs. Nested values (ask, snapshot, problem, approvers) are JSON; the target is spread over four
columns so it can be queried and audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from bot.domain.conversation import Media, QueueHealth
from bot.domain.parsing import AGENT_CHAT, AGENT_EMAIL, NUMBER, QUEUE_ID
from bot.domain.problems import Problem
from bot.domain.request import (
    Ask,
    AuditEvent,
    AuditKind,
    RequestState,
    Snapshot,
    TransferRequest,
    Via,
    Vote,
)
from bot.domain.target import Target, TargetKind
from bot.ports.store import CHANGEABLE
from bot.store.types import time_from_text, time_to_text, to_json, utc


def opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


# ---- nested values --------------------------------------------------------------------------


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    data = asdict(snapshot)
    data["media"] = snapshot.media.value
    data["started"] = None if snapshot.started is None else time_to_text(snapshot.started)
    return data


def snapshot_from_json(data: Mapping[str, Any]) -> Snapshot:
    """Unknown keys are dropped and missing ones read as None, so rows survive model edits."""
    values = {f.name: data.get(f.name) for f in fields(Snapshot)}
    values["media"] = Media(values["media"] or Media.CALL)
    if values["started"] is not None:
        values["started"] = time_from_text(values["started"])
    if values["target_health"] is not None:
        values["target_health"] = QueueHealth(**values["target_health"])
    return Snapshot(**values)


def _target_columns(target: Target | None) -> dict[str, object]:
    if target is None:
        return {"target_kind": None, "target_id": None, "target_name": None, "target_detail": None}
    return {"target_kind": TargetKind(target.kind).value, "target_id": target.id,
            "target_name": target.name, "target_detail": target.detail}


def _target_from(row: Mapping[str, Any]) -> Target | None:
    if row["target_kind"] is None:
        return None
    return Target(TargetKind(row["target_kind"]), row["target_id"], row["target_name"], row["target_detail"])


# ---- requests -------------------------------------------------------------------------------

# How each CHANGEABLE field becomes columns (a field may fill several).
_ENCODERS: dict[str, Callable[[Any], dict[str, object]]] = {
    "conversation_id": lambda v: {"conversation_id": v},
    "target": _target_columns,
    "snapshot": lambda v: {"snapshot": None if v is None else snapshot_to_json(v),
                           "media": None if v is None else Media(v.media).value},
    "needs_approval": lambda v: {"needs_approval": bool(v)},
    "approvals_required": lambda v: {"approvals_required": int(v)},
    "approvers": lambda v: {"approvers": list(v)},
    "break_glass": lambda v: {"break_glass": bool(v)},
    "expires_at": lambda v: {"expires_at": opt_utc(v)},
    "problem": lambda v: {"problem": None if v is None else v.to_json()},
    "correlation_id": lambda v: {"correlation_id": v},
    "sent_at": lambda v: {"sent_at": opt_utc(v)},
    "transfer_id": lambda v: {"transfer_id": v},
    "confirm_deadline": lambda v: {"confirm_deadline": opt_utc(v)},
    "next_check_at": lambda v: {"next_check_at": opt_utc(v)},
    "message_ref": lambda v: {"message_ref": v},
}
if set(_ENCODERS) != CHANGEABLE:  # a field added to the port must be stored too
    raise RuntimeError(f"CHANGEABLE fields without an encoder: {sorted(CHANGEABLE - set(_ENCODERS))}")


def changes_to_columns(changes: Mapping[str, Any]) -> dict[str, object]:
    """Columns for transition()/update() changes; ValueError for a field that may not change."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValueError(f"these fields cannot be changed: {sorted(unknown)}")
    columns: dict[str, object] = {}
    for name, value in changes.items():
        columns.update(_ENCODERS[name](value))
    return columns


def request_to_row(request: TransferRequest) -> dict[str, object]:
    """Every column of a new transfer_requests row (without leases and previous_state): a new
    request is at version 1, last updated when it was created."""
    created = utc(request.created_at)
    row: dict[str, object] = {
        "id": request.id,
        "state": RequestState(request.state).value,
        "requester_id": request.requester_id,
        "via": Via(request.via).value,
        "created_at": created,
        "updated_at": created,
        "version": 1,
        "ask": {"call": request.ask.call, "target": request.ask.target, "now": bool(request.ask.now)},
        "origin": request.origin,
        "simulated": bool(request.simulated),
        "acted_by": request.acted_by,
        "acted_at": opt_utc(request.acted_at),
    }
    row.update(changes_to_columns({name: getattr(request, name) for name in CHANGEABLE}))
    return row


_JSON_COLUMNS = ("ask", "snapshot", "approvers", "problem")


def as_read_back(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as a SELECT would return it (JSON values through JSON: tuples become lists…),
    so a request built from what was written equals the one get() reads later."""
    stored = dict(row)
    for column in _JSON_COLUMNS:
        if stored[column] is not None:
            stored[column] = json.loads(to_json(stored[column]))
    return stored


def request_from_row(row: Mapping[str, Any], votes: Iterable[Vote] = ()) -> TransferRequest:
    ask = row["ask"]
    return TransferRequest(
        id=row["id"],
        requester_id=row["requester_id"],
        state=RequestState(row["state"]),
        created_at=row["created_at"],
        ask=Ask(ask["call"], ask["target"], bool(ask.get("now", False))),
        via=Via(row["via"]),
        conversation_id=row["conversation_id"],
        target=_target_from(row),
        snapshot=None if row["snapshot"] is None else snapshot_from_json(row["snapshot"]),
        origin=row["origin"],
        message_ref=row["message_ref"],
        needs_approval=bool(row["needs_approval"]),
        approvals_required=row["approvals_required"],
        approvers=tuple(row["approvers"]),
        votes=tuple(votes),
        break_glass=bool(row["break_glass"]),
        simulated=bool(row["simulated"]),
        expires_at=row["expires_at"],
        acted_by=row["acted_by"],
        acted_at=row["acted_at"],
        problem=Problem.from_json(row["problem"]),
        correlation_id=row["correlation_id"],
        sent_at=row["sent_at"],
        transfer_id=row["transfer_id"],
        confirm_deadline=row["confirm_deadline"],
        next_check_at=row["next_check_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


# ---- audit ----------------------------------------------------------------------------------


def audit_of(
    request: TransferRequest,
    kind: AuditKind,
    *,
    actor: str,
    at: datetime,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """An audit event carrying the request as it is at this moment (target, media, flags).

    Before the target is resolved (received, or refused before that), the row says where the
    requester asked the call to go, as typed.
    """
    target_kind, target_id, target_name = _where(request)
    return AuditEvent(
        request_id=request.id,
        at=utc(at),
        kind=kind,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        conversation_id=request.conversation_id,
        media=None if request.media is None else request.media.value,
        target_kind=target_kind,
        target_id=target_id,
        target_name=target_name,
        correlation_id=request.correlation_id,
        reason=reason,
        via=Via(request.via).value,
        direct=request.direct,
        break_glass=request.break_glass,
        simulated=request.simulated,
    )


def _where(request: TransferRequest) -> tuple[str | None, str | None, str | None]:
    """(kind, id, name) of the target; before it is resolved, as the requester typed it."""
    target = request.target
    if target is not None:
        return TargetKind(target.kind).value, target.id, target.name
    asked = request.ask.target
    if not asked:
        return None, None, None
    for prefix, kind, is_id in ((QUEUE_ID, TargetKind.QUEUE, True), (AGENT_EMAIL, TargetKind.AGENT, False),
                                (AGENT_CHAT, TargetKind.AGENT, False), (NUMBER, TargetKind.NUMBER, True)):
        if asked.startswith(prefix):
            value = asked[len(prefix):]
            return kind.value, (value if is_id else None), (None if is_id else value)
    return TargetKind.QUEUE.value, None, asked


_AUDIT_FIELDS = tuple(f.name for f in fields(AuditEvent))


def audit_to_row(event: AuditEvent) -> dict[str, object]:
    row = {name: getattr(event, name) for name in _AUDIT_FIELDS}
    row["at"] = utc(event.at)
    row["kind"] = AuditKind(event.kind).value
    return row


def audit_from_row(row: Mapping[str, Any]) -> AuditEvent:
    values = {name: row[name] for name in _AUDIT_FIELDS}
    values["kind"] = AuditKind(values["kind"])
    for flag in ("direct", "break_glass", "simulated"):
        if values[flag] is not None:
            values[flag] = bool(values[flag])
    return AuditEvent(**values)
