"""A process that stops leaves work behind; another one finishes or reports it, never resending."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from bot.domain.problems import Code
from bot.domain.request import Ask, Via
from bot.domain.request import RequestState as S
from tests.unit.service.conftest import APPROVER, World


def crash_at(w: World, state: S):
    """Leave a request in `state` as a dead process would: leased to it, lease about to run out."""
    call = w.genesys.add_call()
    svc = w.service
    stored = svc.receive(Ask(call.id, "Support_Tier2"), APPROVER)
    if state is S.RECEIVED:
        return call, stored
    if state is S.APPROVED:
        w.genesys.before_transfer = _boom
        with contextlib.suppress(RuntimeError):
            svc.intake.process(stored.id)
        w.genesys.before_transfer = None
        # approved → executing happened before the POST blew up; rewind to "approved, not sent"
        row = w.store._rows[stored.id]
        from dataclasses import replace
        row.request = replace(row.request, state=S.APPROVED, sent_at=None)
        w.genesys.calls.clear()
        return call, row.request
    w.genesys.before_transfer = _boom if state is S.EXECUTING else None
    with contextlib.suppress(RuntimeError):
        svc.intake.process(stored.id)
    w.genesys.before_transfer = None
    return call, w.store.get(stored.id)


def _boom():
    raise RuntimeError("process killed")


def test_nothing_is_claimed_while_the_lease_is_live(world: World):
    crash_at(world, S.RECEIVED)
    world.service.ctx.instance_id = "other-replica"
    assert world.service.abandoned() == []
    world.clock.advance(16)
    assert len(world.service.abandoned()) == 1


def test_a_received_request_is_carried_on_by_the_next_process(world: World):
    _call, _request = crash_at(world, S.RECEIVED)
    world.clock.advance(16)
    [claimed] = world.service.abandoned()
    done = world.service.recover(claimed)
    assert done.state is S.ACCEPTED and len(world.genesys.transfers) == 1


def test_a_command_line_request_left_received_is_closed_not_judged_under_slack_rules(world: World):
    call = world.genesys.add_call()
    world.service.receive(Ask(call.id, "Support_Tier2"), "cli:ops", via=Via.CLI)  # the operator's process died
    world.clock.advance(16)
    done = world.service.recover(world.service.abandoned()[0])
    assert done.state is S.REFUSED and done.problem.code is Code.BOT_RESTARTED
    assert world.genesys.transfers == [] and world.store.open_for_conversation(call.id) is None


def test_a_stale_received_request_is_closed_as_not_done(world: World):
    crash_at(world, S.RECEIVED)
    world.clock.advance(600)
    done = world.service.recover(world.service.abandoned()[0])
    assert done.state is S.REFUSED and done.problem.code is Code.BOT_RESTARTED
    assert world.genesys.transfers == []


def test_an_approved_request_is_sent_once_after_a_restart(world: World):
    _call, _request = crash_at(world, S.APPROVED)
    world.clock.advance(16)
    done = world.service.recover(world.service.abandoned()[0])
    assert done.state is S.ACCEPTED and len(world.genesys.transfers) == 1


def test_an_old_approved_request_is_closed_with_nothing_sent(world: World):
    crash_at(world, S.APPROVED)
    world.clock.advance(3600)
    done = world.service.recover(world.service.abandoned()[0])
    assert done.state is S.FAILED and done.problem.code is Code.BOT_RESTARTED
    assert world.genesys.transfers == []


def test_executing_whose_post_never_reached_genesys_is_not_transferred(world: World):
    _call, request = crash_at(world, S.EXECUTING)
    assert request.state is S.EXECUTING
    world.clock.advance(16)
    done = world.service.recover(world.service.abandoned()[0])
    assert done.state is S.FAILED and done.problem.code is Code.BOT_RESTARTED
    assert world.genesys.transfers == []


def test_executing_whose_post_went_through_is_reported_transferred_without_resending(world: World):
    call, request = crash_at(world, S.EXECUTING)
    world.genesys.settle_on_transfer = "Complete"
    world.genesys.transfer(call.id, request.snapshot.agent_participant_id, request.target)  # Genesys got it
    world.clock.advance(16)
    done = world.service.recover(world.service.abandoned()[0])
    assert done.state is S.SUCCEEDED
    assert len(world.genesys.transfers) == 1


def test_executing_with_a_pending_entry_goes_back_to_confirming(world: World):
    call, request = crash_at(world, S.EXECUTING)
    world.genesys.transfer(call.id, request.snapshot.agent_participant_id, request.target)
    world.clock.advance(16)
    done = world.service.recover(world.service.abandoned()[0])
    assert done.state is S.ACCEPTED and done.confirm_deadline is not None
    world.genesys.settle(call.id)
    world.clock.advance(1)
    assert world.service.check(world.service.due_checks()[0]).state is S.SUCCEEDED


def test_executing_when_the_call_moved_elsewhere_is_uncertain(world: World):
    call, _request = crash_at(world, S.EXECUTING)
    world.genesys.change_agent(call.id)
    world.clock.advance(16)
    done = world.service.recover(world.service.abandoned()[0])
    assert done.state is S.UNCERTAIN and done.problem.code is Code.UNCERTAIN
    assert world.genesys.transfers == []


def test_recovery_read_failure_retries_later(world: World):
    from bot.ports.genesys import GenesysUnavailable
    _call, request = crash_at(world, S.EXECUTING)
    world.clock.advance(16)
    world.genesys.fail("get_conversation", GenesysUnavailable("down", operation="get_call"))
    assert world.service.recover(world.service.abandoned()[0]) is None
    assert world.store.get(request.id).state is S.EXECUTING
    world.clock.advance(1)
    assert world.service.recover(world.service.abandoned()[0]).state is S.FAILED


def test_a_handed_over_lease_is_picked_up_after_one_lease_period(world: World):
    crash_at(world, S.RECEIVED)
    world.clock.advance(10)
    world.service.hand_over()  # renewed to now + 15 s, and no longer this process's
    world.clock.advance(10)
    assert world.service.abandoned() == []
    world.clock.advance(6)
    assert len(world.service.abandoned()) == 1


def test_heartbeat_keeps_leases_of_live_work(world: World):
    _, _request = crash_at(world, S.RECEIVED)
    world.clock.advance(10)
    assert world.service.heartbeat() == 1
    world.clock.advance(10)
    world.service.ctx.instance_id = "other"
    assert world.service.abandoned() == []


def test_retention_purges_old_finished_requests_only(world: World):
    call = world.genesys.add_call()
    old = world.ask(call.id, "Nope")
    assert old.state is S.REFUSED
    call2 = world.genesys.add_call()
    live = world.ask(call2.id, "Support_Tier2")
    world.clock.advance(timedelta(days=91).total_seconds())
    assert world.service.purge_old() == 1
    assert world.store.get(old.id) is None and world.store.get(live.id) is not None


def test_retention_clears_a_backlog_larger_than_one_batch_in_one_sweep(world: World):
    refused = [world.ask(world.genesys.add_call().id, "Nope") for _ in range(7)]
    assert all(r.state is S.REFUSED for r in refused)
    world.clock.advance(timedelta(days=91).total_seconds())
    assert world.service.purge_old(batch=3) == 7  # batches of 3, 3, 1 in one sweep
    assert all(world.store.get(r.id) is None for r in refused)
    assert world.service.purge_old(batch=3) == 0
