"""RequestStore on SQL: SQLite for a single bot, PostgreSQL for several replicas.

Exactly-once approval rests on two database guarantees rather than on in-process locks:
- every state change is one ``UPDATE ... WHERE id = ? AND state IN (expected)``; whoever's
  UPDATE matches the row wins, everyone else gets no row back (None);
- a unique partial index allows one open request per conversation, so add() cannot race past it.
The audit event is written in the same transaction as the change it records.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import TracebackType

from bot.domain.model import OPEN_STATES, AuditEvent, RequestState, TransferRequest
from bot.domain.rules import is_allowed_transition
from bot.store.codec import REQUEST_COLUMNS, request_from_row, request_values
from bot.store.db import Database, Tx, connect
from bot.store.migrations import migrate
from bot.store.port import ConversationBusy

__all__ = ["SqlRequestStore", "open_store"]

# How each engine names the one-open-request index when it is violated (see Database).
_OPEN_INDEX_NAMES = frozenset({"transfer_requests_one_open", "transfer_requests.conversation_id"})

_COLUMNS = ", ".join(REQUEST_COLUMNS)
_SELECT = f"SELECT {_COLUMNS} FROM transfer_requests"
_INSERT = (
    f"INSERT INTO transfer_requests ({_COLUMNS}, updated_at) "
    f"VALUES ({', '.join('?' for _ in REQUEST_COLUMNS)}, ?)"
)
_INSERT_AUDIT = (
    "INSERT INTO audit_events "
    "(request_id, conversation_id, from_state, to_state, actor, at, correlation_id, detail) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_OPEN_VALUES = tuple(sorted(s.value for s in OPEN_STATES))
_OPEN_PLACEHOLDERS = ", ".join("?" for _ in _OPEN_VALUES)


def open_store(database_url: str) -> SqlRequestStore:
    """Connect to the database a URL names and bring its schema up to date.

    ``sqlite:///relative.db``, ``sqlite:////abs/path.db``, ``sqlite:///:memory:``,
    ``postgresql://user@host:port/db`` (or ``postgres://``). ValueError for anything else.
    """
    db = connect(database_url)
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return SqlRequestStore(db)


class SqlRequestStore:
    """Implements bot.store.port.RequestStore over an already-migrated Database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def __enter__(self) -> SqlRequestStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def add(self, request: TransferRequest, *, actor: str) -> None:
        db = self._db
        values = request_values(request, db.to_db_time)
        created = db.to_db_time(request.created_at)
        audit = (
            request.id,
            request.conversation_id,
            None,
            RequestState(request.state).value,
            actor,
            created,
            request.correlation_id,
            None,
        )

        def insert(tx: Tx) -> None:
            tx.execute(_INSERT, (*values, created))
            tx.execute(_INSERT_AUDIT, audit)

        # The blocking request can reach a final state between our failed insert and the
        # lookup; then the conversation is free again and the insert is worth another try.
        for _ in range(3):
            try:
                db.run(insert, write=True)
                return
            except Exception as exc:
                violated = db.unique_violation(exc)
                if violated is None:
                    raise
                if violated not in _OPEN_INDEX_NAMES:
                    raise ValueError(f"a transfer request with id {request.id!r} exists") from exc
            existing = self.open_for_conversation(request.conversation_id)
            if existing is not None:
                raise ConversationBusy(existing)
        raise ConversationBusy(None)

    def get(self, request_id: str) -> TransferRequest | None:
        rows = self._db.run(lambda tx: tx.execute(f"{_SELECT} WHERE id = ?", (request_id,)))
        return request_from_row(rows[0], self._db.from_db_time) if rows else None

    def transition(
        self,
        request_id: str,
        expected: Iterable[RequestState],
        new_state: RequestState,
        *,
        actor: str,
        at: datetime,
        correlation_id: str | None = None,
        outcome: str | None = None,
        detail: str | None = None,
        record_actor: bool = True,
    ) -> TransferRequest | None:
        new_state = RequestState(new_state)
        expected_states = tuple(dict.fromkeys(RequestState(s) for s in expected))
        if not expected_states:
            raise ValueError("transition needs at least one expected state")
        for old in expected_states:
            if not is_allowed_transition(old, new_state):
                raise ValueError(f"transition {old.value} -> {new_state.value} is not allowed")

        db = self._db
        when = db.to_db_time(at)
        # previous_state = state reads the pre-update value, so RETURNING tells us which of the
        # expected states the row was really in, for the audit event, in the same statement.
        assignments = ["previous_state = state", "state = ?", "updated_at = ?"]
        params: list[object] = [new_state.value, when]
        if record_actor:
            assignments += ["acted_by = ?", "acted_at = ?"]
            params += [actor, when]
        if correlation_id is not None:
            assignments.append("correlation_id = ?")
            params.append(correlation_id)
        if outcome is not None:
            assignments.append("outcome = ?")
            params.append(outcome)
        params += [request_id, *(s.value for s in expected_states)]
        update = (
            f"UPDATE transfer_requests SET {', '.join(assignments)} "
            f"WHERE id = ? AND state IN ({', '.join('?' for _ in expected_states)}) "
            f"RETURNING {_COLUMNS}, previous_state"
        )

        def work(tx: Tx) -> TransferRequest | None:
            rows = tx.execute(update, params)
            if not rows:
                return None
            request = request_from_row(rows[0][:-1], db.from_db_time)
            tx.execute(
                _INSERT_AUDIT,
                (
                    request.id,
                    request.conversation_id,
                    rows[0][-1],
                    new_state.value,
                    actor,
                    when,
                    # The request's correlation id when this step brought none: an audit line
                    # is then still traceable to the Genesys call it is about.
                    correlation_id if correlation_id is not None else request.correlation_id,
                    detail,
                ),
            )
            return request

        return db.run(work, write=True)

    def set_message(self, request_id: str, channel: str, ts: str) -> None:
        """No-op for an unknown id; updated_at is left alone (it tracks state changes)."""
        self._db.run(
            lambda tx: tx.execute(
                "UPDATE transfer_requests SET message_channel = ?, message_ts = ? WHERE id = ?",
                (channel, ts, request_id),
            ),
            write=True,
        )

    def due_for_expiry(self, now: datetime, limit: int = 100) -> list[TransferRequest]:
        rows = self._db.run(
            lambda tx: tx.execute(
                f"{_SELECT} WHERE state = ? AND expires_at IS NOT NULL AND expires_at <= ? "
                "ORDER BY expires_at, created_at, id LIMIT ?",
                (RequestState.PENDING.value, self._db.to_db_time(now), int(limit)),
            )
        )
        return [request_from_row(row, self._db.from_db_time) for row in rows]

    def stuck(
        self, states: Iterable[RequestState], updated_before: datetime, limit: int = 100
    ) -> list[TransferRequest]:
        """Requests left in `states` since before `updated_before` (their process died mid-way)."""
        values = tuple(sorted({RequestState(s).value for s in states}))
        if not values:
            return []
        marks = ", ".join("?" for _ in values)
        rows = self._db.run(
            lambda tx: tx.execute(
                f"{_SELECT} WHERE state IN ({marks}) AND updated_at < ? ORDER BY updated_at, id LIMIT ?",
                (*values, self._db.to_db_time(updated_before), int(limit)),
            )
        )
        return [request_from_row(row, self._db.from_db_time) for row in rows]

    def open_for_conversation(self, conversation_id: str) -> TransferRequest | None:
        rows = self._db.run(
            lambda tx: tx.execute(
                f"{_SELECT} WHERE conversation_id = ? AND state IN ({_OPEN_PLACEHOLDERS})",
                (conversation_id, *_OPEN_VALUES),
            )
        )
        return request_from_row(rows[0], self._db.from_db_time) if rows else None

    def audit_since(self, since: datetime) -> list[AuditEvent]:
        """Events at or after `since`, oldest first (ties in time by insertion order)."""
        rows = self._db.run(
            lambda tx: tx.execute(
                "SELECT request_id, conversation_id, from_state, to_state, actor, at, "
                "correlation_id, detail FROM audit_events WHERE at >= ? ORDER BY at, id",
                (self._db.to_db_time(since),),
            )
        )
        return [
            AuditEvent(
                request_id=r[0],
                conversation_id=r[1],
                from_state=r[2],
                to_state=r[3],
                actor=r[4],
                at=self._db.from_db_time(r[5]),
                correlation_id=r[6],
                detail=r[7],
            )
            for r in rows
        ]

    def close(self) -> None:
        self._db.close()
