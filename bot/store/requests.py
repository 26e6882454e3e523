"""RequestStore on SQLAlchemy Core: SQLite for one bot process, PostgreSQL for several replicas.

Exactly-once rests on two database guarantees, not on in-process locks:
- every state change is one ``UPDATE … WHERE id = :id AND state IN (:expected) RETURNING …``;
  whoever's UPDATE matches the row wins, everyone else gets no row back (None);
- a unique partial index allows one open request per conversation, so neither add() nor a
  transition can race past it (the loser gets ConversationBusy and nothing changes).
The audit event is written in the same transaction as the change it records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.domain.request import (
    FINAL_STATES,
    WORK_STATES,
    Ask,
    AuditEvent,
    AuditKind,
    RequestState,
    TransferRequest,
    Vote,
    is_allowed_transition,
)
from bot.ports.replay_key import Replayed, deferred_replay_check, unchecked_replay_key
from bot.ports.store import ConversationBusy
from bot.store import leases
from bot.store.codec import (
    as_read_back,
    audit_from_row,
    audit_of,
    audit_to_row,
    changes_to_columns,
    opt_utc,
    request_from_row,
    request_to_row,
)
from bot.store.database import Database, connect, unique_violation
from bot.store.direct import DirectConnection
from bot.store.migrate import migrate
from bot.store.rate_budget import SqlRateBudget
from bot.store.replay import SqlReplayGuard
from bot.store.slack_state import SqlSlackState
from bot.store.tables import (
    OPEN_STATE_VALUES,
    approval_votes,
    audit_events,
    slack_response_urls,
    slack_sync,
    transfer_requests,
)
from bot.store.types import utc

__all__ = ["SqlRequestStore", "open_store"]
log = logging.getLogger(__name__)

T = TypeVar("T")
S = RequestState
R = transfer_requests.c
_FINAL = tuple(sorted(s.value for s in FINAL_STATES))
# States in which a process may hold a lease; entering any other state gives the lease back.
_LEASED = frozenset(WORK_STATES | {S.ACCEPTED})
# How the one-open-request index reports itself when violated (see unique_violation).
_OPEN_INDEX = frozenset({"transfer_requests_one_open", "transfer_requests.conversation_id"})
_BUSY_ATTEMPTS = 3
_INSERT_REQUEST = transfer_requests.insert()
_INSERT_VOTE = approval_votes.insert()
_INSERT_AUDIT = audit_events.insert()


def open_store(database_url: str) -> SqlRequestStore:
    """Connect to the database a URL names and bring its schema up to date.

    ``sqlite:///relative.db``, ``sqlite:////abs/path.db``, ``sqlite:///:memory:``,
    ``postgresql://user@host:port/db`` (or ``postgres://``). ValueError for anything else;
    StoreUnavailable (with host and reason, never the password) when it cannot be reached.
    """
    db = connect(database_url)
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return SqlRequestStore(db)


class _Rehearsal(Exception):
    """Raised at the end of prepare_ack_writes' transaction, to roll it back."""


class _NoRequest(Exception):
    """Raised inside a transaction to roll it back when the request does not exist."""


class SqlRequestStore:
    """Implements bot.ports.store.RequestStore over an already-migrated Database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._replay = SqlReplayGuard(db)

    @property
    def db(self) -> Database:
        return self._db

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def slack_state(self) -> SqlSlackState:
        """The Slack layer's own storage, on this database."""
        return SqlSlackState(self._db)

    def replay_guard(self) -> SqlReplayGuard:
        return self._replay

    def rate_budget(self) -> SqlRateBudget:
        return SqlRateBudget(self._db)

    def __enter__(self) -> SqlRequestStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- writing -------------------------------------------------------------------------

    def add(self, request: TransferRequest, *, actor: str, lease_owner: str | None = None,
            lease_until: datetime | None = None) -> TransferRequest:
        """Insert a new request with its first audit event (and a lease when given).

        ConversationBusy if it is open and another open request holds its conversation;
        ValueError if a request with its id exists. When the Slack request being served left its
        replay key unchecked (bot.ports.replay_key), the key is written in the same transaction:
        Replayed, with nothing written, if it was there already.
        """
        return self._add(request, actor=actor, lease_owner=lease_owner, lease_until=lease_until)

    def _add(self, request: TransferRequest, *, actor: str, lease_owner: str | None, lease_until: datetime | None,
             rehearse: bool = False) -> TransferRequest:
        row = request_to_row(request)
        row.update(lease_owner=lease_owner, lease_until=opt_utc(lease_until))
        votes = [{"request_id": request.id, "approver": v.approver, "at": utc(v.at)} for v in request.votes]
        reason = request.problem.code.value if request.problem else None
        added = request_from_row(as_read_back(row), (Vote(v["approver"], v["at"]) for v in votes))
        event = audit_to_row(audit_of(added, AuditKind.STATE, actor=actor, at=added.created_at,
                                      to_state=added.state.value, reason=reason))

        pending = unchecked_replay_key()

        def work(conn: DirectConnection) -> TransferRequest:
            if pending is not None and not self._replay.record(conn, pending.key, pending.expires_at):
                raise Replayed(request.id)
            conn.execute(_INSERT_REQUEST, row)
            for vote in votes:
                conn.execute(_INSERT_VOTE, vote)
            conn.execute(_INSERT_AUDIT, event)
            if rehearse:
                raise _Rehearsal  # everything undone
            return added

        # On the driver (see bot.store.direct): this insert is on the /transfer ack path. Any other
        # failure rolls the key back with the request, so it stays unchecked (the guard checks it).
        try:
            stored = self._unless_busy(lambda: self._db.run_direct(work), request.id, lambda: request.conversation_id)
        except Replayed:
            if pending is not None:
                pending.first_time = False
            raise
        if pending is not None:
            pending.first_time = True
        return stored

    def get(self, request_id: str) -> TransferRequest | None:
        found = self._select(select(transfer_requests).where(R.id == request_id))
        return found[0] if found else None

    def transition(
        self,
        request_id: str,
        expected: Iterable[RequestState],
        new_state: RequestState,
        *,
        actor: str,
        at: datetime,
        changes: Mapping[str, Any] | None = None,
        reason: str | None = None,
        record_actor: bool = True,
        lease: tuple[str, datetime] | None = None,
    ) -> TransferRequest | None:
        """Compare-and-set to new_state; None when the request is not in `expected` (or missing).

        One UPDATE … RETURNING plus the audit insert, in one transaction; bumps version.
        ValueError for a transition the domain does not allow or a field that may not change.
        """
        new_state = RequestState(new_state)
        states = _expected(expected, new_state)
        at = utc(at)
        changes = dict(changes or {})
        values: dict[str, Any] = changes_to_columns(changes)
        # previous_state = state reads the value before the update: RETURNING then tells the
        # audit event which of the expected states the row was really in.
        values.update(previous_state=R.state, state=new_state.value, updated_at=at, version=R.version + 1)
        if record_actor:
            values.update(acted_by=actor, acted_at=at)
        if new_state not in _LEASED:
            values.update(lease_owner=None, lease_until=None)
        elif lease is not None:
            values.update(lease_owner=lease[0], lease_until=utc(lease[1]))
        statement = (
            update(transfer_requests).where(R.id == request_id, R.state.in_(states)).values(values)
            .returning(*transfer_requests.c)
        )
        if reason is None and changes.get("problem") is not None:
            reason = changes["problem"].code.value

        def work(conn: Connection) -> TransferRequest | None:
            row = conn.execute(statement).mappings().first()
            if row is None:
                return None
            moved = request_from_row(row)
            event = audit_of(moved, AuditKind.STATE, actor=actor, at=at, from_state=row["previous_state"],
                             to_state=new_state.value, reason=reason)
            conn.execute(_INSERT_AUDIT, audit_to_row(event))
            return replace(moved, votes=_votes(conn, [request_id]).get(request_id, ()))

        return self._unless_busy(
            lambda: self._db.run(work, write=True), request_id, lambda: self._conversation_of(request_id, changes)
        )

    def update(self, request_id: str, expected: Iterable[RequestState], changes: Mapping[str, Any]) -> bool:
        """Set CHANGEABLE fields without a state change (bumps version, no audit event)."""
        states = _expected(expected, None)
        values: dict[str, Any] = changes_to_columns(changes)
        values["version"] = R.version + 1
        statement = update(transfer_requests).where(R.id == request_id, R.state.in_(states)).values(values)
        return self._unless_busy(
            lambda: self._db.run(lambda conn: conn.execute(statement).rowcount == 1, write=True),
            request_id, lambda: self._conversation_of(request_id, changes),
        )

    def set_message_ref(self, request_id: str, ref: str) -> bool:
        """Record where the request's message lives, only if none is recorded yet (bumps version)."""
        statement = (
            update(transfer_requests).where(R.id == request_id, R.message_ref.is_(None))
            .values(message_ref=ref, version=R.version + 1)
        )
        return self._db.run(lambda conn: conn.execute(statement).rowcount == 1, write=True)

    def add_vote(self, request_id: str, approver: str, at: datetime) -> bool:
        """Record one approval; False if this approver already voted (or the request is missing).

        The vote, the version bump and the audit event commit together; a second vote by the
        same approver (another click, another replica) hits the primary key and changes nothing.
        """
        at = utc(at)
        vote = (
            self._db.insert(approval_votes).values(request_id=request_id, approver=approver, at=at)
            .on_conflict_do_nothing(index_elements=["request_id", "approver"]).returning(approval_votes.c.approver)
        )
        bump = (
            update(transfer_requests).where(R.id == request_id)
            .values(version=R.version + 1, updated_at=at).returning(*transfer_requests.c)
        )

        def work(conn: Connection) -> bool:
            if conn.execute(vote).first() is None:
                return False
            row = conn.execute(bump).mappings().first()
            if row is None:
                raise _NoRequest
            event = audit_of(request_from_row(row), AuditKind.VOTE, actor=approver, at=at)
            conn.execute(_INSERT_AUDIT, audit_to_row(event))
            return True

        try:
            return self._db.run(work, write=True)
        except _NoRequest:
            return False

    def record(self, event: AuditEvent) -> None:
        """An audit event that changes no state (a refused click, a break-glass notice)."""
        row = audit_to_row(event)
        self._db.run(lambda conn: conn.execute(_INSERT_AUDIT, row), write=True)

    # ---- work for the sweeper ------------------------------------------------------------

    def due_for_expiry(self, now: datetime, limit: int = 100) -> list[TransferRequest]:
        """Pending requests whose expires_at is at or before now, soonest first."""
        return self._select(
            select(transfer_requests)
            .where(R.state == S.PENDING.value, R.expires_at.is_not(None), R.expires_at <= utc(now))
            .order_by(R.expires_at, R.created_at, R.id).limit(int(limit))
        )

    def claim_abandoned(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 50
    ) -> list[TransferRequest]:
        """Take over requests in WORK_STATES whose lease ran out (their process died or left).

        Atomic across replicas: two callers never get the same request.
        """
        return self._claim(leases.abandoned(utc(now)), R.updated_at, owner, lease_until, limit,
                           key=lambda r: (r.updated_at, r.id))

    def claim_due_checks(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 50
    ) -> list[TransferRequest]:
        """Take ACCEPTED requests whose next_check_at has come and whose lease is free."""
        return self._claim(leases.due_checks(utc(now)), R.next_check_at, owner, lease_until, limit,
                           key=lambda r: (r.next_check_at, r.id))

    def renew_leases(self, owner: str, until: datetime) -> int:
        """Extend every lease this process holds on a request that is still being worked on."""
        statement = leases.renew(owner, utc(until), [s.value for s in _LEASED])
        return self._db.run(lambda conn: conn.execute(statement).rowcount, write=True)

    def release(self, request_id: str, owner: str, *, at: datetime | None = None) -> None:
        """Give the lease back; others may take it from `at` on (None or now: at once)."""
        statement = leases.release(owner, opt_utc(at), request_id)
        self._db.run(lambda conn: conn.execute(statement), write=True)

    def release_all(self, owner: str, at: datetime) -> int:
        """Give back every lease this process holds (on shutdown), free from `at` on."""
        statement = leases.release(owner, utc(at))
        return self._db.run(lambda conn: conn.execute(statement).rowcount, write=True)

    # ---- reading -------------------------------------------------------------------------

    def open_for_conversation(self, conversation_id: str) -> TransferRequest | None:
        found = self._select(
            select(transfer_requests).where(R.conversation_id == conversation_id, R.state.in_(OPEN_STATE_VALUES))
        )
        return found[0] if found else None

    def pending(self, limit: int = 500) -> list[TransferRequest]:
        """Requests waiting for approval, oldest first."""
        return self._select(
            select(transfer_requests).where(R.state == S.PENDING.value).order_by(R.created_at, R.id).limit(int(limit))
        )

    def recent_finished(self, limit: int = 20) -> list[TransferRequest]:
        """Requests in a final state, most recently changed first."""
        return self._select(
            select(transfer_requests).where(R.state.in_(_FINAL))
            .order_by(R.updated_at.desc(), R.id.desc()).limit(int(limit))
        )

    def for_requester(self, requester_id: str, limit: int = 20) -> list[TransferRequest]:
        """One person's requests, newest first."""
        return self._select(
            select(transfer_requests).where(R.requester_id == requester_id)
            .order_by(R.created_at.desc(), R.id.desc()).limit(int(limit))
        )

    def count_by_state(self) -> dict[RequestState, int]:
        """Every state with its number of requests (0 when none)."""
        statement = select(R.state, func.count()).group_by(R.state)
        rows = self._db.run(lambda conn: conn.execute(statement).all())
        counts = dict.fromkeys(RequestState, 0)
        counts.update({RequestState(state): n for state, n in rows})
        return counts

    def audit_since(self, since: datetime) -> list[AuditEvent]:
        """Events at or after `since`, oldest first (ties in time in the order they were written)."""
        a = audit_events.c
        statement = select(audit_events).where(a.at >= utc(since)).order_by(a.at, a.id)
        rows = self._db.run(lambda conn: conn.execute(statement).mappings().all())
        return [audit_from_row(row) for row in rows]

    def purge_finished_before(self, cutoff: datetime, batch: int = 500) -> int:
        """Delete one batch of final requests last changed before cutoff, with their votes, audit
        rows and Slack state. Replicas purging at once skip each other's rows (no waiting)."""
        old = R.state.in_(_FINAL) & (R.updated_at < utc(cutoff))
        candidates = (  # a CTE, so LIMIT holds (see leases.claim)
            select(R.id).where(old).order_by(R.updated_at, R.id).limit(int(batch))
            .with_for_update(skip_locked=True).cte("candidates")
        )
        statement = delete(transfer_requests).where(R.id.in_(select(candidates.c.id)), old).returning(R.id)

        def work(conn: Connection) -> int:
            ids = list(conn.execute(statement).scalars())
            if ids:
                for table in (approval_votes, audit_events, slack_sync, slack_response_urls):
                    conn.execute(delete(table).where(table.c.request_id.in_(ids)))
            return len(ids)

        return self._db.run(work, write=True)

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        self._db.ping()

    def prepare_ack_writes(self) -> None:
        """Start the ack path's writer and compile its statements now, not on the first Slack request.

        Both used to delay the first acks of a burst at start-up: on SQLite the writer's thread and
        connection (the first ack waited ~60 ms), and ~2.5 ms of statement compiling that took
        10–20 ms of the writer's first batch with 50 requests sharing the GIL (traced). The
        rehearsal runs add()'s own transaction with a made-up request and the replay key, and
        rolls it back; that first write starts the writer.
        """
        now = datetime.now(UTC)
        sample = TransferRequest(id="rehearsal", requester_id="-", state=RequestState.RECEIVED, created_at=now,
                                 ask=Ask("-", "-"))
        try:
            with deferred_replay_check("rehearsal", now, lambda key, expires_at: True):
                self._add(sample, actor="-", lease_owner="-", lease_until=now, rehearse=True)
        except _Rehearsal:
            pass
        except Exception as error:  # the database isn't there yet: the first request compiles them
            log.warning("could not prepare the ack path's writes: %s", error)

    def close(self) -> None:
        self._db.close()

    # ---- helpers -------------------------------------------------------------------------

    def _select(self, statement: Select[Any]) -> list[TransferRequest]:
        def work(conn: Connection) -> list[TransferRequest]:
            rows = conn.execute(statement).mappings().all()
            votes = _votes(conn, [row["id"] for row in rows]) if rows else {}
            return [request_from_row(row, votes.get(row["id"], ())) for row in rows]

        return self._db.run(work)

    def _claim(
        self, condition: Any, order: Any, owner: str, lease_until: datetime, limit: int,
        *, key: Callable[[TransferRequest], Any],
    ) -> list[TransferRequest]:
        """Lease up to `limit` rows matching condition (oldest by `order` first), sorted by key."""
        statement = leases.claim(condition, order, owner, utc(lease_until), int(limit))

        def work(conn: Connection) -> list[TransferRequest]:
            rows = conn.execute(statement).mappings().all()
            votes = _votes(conn, [row["id"] for row in rows]) if rows else {}
            claimed = [request_from_row(row, votes.get(row["id"], ())) for row in rows]
            return sorted(claimed, key=key)

        return self._db.run(work, write=True)

    def _conversation_of(self, request_id: str, changes: Mapping[str, Any]) -> str | None:
        if "conversation_id" in changes:
            return changes["conversation_id"]
        current = self.get(request_id)
        return current.conversation_id if current else None

    def _unless_busy(self, attempt: Callable[[], T], request_id: str, conversation: Callable[[], str | None]) -> T:
        """Run a write; when the one-open-request index refuses it, raise ConversationBusy.

        The blocking request can reach a final state between the refused write and the lookup;
        then the conversation is free again and the write is worth another try.
        """
        for _ in range(_BUSY_ATTEMPTS):
            try:
                return attempt()
            except IntegrityError as exc:
                violated = unique_violation(exc)
                if violated not in _OPEN_INDEX:
                    raise ValueError(f"a transfer request with id {request_id!r} exists") from None
            conversation_id = conversation()
            existing = self.open_for_conversation(conversation_id) if conversation_id else None
            if existing is not None and existing.id != request_id:
                raise ConversationBusy(existing)
        raise ConversationBusy(None)


def _expected(expected: Iterable[RequestState], new_state: RequestState | None) -> tuple[str, ...]:
    """The expected states as values; ValueError for none, or for a move the domain forbids."""
    states = tuple(dict.fromkeys(RequestState(s) for s in expected))
    if not states:
        raise ValueError("at least one expected state is needed")
    for old in states:
        if new_state is not None and not is_allowed_transition(old, new_state):
            raise ValueError(f"transition {old.value} -> {new_state.value} is not allowed")
    return tuple(s.value for s in states)


def _votes(conn: Connection, request_ids: list[str]) -> dict[str, tuple[Vote, ...]]:
    v = approval_votes.c
    rows = conn.execute(select(v.request_id, v.approver, v.at).where(v.request_id.in_(request_ids))
                        .order_by(v.at, v.approver))
    votes: dict[str, list[Vote]] = {}
    for request_id, approver, at in rows:
        votes.setdefault(request_id, []).append(Vote(approver, at))
    return {request_id: tuple(vs) for request_id, vs in votes.items()}
