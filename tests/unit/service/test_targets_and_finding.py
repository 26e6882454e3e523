"""Targets (queue, agent, number), media, and finding the call by its agent."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.conversation import Media, QueueHealth
from bot.domain.policy import Policy
from bot.domain.problems import Code
from bot.domain.request import RequestState as S
from bot.domain.target import TargetKind
from bot.service.decisions import ClickOutcome
from tests.unit.service.conftest import REQUESTER, World


def test_queue_names_match_loosely_and_suggest(open_world: World):
    w = open_world
    call = w.genesys.add_call()
    assert w.ask(call.id, "support tier2").target.name == "Support_Tier2"
    call = w.genesys.add_call()
    refused = w.ask(call.id, "Suport_Tier2x")
    assert refused.problem.code is Code.QUEUE_NOT_FOUND
    w.service.ctx.queues.refresh_catalog()
    call = w.genesys.add_call()
    refused = w.ask(call.id, "Suport_Tier2x")
    assert "Support_Tier2" in refused.problem.fact("suggestions")


def test_a_typed_star_never_reaches_the_name_filter(open_world: World):
    w = open_world
    call = w.genesys.add_call()
    assert w.ask(call.id, "*").problem.code is Code.QUEUE_NOT_FOUND
    assert w.genesys.transfers == []


def test_same_name_in_two_divisions_is_ambiguous_until_qualified(open_world: World):
    w = open_world
    emea = w.genesys.add_queue("Billing", "EMEA")
    w.genesys.add_queue("Billing", "Home")
    call = w.genesys.add_call()
    refused = w.ask(call.id, "Billing")
    assert refused.problem.code is Code.QUEUE_AMBIGUOUS and len(refused.problem.fact("candidates")) == 2
    call = w.genesys.add_call()
    assert w.ask(call.id, "Billing (EMEA)").target.id == emea.id
    call = w.genesys.add_call()
    assert w.ask(call.id, f"queue-id:{emea.id}").target.id == emea.id


def test_agent_target_and_its_refusals(open_world: World):
    w = open_world
    bob = w.genesys.add_user("Bob", "bob@example.com", routing_status="IDLE")
    call = w.genesys.add_call()
    done = w.ask(call.id, "agent-email:bob@example.com")
    assert done.state is S.ACCEPTED and done.target.kind is TargetKind.AGENT and done.target.id == bob.id
    assert done.snapshot.target_routing_status == "IDLE"
    same = w.genesys.add_call(agent=bob)
    assert w.ask(same.id, "agent-email:bob@example.com").problem.code is Code.AGENT_ALREADY_ON_CALL
    w.genesys.users[bob.id] = replace(bob, active=False)
    call = w.genesys.add_call()
    assert w.ask(call.id, "agent-email:bob@example.com").problem.code is Code.AGENT_INACTIVE
    w.genesys.users[bob.id] = replace(bob, has_station=False)
    call = w.genesys.add_call()
    assert w.ask(call.id, "agent-email:bob@example.com").problem.code is Code.AGENT_NO_STATION
    chat = w.genesys.add_call(media=Media.CHAT)  # a station rings calls; a chat doesn't need one
    assert w.ask(chat.id, "agent-email:bob@example.com").state is S.ACCEPTED
    callback = w.genesys.add_call(media=Media.CALLBACK)  # the agent dials a callback from their station
    assert w.ask(callback.id, "agent-email:bob@example.com").problem.code is Code.AGENT_NO_STATION
    call = w.genesys.add_call()
    assert w.ask(call.id, "agent-email:nobody@example.com").problem.code is Code.AGENT_NOT_FOUND
    assert len(w.genesys.transfers) == 2


def test_numbers_are_off_by_default_limited_by_prefix_and_need_approval(world: World):
    w = world
    call = w.genesys.add_call()
    assert w.ask(call.id, "number:+14155550100").problem.code is Code.NUMBERS_DISABLED
    w.with_config(external_prefixes=("+1",))
    call = w.genesys.add_call()
    refused = w.ask(call.id, "number:+442071234567")
    assert refused.problem.code is Code.NUMBER_NOT_ALLOWED and refused.problem.fact("masked") == "+44 207 ••• 4567"
    call = w.genesys.add_call()
    assert w.ask(call.id, "number:+14155550100").state is S.PENDING
    w.with_policy(Policy(default_approvers=w.policy.default_approvers, external_no_approval=True))
    call = w.genesys.add_call()
    assert w.ask(call.id, "number:+14155550100").state is S.ACCEPTED
    chat = w.genesys.add_call(media=Media.CHAT)
    assert w.ask(chat.id, "number:+14155550100").problem.code is Code.NUMBER_NEEDS_VOICE
    assert [t.kind for _, _, t in w.genesys.transfers] == [TargetKind.NUMBER]


def test_numbers_need_an_approver_to_exist(open_world: World):
    w = open_world.with_config(external_prefixes=("+1",))
    call = w.genesys.add_call()
    assert w.ask(call.id, "number:+14155550100").problem.code is Code.NO_APPROVERS


def test_chats_emails_and_callbacks_move_like_calls(open_world: World):
    w = open_world
    for media in (Media.CHAT, Media.EMAIL, Media.CALLBACK):
        conversation = w.genesys.add_call(media=media)
        done = w.ask(conversation.id, "Support_Tier1")
        assert done.state is S.ACCEPTED and done.media is media


def test_me_and_agent_mentions_find_the_live_call(open_world: World):
    w = open_world
    lead = w.genesys.add_user("Lead", "lead@example.com")
    call = w.genesys.add_call(agent=lead)
    assert w.ask("me", "Support_Tier2").conversation_id == call.id
    w.people.emails["U0ALICE"] = "alice@example.com"
    alice = w.genesys.add_user("Alice", "alice@example.com")
    assert w.ask("agent-chat:U0ALICE", "Support_Tier2").problem.code is Code.NO_LIVE_CALL
    call = w.genesys.add_call(agent=alice)
    w.genesys.live[alice.id].append(replace(w.genesys.live[alice.id][0], conversation_id="chat-1", media=Media.CHAT))
    assert w.ask("agent-chat:U0ALICE", "Support_Tier1").conversation_id == call.id


def test_several_calls_then_a_pick(open_world: World):
    w = open_world
    w.people.emails["U0ALICE"] = "alice@example.com"
    alice = w.genesys.add_user("Alice", "alice@example.com")
    w.genesys.add_call(agent=alice)
    second = w.genesys.add_call(agent=alice)
    asked = w.ask("agent-chat:U0ALICE", "Support_Tier2")
    assert asked.state is S.REFUSED and asked.problem.code is Code.SEVERAL_CALLS
    assert len(asked.problem.fact("candidates")) == 2 and w.genesys.transfers == []
    assert w.service.pick(asked.id, second.id, "U0SOMEONE").problem.code is Code.NOT_REQUESTER
    assert w.service.pick(asked.id, "not-offered", REQUESTER).problem.code is Code.REQUEST_NOT_FOUND
    picked = w.service.pick(asked.id, second.id, REQUESTER)
    assert picked.outcome is ClickOutcome.PICKED and picked.request.state is S.RECEIVED
    assert w.service.process(picked.request.id).state is S.ACCEPTED
    assert w.genesys.transfers[0][0] == second.id


def test_emails_slack_hides_or_genesys_lacks_are_told_apart(open_world: World):
    w = open_world
    w.people.emails["U0HIDDEN"] = None
    assert w.ask("agent-chat:U0HIDDEN", "Support_Tier2").problem.code is Code.CHAT_EMAIL_HIDDEN
    w.people.emails["U0GHOST"] = "ghost@example.com"
    refused = w.ask("agent-chat:U0GHOST", "Support_Tier2")
    assert refused.problem.code is Code.NO_GENESYS_USER and refused.problem.fact("email") == "ghost@example.com"


def test_supervisors_see_queue_health_and_the_queue_at_request_time(world: World):
    w = world
    tier2 = next(q for q in w.genesys.queues.values() if q.name == "Support_Tier2")
    tier1 = next(q for q in w.genesys.queues.values() if q.name == "Support_Tier1")
    w.genesys.health[tier2.id] = QueueHealth(3, 5, 42.0)
    call = w.genesys.add_call(queue=tier1)
    request = w.ask(call.id, "Support_Tier2")
    assert request.snapshot.target_health == QueueHealth(3, 5, 42.0)
    assert request.snapshot.queue_at_request_name == "Support_Tier1"


def test_typeahead_ranks_exact_prefix_substring_from_cache_only(open_world: World):
    w = open_world
    for name in ("Tier 2 Overflow", "Support Tier 2", "Billing"):
        w.genesys.add_queue(name)
    dq = w.service.ctx.queues
    assert dq.search("tier2") == []  # nothing cached yet: never waits on Genesys
    dq.refresh_catalog()
    calls_before = len(w.genesys.calls)
    names = [o.queue.name for o in dq.search("tier2")]
    assert names[0] == "Tier 2 Overflow" and set(names) == {"Tier 2 Overflow", "Support Tier 2", "Support_Tier2"}
    assert len(w.genesys.calls) == calls_before
    tier = next(q for q in w.genesys.queues.values() if q.name == "Support Tier 2")
    w.genesys.health[tier.id] = QueueHealth(1, 2)
    assert dq.refresh_health() >= 1
    assert next(o.health for o in dq.search("support tier 2")) == QueueHealth(1, 2, None)
    assert w.genesys.calls.count("queue_health") == 1
