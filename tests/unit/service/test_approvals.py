"""Approvals: who may click, races between clicks, votes, expiry, supersede, break glass."""

from __future__ import annotations

import threading

import pytest

from bot.domain.policy import Policy, PolicyRule
from bot.domain.problems import Code
from bot.domain.request import AuditKind
from bot.domain.request import RequestState as S
from bot.domain.target import TargetKind
from bot.ports.genesys import GenesysTimeout
from bot.service.decisions import ClickOutcome
from tests.unit.service.conftest import APPROVER, APPROVER2, OUTSIDER, REQUESTER, World


def pending(w: World, target: str = "Support_Tier2"):
    call = w.genesys.add_call()
    request = w.ask(call.id, target)
    assert request.state is S.PENDING, request.problem
    return call, request


def test_request_waits_with_approvers_fixed_and_a_ttl(world: World):
    _, request = pending(world)
    assert request.approvers == ("S0SUPERS",) and request.expires_at is not None
    assert world.genesys.transfers == []
    assert world.notifier.states(request.id) == ["pending"]


def test_an_approver_transfers_directly(world: World):
    call = world.genesys.add_call()
    request = world.ask(call.id, "Support_Tier2", requester=APPROVER)
    assert request.state is S.ACCEPTED and len(world.genesys.transfers) == 1


def test_approve_rechecks_then_transfers_once(world: World):
    _, request = pending(world)
    result = world.service.approve(request.id, APPROVER)
    assert result.outcome is ClickOutcome.DONE and result.request.state is S.ACCEPTED
    assert result.request.acted_by == APPROVER
    again = world.service.approve(request.id, APPROVER2)
    assert again.outcome is ClickOutcome.ALREADY and again.request.acted_by == APPROVER
    assert len(world.genesys.transfers) == 1


@pytest.mark.parametrize(("clicker", "code"), [(OUTSIDER, Code.NOT_APPROVER), (REQUESTER, Code.SELF_APPROVAL)])
def test_unauthorised_clicks_change_nothing_and_are_audited(world: World, clicker, code):
    _, request = pending(world)
    for action in (world.service.approve, world.service.deny):
        result = action(request.id, clicker)
        assert result.outcome is ClickOutcome.REFUSED and result.problem.code is code
    assert world.store.get(request.id).state is S.PENDING
    refused = [e for e in world.store.audit if e.kind is AuditKind.CLICK_REFUSED]
    assert [e.reason for e in refused] == [code.value, code.value] and refused[0].actor == clicker
    assert world.genesys.transfers == []


def test_only_the_requester_cancels(world: World):
    _, request = pending(world)
    assert world.service.cancel(request.id, APPROVER).problem.code is Code.NOT_REQUESTER
    assert world.service.cancel(request.id, REQUESTER).request.state is S.CANCELLED
    assert world.service.approve(request.id, APPROVER).outcome is ClickOutcome.ALREADY


def test_deny(world: World):
    _, request = pending(world)
    result = world.service.deny(request.id, APPROVER2)
    assert result.request.state is S.DENIED and result.request.acted_by == APPROVER2
    assert world.genesys.transfers == []


def _race(*actions):
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(i, fn):
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_eight_concurrent_approvals_give_one_transfer(world: World):
    _, request = pending(world)
    results = _race(*[lambda: world.service.approve(request.id, APPROVER)] * 4,
                    *[lambda: world.service.approve(request.id, APPROVER2)] * 4)
    assert sum(r.outcome is ClickOutcome.DONE for r in results) == 1
    assert len(world.genesys.transfers) == 1


def test_approve_and_deny_racing_give_one_consistent_ending(world: World):
    for _ in range(10):
        _, request = pending(world)
        rid = request.id
        approve, deny = _race(lambda rid=rid: world.service.approve(rid, APPROVER),
                              lambda rid=rid: world.service.deny(rid, APPROVER2))
        final = world.store.get(request.id)
        sent = [t for t in world.genesys.transfers if t[0] == request.conversation_id]
        assert (final.state is S.DENIED) == (sent == [])
        assert {approve.outcome, deny.outcome} == {ClickOutcome.DONE, ClickOutcome.ALREADY}


def test_expiry_and_a_late_click(world: World):
    _, request = pending(world)
    world.clock.advance(899)
    assert world.service.expire_due() == []
    world.clock.advance(2)
    assert [r.id for r in world.service.expire_due()] == [request.id]
    assert world.service.approve(request.id, APPROVER).request.state is S.EXPIRED
    assert world.genesys.transfers == []


def test_call_ended_or_agent_changed_before_approval_supersedes(world: World):
    call, request = pending(world)
    world.genesys.end(call.id)
    result = world.service.approve(request.id, APPROVER)
    assert result.request.state is S.SUPERSEDED and result.request.problem.code is Code.CALL_ENDED
    call, request = pending(world)
    world.genesys.change_agent(call.id)
    result = world.service.approve(request.id, APPROVER)
    assert result.request.state is S.SUPERSEDED and result.request.problem.code is Code.CALL_CHANGED
    assert world.genesys.transfers == []


def test_recheck_read_failing_fails_with_nothing_sent(world: World):
    _, request = pending(world)
    world.genesys.fail("get_conversation", GenesysTimeout("slow", operation="get_call"))
    result = world.service.approve(request.id, APPROVER)
    assert result.request.state is S.FAILED and result.request.problem.code is Code.TIMEOUT
    assert world.genesys.transfers == []


def two_person(world: World) -> World:
    rule = PolicyRule(TargetKind.QUEUE, "Support_Tier2", approvals_required=2,
                      approvers=frozenset({APPROVER, APPROVER2, "U0SUPER03"}))
    return world.with_policy(Policy(default_approvers=frozenset({"S0SUPERS"}), rules=(rule,)))


def test_two_person_rule_needs_two_distinct_approvers(world: World):
    w = two_person(world)
    _, request = pending(w)
    first = w.service.approve(request.id, APPROVER)
    assert first.outcome is ClickOutcome.VOTED and [v.approver for v in first.request.votes] == [APPROVER]
    assert w.service.approve(request.id, APPROVER).problem.code is Code.ALREADY_VOTED
    assert w.genesys.transfers == []
    second = w.service.approve(request.id, APPROVER2)
    assert second.outcome is ClickOutcome.DONE and second.request.state is S.ACCEPTED
    assert len(w.genesys.transfers) == 1
    assert [e.kind for e in w.store.audit if e.request_id == request.id].count(AuditKind.VOTE) == 2


def test_two_person_rule_concurrent_second_approvals_transfer_once(world: World):
    w = two_person(world)
    _, request = pending(w)
    w.service.approve(request.id, APPROVER)
    results = _race(lambda: w.service.approve(request.id, APPROVER2),
                    lambda: w.service.approve(request.id, "U0SUPER03"),
                    lambda: w.service.approve(request.id, APPROVER))
    assert len(w.genesys.transfers) == 1
    assert sum(r.outcome is ClickOutcome.DONE for r in results) == 1


def test_an_approver_requesting_under_a_two_person_rule_still_needs_two_others(world: World):
    w = two_person(world)
    call = w.genesys.add_call()
    request = w.ask(call.id, "Support_Tier2", requester=APPROVER)
    assert request.state is S.PENDING
    assert w.service.approve(request.id, APPROVER).problem.code is Code.SELF_APPROVAL


def test_break_glass_runs_at_once_when_the_rule_allows_it_and_is_marked(world: World):
    rule = PolicyRule(TargetKind.QUEUE, "*", break_glass=True)
    w = world.with_policy(Policy(default_approvers=frozenset({"S0SUPERS"}), rules=(rule,)))
    call = w.genesys.add_call()
    request = w.ask(call.id, "Support_Tier2", requester=APPROVER, now=True)
    assert request.state is S.ACCEPTED and request.break_glass
    assert any(e.break_glass and e.reason == "break glass" for e in w.store.audit)
    call = w.genesys.add_call()
    refused = w.ask(call.id, "Support_Tier2", requester=REQUESTER, now=True)
    assert refused.state is S.REFUSED and refused.problem.code is Code.BREAK_GLASS_NOT_ALLOWED


def test_a_rule_allowing_break_glass_does_not_make_ordinary_requests_break_glass(world: World):
    rule = PolicyRule(TargetKind.QUEUE, "*", break_glass=True)
    w = world.with_policy(Policy(default_approvers=frozenset({"S0SUPERS"}), rules=(rule,)))
    _, waiting = pending(w)
    assert not waiting.break_glass
    direct = w.ask(w.genesys.add_call().id, "Support_Tier2", requester=APPROVER)
    assert direct.state is S.ACCEPTED and not direct.break_glass
    assert not any(e.break_glass or e.reason == "break glass" for e in w.store.audit)


def test_break_glass_is_refused_where_the_rule_does_not_allow_it(world: World):
    call = world.genesys.add_call()
    refused = world.ask(call.id, "Support_Tier2", requester=APPROVER, now=True)
    assert refused.state is S.REFUSED and refused.problem.code is Code.BREAK_GLASS_NOT_ALLOWED


def test_operator_command_line_transfers_directly_and_is_audited_as_such(world: World):
    from bot.domain.request import Via
    call = world.genesys.add_call()
    request = world.ask(call.id, "Support_Tier2", requester="cli:root", via=Via.CLI, operator=True)
    assert request.state is S.ACCEPTED
    audit = [e for e in world.store.audit if e.request_id == request.id]
    assert audit[1].reason == "operator command line" and audit[1].via == "cli" and audit[1].direct


def test_operator_cancel(world: World):
    _, request = pending(world)
    result = world.service.operator_cancel(request.id, "cli:root")
    assert result.request.state is S.CANCELLED and result.request.acted_by == "cli:root"
