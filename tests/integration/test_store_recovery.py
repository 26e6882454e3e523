"""Leases: finding requests a stopped process left behind, and confirmation checks that are due."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

import pytest

from bot.domain.request import RequestState, TransferRequest
from bot.store.requests import SqlRequestStore, open_store
from tests.integration.test_store import T0, make_request, run_together

S = RequestState
LEASE = timedelta(seconds=30)


def ids(requests: Iterable[TransferRequest]) -> list[str]:
    return [r.id for r in requests]


def test_claim_abandoned_takes_only_unleased_work(store: SqlRequestStore) -> None:
    now = T0 + timedelta(minutes=5)
    store.add(make_request("received", None, state=S.RECEIVED), actor="U")  # never leased
    store.add(make_request("approved", "c-a", state=S.APPROVED), actor="U", lease_owner="dead",
              lease_until=now - timedelta(seconds=1))  # lease ran out
    store.add(make_request("executing", "c-e", state=S.APPROVED), actor="U", lease_owner="dead",
              lease_until=now - timedelta(seconds=2))
    store.transition("executing", [S.APPROVED], S.EXECUTING, actor="bot", at=T0 + timedelta(seconds=1))
    store.add(make_request("busy", "c-b", state=S.APPROVED), actor="U", lease_owner="alive",
              lease_until=now + timedelta(seconds=1))  # someone is on it
    store.add(make_request("edge", "c-x", state=S.APPROVED), actor="U", lease_owner="alive",
              lease_until=now)  # runs out after now, not at now
    store.add(make_request("pending", "c-p"), actor="U")  # waits for people, not for a process
    store.add(make_request("accepted", "c-acc", state=S.ACCEPTED), actor="U")  # claim_due_checks' job
    store.add(make_request("refused", "c-r", state=S.REFUSED), actor="U")

    claimed = store.claim_abandoned("me", now, now + LEASE)
    # Oldest change first: the executing one moved last.
    assert ids(claimed) == ["approved", "received", "executing"]
    assert store.claim_abandoned("other", now, now + LEASE) == []  # now mine
    assert store.get("approved").version == 1  # a lease is not a change of the request
    assert ids(store.claim_abandoned("other", now + LEASE + timedelta(seconds=1), now + 2 * LEASE)) == [
        "approved", "busy", "edge", "received", "executing"]  # same time: by id


def test_claim_abandoned_respects_limit(store: SqlRequestStore) -> None:
    for i in range(5):
        store.add(make_request(f"r{i}", f"c{i}", state=S.APPROVED, created_at=T0 + timedelta(seconds=i)), actor="U")
    assert ids(store.claim_abandoned("me", T0, T0 + LEASE, limit=2)) == ["r0", "r1"]
    assert ids(store.claim_abandoned("me", T0, T0 + LEASE, limit=10)) == ["r2", "r3", "r4"]


def test_renew_release_and_release_all(store: SqlRequestStore) -> None:
    until = T0 + LEASE
    for rid in ("a", "b", "c"):
        store.add(make_request(rid, f"c-{rid}", state=S.APPROVED), actor="U", lease_owner="me", lease_until=until)
    store.add(make_request("theirs", "c-t", state=S.APPROVED), actor="U", lease_owner="them", lease_until=until)

    later = T0 + timedelta(minutes=1)
    assert store.renew_leases("me", later + LEASE) == 3
    assert store.claim_abandoned("x", later, later + LEASE) == [store.get("theirs")]  # only theirs lapsed

    store.release("a", "not-me")  # not the owner: nothing happens
    assert store.claim_abandoned("x", later, later + LEASE) == []
    store.release("a", "me")  # free at once
    assert ids(store.claim_abandoned("x", later, later + LEASE)) == ["a"]
    store.release("b", "me", at=later + timedelta(seconds=10))  # free from then on (a back-off)
    assert store.claim_abandoned("y", later, later + LEASE) == []
    assert ids(store.claim_abandoned("y", later + timedelta(seconds=11), later + LEASE)) == ["b"]

    assert store.release_all("me", later) == 1  # only c is still mine
    assert store.renew_leases("me", later + LEASE) == 0
    assert ids(store.claim_abandoned("z", later + timedelta(microseconds=1), later + LEASE)) == ["c"]


def test_leases_end_when_nobody_needs_to_work_on_the_request(store: SqlRequestStore) -> None:
    store.add(make_request("r1", None, state=S.RECEIVED), actor="U", lease_owner="me", lease_until=T0 + LEASE)
    store.add(make_request("r2", "c-2", state=S.APPROVED), actor="U", lease_owner="me", lease_until=T0 + LEASE)
    store.transition("r1", [S.RECEIVED], S.PENDING, actor="bot", at=T0, changes={"conversation_id": "c-1"})
    store.transition("r2", [S.APPROVED], S.EXECUTING, actor="bot", at=T0)  # still being worked on
    assert store.renew_leases("me", T0 + 2 * LEASE) == 1  # only r2 is still held
    # r1 is approved by someone else later: it is free for any replica to execute.
    store.transition("r1", [S.PENDING], S.APPROVED, actor="U-SUP", at=T0)
    assert ids(store.claim_abandoned("other", T0 + timedelta(seconds=1), T0 + LEASE)) == ["r1"]
    store.transition("r2", [S.EXECUTING], S.SUCCEEDED, actor="bot", at=T0)
    assert store.renew_leases("me", T0 + 3 * LEASE) == 0


def test_claim_due_checks(store: SqlRequestStore) -> None:
    now = T0 + timedelta(minutes=1)
    for rid, check in (("due", now - timedelta(seconds=5)), ("exactly", now), ("later", now + timedelta(seconds=1)),
                       ("unset", None)):
        store.add(make_request(rid, f"c-{rid}", state=S.ACCEPTED, next_check_at=check), actor="U")
    store.add(make_request("leased", "c-l", state=S.ACCEPTED, next_check_at=now), actor="U",
              lease_owner="sender", lease_until=now + LEASE)
    store.add(make_request("approved", "c-ap", state=S.APPROVED, next_check_at=now), actor="U")

    assert ids(store.claim_due_checks("me", now, now + LEASE)) == ["due", "exactly"]
    assert store.claim_due_checks("other", now, now + LEASE) == []
    store.release("due", "me", at=None)
    store.update("due", [S.ACCEPTED], {"next_check_at": now + timedelta(seconds=2)})
    assert store.claim_due_checks("other", now, now + LEASE) == []  # its next check is not due yet
    after = now + LEASE + timedelta(seconds=1)
    assert ids(store.claim_due_checks("other", after, after + LEASE)) == ["exactly", "leased", "later", "due"]


@pytest.mark.parametrize("claim", ["claim_abandoned", "claim_due_checks"])
def test_two_replicas_claiming_at_once_never_share_a_request(store_url: str, claim: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        state = S.APPROVED if claim == "claim_abandoned" else S.ACCEPTED
        for i in range(120):
            replicas[0].add(make_request(f"r{i:03}", f"c{i}", state=state, next_check_at=T0), actor="U")

        def sweep(i: int) -> list[str]:
            mine: list[str] = []
            while batch := getattr(replicas[i % 2], claim)(f"owner-{i}", T0, T0 + timedelta(hours=1), limit=2):
                mine += ids(batch)
            return mine

        results = run_together(8, sweep)
        taken = Counter(rid for mine in results for rid in mine)
        assert len(taken) == 120 and set(taken.values()) == {1}
        assert sum(1 for mine in results if mine) >= 2  # the work really was shared
    finally:
        for replica in replicas:
            replica.close()
