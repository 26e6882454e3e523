"""Which calls can be transferred, and which participant gets replaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.model import Call, Participant, RecentTransfer, RequestState
from bot.domain.rules import (
    ALLOWED_TRANSITIONS,
    NotTransferable,
    Refusal,
    Transferable,
    TransferStatus,
    assess_call,
    is_allowed_transition,
    snapshot,
    still_same_call,
    transfer_status,
)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def p(pid, purpose, state="connected", **kw):
    return Participant(id=pid, purpose=purpose, state=state, **kw)


def customer(state="connected", **kw):
    return p("cust", "customer", state, connected_time=T0, **kw)


def test_the_connected_agent_is_chosen_over_stale_duplicates_listed_first():
    call = Call("c1", (
        customer(),
        p("ivr", "ivr", "terminated", end_time=T0),
        p("a-stale-1", "agent", "terminated", user_id="u1", end_time=T0),
        p("a-stale-2", "agent", "disconnected", user_id="u1"),
        p("a-live", "agent", "connected", user_id="u1", queue_id="q-old", held=True),
    ))
    verdict = assess_call(call)
    assert isinstance(verdict, Transferable)
    assert verdict.agent.id == "a-live"


def test_user_purpose_counts_as_agent_for_non_acd_calls():
    verdict = assess_call(Call("c", (customer(), p("u", "user"))))
    assert isinstance(verdict, Transferable) and verdict.agent.id == "u"


@pytest.mark.parametrize(
    ("participants", "reason"),
    [
        ((), Refusal.ENDED),
        ((customer("terminated", end_time=T0), p("a", "agent", "terminated", end_time=T0)), Refusal.ENDED),
        ((customer("disconnected"), p("a", "agent")), Refusal.ENDED),
        ((customer(), p("i", "ivr")), Refusal.IN_IVR),
        ((customer(), p("q", "acd", queue_id="q1")), Refusal.IN_QUEUE),
        ((customer(), p("q", "acd"), p("a", "agent", "alerting")), Refusal.ALERTING),
        ((customer(), p("a", "agent"), p("b", "agent")), Refusal.CONFERENCE),
        ((p("a", "agent"), p("b", "acd")), Refusal.NO_CUSTOMER),
        ((customer(), p("a", "agent", "terminated", end_time=T0)), Refusal.NO_AGENT),
        ((customer(), p("a", "agent", "connected", end_time=T0)), Refusal.NO_AGENT),
    ],
)
def test_untransferable_calls_name_their_reason(participants, reason):
    verdict = assess_call(Call("c", participants))
    assert isinstance(verdict, NotTransferable)
    assert verdict.reason is reason


def test_external_purpose_counts_as_customer():
    assert isinstance(assess_call(Call("c", (p("x", "external"), p("a", "agent")))), Transferable)


def test_snapshot_records_agent_queue_and_start():
    call = Call("c", (customer(), p("q", "acd", "terminated", queue_id="q1", end_time=T0), p("a", "agent", name="Ann")))
    snap = snapshot(call, assess_call(call).agent)
    assert (snap.agent_participant_id, snap.agent_name, snap.current_queue_id, snap.call_started) == (
        "a", "Ann", "q1", T0,
    )


def test_recheck_supersedes_when_agent_leg_changed_or_call_ended():
    before = Call("c", (customer(), p("a", "agent")))
    snap = snapshot(before, assess_call(before).agent)
    assert isinstance(still_same_call(snap, before), Transferable)
    changed = Call("c", (customer(), p("a", "agent", "terminated", end_time=T0), p("b", "agent")))
    assert still_same_call(snap, changed).reason is Refusal.NO_AGENT
    ended = Call("c", (customer("terminated", end_time=T0), p("a", "agent", "terminated", end_time=T0)))
    assert still_same_call(snap, ended).reason is Refusal.ENDED


def test_transfer_status_from_recent_transfers_and_legs():
    sent = T0 + timedelta(minutes=5)
    base = (customer(), p("a", "agent", "terminated", end_time=sent), p("q", "acd", queue_id="target"))
    assert transfer_status(Call("c", base), "target", "a", sent) is TransferStatus.CONFIRMED
    still_agent = (customer(), p("a", "agent"))
    assert transfer_status(Call("c", still_agent), "target", "a", sent) is TransferStatus.PENDING
    failed = Call("c", still_agent, (RecentTransfer("t", "Failed", date_issued=sent),))
    assert transfer_status(failed, "target", "a", sent) is TransferStatus.FAILED
    old_complete = Call("c", still_agent, (RecentTransfer("t", "Complete", date_issued=T0),))
    assert transfer_status(old_complete, "target", "a", sent) is TransferStatus.PENDING


def test_a_request_leaves_pending_once_and_final_states_are_final():
    for state in RequestState:
        if state.is_final:
            assert ALLOWED_TRANSITIONS[state] == frozenset()
    assert is_allowed_transition(RequestState.PENDING, RequestState.APPROVED)
    assert not is_allowed_transition(RequestState.APPROVED, RequestState.PENDING)
    assert not is_allowed_transition(RequestState.SUCCEEDED, RequestState.EXECUTING)
