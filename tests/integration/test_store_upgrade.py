"""Upgrading databases the previous store (commit 3037eb2) created, on SQLite and PostgreSQL.

The fixtures were made by that code (fixtures/make_legacy_fixtures.py): an SQLite file, and a
pg_dump of the same data. Each test loads one, opens the new store (which migrates it in place)
and checks what the old rows became.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import MetaData, inspect, select, text

from bot.domain.conversation import Conversation, Media, Participant
from bot.domain.policy import Policy
from bot.domain.problems import Code
from bot.domain.request import Ask, AuditEvent, AuditKind, RequestState, Snapshot, Via
from bot.domain.target import Target, TargetKind
from bot.ports.store import ConversationBusy
from bot.service.decisions import ClickOutcome
from bot.store.database import connect
from bot.store.migrate import current_revision, head_revision, migrate
from bot.store.requests import open_store
from tests.fakes.memory_chat import FakeClock, FakePeople, RecordingNotifier
from tests.fakes.memory_genesys import MemoryGenesys
from tests.integration.conftest import schema_of
from tests.integration.test_store import make_request
from tests.integration.test_store_migrations import schema_differences
from tests.unit.service.conftest import World

FIXTURES = Path(__file__).parent / "fixtures"
S = RequestState
T0 = datetime(2026, 11, 20, 9, 0, 0, 250000, tzinfo=UTC)  # as in make_legacy_fixtures.py
NOW = datetime.now(UTC)

# id -> (state, problem code, via, needs_approval)
EXPECTED = {
    "pending-expired": (S.PENDING, None, Via.CHAT, True),
    "pending-future": (S.PENDING, None, Via.CHAT, True),
    "succeeded-confirmed": (S.SUCCEEDED, None, Via.CHAT, True),
    "succeeded-pending": (S.SUCCEEDED, None, Via.CHAT, True),
    "failed-uncertain": (S.UNCERTAIN, Code.UNCERTAIN, Via.CHAT, False),
    "failed-unavailable": (S.FAILED, Code.UNAVAILABLE, Via.CHAT, False),
    "failed-after-accept": (S.FAILED, Code.FAILED_AFTER_ACCEPT, Via.CHAT, False),
    "failed-abandoned": (S.FAILED, Code.BOT_RESTARTED, Via.CHAT, False),
    "superseded": (S.SUPERSEDED, Code.CALL_ENDED, Via.CHAT, True),
    "denied": (S.DENIED, None, Via.CHAT, True),
    "cli": (S.SUCCEEDED, None, Via.CLI, False),
    "approved-abandoned": (S.APPROVED, None, Via.CHAT, True),
}
# Old audit trail, per request: the states it moved through.
OLD_TRAILS = {
    "pending-expired": ["pending"],
    "succeeded-confirmed": ["pending", "approved", "executing", "succeeded"],
    "failed-uncertain": ["approved", "executing", "failed"],
    "failed-unavailable": ["approved", "failed"],
    "superseded": ["pending", "approved", "superseded"],
    "cli": ["approved", "executing", "succeeded"],
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def legacy_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database made by the previous store: a copy of the SQLite file, or the dump loaded
    into an isolated PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "legacy.db"
        shutil.copyfile(FIXTURES / "legacy_store.sqlite", path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("isolated_postgres_url")
    dump = (FIXTURES / "legacy_store_postgres.sql").read_text().replace("__SCHEMA__", schema_of(url))
    with psycopg.connect(request.getfixturevalue("postgres_url")) as conn:
        conn.execute(dump)  # type: ignore[call-overload]
    return url


def test_every_old_row_reads_correctly(legacy_url: str) -> None:
    with open_store(legacy_url) as store:
        assert {s: n for s, n in store.count_by_state().items() if n} == {
            S.PENDING: 2, S.SUCCEEDED: 3, S.UNCERTAIN: 1, S.FAILED: 3, S.SUPERSEDED: 1, S.DENIED: 1, S.APPROVED: 1,
        }
        for rid, (state, code, via, needs_approval) in EXPECTED.items():
            r = store.get(rid)
            assert r is not None, rid
            conversation = f"conv-{rid}"
            assert (r.state, r.problem.code if r.problem else None, r.via, r.needs_approval) == (
                state, code, via, needs_approval), rid
            assert r.conversation_id == conversation
            assert r.ask == Ask(conversation, "Billing")
            assert r.target == Target(TargetKind.QUEUE, "queue-billing", "Billing")
            assert r.snapshot == Snapshot(
                conversation, Media.CALL, f"agent-leg-{rid}", "Ada Agent", "user-ada", "queue-sales", "Sales",
                started=T0 - timedelta(minutes=4),
            )
            assert r.media is Media.CALL and r.version == 1 and r.votes == () and r.approvers == ()
            assert r.created_at == T0 and r.created_at.tzinfo is UTC
            assert r.break_glass is False and r.simulated is False

        expired = store.get("pending-expired")
        assert expired.expires_at == T0 + timedelta(minutes=10)
        assert expired.origin == '{"channel": "C-REQ"}'
        assert expired.message_ref == "C-APPROVALS:1763629200.000100"
        assert store.get("pending-future").expires_at == datetime(2099, 1, 1, tzinfo=UTC)
        confirmed = store.get("succeeded-confirmed")
        assert (confirmed.acted_by, confirmed.acted_at) == ("U-SUP", T0 + timedelta(seconds=10))
        assert confirmed.correlation_id == "corr-succeeded-confirmed"
        assert confirmed.origin is None and confirmed.message_ref is None
        assert store.get("cli").requester_id == "cli:alice"
        assert [r.id for r in store.for_requester("cli:alice")] == ["cli"]


def test_the_old_schema_is_gone_and_no_credential_survives(legacy_url: str) -> None:
    open_store(legacy_url).close()
    db = connect(legacy_url)
    try:
        assert current_revision(db) == head_revision()
        tables = MetaData()
        db.run(tables.reflect)
        assert "schema_migrations" not in tables.tables
        assert not [name for name in tables.tables if name.startswith("legacy_")]
        everything = db.run(lambda conn: [conn.execute(select(t)).all() for t in tables.sorted_tables])
    finally:
        db.close()
    text = repr(everything)
    assert "secret-token" not in text and "hooks.slack.com" not in text  # response_url dropped
    assert "dropped on upgrade" not in text  # extra dropped
    assert "T-1" not in text  # team_id dropped


def test_the_upgraded_schema_is_exactly_the_declared_one(legacy_url: str) -> None:
    db = connect(legacy_url)
    try:
        assert migrate(db) == [head_revision()]
        assert schema_differences(db) == []
    finally:
        db.close()


def test_a_failed_upgrade_leaves_the_old_database_as_it_was(legacy_url: str) -> None:
    """DDL is transactional on both engines: a revision that fails half way changes nothing."""
    db = connect(legacy_url)
    try:
        db.run(lambda conn: conn.execute(text("UPDATE transfer_requests SET snapshot = 'not json' WHERE id = 'cli'")),
               write=True)
        with pytest.raises(ValueError):  # json.JSONDecodeError, while copying rows
            migrate(db)
        assert current_revision(db) is None
        tables = db.run(lambda conn: set(inspect(conn).get_table_names()))
        assert tables == {"schema_migrations", "transfer_requests", "audit_events"}
        count = text("SELECT COUNT(*) FROM transfer_requests WHERE queue_id IS NOT NULL")
        old = db.run(lambda conn: conn.execute(count).scalar_one())
        assert old == len(EXPECTED)
        db.run(lambda conn: conn.execute(text("UPDATE transfer_requests SET snapshot = '{}' WHERE id = 'cli'")),
               write=True)
        assert migrate(db) == [head_revision()]
    finally:
        db.close()


def test_old_audit_rows_export(legacy_url: str) -> None:
    with open_store(legacy_url) as store:
        events = store.audit_since(T0 - timedelta(days=1))
        assert len(events) == 30
        assert [e.at for e in events] == sorted(e.at for e in events)
        for e in events:
            needs_approval = EXPECTED[e.request_id][3]
            assert e.kind is AuditKind.STATE
            assert (e.target_kind, e.target_id, e.target_name, e.media) == ("queue", "queue-billing", "Billing", "call")
            assert e.conversation_id == f"conv-{e.request_id}"
            assert e.via == ("cli" if e.request_id == "cli" else "slack")
            assert e.direct is (not needs_approval)
            assert (e.break_glass, e.simulated) == (False, False)
        for rid, trail in OLD_TRAILS.items():
            assert [e.to_state for e in events if e.request_id == rid] == trail, rid
        first = next(e for e in events if e.request_id == "pending-expired")
        assert (first.from_state, first.actor, first.at) == (None, "U-REQ", T0)
        superseded = [e for e in events if e.request_id == "superseded"][-1]
        assert (superseded.from_state, superseded.reason) == ("approved", "The call has ended.")
        unavailable = [e for e in events if e.request_id == "failed-unavailable"][-1]
        assert (unavailable.reason, unavailable.correlation_id) == ("unavailable", "corr-failed-unavailable")

        # New events follow the old ones.
        store.record(AuditEvent(request_id="denied", at=NOW, kind=AuditKind.NOTICE, actor="ops"))
        assert store.audit_since(NOW)[-1].kind is AuditKind.NOTICE
        assert len(store.audit_since(T0 - timedelta(days=1))) == 31


def test_old_pending_request_expires_and_stays_auditable(legacy_url: str) -> None:
    with open_store(legacy_url) as store:
        assert [r.id for r in store.due_for_expiry(NOW)] == ["pending-expired"]
        assert [r.id for r in store.pending()] == ["pending-expired", "pending-future"]
        expired = store.transition("pending-expired", [S.PENDING], S.EXPIRED, actor="system", at=NOW,
                                   reason="approval TTL passed")
        assert expired is not None and expired.state is S.EXPIRED and expired.version == 2
        assert store.due_for_expiry(NOW) == []
        last = store.audit_since(NOW)[-1]
        assert (last.request_id, last.from_state, last.to_state, last.reason) == (
            "pending-expired", "pending", "expired", "approval TTL passed")
        assert (last.target_name, last.media, last.direct) == ("Billing", "call", False)
        # The conversation is free again; the far-future one still holds its conversation.
        store.add(make_request("new-1", "conv-pending-expired"), actor="U")
        with pytest.raises(ConversationBusy) as busy:
            store.add(make_request("new-2", "conv-pending-future"), actor="U")
        assert busy.value.existing.id == "pending-future"


def test_old_approved_request_is_recovered(legacy_url: str) -> None:
    with open_store(legacy_url) as store:
        claimed = store.claim_abandoned("replica-1", NOW, NOW + timedelta(seconds=30))
        assert [r.id for r in claimed] == ["approved-abandoned"]
        assert store.claim_abandoned("replica-2", NOW, NOW + timedelta(seconds=30)) == []


def test_second_open_is_a_no_op(legacy_url: str) -> None:
    open_store(legacy_url).close()

    def snapshot() -> dict[str, list]:
        db = connect(legacy_url)
        try:
            tables = MetaData()
            db.run(tables.reflect)
            return db.run(
                lambda conn: {t.name: sorted(map(repr, conn.execute(select(t)))) for t in tables.sorted_tables}
            )
        finally:
            db.close()

    before = snapshot()
    db = connect(legacy_url)
    try:
        assert migrate(db) == []
    finally:
        db.close()
    open_store(legacy_url).close()
    assert snapshot() == before


# ---- the service on an upgraded database -------------------------------------------------------------
# What the bot does with old rows is the service's business, not only the store's: expiry goes
# through Context.move (audit, notifier), and an approval re-reads the call and sends the old
# queue target. Genesys and Slack people are the service tests' in-memory fakes; the store is real.

OLD_APPROVER = "U0SUP0001"


def service_on(store) -> World:
    genesys = MemoryGenesys()
    people = FakePeople(emails={}, groups={})
    return World(genesys, store, RecordingNotifier(), people, FakeClock(NOW),
                 Policy(default_approvers=frozenset({OLD_APPROVER})))


def test_old_pending_request_is_expired_by_the_service_and_audited(legacy_url: str) -> None:
    with open_store(legacy_url) as store:
        w = service_on(store)

        assert [r.id for r in w.service.expire_due()] == ["pending-expired"]
        assert w.service.expire_due() == []

        expired = store.get("pending-expired")
        assert expired.state is S.EXPIRED and expired.target == Target(TargetKind.QUEUE, "queue-billing", "Billing")
        assert w.notifier.states("pending-expired") == ["expired"]
        assert store.get("pending-future").state is S.PENDING
        last = store.audit_since(NOW - timedelta(seconds=1))[-1]
        assert (last.request_id, last.kind, last.from_state, last.to_state, last.actor, last.reason) == (
            "pending-expired", AuditKind.STATE, "pending", "expired", "system", "approval TTL passed")
        assert (last.target_kind, last.target_id, last.target_name, last.media, last.direct) == (
            "queue", "queue-billing", "Billing", "call", False)


def test_old_pending_request_is_decided_by_the_default_approvers_and_sent_to_its_queue(legacy_url: str) -> None:
    rid = "pending-future"
    with open_store(legacy_url) as store:
        w = service_on(store)
        w.genesys.settle_on_transfer = "Complete"
        w.genesys.conversations[f"conv-{rid}"] = Conversation(f"conv-{rid}", Media.CALL, (
            Participant("customer-leg", "customer", "connected", name="Pat", start_time=T0, connected_time=T0),
            Participant(f"agent-leg-{rid}", "agent", "connected", name="Ada Agent", user_id="user-ada",
                        queue_id="queue-sales", connected_time=T0),
        ))
        assert store.get(rid).approvers == ()  # stored before approvers were fixed per request

        refused = w.service.approve(rid, "U0RANDOM1")
        assert refused.outcome is ClickOutcome.REFUSED and refused.problem.code is Code.NOT_APPROVER
        done = w.service.approve(rid, OLD_APPROVER)

        assert done.outcome is ClickOutcome.DONE, done
        assert done.request.state in (S.ACCEPTED, S.SUCCEEDED), done.request.problem
        assert w.genesys.transfers == [
            (f"conv-{rid}", f"agent-leg-{rid}", Target(TargetKind.QUEUE, "queue-billing", "Billing"))]
        events = [e for e in store.audit_since(NOW - timedelta(seconds=1)) if e.request_id == rid]
        assert (events[0].kind, events[0].actor) == (AuditKind.CLICK_REFUSED, "U0RANDOM1")
        assert [e.to_state for e in events if e.kind is AuditKind.STATE][:3] == ["approved", "executing", "accepted"]
        assert {(e.target_kind, e.target_name, e.media) for e in events} == {("queue", "Billing", "call")}
