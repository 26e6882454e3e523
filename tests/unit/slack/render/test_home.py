"""The Home tab: approvers' decisions (paged under Slack's 100-block limit), everyone else's own requests."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from bot.domain.request import RequestState
from bot.slack.render import APPROVE, DENY, OPEN_MODAL, PAGE_NEXT, PAGE_PREV, home_view
from tests.fakes.memory_genesys import T0
from tests.unit.slack.blockkit import all_text, check_view
from tests.unit.slack.conftest import APPROVER, NOW, REQUESTER, in_state, make_request, targets

S = RequestState


def many_pending(count):
    return [make_request(id=f"{i:032x}", expires_at=T0 + timedelta(minutes=15, seconds=count - i),
                         requester_id=f"U0REQ{i:05d}") for i in range(count)]


def approver_home(pending, recent=(), page=0, flash=None):
    return check_view(home_view(APPROVER, approver=True, pending=list(pending), recent=list(recent), mine=[],
                                show_number=lambda r: True, now=NOW, flash=flash, page=page))


def buttons(view):
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]] + \
        [b["accessory"] for b in view["blocks"] if b.get("accessory")]


def test_approver_sees_pending_with_the_channel_buttons():
    view = approver_home([make_request()], recent=[in_state(S.SUCCEEDED)])
    assert view["type"] == "home"
    decision = [b for b in buttons(view) if b["action_id"] in (APPROVE, DENY)]
    assert [(b["action_id"], b["value"]) for b in decision] == [(APPROVE, make_request().id), (DENY, make_request().id)]
    text = all_text(view)
    assert f"<@{REQUESTER}>" in text and "Alice Agent" in text and "asked 2 min 00 s ago" in text
    assert "expires in 13 min 00 s" in text and "queue at request time: Sales" in text
    assert "Recently finished" in text and "Transferred" in text and "correlation id `corr-9`" in text
    assert OPEN_MODAL in [b["action_id"] for b in buttons(view)]


def test_an_approvers_own_request_offers_cancel_not_approve():
    view = approver_home([make_request(requester_id=APPROVER)])
    assert [b["action_id"] for b in buttons(view) if b["action_id"] != OPEN_MODAL] == ["transfer_cancel"]


def test_two_hundred_pending_fit_and_page():
    pending = many_pending(200)
    view = approver_home(pending, recent=[in_state(S.SUCCEEDED)] * 20)
    assert len(view["blocks"]) <= 100
    assert "and 180 more waiting (oldest first); use Next/Previous" in all_text(view)
    decided = [b["value"] for b in buttons(view) if b["action_id"] == APPROVE]
    expected = [r.id for r in sorted(pending, key=lambda r: r.expires_at)[:20]]
    assert decided == expected  # soonest to expire first
    nav = {b["action_id"]: b["value"] for b in buttons(view) if b["action_id"] in (PAGE_NEXT, PAGE_PREV)}
    assert nav == {PAGE_NEXT: "1"}
    second = approver_home(pending, page=1)
    nav = {b["action_id"]: b["value"] for b in buttons(second) if b["action_id"] in (PAGE_NEXT, PAGE_PREV)}
    assert nav == {PAGE_NEXT: "2", PAGE_PREV: "0"} and "Showing 21–40 of 200" in all_text(second)
    last = approver_home(pending, page=99)  # clamped to the last page
    assert "Showing 181–200 of 200" in all_text(last)
    assert {b["action_id"] for b in buttons(last)} >= {PAGE_PREV} and PAGE_NEXT not in json.dumps(last)


def test_every_text_is_non_empty_even_with_hostile_names():
    pending = [replace(r, requester_id="<!channel>") for r in many_pending(30)]
    view = approver_home(pending, recent=[in_state(s) for s in S if s.is_final] * 3, flash="Done <@U0X1>.")
    assert "<!channel>" not in json.dumps(view)
    assert view["blocks"][1]["text"]["text"] == "Done <@U0X1>."


def test_empty_queue_says_so():
    view = approver_home([])
    assert "Nothing is waiting for approval right now." in all_text(view)
    assert "No finished transfers yet." in all_text(view)


def test_numbers_follow_show_number():
    request = make_request(**targets()["number"])
    masked = check_view(home_view(APPROVER, approver=True, pending=[request], recent=[], mine=[],
                                  show_number=lambda r: False, now=NOW))
    assert "+14155550100" not in json.dumps(masked) and "+1 415 ••• 0100" in all_text(masked)


def test_requester_sees_own_requests_usage_and_the_form_button():
    mine = [make_request(), in_state(S.ACCEPTED, id="1" * 32), in_state(S.DENIED, id="2" * 32)]
    view = check_view(home_view(REQUESTER, approver=False, pending=[], recent=[], mine=mine,
                                show_number=lambda r: True, now=NOW, flash=None))
    ids = [b["action_id"] for b in buttons(view)]
    assert ids.count("transfer_cancel") == 1 and OPEN_MODAL in ids and APPROVE not in ids
    text = all_text(view)
    assert "Your open requests" in text and "Your recent requests" in text and "Denied by" in text
    assert "*Usage:*" in text


def test_requester_with_nothing():
    view = check_view(home_view(REQUESTER, approver=False, pending=[], recent=[], mine=[],
                                show_number=lambda r: False, now=NOW))
    assert "You have no open transfer requests." in all_text(view)


def test_many_own_requests_still_fit():
    mine = [make_request(id=f"{i:032x}") for i in range(60)] + [in_state(S.SUCCEEDED, id=f"{i + 100:032x}")
                                                                 for i in range(60)]
    view = check_view(home_view(REQUESTER, approver=False, pending=[], recent=[], mine=mine,
                                show_number=lambda r: False, now=NOW))
    assert len(view["blocks"]) <= 100
