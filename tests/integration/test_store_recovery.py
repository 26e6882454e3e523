"""Finding requests a stopped bot process left behind (approved or executing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.model import CallSnapshot, RequestState, TransferRequest

from bot.store.sql import open_store

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
S = RequestState


def request(rid: str, conversation: str) -> TransferRequest:
    snap = CallSnapshot(conversation, "agent-leg", "Ann", "u1", "q-old", "Sales", T0)
    return TransferRequest(id=rid, conversation_id=conversation, queue_id="q", queue_name="Billing",
                           requester_id="U1", state=S.APPROVED, created_at=T0, expires_at=None, snapshot=snap)


def test_stuck_lists_only_old_requests_in_the_given_states(store_url):
    store = open_store(store_url)
    try:
        store.add(request("a" * 32, "c-approved"), actor="U1")
        store.add(request("b" * 32, "c-executing"), actor="U1")
        store.add(request("c" * 32, "c-done"), actor="U1")
        store.transition("b" * 32, [S.APPROVED], S.EXECUTING, actor="system", at=T0 + timedelta(minutes=1))
        store.transition("c" * 32, [S.APPROVED], S.EXECUTING, actor="system", at=T0)
        store.transition("c" * 32, [S.EXECUTING], S.SUCCEEDED, actor="system", at=T0)

        later = store.stuck([S.APPROVED, S.EXECUTING], T0 + timedelta(minutes=5))
        early = store.stuck([S.APPROVED, S.EXECUTING], T0 + timedelta(seconds=30))
        only_executing = store.stuck([S.EXECUTING], T0 + timedelta(minutes=5))
    finally:
        store.close()
    assert [r.id for r in later] == ["a" * 32, "b" * 32]
    assert [r.id for r in early] == ["a" * 32]
    assert [r.id for r in only_executing] == ["b" * 32]
