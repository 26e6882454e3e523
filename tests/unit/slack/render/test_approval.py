"""The approval message: what an approver needs while pending, the truth in place once it moves on."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.domain.conversation import Media, QueueHealth
from bot.domain.problems import Code, Problem
from bot.domain.request import RequestState
from bot.domain.target import Target, TargetKind
from bot.slack.render import APPROVE, DENY, approval_message, break_glass_notice
from tests.unit.slack.blockkit import all_text, check_message
from tests.unit.slack.conftest import (
    APPROVER,
    CONV,
    NOW,
    REQ_ID,
    REQUESTER,
    in_state,
    make_request,
    targets,
    voted,
)

S = RequestState


def render(request, show_number=False):
    return check_message(approval_message(request, NOW, show_number=show_number))


def test_pending_shows_what_an_approver_decides_on():
    body = render(make_request())
    text = all_text(body)
    assert f"<@{REQUESTER}> asks to transfer a call to *Support Tier 2*" in text
    assert "Support Tier 2 had 3 available, 5 waiting, ~2 min wait" in text
    assert "*Queue at request time:* Sales" in text and "Current queue" not in text
    assert "*Agent on it:* Alice Agent" in text
    assert "4 min 10 s when requested" in text
    assert "call `3f1c2a4e`" in text
    assert "Expires at 10:15 UTC if nobody acts" in text
    assert body["text"].startswith("Transfer approval needed")


def test_pending_has_approve_and_deny_buttons():
    body = render(make_request())
    actions = [b for b in body["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1 and actions[0]["block_id"] == f"approval:{REQ_ID}"
    approve, deny = actions[0]["elements"]
    assert (approve["action_id"], approve["style"], approve["value"]) == (APPROVE, "primary", REQ_ID)
    assert (deny["action_id"], deny["style"], deny["value"]) == (DENY, "danger", REQ_ID)
    assert (APPROVE, DENY) == ("transfer_approve", "transfer_deny")


def test_no_expiry_means_no_empty_context():
    body = render(make_request(expires_at=None))
    assert "Expires" not in all_text(body)
    assert all(b["elements"] for b in body["blocks"] if b["type"] == "context")


def test_votes_so_far():
    body = render(voted(make_request(), APPROVER))
    assert f"1 of 2 approvals: <@{APPROVER}>" in all_text(body)


def test_two_person_rule_says_so_before_any_vote():
    body = render(replace(make_request(), approvals_required=2))
    assert "Needs 2 approvals" in all_text(body)


@pytest.mark.parametrize(("media", "noun"), [(Media.CALL, "a call"), (Media.CHAT, "a chat"),
                                             (Media.EMAIL, "an email"), (Media.CALLBACK, "a callback")])
def test_interaction_kind(media, noun):
    request = make_request()
    request = replace(request, snapshot=replace(request.snapshot, media=media))
    text = all_text(render(request))
    kind = noun.split()[1]
    assert f"transfer {noun} to" in text and f"{kind} `3f1c2a4e`" in text
    assert f"*{kind.capitalize()} going for:*" in text


def test_agent_target_shows_routing_status():
    request = make_request(**targets()["agent"])
    request = replace(request, snapshot=replace(request.snapshot, target_routing_status="ON_QUEUE",
                                                target_health=None))
    text = all_text(render(request))
    assert "Bob (agent, bob@example.com); on queue when asked" in text


def test_number_is_masked_unless_the_audience_may_see_it():
    request = make_request(**targets()["number"])
    assert "+1 415 ••• 0100" in all_text(render(request)) and "+14155550100" not in json.dumps(render(request))
    assert "+14155550100" in all_text(render(request, show_number=True))


def test_unknown_health_shows_just_the_name():
    request = make_request()
    request = replace(request, snapshot=replace(request.snapshot, target_health=QueueHealth()))
    text = all_text(render(request))
    assert "*Target:* Support Tier 2\n" in text and "had" not in text


@pytest.mark.parametrize("state", [s for s in S if s is not S.PENDING])
@pytest.mark.parametrize("kind", ["queue", "agent", "number"])
def test_every_state_renders_in_place_without_buttons(state, kind):
    body = render(in_state(state, **targets()[kind]))
    assert not [b for b in body["blocks"] if b["type"] == "actions"]
    assert "Queue at request time:" in all_text(body)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (in_state(S.ACCEPTED), ["Transfer sent; waiting for Genesys to confirm…",
                                f"Approved by <@{APPROVER}> at 10:02 UTC", "`corr-9`"]),
        (in_state(S.EXECUTING), ["Transfer sent; waiting for Genesys to confirm…"]),
        (in_state(S.SUCCEEDED), ["Transferred: the customer is now waiting in Support Tier 2.",
                                 f"Approved by <@{APPROVER}> at 10:02 UTC", "Genesys confirmed at 10:03 UTC"]),
        (in_state(S.SUCCEEDED, **targets()["agent"]), ["Transferred: the customer is now with Bob."]),
        (in_state(S.SUCCEEDED, **targets()["number"]), ["Transferred: the call now goes to +1 415 ••• 0100."]),
        (in_state(S.DENIED), [f"Denied by <@{APPROVER}> at 10:02 UTC", "Nothing was sent"]),
        (in_state(S.CANCELLED), ["Cancelled by the requester at 10:02 UTC"]),
        (in_state(S.CANCELLED, acted_by="cli:alice"), ["Cancelled by operator alice"]),
        (in_state(S.EXPIRED), ["Expired: nobody approved it in time (at 10:15 UTC)"]),
        (in_state(S.SUPERSEDED), ["the call changed before approval", "agent on the call changed (Alice Agent → Bob)",
                                  f"Approved by <@{APPROVER}>"]),
        (in_state(S.SUPERSEDED, problem=Problem(Code.CALL_ENDED)), ["already ended"]),
        (in_state(S.FAILED), ["Genesys accepted the transfer but it failed (Timeout); the caller is still with "
                              "Alice Agent", "`corr-9`"]),
        (in_state(S.UNCERTAIN), ["never confirmed", "`corr-9`", "I did not resend it"]),
    ],
    ids=lambda v: v.state.value if hasattr(v, "state") else None,
)
def test_outcomes_say_who_and_when(request_, expected):
    text = all_text(render(request_))
    for phrase in expected:
        assert phrase in text, phrase


def test_break_glass_says_so_prominently():
    body = render(in_state(S.ACCEPTED, break_glass=True, needs_approval=False))
    assert "Break glass" in body["blocks"][0]["text"]["text"]


def test_hostile_and_huge_names_are_escaped_and_cut():
    name = "<!channel> & " + "Q&A <x> " * 400
    request = make_request(target=Target(TargetKind.QUEUE, "q", name), snapshot=replace(
        make_request().snapshot, agent_name="<!here>", queue_at_request_name="<@U0NOBODY> & co"))
    for state in (S.PENDING, S.SUCCEEDED):
        body = render(replace(request, state=state))
        raw = json.dumps(body)
        assert "<!channel>" not in raw and "<!here>" not in raw and "<@U0NOBODY>" not in raw
        assert "&lt;!channel&gt; &amp;" in all_text(body)


def test_conversation_never_found_is_described_from_the_ask():
    request = make_request(S.REFUSED, conversation_id=None, snapshot=None, target=None,
                           ask=replace(make_request().ask, call="agent-chat:U0ALICE01"),
                           problem=Problem(Code.NO_LIVE_CALL, {"chat_user": "U0ALICE01"}))
    text = all_text(render(request))
    assert "<@U0ALICE01>'s live call" in text and "has no live call" in text


def test_break_glass_notice():
    request = in_state(S.ACCEPTED, break_glass=True, needs_approval=False, acted_by=REQUESTER)
    body = check_message(break_glass_notice(request))
    text = all_text(body)
    assert "Break glass" in text and "`/transfer --now`" in text and f"<@{REQUESTER}>" in text
    assert "call `3f1c2a4e`" in text and "without waiting for approval" in text
    assert "Sent at 10:02 UTC" in text and CONV[:8] in body["text"]


def test_an_overdue_request_says_it_is_closing():
    from datetime import timedelta

    request = make_request()
    body = check_message(approval_message(request, request.expires_at + timedelta(seconds=5), show_number=False))
    assert "Expired at 10:15 UTC; closing it" in all_text(body)
