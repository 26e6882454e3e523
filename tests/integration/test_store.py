"""The SQL RequestStore against SQLite and PostgreSQL: same tests, both engines."""

from __future__ import annotations

import inspect
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from bot.domain.model import CallSnapshot, RequestState, TransferRequest

from bot.store.db import connect
from bot.store.migrations import LATEST_VERSION, MIGRATIONS, applied_versions, migrate
from bot.store.port import ConversationBusy, RequestStore
from bot.store.sql import SqlRequestStore, open_store
from tests.integration.conftest import with_query

S = RequestState
T0 = datetime(2025, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)


def make_request(
    request_id: str | None = None,
    conversation_id: str = "conv-1",
    *,
    state: RequestState = S.PENDING,
    created_at: datetime = T0,
    expires_at: datetime | None = T0 + timedelta(minutes=10),
    **changes: object,
) -> TransferRequest:
    snapshot = CallSnapshot(
        conversation_id=conversation_id,
        agent_participant_id="part-agent",
        agent_name="Ada Agent",
        agent_user_id="user-ada",
        current_queue_id="queue-sales",
        current_queue_name="Sales",
        call_started=created_at - timedelta(minutes=3, microseconds=7),
    )
    fields: dict = {
        "id": request_id or f"req-{uuid.uuid4().hex[:8]}",
        "conversation_id": conversation_id,
        "queue_id": "queue-billing",
        "queue_name": "Billing",
        "requester_id": "U-REQ",
        "state": state,
        "created_at": created_at,
        "expires_at": expires_at,
        "snapshot": snapshot,
        "needs_approval": True,
    }
    fields.update(changes)
    return TransferRequest(**fields)


def run_together(n: int, fn: Callable[[int], object]) -> list[object]:
    """Call fn(0..n-1) from n threads released at the same instant; re-raise any error."""
    barrier = threading.Barrier(n)

    def go(i: int) -> object:
        barrier.wait(timeout=10)
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(go, range(n)))


def test_implements_the_port_exactly() -> None:
    """Same methods, parameter names, kinds and defaults as the RequestStore Protocol."""
    for name, member in vars(RequestStore).items():
        if name.startswith("_") or not callable(member):
            continue
        want = inspect.signature(member)
        got = inspect.signature(getattr(SqlRequestStore, name))
        assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == [
            (p.name, p.kind, p.default) for p in want.parameters.values()
        ], name


def test_add_get_round_trip_keeps_every_field(store: SqlRequestStore) -> None:
    plus2 = timezone(timedelta(hours=2))
    request = make_request(
        "req-full",
        created_at=T0.astimezone(plus2),  # aware but not UTC: same instant must come back
        expires_at=T0 + timedelta(minutes=5),
        channel_id="C1",
        team_id="T1",
        message_channel="C2",
        message_ts="1700000000.000100",
        response_url="https://hooks.slack.test/x",
        acted_by="U-SUP",
        acted_at=T0 + timedelta(seconds=1),
        outcome="queued",
        correlation_id="corr-0",
        extra={"reason": "wrong queue", "n": 3, "nested": {"ok": True}},
    )
    store.add(request, actor="U-REQ")
    got = store.get("req-full")
    assert got == request
    for value in (got.created_at, got.expires_at, got.acted_at, got.snapshot.call_started):
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
    assert got.created_at == T0 and got.snapshot.call_started.microsecond == 123456 - 7
    assert got.state is S.PENDING and got.needs_approval is True
    assert store.get("nope") is None


def test_round_trip_with_empty_optionals(store: SqlRequestStore) -> None:
    snapshot = CallSnapshot("conv-x", "p", None, None, None, None, None)
    request = make_request("req-min", "conv-x", expires_at=None, snapshot=snapshot,
                           needs_approval=False)
    store.add(request, actor="U")
    assert store.get("req-min") == request


def test_naive_datetimes_are_refused(store: SqlRequestStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.add(make_request("r", created_at=datetime(2025, 1, 1)), actor="U")
    store.add(make_request("r2"), actor="U")
    with pytest.raises(ValueError, match="naive"):
        store.transition("r2", [S.PENDING], S.APPROVED, actor="S", at=datetime(2025, 1, 1))
    assert store.get("r2").state is S.PENDING


def test_second_open_request_for_a_conversation_is_busy(store: SqlRequestStore) -> None:
    first = make_request("req-1")
    store.add(first, actor="U")
    with pytest.raises(ConversationBusy) as busy:
        store.add(make_request("req-2"), actor="U")
    assert busy.value.existing == first
    assert store.get("req-2") is None
    assert store.open_for_conversation("conv-1") == first
    assert store.open_for_conversation("conv-other") is None

    # Still busy while approved and executing (approved -> executing stays in the open set).
    assert store.transition("req-1", [S.PENDING], S.APPROVED, actor="S", at=T0) is not None
    assert store.transition("req-1", [S.APPROVED], S.EXECUTING, actor="bot", at=T0) is not None
    with pytest.raises(ConversationBusy) as busy:
        store.add(make_request("req-2"), actor="U")
    assert busy.value.existing.id == "req-1"
    assert busy.value.existing.state is S.EXECUTING

    store.transition("req-1", [S.EXECUTING], S.SUCCEEDED, actor="bot", at=T0)
    assert store.open_for_conversation("conv-1") is None
    store.add(make_request("req-2"), actor="U")
    assert store.open_for_conversation("conv-1").id == "req-2"
    # Other conversations were never affected.
    store.add(make_request("req-3", "conv-2"), actor="U")


def test_duplicate_id_is_a_value_error_not_busy(store: SqlRequestStore) -> None:
    store.add(make_request("req-1", "conv-1"), actor="U")
    with pytest.raises(ValueError, match="req-1"):
        store.add(make_request("req-1", "conv-2"), actor="U")


def test_concurrent_adds_for_one_conversation_let_one_in(store: SqlRequestStore) -> None:
    def add(i: int) -> str:
        try:
            store.add(make_request(f"req-{i}", "conv-race"), actor=f"U{i}")
        except ConversationBusy as exc:
            assert exc.existing is not None and exc.existing.conversation_id == "conv-race"
            return "busy"
        return "added"

    results = run_together(12, add)
    assert results.count("added") == 1
    assert results.count("busy") == 11


def test_cas_has_exactly_one_winner_among_threads(store: SqlRequestStore) -> None:
    store.add(make_request("req-1"), actor="U")

    def approve(i: int) -> TransferRequest | None:
        return store.transition(
            "req-1", [S.PENDING], S.APPROVED, actor=f"sup-{i}", at=T0 + timedelta(seconds=1)
        )

    results = run_together(20, approve)
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].state is S.APPROVED
    approvals = [e for e in store.audit_since(T0) if e.to_state == "approved"]
    assert len(approvals) == 1
    assert approvals[0].actor == winners[0].acted_by == store.get("req-1").acted_by


def test_cas_has_exactly_one_winner_across_replicas(store_url: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        replicas[0].add(make_request("req-1"), actor="U")

        def approve(i: int) -> TransferRequest | None:
            return replicas[i % 2].transition(
                "req-1", [S.PENDING], S.APPROVED, actor=f"replica{i % 2}-{i}", at=T0
            )

        results = run_together(20, approve)
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        for replica in replicas:
            assert replica.get("req-1").acted_by == winners[0].acted_by
            approvals = [e for e in replica.audit_since(T0) if e.to_state == "approved"]
            assert [e.actor for e in approvals] == [winners[0].acted_by]
    finally:
        for replica in replicas:
            replica.close()


def test_transition_fields_and_lost_cas(store: SqlRequestStore) -> None:
    store.add(make_request("req-1", correlation_id=None), actor="U")
    t1, t2, t3 = (T0 + timedelta(seconds=s) for s in (1, 2, 3))

    # Wrong expected state: CAS lost, nothing changes, nothing audited.
    assert store.transition("req-1", [S.APPROVED], S.EXECUTING, actor="x", at=t1) is None
    assert store.transition("missing", [S.PENDING], S.APPROVED, actor="x", at=t1) is None
    assert store.get("req-1").state is S.PENDING
    assert len(store.audit_since(T0)) == 1

    approved = store.transition("req-1", [S.PENDING], S.APPROVED, actor="U-SUP", at=t1)
    assert (approved.state, approved.acted_by, approved.acted_at) == (S.APPROVED, "U-SUP", t1)

    executing = store.transition(
        "req-1", [S.APPROVED], S.EXECUTING, actor="bot", at=t2, correlation_id="corr-7",
        record_actor=False,
    )
    assert (executing.acted_by, executing.acted_at) == ("U-SUP", t1)  # kept: record_actor=False
    assert executing.correlation_id == "corr-7"

    done = store.transition(
        "req-1", [S.EXECUTING], S.SUCCEEDED, actor="bot", at=t3,
        outcome="transferred", record_actor=False,
    )
    assert done.correlation_id == "corr-7"  # None keeps the old value
    assert done.outcome == "transferred"
    assert store.get("req-1") == done


def test_illegal_transitions_raise_and_change_nothing(store: SqlRequestStore) -> None:
    store.add(make_request("req-1"), actor="U")
    with pytest.raises(ValueError, match="pending -> succeeded"):
        store.transition("req-1", [S.PENDING], S.SUCCEEDED, actor="x", at=T0)
    # executing -> approved is illegal even though pending -> approved is fine.
    with pytest.raises(ValueError, match="executing -> approved"):
        store.transition("req-1", [S.PENDING, S.EXECUTING], S.APPROVED, actor="x", at=T0)
    with pytest.raises(ValueError):
        store.transition("req-1", [], S.APPROVED, actor="x", at=T0)
    store.transition("req-1", [S.PENDING], S.DENIED, actor="sup", at=T0)
    with pytest.raises(ValueError, match="denied -> approved"):
        store.transition("req-1", [S.DENIED], S.APPROVED, actor="x", at=T0)
    assert store.get("req-1").state is S.DENIED
    assert [e.to_state for e in store.audit_since(T0)] == ["pending", "denied"]


def test_multi_state_expected_audits_the_real_from_state(store: SqlRequestStore) -> None:
    store.add(make_request("req-1"), actor="U")
    store.transition("req-1", [S.PENDING], S.APPROVED, actor="sup", at=T0)
    store.transition("req-1", [S.PENDING, S.APPROVED], S.SUPERSEDED, actor="bot", at=T0)
    last = store.audit_since(T0)[-1]
    assert (last.from_state, last.to_state) == ("approved", "superseded")


def test_due_for_expiry(store: SqlRequestStore) -> None:
    now = T0 + timedelta(hours=1)
    cases = {
        "late-10": now - timedelta(minutes=10),
        "late-5": now - timedelta(minutes=5),
        "exactly-now": now,
        "future": now + timedelta(microseconds=1),
        "no-expiry": None,
        "denied": now - timedelta(hours=1),
    }
    # Insert in scrambled order so the result order must come from the query.
    for name in ["exactly-now", "future", "late-5", "no-expiry", "denied", "late-10"]:
        store.add(make_request(name, f"conv-{name}", expires_at=cases[name]), actor="U")
    store.transition("denied", [S.PENDING], S.DENIED, actor="sup", at=now)
    approved = make_request("approved", "conv-approved", expires_at=now - timedelta(hours=2))
    store.add(approved, actor="U")
    store.transition("approved", [S.PENDING], S.APPROVED, actor="sup", at=now)

    assert [r.id for r in store.due_for_expiry(now)] == ["late-10", "late-5", "exactly-now"]
    assert [r.id for r in store.due_for_expiry(now, limit=2)] == ["late-10", "late-5"]
    # Same instant in another offset gives the same answer.
    eastern = now.astimezone(timezone(timedelta(hours=-5)))
    assert [r.id for r in store.due_for_expiry(eastern)] == ["late-10", "late-5", "exactly-now"]
    assert store.due_for_expiry(now - timedelta(hours=3)) == []
    assert all(isinstance(r, TransferRequest) for r in store.due_for_expiry(now))


def test_audit_since_order_and_content(store: SqlRequestStore) -> None:
    store.add(make_request("req-a", "conv-a", created_at=T0), actor="U-A")
    store.add(make_request("req-b", "conv-b", created_at=T0, correlation_id="c-b"), actor="U-B")
    store.transition("req-a", [S.PENDING], S.APPROVED, actor="SUP", at=T0 + timedelta(seconds=2))
    store.transition(
        "req-a", [S.APPROVED], S.EXECUTING, actor="bot", at=T0 + timedelta(seconds=3),
        correlation_id="corr-a", detail="POST replace", record_actor=False,
    )
    # Earlier than the previous event: order must be by time, not by insertion.
    store.transition("req-b", [S.PENDING], S.DENIED, actor="SUP2", at=T0 + timedelta(seconds=1),
                     detail="not today")

    events = store.audit_since(T0)
    summary = [(e.request_id, e.from_state, e.to_state, e.actor, e.correlation_id, e.detail)
               for e in events]
    assert summary == [
        ("req-a", None, "pending", "U-A", None, None),  # same time as next: insertion order
        ("req-b", None, "pending", "U-B", "c-b", None),
        ("req-b", "pending", "denied", "SUP2", "c-b", "not today"),
        ("req-a", "pending", "approved", "SUP", None, None),
        ("req-a", "approved", "executing", "bot", "corr-a", "POST replace"),
    ]
    assert [e.at for e in events] == [T0, T0] + [T0 + timedelta(seconds=s) for s in (1, 2, 3)]
    assert events[1].conversation_id == "conv-b"
    assert all(e.at.utcoffset() == timedelta(0) for e in events)
    # `since` is inclusive and filters.
    assert [e.to_state for e in store.audit_since(T0 + timedelta(seconds=2))] == [
        "approved",
        "executing",
    ]
    assert store.audit_since(T0 + timedelta(days=1)) == []


def test_set_message(store: SqlRequestStore) -> None:
    store.add(make_request("req-1"), actor="U")
    store.set_message("req-1", "C-APPROVALS", "1700000000.1234")
    got = store.get("req-1")
    assert (got.message_channel, got.message_ts) == ("C-APPROVALS", "1700000000.1234")
    store.set_message("missing", "C", "1")  # no error, no row created
    assert store.get("missing") is None


def test_data_survives_restart(store_url: str) -> None:
    first = open_store(store_url)
    first.add(make_request("req-1"), actor="U")
    first.transition("req-1", [S.PENDING], S.APPROVED, actor="SUP", at=T0, correlation_id="c1")
    first.set_message("req-1", "C", "42.1")
    before = first.get("req-1")
    first.close()

    second = open_store(store_url)
    try:
        assert second.get("req-1") == before
        assert before.state is S.APPROVED and before.message_ts == "42.1"
        assert [e.to_state for e in second.audit_since(T0)] == ["pending", "approved"]
        assert second.open_for_conversation("conv-1") == before
    finally:
        second.close()


def test_migrations_are_idempotent(store_url: str) -> None:
    db = connect(store_url)
    try:
        assert migrate(db) == [m.version for m in MIGRATIONS]
        assert migrate(db) == []
        assert applied_versions(db) == [m.version for m in MIGRATIONS]
    finally:
        db.close()
    for _ in range(2):
        open_store(store_url).close()
    db = connect(store_url)
    try:
        assert applied_versions(db) == list(range(1, LATEST_VERSION + 1))
    finally:
        db.close()


def test_concurrent_first_open_migrates_once(store_url: str) -> None:
    def open_and_add(i: int) -> SqlRequestStore:
        s = open_store(store_url)
        s.add(make_request(f"req-{i}", f"conv-{i}"), actor="U")
        return s

    stores = run_together(4, open_and_add)
    try:
        db = connect(store_url)
        try:
            assert applied_versions(db) == [m.version for m in MIGRATIONS]
            count = db.run(lambda tx: tx.execute("SELECT COUNT(*) FROM schema_migrations"))
            assert count[0][0] == len(MIGRATIONS)
        finally:
            db.close()
        assert all(stores[0].get(f"req-{i}") is not None for i in range(4))
    finally:
        for s in stores:
            s.close()


def test_older_schema_is_migrated_on_open(store_url: str) -> None:
    db = connect(store_url)
    try:
        assert migrate(db, target=1) == [1]
        assert applied_versions(db) == [1]
        old = SqlRequestStore(db)  # version-1 schema: inserts work, transitions need v2
        old.add(make_request("req-old"), actor="U")
    finally:
        db.close()

    store = open_store(store_url)
    try:
        db = connect(store_url)
        try:
            assert applied_versions(db) == [m.version for m in MIGRATIONS]
        finally:
            db.close()
        assert store.get("req-old").state is S.PENDING
        moved = store.transition("req-old", [S.PENDING], S.APPROVED, actor="SUP", at=T0)
        assert moved is not None
        assert store.audit_since(T0)[-1].from_state == "pending"
    finally:
        store.close()


def test_open_store_urls(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ("mysql://u@h/db", "nonsense", "http://x", ""):
        with pytest.raises(ValueError, match="unsupported database URL scheme"):
            open_store(bad)
    with pytest.raises(ValueError, match="SQLite URLs"):
        open_store("sqlite://relative.db")

    memory = open_store("sqlite:///:memory:")
    memory.add(make_request("req-1"), actor="U")
    assert memory.get("req-1") is not None
    memory.close()

    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///data/rel.db")
    relative.add(make_request("req-1"), actor="U")
    relative.close()
    assert (tmp_path / "data" / "rel.db").is_file()
    mode = connect(f"sqlite:///{tmp_path}/data/rel.db")
    try:
        assert mode.run(lambda tx: tx.execute("PRAGMA journal_mode"))[0][0] == "wal"
    finally:
        mode.close()


def test_closed_store_refuses_work(store: SqlRequestStore) -> None:
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.get("x")
    store.close()  # idempotent


@pytest.mark.postgres
def test_postgres_scheme_alias(isolated_postgres_url: str) -> None:
    url = "postgres://" + isolated_postgres_url.split("://", 1)[1]
    with open_store(url) as s:
        s.add(make_request("req-1"), actor="U")
        assert s.get("req-1") is not None


@pytest.mark.postgres
def test_postgres_reconnects_after_dropped_connection(
    isolated_postgres_url: str, postgres_url: str
) -> None:
    app = f"store-test-{uuid.uuid4().hex[:8]}"
    with open_store(with_query(isolated_postgres_url, application_name=app)) as s:
        s.add(make_request("req-1"), actor="U")

        def kill_backends() -> int:
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (app,),
                ).fetchall()
            return len(rows)

        assert kill_backends() >= 1
        assert s.get("req-1").state is S.PENDING  # read after the drop
        assert kill_backends() >= 1
        moved = s.transition("req-1", [S.PENDING], S.APPROVED, actor="SUP", at=T0)
        assert moved is not None and moved.state is S.APPROVED  # write after the drop
