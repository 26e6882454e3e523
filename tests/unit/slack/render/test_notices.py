"""Private notices to the requester, thread replies, and what a clicker is told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.problems import Code, Problem
from bot.domain.request import RequestState
from bot.service.decisions import ClickOutcome, ClickResult
from bot.slack.origin import MessageRef
from bot.slack.render import CANCEL, PICK_CALL, click_reply, requester_notice, thread_reply
from tests.fakes.memory_genesys import T0
from tests.unit.slack.blockkit import all_text, check_message
from tests.unit.slack.conftest import APPROVER, NOW, REQ_ID, REQUESTER, in_state, make_request, voted

S = RequestState
OTHER_CALL = "9e2b7c1d-0000-4c1e-8f00-1234567890ab"


def notice(request, now=NOW):
    body = check_message(requester_notice(request, now))
    assert body["response_type"] == "ephemeral" and body["replace_original"] is False
    return body


def test_pending_says_where_and_offers_cancel():
    body = notice(make_request(message_ref=MessageRef("C0APPROVE", "1700000000.000100").encode()))
    assert "waiting for a supervisor's approval in <#C0APPROVE>" in body["text"]
    assert "expires at 10:15 UTC" in body["text"]
    (button,) = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["value"]) == (CANCEL, REQ_ID) == ("transfer_cancel", REQ_ID)


def test_pending_without_a_message_yet_names_no_channel():
    body = notice(make_request())
    assert "waiting for a supervisor's approval." in body["text"] and "<#" not in body["text"]


def test_pending_two_person_rule():
    assert "It needs 2 approvals" in notice(voted(make_request(), APPROVER))["text"]


def test_refused_is_worded_with_next_step():
    body = notice(make_request(S.REFUSED, problem=Problem(Code.CALL_IN_QUEUE)))
    assert "Not transferred" in body["text"] and "waiting in a queue" in body["text"] and "*Next:*" in body["text"]


def test_bot_restarted_before_checking():
    body = notice(make_request(S.REFUSED, problem=Problem(Code.BOT_RESTARTED, {"sent": False})))
    assert "The bot restarted before it checked your transfer; nothing was sent" in body["text"]


def test_final_notice_for_a_request_without_a_channel_message():
    body = notice(in_state(S.SUCCEEDED, needs_approval=False))
    assert "Your transfer of call `3f1c2a4e` to *Support Tier 2*" in body["text"]
    assert "Transferred: the customer is now waiting in Support Tier 2." in body["text"]
    assert "`corr-9`" in body["text"]


def test_requester_sees_their_own_number():
    from tests.unit.slack.conftest import targets

    body = notice(make_request(**targets()["number"]))
    assert "+14155550100" in body["text"]


def several_calls(count=3):
    candidates = [{"conversation_id": OTHER_CALL if i == 0 else f"{i:08x}-0000-4c1e-8f00-1234567890ab",
                   "queue": "Support" if i % 2 == 0 else "", "started": (T0 - timedelta(minutes=i)).isoformat()}
                  for i in range(count)]
    problem = Problem(Code.SEVERAL_CALLS, {"agent": "Alice", "chat_user": "U0ALICE01", "candidates": candidates})
    return make_request(S.REFUSED, problem=problem, conversation_id=None, snapshot=None, target=None)


def test_several_calls_offers_one_button_each():
    body = notice(several_calls())
    buttons = [b["accessory"] for b in body["blocks"] if b.get("accessory")]
    assert len(buttons) == 3 and {b["action_id"] for b in buttons} == {PICK_CALL}
    assert buttons[0]["value"] == f"{REQ_ID}:{OTHER_CALL}"
    assert "9e2b7c1d" in buttons[0]["text"]["text"] and "Support" in buttons[0]["text"]["text"]
    assert "2 min 00 s" in all_text(body)  # how long each has been going
    assert "Nothing is transferred until you pick one" in all_text(body)
    assert "<@U0ALICE01> has 3 live calls" in body["text"]


def test_several_calls_are_capped():
    body = notice(several_calls(40))
    assert len([b for b in body["blocks"] if b.get("accessory")]) == 10


def test_thread_reply_mentions_the_requester_with_outcome_who_and_when():
    reply = thread_reply(in_state(S.SUCCEEDED))
    assert reply.startswith(f"<@{REQUESTER}>") and "Transferred" in reply
    assert f"Approved by <@{APPROVER}> at 10:02 UTC." in reply and "`corr-9`" in reply
    denied = thread_reply(in_state(S.DENIED))
    assert f"Denied by <@{APPROVER}> at 10:02 UTC" in denied
    failed = thread_reply(in_state(S.FAILED))
    assert "the caller is still with Alice Agent" in failed and "*Next:*" in failed and "`corr-9`" in failed
    assert "Expired" in thread_reply(in_state(S.EXPIRED))


def reply(result, verb):
    return check_message(click_reply(result, verb))


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (S.SUCCEEDED, f"This request was already approved and transferred by <@{APPROVER}> at 10:02 UTC."),
        (S.APPROVED, f"This request was already approved by <@{APPROVER}> at 10:02 UTC."),
        (S.EXPIRED, "This request was already expired at 10:15 UTC."),
        (S.DENIED, f"already denied by <@{APPROVER}>"),
        (S.CANCELLED, f"already cancelled by <@{REQUESTER}>"),
    ],
)
def test_already(state, expected):
    body = reply(ClickResult(ClickOutcome.ALREADY, in_state(state)), "approve")
    assert expected in body["text"] and body["replace_original"] is False


def test_voted():
    body = reply(ClickResult(ClickOutcome.VOTED, voted(make_request(), APPROVER)), "approve")
    assert "Your approval is recorded (1 of 2)." in body["text"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [(Code.NOT_APPROVER, "only configured transfer approvers"), (Code.SELF_APPROVAL, "Use Cancel to withdraw it"),
     (Code.NOT_REQUESTER, "Only the person who asked"), (Code.ALREADY_VOTED, "already approved this request"),
     (Code.REQUEST_NOT_FOUND, "I don't know that transfer request")],
)
def test_refusals(code, expected):
    body = reply(ClickResult(ClickOutcome.REFUSED, make_request(), Problem(code)), "approve")
    assert expected in body["text"]


def test_done():
    assert "Approved." in reply(ClickResult(ClickOutcome.DONE, in_state(S.ACCEPTED)), "approve")["text"]
    superseded = reply(ClickResult(ClickOutcome.DONE, in_state(S.SUPERSEDED)), "approve")["text"]
    assert "the call changed before approval" in superseded
    assert "Denied." in reply(ClickResult(ClickOutcome.DONE, in_state(S.DENIED)), "deny")["text"]


def test_cancel_replaces_the_notice_its_button_was_on():
    body = reply(ClickResult(ClickOutcome.DONE, in_state(S.CANCELLED)), "cancel")
    assert body["replace_original"] is True and "Cancelled" in body["text"]
    refused = reply(ClickResult(ClickOutcome.REFUSED, make_request(), Problem(Code.NOT_REQUESTER)), "cancel")
    assert refused["replace_original"] is False


def test_pick_replaces_the_choice():
    fresh = make_request(S.PENDING, conversation_id=OTHER_CALL)
    body = reply(ClickResult(ClickOutcome.PICKED, fresh), "pick")
    assert body["replace_original"] is True and "Picked call `9e2b7c1d`" in body["text"]


def test_several_calls_without_a_clock_say_when_each_started():
    body = notice(several_calls(), now=None)
    assert "started 09:58 UTC" in all_text(body)
