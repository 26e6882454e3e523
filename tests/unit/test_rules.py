"""Which conversations can be transferred, which leg gets replaced, and reading Genesys' answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.conversation import Conversation, Media, Participant, RecentTransfer
from bot.domain.problems import Code, Problem
from bot.domain.request import ALLOWED_TRANSITIONS, RequestState, is_allowed_transition
from bot.domain.rules import (
    Transferable,
    TransferStatus,
    assess,
    check_target,
    read_transfer,
    snapshot,
    still_same,
)
from bot.domain.target import Target, TargetKind

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
QUEUE = Target(TargetKind.QUEUE, "target", "Support")


def p(pid, purpose, state="connected", **kw):
    return Participant(id=pid, purpose=purpose, state=state, **kw)


def customer(state="connected", **kw):
    return p("cust", "customer", state, connected_time=T0, **kw)


def call(*legs, transfers=(), media=Media.CALL):
    return Conversation("c", media, tuple(legs), tuple(transfers))


def test_the_connected_agent_is_chosen_over_stale_duplicates_listed_first():
    verdict = assess(call(
        customer(),
        p("ivr", "ivr", "terminated", end_time=T0),
        p("a-stale-1", "agent", "terminated", user_id="u1", end_time=T0),
        p("a-stale-2", "agent", "disconnected", user_id="u1"),
        p("a-live", "agent", "connected", user_id="u1", queue_id="q-old", held=True),
    ))
    assert isinstance(verdict, Transferable) and verdict.agent.id == "a-live"


def test_user_purpose_counts_as_agent_and_external_as_customer():
    assert assess(call(customer(), p("u", "user"))).agent.id == "u"
    assert isinstance(assess(call(p("x", "external"), p("a", "agent"))), Transferable)


@pytest.mark.parametrize(
    ("legs", "code"),
    [
        ((), Code.CALL_ENDED),
        ((customer("terminated", end_time=T0), p("a", "agent", "terminated", end_time=T0)), Code.CALL_ENDED),
        ((customer("disconnected"), p("a", "agent")), Code.CALL_ENDED),
        ((customer(), p("i", "ivr")), Code.CALL_IN_IVR),
        ((customer(), p("q", "acd", queue_id="q1")), Code.CALL_IN_QUEUE),
        ((customer(), p("q", "acd"), p("a", "agent", "alerting")), Code.CALL_ALERTING),
        ((customer(), p("a", "agent"), p("b", "agent")), Code.CALL_CONFERENCE),
        ((p("a", "agent"), p("b", "acd")), Code.CALL_NO_CUSTOMER),
        ((customer(), p("a", "agent", "terminated", end_time=T0)), Code.CALL_NO_AGENT),
        ((customer(), p("a", "agent", "outdated_sdk_version")), Code.CALL_STATE_UNKNOWN),
    ],
)
def test_untransferable_conversations_name_their_reason(legs, code):
    verdict = assess(call(*legs))
    assert isinstance(verdict, Problem) and verdict.code is code


def test_monitor_coach_and_barge_legs_are_not_a_second_agent():
    for link in ("monitored_participant_id", "coached_participant_id", "barged_participant_id"):
        verdict = assess(call(customer(), p("a", "agent"), p("sup", "agent", **{link: "a"})))
        assert isinstance(verdict, Transferable) and verdict.agent.id == "a"


def test_target_checks():
    conversation = call(customer(), p("a", "agent", user_id="u-bob"))
    agent = assess(conversation).agent
    assert check_target(conversation, agent, Target(TargetKind.AGENT, "u-bob", "Bob")).code is \
        Code.AGENT_ALREADY_ON_CALL
    chat = call(customer(), p("a", "agent"), media=Media.CHAT)
    assert check_target(chat, agent, Target(TargetKind.NUMBER, "+14155550100", "n")).code is Code.NUMBER_NEEDS_VOICE
    assert check_target(conversation, agent, QUEUE) is None


def test_snapshot_records_agent_queue_and_start():
    conversation = call(customer(), p("q", "acd", "terminated", queue_id="q1", end_time=T0),
                        p("a", "agent", name="Ann"))
    snap = snapshot(conversation, assess(conversation).agent)
    assert (snap.agent_participant_id, snap.agent_name, snap.queue_at_request_id, snap.started, snap.media) == (
        "a", "Ann", "q1", T0, Media.CALL)


def test_recheck_supersedes_when_agent_leg_changed_or_call_ended():
    before = call(customer(), p("a", "agent"))
    snap = snapshot(before, assess(before).agent)
    assert isinstance(still_same(snap, before), Transferable)
    changed = call(customer(), p("a", "agent", "terminated", end_time=T0), p("b", "agent"))
    assert still_same(snap, changed).code is Code.CALL_CHANGED
    ended = call(customer("terminated", end_time=T0), p("a", "agent", "terminated", end_time=T0))
    assert still_same(snap, ended).code is Code.CALL_ENDED


def test_reading_our_transfer_not_the_latest_one():
    sent = T0 + timedelta(minutes=5)
    still_agent = (customer(), p("a", "agent"))
    moved = (customer(), p("a", "agent", "terminated", end_time=sent), p("q", "acd", queue_id="target"))
    assert read_transfer(call(*moved), QUEUE, "a", sent).status is TransferStatus.CONFIRMED
    assert read_transfer(call(*still_agent), QUEUE, "a", sent).status is TransferStatus.PENDING
    ours_failed = RecentTransfer("t1", "Failed", destination_address="target", date_issued=sent)
    reading = read_transfer(call(*still_agent, transfers=[ours_failed]), QUEUE, "a", sent)
    assert (reading.status, reading.transfer_id, reading.genesys_state) == (TransferStatus.FAILED, "t1", "Failed")
    old_complete = RecentTransfer("t0", "Complete", date_issued=T0)
    assert read_transfer(call(*still_agent, transfers=[old_complete]), QUEUE, "a", sent).status is \
        TransferStatus.PENDING
    someone_elses = RecentTransfer("t2", "Complete", destination_user_id="u-other", date_issued=sent)
    pending_ours = RecentTransfer("t3", "Pending", destination_address="target", date_issued=sent)
    reading = read_transfer(call(*still_agent, transfers=[someone_elses, pending_ours]), QUEUE, "a", sent)
    assert (reading.status, reading.transfer_id) == (TransferStatus.PENDING, "t3")
    # once we know our entry's id, a newer entry to the same queue can't be taken for it
    newer = RecentTransfer("t4", "Complete", destination_address="target", date_issued=sent + timedelta(seconds=9))
    reading = read_transfer(call(*still_agent, transfers=[pending_ours, newer]), QUEUE, "a", sent, known_id="t3")
    assert reading.status is TransferStatus.PENDING


def test_agent_and_number_confirmation_by_their_new_leg():
    sent = T0
    bob = Target(TargetKind.AGENT, "u-bob", "Bob")
    moved = call(customer(), p("a", "agent", "disconnected", end_time=T0), p("b", "agent", user_id="u-bob"))
    assert read_transfer(moved, bob, "a", sent).status is TransferStatus.CONFIRMED
    number = Target(TargetKind.NUMBER, "+14155550100", "n")
    out = call(customer(), p("a", "agent", "disconnected", end_time=T0), p("x", "external", address="tel:+14155550100"))
    assert read_transfer(out, number, "a", sent).status is TransferStatus.CONFIRMED


def test_state_machine():
    for state in RequestState:
        if state.is_final:
            assert ALLOWED_TRANSITIONS[state] == frozenset()
    assert is_allowed_transition(RequestState.PENDING, RequestState.APPROVED)
    assert is_allowed_transition(RequestState.EXECUTING, RequestState.ACCEPTED)
    assert not is_allowed_transition(RequestState.APPROVED, RequestState.PENDING)
    assert not is_allowed_transition(RequestState.SUCCEEDED, RequestState.EXECUTING)
    assert not is_allowed_transition(RequestState.ACCEPTED, RequestState.EXECUTING)
