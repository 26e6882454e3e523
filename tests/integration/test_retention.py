"""Retention (issue 11): finished requests and their audit rows older than RETENTION_DAYS go, in batches.

On SQLite and PostgreSQL: what is purged (every final state, with its audit rows, votes and Slack
state), what stays (anything still open or in progress however old, anything finished recently),
replicas purging at the same moment, and `python -m bot audit` exporting what remains.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.domain.request import FINAL_STATES, AuditEvent, AuditKind, RequestState, Vote
from bot.store import SqlRequestStore, open_store
from tests.integration.test_store import make_request, run_together

ROOT = Path(__file__).resolve().parents[2]
S = RequestState
NOW = datetime.now(UTC).replace(microsecond=0)
RETENTION = timedelta(days=90)
CUTOFF = NOW - RETENTION
OLD = NOW - timedelta(days=120)
RECENT = NOW - timedelta(days=10)
FINALS = sorted(FINAL_STATES, key=lambda s: s.value)
NOT_FINAL = sorted(set(S) - FINAL_STATES, key=lambda s: s.value)


def seed(store: SqlRequestStore, *, old_finished: int = 0) -> dict[str, set[str]]:
    """Requests of every kind; returns the ids that must go and those that must stay."""
    gone, kept = set(), set()
    for i in range(old_finished):
        state = FINALS[i % len(FINALS)]
        request_id = f"old-{state.value}-{i}"
        store.add(make_request(request_id, f"conv-old-{i}", state=state, created_at=OLD, expires_at=None,
                               votes=(Vote("U-SUP", OLD),)), actor="U-REQ")
        store.record(AuditEvent(request_id, OLD + timedelta(minutes=1), AuditKind.CLICK_REFUSED, "U-OTHER"))
        gone.add(request_id)
    for state in NOT_FINAL:  # as old as the purged ones, but not finished: never purged
        request_id = f"open-{state.value}"
        store.add(make_request(request_id, f"conv-open-{state.value}", state=state, created_at=OLD,
                               expires_at=OLD + timedelta(minutes=10)), actor="U-REQ")
        kept.add(request_id)
    for state in FINALS:  # finished, but within the retention period
        request_id = f"recent-{state.value}"
        store.add(make_request(request_id, f"conv-recent-{state.value}", state=state, created_at=RECENT,
                               expires_at=None), actor="U-REQ")
        kept.add(request_id)
    # finished long ago, but its last change is recent: the retention clock starts at the last change
    store.add(make_request("late-finish", "conv-late", state=S.PENDING, created_at=OLD), actor="U-REQ")
    store.transition("late-finish", [S.PENDING], S.DENIED, actor="U-SUP", at=RECENT)
    kept.add("late-finish")
    slack = store.slack_state()
    for request_id in sorted(gone)[:3] + sorted(kept)[:3]:
        slack.claim_sync(request_id, "owner", OLD, OLD)
        slack.remember_response_url(request_id, "https://hooks.slack.test/x", RECENT)
    return {"gone": gone, "kept": kept}


def request_ids(store: SqlRequestStore) -> set[str]:
    rows = store.db.run(lambda c: c.execute(text("SELECT id FROM transfer_requests")).scalars().all())
    return set(rows)


def audited(store: SqlRequestStore) -> set[str]:
    return {e.request_id for e in store.audit_since(datetime(2000, 1, 1, tzinfo=UTC))}


def orphans(store: SqlRequestStore) -> list[int]:
    """Rows of the side tables whose request is gone."""
    return store.db.run(lambda c: [
        c.execute(text(f"SELECT COUNT(*) FROM {t} WHERE request_id NOT IN (SELECT id FROM transfer_requests)"))
        .scalar_one() for t in ("approval_votes", "audit_events", "slack_sync", "slack_response_urls")])


def test_finished_requests_past_retention_go_with_their_audit_rows_in_batches(store: SqlRequestStore) -> None:
    ids = seed(store, old_finished=23)
    assert audited(store) >= ids["gone"] | ids["kept"]

    batches = []
    while n := store.purge_finished_before(CUTOFF, batch=10):
        batches.append(n)

    assert batches == [10, 10, 3]  # each call deletes one bounded batch, then reports 0
    assert request_ids(store) == ids["kept"]
    assert audited(store) == ids["kept"]  # the purged requests' audit rows went with them, no others
    assert orphans(store) == [0, 0, 0, 0]
    assert {r.id for r in store.recent_finished()} >= {f"recent-{s.value}" for s in FINALS}
    for state in NOT_FINAL:
        assert store.get(f"open-{state.value}").state is state


def test_nothing_is_purged_before_its_time(store: SqlRequestStore) -> None:
    ids = seed(store, old_finished=len(FINALS))

    assert store.purge_finished_before(OLD - timedelta(seconds=1)) == 0  # a cutoff before everything
    assert store.purge_finished_before(OLD) == 0  # strictly older than the cutoff only
    assert request_ids(store) == ids["gone"] | ids["kept"]


def test_two_replicas_purging_at_once_share_the_work_without_errors(store_url: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        ids = seed(replicas[0], old_finished=120)

        def purge(i: int) -> int:
            total = 0
            while n := replicas[i % 2].purge_finished_before(CUTOFF, batch=7):
                total += n
            return total

        counts = run_together(6, purge)  # three sweepers per replica, released together; any error re-raised

        assert sum(counts) == 120  # every row purged exactly once
        for replica in replicas:
            assert request_ids(replica) == ids["kept"]
            assert audited(replica) == ids["kept"]
            assert orphans(replica) == [0, 0, 0, 0]
    finally:
        for replica in replicas:
            replica.close()


def test_audit_export_after_a_purge_has_everything_that_remains(store_url: str, tmp_path) -> None:
    store = open_store(store_url)
    try:
        ids = seed(store, old_finished=16)
        while store.purge_finished_before(CUTOFF, batch=5):
            pass
    finally:
        store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GENESYS_", "TRANSFER_"))}
    env.update(DATABASE_URL=store_url, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "bot", "audit", "--since", "3650d", "--format", "json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {row["request_id"] for row in rows} == ids["kept"]
    assert not [row for row in rows if row["request_id"] in ids["gone"]]
    late = [row for row in rows if row["request_id"] == "late-finish"]
    assert [(row["from_state"], row["to_state"]) for row in late] == [(None, "pending"), ("pending", "denied")]
