"""Direct transfers, confirmation tracking and every failure path around the POST."""

from __future__ import annotations

from bot.domain.conversation import Participant
from bot.domain.problems import Code
from bot.domain.request import RequestState as S
from bot.domain.target import TargetKind
from bot.ports.genesys import (
    GenesysBadRequest,
    GenesysForbidden,
    GenesysRateLimited,
    GenesysTimeout,
    GenesysUnavailable,
    GenesysUnreadable,
)
from tests.unit.service.conftest import World


def q2(world: World):
    return next(q for q in world.genesys.queues.values() if q.name == "Support_Tier2")


def test_direct_transfer_sends_one_post_then_confirms_from_recent_transfers(open_world: World):
    w = open_world
    call = w.genesys.add_call()
    request = w.ask(call.id, "support_tier2")
    assert request.state is S.ACCEPTED
    assert [(c, t.kind, t.id) for c, _, t in w.genesys.transfers] == [(call.id, TargetKind.QUEUE, q2(w).id)]
    assert w.genesys.transfers[0][1] == w.genesys.agent_leg(call.id).id
    # Genesys hasn't finished: the check reschedules itself and the request stays accepted.
    w.clock.advance(1)
    assert w.service.check(w.service.due_checks()[0]).state is S.ACCEPTED
    w.genesys.settle(call.id, "Complete")
    w.clock.advance(5)
    done = w.service.check(w.service.due_checks()[0])
    assert done.state is S.SUCCEEDED and done.transfer_id
    assert len(w.genesys.transfers) == 1
    assert w.notifier.states(request.id)[-1] == "succeeded"


def test_a_transfer_that_fails_after_acceptance_is_reported_failed_never_success(open_world: World):
    w = open_world
    call = w.genesys.add_call()
    request = w.ask(call.id, "Support_Tier2")
    w.genesys.settle(call.id, "Timeout")
    w.clock.advance(1)
    done = w.service.check(w.service.due_checks()[0])
    assert done.state is S.FAILED
    assert done.problem.code is Code.FAILED_AFTER_ACCEPT and done.problem.fact("genesys_state") == "Timeout"
    assert done.problem.correlation_id == request.correlation_id


def test_confirmation_gives_up_after_the_timeout_as_uncertain(open_world: World):
    w = open_world.with_config(confirm_timeout=__import__("datetime").timedelta(seconds=60))
    call = w.genesys.add_call()
    w.ask(call.id, "Support_Tier2")
    checks = 0
    while True:
        w.clock.advance(5)
        due = w.service.due_checks()
        if not due:
            continue
        checks += 1
        result = w.service.check(due[0])
        if result.state is not S.ACCEPTED:
            break
    assert result.state is S.UNCERTAIN and result.problem.code is Code.NEVER_CONFIRMED
    assert 3 <= checks <= 12  # backoff: not one read per tick
    assert w.genesys.calls.count("get_conversation") == checks + 1


def test_a_concurrent_transfer_by_someone_else_is_not_read_as_ours(open_world: World):
    w = open_world
    call = w.genesys.add_call()
    w.ask(call.id, "Support_Tier2")
    # Someone transfers the call elsewhere in Genesys; their entry completes, ours is still pending.
    from dataclasses import replace

    from bot.domain.conversation import RecentTransfer
    c = w.genesys.conversations[call.id]
    other = RecentTransfer("other", "Complete", destination_user_id="someone-else", date_issued=c.recent_transfers[-1]
                           .date_issued)
    w.genesys.conversations[call.id] = replace(c, recent_transfers=(*c.recent_transfers, other))
    w.clock.advance(1)
    assert w.service.check(w.service.due_checks()[0]).state is S.ACCEPTED


def test_post_timeout_is_uncertain_and_never_resent(open_world: World):
    w = open_world
    call = w.genesys.add_call()
    w.genesys.fail("transfer", GenesysTimeout("no answer", maybe_executed=True, operation="replace_queue"))
    request = w.ask(call.id, "Support_Tier2")
    assert request.state is S.UNCERTAIN and request.problem.code is Code.UNCERTAIN
    assert w.genesys.calls.count("transfer") == 1
    assert w.service.due_checks() == [] and w.service.abandoned() == []


def test_definite_post_failures_are_failed_with_their_code(open_world: World):
    w = open_world
    for error, code in [
        (GenesysBadRequest("participant not connected", status=400, operation="replace_queue"), Code.REJECTED),
        (GenesysForbidden("nope", status=403, operation="replace_queue"), Code.FORBIDDEN),
        (GenesysRateLimited("slow down", status=429, operation="replace_queue"), Code.RATE_LIMITED),
        (GenesysUnavailable("refused", cause="refused", host="api.x", operation="replace_queue"), Code.UNAVAILABLE),
    ]:
        call = w.genesys.add_call()
        w.genesys.fail("transfer", error)
        request = w.ask(call.id, "Support_Tier2")
        assert request.state is S.FAILED, error
        assert request.problem.code is code
    forbidden = next(r for r in w.notifier.seen if r.problem and r.problem.code is Code.FORBIDDEN)
    assert "conversation:communication:blindTransfer" in forbidden.problem.fact("permissions")


def test_reading_the_call_fails_in_each_way_and_is_refused_with_nothing_sent(open_world: World):
    w = open_world
    for error, code in [
        (GenesysTimeout("slow", cause="timeout", host="api.x", operation="get_call"), Code.TIMEOUT),
        (GenesysUnreadable("garbage", operation="get_call"), Code.UNREADABLE),
    ]:
        call = w.genesys.add_call()
        w.genesys.fail("get_conversation", error)
        request = w.ask(call.id, "Support_Tier2")
        assert request.state is S.REFUSED and request.problem.code is code
        assert request.problem.fact("host", "api.x") == "api.x"
    assert w.genesys.transfers == []


def test_a_database_hiccup_after_the_202_is_retried_not_reported_as_failure(open_world: World):
    w = open_world
    call = w.genesys.add_call()
    attempts = {"n": 0}
    real = w.store.transition

    def flaky(request_id, expected, new_state, **kw):
        if new_state is S.ACCEPTED and attempts["n"] < 2:
            attempts["n"] += 1
            from bot.ports.store import StoreUnavailable
            raise StoreUnavailable("down")
        return real(request_id, expected, new_state, **kw)

    w.store.transition = flaky
    request = w.ask(call.id, "Support_Tier2")
    assert request.state is S.ACCEPTED and attempts["n"] == 2
    assert "failed" not in w.notifier.states(request.id)


def test_unknown_leg_state_is_refused_as_unknown_not_as_ended(open_world: World):
    w = open_world
    call = w.genesys.add_call(extra=[Participant("odd", "agent", "outdated_sdk_version")])
    request = w.ask(call.id, "Support_Tier2")
    assert request.state is S.REFUSED and request.problem.code is Code.CALL_STATE_UNKNOWN


def test_monitoring_leg_is_not_a_second_agent(open_world: World):
    w = open_world
    call = w.genesys.add_call()
    agent = w.genesys.agent_leg(call.id)
    monitor = Participant("mon", "agent", "connected", name="Sup", monitored_participant_id=agent.id)
    from dataclasses import replace
    w.genesys.conversations[call.id] = replace(call, participants=(*call.participants, monitor))
    request = w.ask(call.id, "Support_Tier2")
    assert request.state is S.ACCEPTED and w.genesys.transfers[0][1] == agent.id


def test_a_second_request_for_a_busy_conversation_is_refused(world: World):
    w = world
    call = w.genesys.add_call()
    first = w.ask(call.id, "Support_Tier2")
    assert first.state is S.PENDING
    second = w.ask(call.id, "Support_Tier1", requester="U0AGENT02")
    assert second.state is S.REFUSED and second.problem.code is Code.ALREADY_PENDING
    assert second.problem.fact("target") == "Support_Tier2"


def test_every_request_is_stored_before_any_genesys_request(open_world: World):
    w = open_world
    call = w.genesys.add_call()
    from bot.domain.request import Ask
    stored = w.service.receive(Ask(call.id, "Support_Tier2"), "U0AGENT01")
    assert w.store.get(stored.id).state is S.RECEIVED
    assert w.genesys.calls == []
    assert w.store.lease_of(stored.id)[0] == "me"


def test_confirmation_reads_go_behind_transfers_in_the_rate_budget(open_world: World):
    from bot.ports.genesys import Priority

    w = open_world
    call = w.genesys.add_call()
    request = w.ask(call.id, "support_tier2")
    assert request.state is S.ACCEPTED
    before_post = list(w.genesys.read_priorities)
    assert before_post and Priority.BACKGROUND not in before_post  # the read that leads to a POST is urgent
    w.clock.advance(1)
    w.service.check(w.service.due_checks()[0])
    w.genesys.settle(call.id, "Complete")
    w.clock.advance(5)
    w.service.check(w.service.due_checks()[0])
    assert w.genesys.read_priorities[len(before_post):] == [Priority.BACKGROUND, Priority.BACKGROUND]
