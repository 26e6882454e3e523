"""An in-memory RequestStore with the same compare-and-set, lease and uniqueness rules as SQL.

For the fast service tests: no database, but the same contract (bot/ports/store.py), so a
service bug can't hide behind a lenient fake.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.domain.request import (
    OPEN_STATES,
    WORK_STATES,
    AuditEvent,
    AuditKind,
    RequestState,
    TransferRequest,
    Vote,
    is_allowed_transition,
)
from bot.ports.store import CHANGEABLE, ConversationBusy, StoreUnavailable

S = RequestState


@dataclass
class _Row:
    request: TransferRequest
    lease_owner: str | None = None
    lease_until: datetime | None = None


class MemoryStore:
    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}
        self._lock = threading.RLock()
        self.audit: list[AuditEvent] = []
        self.down = False  # simulate an unreachable database

    # ---- helpers -------------------------------------------------------------------------------
    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("database unreachable (test)")

    def _open_holder(self, conversation_id: str | None, exclude: str) -> TransferRequest | None:
        if not conversation_id:
            return None
        for row in self._rows.values():
            r = row.request
            if r.id != exclude and r.conversation_id == conversation_id and r.state in OPEN_STATES:
                return r
        return None

    def _audit(self, request: TransferRequest, kind: AuditKind, actor: str, at: datetime, *,
               from_state: str | None, reason: str | None) -> None:
        t = request.target
        self.audit.append(AuditEvent(
            request_id=request.id, at=at, kind=kind, actor=actor, from_state=from_state,
            to_state=request.state.value, conversation_id=request.conversation_id,
            media=request.media.value if request.media else None, target_kind=t.kind.value if t else None,
            target_id=t.id if t else None, target_name=t.name if t else None,
            correlation_id=request.correlation_id, reason=reason or (request.problem.code.value if request.problem
                                                                     else None),
            via=request.via.value, direct=request.direct, break_glass=request.break_glass,
            simulated=request.simulated,
        ))

    # ---- RequestStore --------------------------------------------------------------------------
    def add(self, request: TransferRequest, *, actor: str, lease_owner: str | None = None,
            lease_until: datetime | None = None) -> TransferRequest:
        with self._lock:
            self._check()
            if request.id in self._rows:
                raise ValueError("duplicate id")
            if request.state in OPEN_STATES:
                holder = self._open_holder(request.conversation_id, request.id)
                if holder is not None:
                    raise ConversationBusy(holder)
            stored = replace(request, version=1, updated_at=request.created_at)
            self._rows[request.id] = _Row(stored, lease_owner, lease_until)
            self._audit(stored, AuditKind.STATE, actor, request.created_at, from_state=None, reason=None)
            return stored

    def get(self, request_id: str) -> TransferRequest | None:
        with self._lock:
            self._check()
            row = self._rows.get(request_id)
            return row.request if row else None

    def transition(self, request_id: str, expected: Iterable[RequestState], new_state: RequestState, *, actor: str,
                   at: datetime, changes: Mapping[str, Any] | None = None, reason: str | None = None,
                   record_actor: bool = True, lease: tuple[str, datetime] | None = None) -> TransferRequest | None:
        expected = tuple(expected)
        for old in expected:
            if not is_allowed_transition(old, new_state):
                raise ValueError(f"{old} -> {new_state} not allowed")
        changes = dict(changes or {})
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise ValueError(f"not changeable: {unknown}")
        with self._lock:
            self._check()
            row = self._rows.get(request_id)
            if row is None or row.request.state not in expected:
                return None
            old = row.request
            updated = replace(old, state=new_state, updated_at=at, version=old.version + 1, **changes)
            if record_actor:
                updated = replace(updated, acted_by=actor, acted_at=at)
            if new_state in OPEN_STATES:
                holder = self._open_holder(updated.conversation_id, request_id)
                if holder is not None:
                    raise ConversationBusy(holder)
            row.request = updated
            if new_state not in WORK_STATES | {S.ACCEPTED}:
                row.lease_owner, row.lease_until = None, None
            elif lease is not None:
                row.lease_owner, row.lease_until = lease
            self._audit(updated, AuditKind.STATE, actor, at, from_state=old.state.value, reason=reason)
            return updated

    def update(self, request_id: str, expected: Iterable[RequestState], changes: Mapping[str, Any]) -> bool:
        with self._lock:
            self._check()
            row = self._rows.get(request_id)
            if row is None or row.request.state not in tuple(expected):
                return False
            row.request = replace(row.request, **dict(changes))
            return True

    def set_message_ref(self, request_id: str, ref: str) -> bool:
        with self._lock:
            self._check()
            row = self._rows.get(request_id)
            if row is None or row.request.message_ref:
                return False
            row.request = replace(row.request, message_ref=ref, version=row.request.version + 1)
            return True

    def add_vote(self, request_id: str, approver: str, at: datetime) -> bool:
        with self._lock:
            self._check()
            row = self._rows[request_id]
            if any(v.approver == approver for v in row.request.votes):
                return False
            row.request = replace(row.request, votes=(*row.request.votes, Vote(approver, at)),
                                  version=row.request.version + 1)
            self._audit(row.request, AuditKind.VOTE, approver, at, from_state=row.request.state.value, reason="vote")
            return True

    def record(self, event: AuditEvent) -> None:
        with self._lock:
            self._check()
            self.audit.append(event)

    def due_for_expiry(self, now: datetime, limit: int = 100) -> list[TransferRequest]:
        with self._lock:
            self._check()
            due = [r.request for r in self._rows.values() if r.request.state is S.PENDING
                   and r.request.expires_at is not None and r.request.expires_at <= now]
            return sorted(due, key=lambda r: r.expires_at)[:limit]

    def _claim(self, owner: str, now: datetime, until: datetime, limit: int, want) -> list[TransferRequest]:
        with self._lock:
            self._check()
            taken = []
            for row in self._rows.values():
                if len(taken) >= limit:
                    break
                if want(row.request) and (row.lease_until is None or row.lease_until < now):
                    row.lease_owner, row.lease_until = owner, until
                    taken.append(row.request)
            return taken

    def claim_abandoned(self, owner: str, now: datetime, lease_until: datetime, limit: int = 50):
        return self._claim(owner, now, lease_until, limit, lambda r: r.state in WORK_STATES)

    def claim_due_checks(self, owner: str, now: datetime, lease_until: datetime, limit: int = 50):
        return self._claim(owner, now, lease_until, limit, lambda r: r.state is S.ACCEPTED
                           and r.next_check_at is not None and r.next_check_at <= now)

    def renew_leases(self, owner: str, until: datetime) -> int:
        with self._lock:
            self._check()
            n = 0
            for row in self._rows.values():
                if row.lease_owner == owner and row.request.state in WORK_STATES | {S.ACCEPTED}:
                    row.lease_until = until
                    n += 1
            return n

    def release(self, request_id: str, owner: str, *, at: datetime | None = None) -> None:
        with self._lock:
            row = self._rows.get(request_id)
            if row is not None and row.lease_owner == owner:
                row.lease_owner, row.lease_until = None, at

    def release_all(self, owner: str, at: datetime) -> int:
        with self._lock:
            n = 0
            for row in self._rows.values():
                if row.lease_owner == owner:
                    row.lease_owner, row.lease_until = None, at
                    n += 1
            return n

    def lease_of(self, request_id: str) -> tuple[str | None, datetime | None]:
        row = self._rows[request_id]
        return row.lease_owner, row.lease_until

    def open_for_conversation(self, conversation_id: str) -> TransferRequest | None:
        with self._lock:
            return self._open_holder(conversation_id, "")

    def pending(self, limit: int = 500) -> list[TransferRequest]:
        with self._lock:
            return sorted((r.request for r in self._rows.values() if r.request.state is S.PENDING),
                          key=lambda r: r.created_at)[:limit]

    def recent_finished(self, limit: int = 20) -> list[TransferRequest]:
        with self._lock:
            done = [r.request for r in self._rows.values() if r.request.state.is_final]
            return sorted(done, key=lambda r: r.updated_at, reverse=True)[:limit]

    def for_requester(self, requester_id: str, limit: int = 20) -> list[TransferRequest]:
        with self._lock:
            mine = [r.request for r in self._rows.values() if r.request.requester_id == requester_id]
            return sorted(mine, key=lambda r: r.created_at, reverse=True)[:limit]

    def count_by_state(self) -> dict[RequestState, int]:
        with self._lock:
            counts: dict[RequestState, int] = {}
            for row in self._rows.values():
                counts[row.request.state] = counts.get(row.request.state, 0) + 1
            return counts

    def audit_since(self, since: datetime) -> list[AuditEvent]:
        return [e for e in self.audit if e.at >= since]

    def purge_finished_before(self, cutoff: datetime, batch: int = 500) -> int:
        with self._lock:
            old = [rid for rid, row in self._rows.items()
                   if row.request.state.is_final and row.request.updated_at < cutoff][:batch]
            for rid in old:
                del self._rows[rid]
            self.audit = [e for e in self.audit if e.request_id not in old]
            return len(old)

    def ping(self) -> None:
        self._check()

    def close(self) -> None:
        pass
