"""The SQL RequestStore against SQLite and PostgreSQL: same tests, both engines."""

from __future__ import annotations

import inspect
import sqlite3
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import text

from bot.domain.conversation import Media, QueueHealth
from bot.domain.problems import Code, Problem
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
from bot.ports.store import ConversationBusy, RateBudget, ReplayGuard, RequestStore, StoreUnavailable
from bot.store import database
from bot.store.rate_budget import SqlRateBudget
from bot.store.replay import SqlReplayGuard
from bot.store.requests import SqlRequestStore, open_store
from tests.integration.conftest import with_query

S = RequestState
T0 = datetime(2025, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)


def make_request(
    request_id: str | None = None,
    conversation_id: str | None = "conv-1",
    *,
    state: RequestState = S.PENDING,
    created_at: datetime = T0,
    expires_at: datetime | None = T0 + timedelta(minutes=10),
    **changes: object,
) -> TransferRequest:
    snapshot = None
    if conversation_id is not None:
        snapshot = Snapshot(
            conversation_id=conversation_id, media=Media.CALL, agent_participant_id="part-agent",
            agent_name="Ada Agent", agent_user_id="user-ada", queue_at_request_id="queue-sales",
            queue_at_request_name="Sales", started=created_at - timedelta(minutes=3, microseconds=7),
        )
    values: dict = {
        "id": request_id or f"req-{uuid.uuid4().hex[:8]}",
        "requester_id": "U-REQ",
        "state": state,
        "created_at": created_at,
        "ask": Ask(conversation_id or "me", "Billing"),
        "conversation_id": conversation_id,
        "target": Target(TargetKind.QUEUE, "queue-billing", "Billing", "Support division"),
        "snapshot": snapshot,
        "expires_at": expires_at,
        "needs_approval": True,
        "approvers": ("U-SUP", "S-LEADS"),
    }
    values.update(changes)
    return TransferRequest(**values)


def run_together(n: int, fn: Callable[[int], object]) -> list[object]:
    """Call fn(0..n-1) from n threads released at the same instant; re-raise any error."""
    barrier = threading.Barrier(n)

    def go(i: int) -> object:
        barrier.wait(timeout=10)
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(go, range(n)))


def audit_count(store: SqlRequestStore) -> int:
    return len(store.audit_since(datetime(2000, 1, 1, tzinfo=UTC)))


@pytest.mark.parametrize(("port", "impl"), [(RequestStore, SqlRequestStore), (ReplayGuard, SqlReplayGuard),
                                            (RateBudget, SqlRateBudget)])
def test_implements_the_ports_exactly(port: type, impl: type) -> None:
    """Same methods, parameter names, kinds and defaults as the Protocol."""
    for name, member in vars(port).items():
        if name.startswith("_") or not callable(member):
            continue
        want = inspect.signature(member)
        got = inspect.signature(getattr(impl, name))
        assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == [
            (p.name, p.kind, p.default) for p in want.parameters.values()
        ], name


def full_request() -> TransferRequest:
    plus2 = timezone(timedelta(hours=2))
    snapshot = Snapshot(
        "conv-full", Media.CHAT, "part-1", "Ada", "user-ada", "q-sales", "Sales",
        started=(T0 - timedelta(minutes=3)).astimezone(plus2),
        target_health=QueueHealth(available=2, waiting=5, estimated_wait_seconds=42.5),
        target_routing_status="IDLE",
    )
    return TransferRequest(
        id="req-full", requester_id="U-REQ", state=S.PENDING,
        created_at=T0.astimezone(plus2),  # aware but not UTC: the same instant must come back
        ask=Ask("agent-chat:U123", "agent-email:bob@example.com", now=True), via=Via.CLI,
        conversation_id="conv-full", target=Target(TargetKind.AGENT, "user-bob", "Bob", "bob@example.com"),
        snapshot=snapshot, origin='{"channel": "C1", "thread": "1.2"}', message_ref="C2:1700000000.000100",
        needs_approval=True, approvals_required=2, approvers=("U-SUP", "S-LEADS"),
        votes=(Vote("U-SUP", T0 + timedelta(seconds=1)),), break_glass=True, simulated=True,
        expires_at=T0 + timedelta(minutes=5), acted_by="U-SUP", acted_at=T0 + timedelta(seconds=1),
        problem=Problem(Code.QUEUE_AMBIGUOUS, {"names": ["A", "B"], "n": 2}, "corr-p"),
        correlation_id="corr-0", sent_at=T0 + timedelta(seconds=2), transfer_id="xfer-1",
        confirm_deadline=T0 + timedelta(seconds=30), next_check_at=T0 + timedelta(seconds=3),
        updated_at=T0, version=1,
    )


def test_add_get_round_trip_keeps_every_field(store: SqlRequestStore) -> None:
    request = full_request()
    defaults = TransferRequest("x", "U", S.RECEIVED, T0 - timedelta(days=1), Ask("c", "t"))
    unset = [f.name for f in fields(TransferRequest) if getattr(request, f.name) == getattr(defaults, f.name)]
    assert unset == ["version"], "the round trip must exercise every field"

    added = store.add(replace(request, version=7, updated_at=None), actor="U-REQ")  # bookkeeping is the store's
    got = store.get("req-full")
    assert got == added == request
    for value in (got.created_at, got.expires_at, got.acted_at, got.snapshot.started, got.votes[0].at):
        assert value.tzinfo is UTC
    assert got.snapshot.started.microsecond == 123456
    assert got.problem.facts == {"names": ["A", "B"], "n": 2}
    assert store.get("nope") is None


def test_round_trip_of_a_received_request(store: SqlRequestStore) -> None:
    request = TransferRequest("req-min", "U1", S.RECEIVED, T0, Ask("me", "+1 415 555 0100"))
    added = store.add(request, actor="U1")
    assert added == replace(request, updated_at=T0) == store.get("req-min")
    assert added.conversation_id is None and added.target is None and added.snapshot is None


def test_naive_datetimes_are_refused(store: SqlRequestStore) -> None:
    naive = datetime(2025, 1, 1)
    with pytest.raises(ValueError, match="naive"):
        store.add(make_request("r", created_at=naive), actor="U")
    with pytest.raises(ValueError, match="naive"):
        store.add(make_request("r", expires_at=naive), actor="U")
    assert store.get("r") is None
    store.add(make_request("r2"), actor="U")
    with pytest.raises(ValueError, match="naive"):
        store.transition("r2", [S.PENDING], S.APPROVED, actor="S", at=naive)
    with pytest.raises(ValueError, match="naive"):
        store.transition("r2", [S.PENDING], S.APPROVED, actor="S", at=T0, changes={"expires_at": naive})
    with pytest.raises(ValueError, match="naive"):
        store.add_vote("r2", "S", naive)
    for read in (store.due_for_expiry, store.audit_since):
        with pytest.raises(ValueError, match="naive"):
            read(naive)
    got = store.get("r2")
    assert (got.state, got.version, got.votes) == (S.PENDING, 1, ())
    assert audit_count(store) == 1


def test_second_open_request_for_a_conversation_is_busy(store: SqlRequestStore) -> None:
    first = store.add(make_request("req-1"), actor="U")
    with pytest.raises(ConversationBusy) as busy:
        store.add(make_request("req-2"), actor="U")
    assert busy.value.existing == first
    assert store.get("req-2") is None
    assert store.open_for_conversation("conv-1") == first
    assert store.open_for_conversation("conv-other") is None

    # Still busy while approved, executing and accepted.
    store.transition("req-1", [S.PENDING], S.APPROVED, actor="S", at=T0)
    store.transition("req-1", [S.APPROVED], S.EXECUTING, actor="bot", at=T0)
    store.transition("req-1", [S.EXECUTING], S.ACCEPTED, actor="bot", at=T0)
    with pytest.raises(ConversationBusy) as busy:
        store.add(make_request("req-2"), actor="U")
    assert busy.value.existing.id == "req-1" and busy.value.existing.state is S.ACCEPTED

    store.transition("req-1", [S.ACCEPTED], S.SUCCEEDED, actor="bot", at=T0)
    assert store.open_for_conversation("conv-1") is None
    store.add(make_request("req-2"), actor="U")
    assert store.open_for_conversation("conv-1").id == "req-2"
    # Requests that are not open never block: received ones, finished ones, other conversations.
    store.add(make_request("req-3", "conv-1", state=S.RECEIVED), actor="U")
    store.add(make_request("req-4", "conv-1", state=S.REFUSED), actor="U")
    store.add(make_request("req-5", "conv-2"), actor="U")


def test_a_transition_that_would_open_a_busy_conversation_changes_nothing(store: SqlRequestStore) -> None:
    holder = store.add(make_request("req-1", "conv-1"), actor="U")
    store.add(make_request("req-2", None, state=S.RECEIVED), actor="U")
    before_audit = audit_count(store)
    with pytest.raises(ConversationBusy) as busy:
        store.transition("req-2", [S.RECEIVED], S.PENDING, actor="bot", at=T0 + timedelta(seconds=1),
                         changes={"conversation_id": "conv-1"})
    assert busy.value.existing == holder
    with pytest.raises(ConversationBusy):
        store.transition("req-2", [S.RECEIVED], S.APPROVED, actor="bot", at=T0, changes={"conversation_id": "conv-1"})
    unchanged = store.get("req-2")
    assert (unchanged.state, unchanged.conversation_id, unchanged.version) == (S.RECEIVED, None, 1)
    assert audit_count(store) == before_audit

    # update() likewise, for an open request moved onto a busy conversation.
    store.add(make_request("req-3", "conv-3"), actor="U")
    with pytest.raises(ConversationBusy):
        store.update("req-3", [S.PENDING], {"conversation_id": "conv-1"})
    assert store.get("req-3").conversation_id == "conv-3"

    # Refusing into a busy conversation is fine: refused is not open.
    refused = store.transition("req-2", [S.RECEIVED], S.REFUSED, actor="bot", at=T0,
                               changes={"conversation_id": "conv-1", "problem": Problem(Code.ALREADY_PENDING)})
    assert refused.state is S.REFUSED
    assert store.audit_since(T0)[-1].reason == "already_pending"


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
    assert results.count("added") == 1 and results.count("busy") == 11


def test_concurrent_validations_onto_one_conversation_let_one_in(store_url: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        for i in range(10):
            replicas[0].add(make_request(f"req-{i}", None, state=S.RECEIVED), actor="U")

        def validate(i: int) -> str:
            try:
                moved = replicas[i % 2].transition(f"req-{i}", [S.RECEIVED], S.PENDING, actor="bot", at=T0,
                                                   changes={"conversation_id": "conv-race"})
            except ConversationBusy:
                return "busy"
            return "moved" if moved else "lost"

        results = run_together(10, validate)
        assert results.count("moved") == 1 and results.count("busy") == 9
        assert len([r for r in replicas[1].pending() if r.conversation_id == "conv-race"]) == 1
    finally:
        for replica in replicas:
            replica.close()


def test_cas_has_exactly_one_winner_among_threads(store: SqlRequestStore) -> None:
    store.add(make_request("req-1"), actor="U")

    def approve(i: int) -> TransferRequest | None:
        return store.transition("req-1", [S.PENDING], S.APPROVED, actor=f"sup-{i}", at=T0 + timedelta(seconds=1))

    winners = [r for r in run_together(20, approve) if r is not None]
    assert len(winners) == 1 and winners[0].state is S.APPROVED and winners[0].version == 2
    approvals = [e for e in store.audit_since(T0) if e.to_state == "approved"]
    assert [e.actor for e in approvals] == [winners[0].acted_by] == [store.get("req-1").acted_by]


def test_cas_has_exactly_one_winner_across_replicas(store_url: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        replicas[0].add(make_request("req-1"), actor="U")

        def approve(i: int) -> TransferRequest | None:
            return replicas[i % 2].transition("req-1", [S.PENDING], S.APPROVED, actor=f"replica{i % 2}-{i}", at=T0)

        winners = [r for r in run_together(20, approve) if r is not None]
        assert len(winners) == 1
        for replica in replicas:
            assert replica.get("req-1").acted_by == winners[0].acted_by
            approvals = [e for e in replica.audit_since(T0) if e.to_state == "approved"]
            assert [e.actor for e in approvals] == [winners[0].acted_by]
    finally:
        for replica in replicas:
            replica.close()


def test_transition_sets_changes_and_bumps_version(store: SqlRequestStore) -> None:
    store.add(make_request("req-1", None, state=S.RECEIVED), actor="U", lease_owner="p1",
              lease_until=T0 + timedelta(minutes=1))
    t1, t2, t3, t4 = (T0 + timedelta(seconds=s) for s in (1, 2, 3, 4))

    # Wrong expected state: CAS lost, nothing changes, nothing audited.
    assert store.transition("req-1", [S.PENDING], S.APPROVED, actor="x", at=t1) is None
    assert store.transition("missing", [S.RECEIVED], S.PENDING, actor="x", at=t1) is None
    assert store.get("req-1").version == 1 and audit_count(store) == 1

    snapshot = Snapshot("conv-9", Media.EMAIL, "p-9")
    approved = store.transition(
        "req-1", [S.RECEIVED], S.APPROVED, actor="bot", at=t1, record_actor=False,
        changes={"conversation_id": "conv-9", "snapshot": snapshot, "needs_approval": False,
                 "target": Target(TargetKind.NUMBER, "+14155550100", "+14155550100")},
    )
    assert (approved.state, approved.version, approved.updated_at) == (S.APPROVED, 2, t1)
    assert (approved.acted_by, approved.acted_at) == (None, None)
    assert approved.media is Media.EMAIL and approved.conversation_id == "conv-9"

    executing = store.transition("req-1", [S.APPROVED], S.EXECUTING, actor="bot", at=t2, record_actor=False,
                                 changes={"sent_at": t2, "correlation_id": "corr-7"}, reason="POST replace")
    assert (executing.sent_at, executing.correlation_id, executing.version) == (t2, "corr-7", 3)

    accepted = store.transition("req-1", [S.EXECUTING], S.ACCEPTED, actor="bot", at=t3, record_actor=False,
                                changes={"transfer_id": "x-1", "next_check_at": t4, "confirm_deadline": t4})
    failed = store.transition("req-1", [S.ACCEPTED], S.FAILED, actor="bot", at=t4,
                              changes={"problem": Problem(Code.FAILED_AFTER_ACCEPT, {"state": "failed"})})
    assert accepted.transfer_id == "x-1" and failed.correlation_id == "corr-7"
    assert (failed.acted_by, failed.acted_at, failed.version) == ("bot", t4, 5)
    assert failed.problem == Problem(Code.FAILED_AFTER_ACCEPT, {"state": "failed"})
    assert store.get("req-1") == failed

    events = store.audit_since(T0)
    assert [(e.from_state, e.to_state, e.reason) for e in events] == [
        (None, "received", None),
        ("received", "approved", None),
        ("approved", "executing", "POST replace"),
        ("executing", "accepted", None),
        ("accepted", "failed", "failed_after_accept"),  # the problem code when no reason was given
    ]
    assert [e.target_kind for e in events] == ["queue", "number", "number", "number", "number"]
    assert [e.media for e in events] == [None, "email", "email", "email", "email"]
    assert [e.direct for e in events] == [False, True, True, True, True]
    assert events[3].correlation_id == "corr-7"


def test_illegal_transitions_raise_and_change_nothing(store: SqlRequestStore) -> None:
    store.add(make_request("req-1"), actor="U")
    with pytest.raises(ValueError, match="pending -> succeeded"):
        store.transition("req-1", [S.PENDING], S.SUCCEEDED, actor="x", at=T0)
    with pytest.raises(ValueError, match="executing -> approved"):
        store.transition("req-1", [S.PENDING, S.EXECUTING], S.APPROVED, actor="x", at=T0)
    with pytest.raises(ValueError):
        store.transition("req-1", [], S.APPROVED, actor="x", at=T0)
    with pytest.raises(ValueError, match="cannot be changed"):
        store.transition("req-1", [S.PENDING], S.APPROVED, actor="x", at=T0, changes={"requester_id": "U2"})
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


def test_update_and_set_message_ref(store: SqlRequestStore) -> None:
    store.add(make_request("req-1"), actor="U")
    audit_before = audit_count(store)
    assert store.update("req-1", [S.APPROVED], {"correlation_id": "c"}) is False
    assert store.update("req-1", [S.PENDING], {"approvers": ("U-OTHER",), "expires_at": T0}) is True
    got = store.get("req-1")
    assert (got.approvers, got.expires_at, got.version, got.state) == (("U-OTHER",), T0, 2, S.PENDING)
    with pytest.raises(ValueError, match="cannot be changed"):
        store.update("req-1", [S.PENDING], {"votes": ()})

    assert store.set_message_ref("req-1", "C1:1.1") is True
    assert store.set_message_ref("req-1", "C2:2.2") is False  # only the first one counts
    assert store.set_message_ref("missing", "C1:1.1") is False
    got = store.get("req-1")
    assert (got.message_ref, got.version) == ("C1:1.1", 3)
    assert audit_count(store) == audit_before  # neither is audited


def test_votes_are_recorded_once_per_approver(store: SqlRequestStore) -> None:
    store.add(make_request("req-1", approvals_required=2), actor="U")
    t1, t2 = T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)
    assert store.add_vote("req-1", "U-A", t1) is True
    assert store.add_vote("req-1", "U-A", t2) is False
    assert store.add_vote("req-1", "U-B", t2) is True
    assert store.add_vote("missing", "U-A", t1) is False
    got = store.get("req-1")
    assert got.votes == (Vote("U-A", t1), Vote("U-B", t2))
    assert (got.version, got.updated_at, got.state) == (3, t2, S.PENDING)
    votes = [e for e in store.audit_since(T0) if e.kind is AuditKind.VOTE]
    assert [(e.actor, e.at, e.target_name, e.from_state, e.to_state) for e in votes] == [
        ("U-A", t1, "Billing", None, None), ("U-B", t2, "Billing", None, None)]
    # Votes travel with the request through transitions and lists.
    approved = store.transition("req-1", [S.PENDING], S.APPROVED, actor="U-B", at=t2)
    assert approved.votes == got.votes
    assert store.recent_finished() == [] and store.for_requester("U-REQ")[0].votes == got.votes


def test_concurrent_votes_by_one_approver_count_once(store_url: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        replicas[0].add(make_request("req-1", approvals_required=3), actor="U")
        same = run_together(10, lambda i: replicas[i % 2].add_vote("req-1", "U-A", T0))
        assert same.count(True) == 1
        others = run_together(6, lambda i: replicas[i % 2].add_vote("req-1", f"U-{i}", T0))
        assert others == [True] * 6
        got = replicas[1].get("req-1")
        assert len(got.votes) == 7 and got.version == 8
    finally:
        for replica in replicas:
            replica.close()


def test_due_for_expiry(store: SqlRequestStore) -> None:
    now = T0 + timedelta(hours=1)
    cases = {
        "late-10": now - timedelta(minutes=10),
        "late-5": now - timedelta(minutes=5),
        "late-1us": now - timedelta(microseconds=1),
        "exactly-now": now,
        "future": now + timedelta(microseconds=1),
        "no-expiry": None,
        "denied": now - timedelta(hours=1),
    }
    # Insert in scrambled order so the result order must come from the query.
    for name in ["exactly-now", "future", "late-5", "no-expiry", "denied", "late-1us", "late-10"]:
        store.add(make_request(name, f"conv-{name}", expires_at=cases[name]), actor="U")
    store.transition("denied", [S.PENDING], S.DENIED, actor="sup", at=now)
    store.add(make_request("approved", "conv-approved", expires_at=now - timedelta(hours=2)), actor="U")
    store.transition("approved", [S.PENDING], S.APPROVED, actor="sup", at=now)

    due = ["late-10", "late-5", "late-1us", "exactly-now"]
    assert [r.id for r in store.due_for_expiry(now)] == due
    assert [r.id for r in store.due_for_expiry(now, limit=2)] == due[:2]
    # The same instant in other offsets gives the same answer (times are compared as instants).
    for offset in (-5, 9):
        local = now.astimezone(timezone(timedelta(hours=offset)))
        assert [r.id for r in store.due_for_expiry(local)] == due
    assert store.due_for_expiry(now - timedelta(hours=3)) == []


def test_audit_since_order_and_content(store: SqlRequestStore) -> None:
    store.add(make_request("req-a", "conv-a", created_at=T0), actor="U-A")
    store.add(make_request("req-b", "conv-b", created_at=T0, correlation_id="c-b", break_glass=True,
                           simulated=True, needs_approval=False, via=Via.CLI), actor="U-B")
    store.transition("req-a", [S.PENDING], S.APPROVED, actor="SUP", at=T0 + timedelta(seconds=2))
    # Earlier than the previous event: order must be by time, not by insertion.
    store.transition("req-b", [S.PENDING], S.DENIED, actor="SUP2", at=T0 + timedelta(seconds=1), reason="not today")
    store.record(AuditEvent("req-a", T0 + timedelta(seconds=3), AuditKind.CLICK_REFUSED, "U-X",
                            reason="not_approver", conversation_id="conv-a"))

    events = store.audit_since(T0)
    assert [(e.request_id, e.kind, e.from_state, e.to_state, e.actor, e.reason) for e in events] == [
        ("req-a", AuditKind.STATE, None, "pending", "U-A", None),  # same time as next: insertion order
        ("req-b", AuditKind.STATE, None, "pending", "U-B", None),
        ("req-b", AuditKind.STATE, "pending", "denied", "SUP2", "not today"),
        ("req-a", AuditKind.STATE, "pending", "approved", "SUP", None),
        ("req-a", AuditKind.CLICK_REFUSED, None, None, "U-X", "not_approver"),
    ]
    b = events[1]
    assert (b.conversation_id, b.correlation_id, b.via, b.direct, b.break_glass, b.simulated) == (
        "conv-b", "c-b", "cli", True, True, True)
    a = events[0]
    assert (a.target_kind, a.target_id, a.target_name, a.media, a.via, a.direct, a.break_glass) == (
        "queue", "queue-billing", "Billing", "call", "slack", False, False)
    assert events[4].target_kind is None and events[4].direct is None  # record() stores the event as given
    assert all(e.at.tzinfo is UTC for e in events)
    assert [e.to_state for e in store.audit_since(T0 + timedelta(seconds=2))] == ["approved", None]
    assert store.audit_since(T0 + timedelta(days=1)) == []


def test_reads(store: SqlRequestStore) -> None:
    for i, state in enumerate([S.PENDING, S.PENDING, S.RECEIVED, S.REFUSED]):
        store.add(make_request(f"req-{i}", f"conv-{i}", state=state, created_at=T0 + timedelta(seconds=i),
                               requester_id="U-1" if i % 2 else "U-2"), actor="U")
    store.transition("req-0", [S.PENDING], S.DENIED, actor="S", at=T0 + timedelta(minutes=5))
    assert [r.id for r in store.pending()] == ["req-1"]
    assert [r.id for r in store.recent_finished()] == ["req-0", "req-3"]  # latest change first
    assert [r.id for r in store.recent_finished(limit=1)] == ["req-0"]
    assert [r.id for r in store.for_requester("U-1")] == ["req-3", "req-1"]
    assert [r.id for r in store.for_requester("U-2", limit=1)] == ["req-2"]
    counts = store.count_by_state()
    assert set(counts) == set(RequestState)
    assert {s: n for s, n in counts.items() if n} == {S.PENDING: 1, S.RECEIVED: 1, S.REFUSED: 1, S.DENIED: 1}


def test_purge_finished_before(store: SqlRequestStore) -> None:
    old, new = T0, T0 + timedelta(days=40)
    for i in range(5):
        store.add(make_request(f"old-{i}", f"conv-{i}"), actor="U")
        store.add_vote(f"old-{i}", "U-A", old)
        store.transition(f"old-{i}", [S.PENDING], S.DENIED, actor="S", at=old)
    store.add(make_request("open", "conv-open"), actor="U")  # old but not final
    store.add(make_request("recent", "conv-r"), actor="U")
    store.transition("recent", [S.PENDING], S.DENIED, actor="S", at=new)
    slack = store.slack_state()
    slack.claim_sync("old-0", "o", old, old)
    slack.remember_response_url("old-0", "https://hooks.slack.test/x", new)

    cutoff = T0 + timedelta(days=30)
    assert store.purge_finished_before(cutoff, batch=3) == 3
    assert store.purge_finished_before(cutoff, batch=3) == 2
    assert store.purge_finished_before(cutoff) == 0
    assert {r.id for r in store.recent_finished()} == {"recent"}
    assert store.get("open") is not None
    assert {e.request_id for e in store.audit_since(T0 - timedelta(days=1))} == {"open", "recent"}
    db = store.db
    leftovers = db.run(lambda c: [c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                                  for t in ("approval_votes", "slack_sync", "slack_response_urls")])
    assert leftovers == [0, 0, 0]


def test_concurrent_purges_share_the_work(store_url: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        for i in range(40):
            replicas[0].add(make_request(f"r-{i}", f"conv-{i}", state=S.REFUSED), actor="U")

        def purge(i: int) -> int:
            total = 0
            while n := replicas[i % 2].purge_finished_before(T0 + timedelta(days=1), batch=5):
                total += n
            return total

        assert sum(run_together(4, purge)) == 40
        assert replicas[1].recent_finished() == []
    finally:
        for replica in replicas:
            replica.close()


def test_data_survives_restart(store_url: str) -> None:
    first = open_store(store_url)
    first.add(make_request("req-1"), actor="U")
    before = first.transition("req-1", [S.PENDING], S.APPROVED, actor="SUP", at=T0,
                              changes={"correlation_id": "c1", "message_ref": "C:42.1"})
    first.close()
    with open_store(store_url) as second:
        assert second.get("req-1") == before
        assert [e.to_state for e in second.audit_since(T0)] == ["pending", "approved"]
        assert second.open_for_conversation("conv-1") == before


def test_closed_store_raises_store_unavailable(store: SqlRequestStore) -> None:
    store.ping()
    store.close()
    for call in (lambda: store.get("x"), store.ping, lambda: store.add(make_request("r"), actor="U"),
                 lambda: store.slack_state().home_viewers(T0), lambda: store.replay_guard().first_time("k", T0)):
        with pytest.raises(StoreUnavailable, match="closed"):
            call()
    store.close()  # idempotent


def test_open_store_urls(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ("mysql://u:secret@h/db", "nonsense", "http://x", ""):
        with pytest.raises(ValueError, match="unsupported database URL scheme") as error:
            open_store(bad)
        assert "secret" not in str(error.value)
    with pytest.raises(ValueError, match="SQLite URLs"):
        open_store("sqlite://relative.db")

    with open_store("sqlite:///:memory:") as memory:
        memory.add(make_request("req-1"), actor="U")
        # One shared connection: every thread sees the same in-memory database.
        assert run_together(4, lambda i: memory.get("req-1") is not None) == [True] * 4

    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///data/rel.db") as relative:
        relative.add(make_request("req-1"), actor="U")
        assert relative.db.run(lambda c: c.exec_driver_sql("PRAGMA journal_mode").scalar()) == "wal"
    assert (tmp_path / "data" / "rel.db").is_file()
    with open_store(f"sqlite:///{tmp_path}/data/rel.db") as absolute:
        assert absolute.get("req-1") is not None


def test_sqlite_writers_in_two_stores_and_many_threads_never_see_a_locked_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    stores = [open_store(url), open_store(url)]  # two engines on one file, like two processes
    try:
        def work(i: int) -> int:
            store = stores[i % 2]
            for j in range(15):
                rid = f"req-{i}-{j}"
                store.add(make_request(rid, f"conv-{i}-{j}"), actor="U")
                store.transition(rid, [S.PENDING], S.APPROVED, actor="S", at=T0)
                store.get(rid)
            return j + 1

        assert sum(run_together(8, work)) == 120
        assert stores[0].count_by_state()[S.APPROVED] == 120
    finally:
        for s in stores:
            s.close()


@pytest.mark.postgres
def test_postgres_scheme_alias(isolated_postgres_url: str) -> None:
    url = "postgres://" + isolated_postgres_url.split("://", 1)[1]
    with open_store(url) as s:
        s.add(make_request("req-1"), actor="U")
        assert s.get("req-1") is not None


@pytest.mark.postgres
def test_unreachable_postgres_is_store_unavailable_without_the_password() -> None:
    with pytest.raises(StoreUnavailable) as error:
        open_store("postgresql://bot:hunter2-secret@127.0.0.1:1/botdb?connect_timeout=2")
    message = str(error.value)
    assert "127.0.0.1:1/botdb" in message and "hunter2" not in message
    assert "refused" in message.lower() or "connect" in message.lower()


@pytest.mark.postgres
def test_postgres_reconnects_after_dropped_connections(isolated_postgres_url: str, postgres_url: str) -> None:
    app = f"store-test-{uuid.uuid4().hex[:8]}"
    with open_store(with_query(isolated_postgres_url, application_name=app)) as s:
        s.add(make_request("req-1"), actor="U")

        def kill_backends() -> int:
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (app,)
                ).fetchall()
            return len(rows)

        assert kill_backends() >= 1
        assert s.get("req-1").state is S.PENDING  # read after the drop
        assert kill_backends() >= 1
        moved = s.transition("req-1", [S.PENDING], S.APPROVED, actor="SUP", at=T0)
        assert moved is not None and moved.state is S.APPROVED  # write after the drop
        s.ping()


@pytest.mark.postgres
def test_postgres_errors_surface_as_store_unavailable(isolated_postgres_url: str) -> None:
    with open_store(isolated_postgres_url) as s:
        s.add(make_request("req-1"), actor="U")
        # The table vanishes under the store (an operator mistake): a retryable error, not a crash.
        with psycopg.connect(isolated_postgres_url, autocommit=True) as admin:  # the same schema
            admin.execute("DROP TABLE transfer_requests")
        with pytest.raises(StoreUnavailable, match="transfer_requests"):
            s.get("req-1")


def test_sqlite_write_lock_held_elsewhere_is_store_unavailable(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process keeps the write lock past the busy timeout: a retryable error, reads go on."""
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "locked.db"
    with open_store(f"sqlite:///{path}") as store:
        store.add(make_request("req-1"), actor="U")
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreUnavailable, match="locked"):
                store.add(make_request("req-2", "conv-2"), actor="U")
            with pytest.raises(StoreUnavailable, match="locked"):
                store.transition("req-1", [S.PENDING], S.APPROVED, actor="S", at=T0)
            assert store.get("req-1").state is S.PENDING  # WAL: reading never waits for the writer
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert store.transition("req-1", [S.PENDING], S.APPROVED, actor="S", at=T0) is not None
