"""The channel message of a direct transfer: sent → confirmed or the plain truth about a failure."""

from __future__ import annotations

import json

import pytest

from bot.domain.problems import Code, Problem
from bot.domain.request import RequestState
from bot.domain.target import Target, TargetKind
from bot.slack.render import result_message
from tests.unit.slack.blockkit import all_text, check_message
from tests.unit.slack.conftest import NOW, REQUESTER, in_state, targets

S = RequestState


def direct(state: S, **changes):
    return in_state(state, needs_approval=False, acted_by=REQUESTER, expires_at=None, **changes)


def render(request):
    return check_message(result_message(request, NOW))


def test_sent_then_confirmed():
    sent = render(direct(S.ACCEPTED))
    assert "Transfer sent; waiting for Genesys to confirm…" in sent["text"]
    assert f"<@{REQUESTER}>" in sent["text"] and "call `3f1c2a4e`" in sent["text"]
    assert "Support Tier 2 had 3 available, 5 waiting, ~2 min wait" in sent["text"]
    done = render(direct(S.SUCCEEDED))
    assert "Transferred: the customer is now waiting in Support Tier 2." in done["text"]
    assert "Genesys confirmed" in done["text"] and "`corr-9`" in done["text"]
    assert "Approved by" not in done["text"]


def test_failure_after_acceptance_names_who_still_has_the_caller():
    text = render(direct(S.FAILED))["text"]
    assert "Genesys accepted the transfer but it failed (Timeout); the caller is still with Alice Agent" in text


def test_never_confirmed_says_so_plainly():
    text = render(direct(S.UNCERTAIN))["text"]
    assert "Genesys accepted the transfer but never confirmed it" in text and "`corr-9`" in text


def test_failed_send_with_uncertain_outcome():
    request = direct(S.UNCERTAIN, problem=Problem(Code.UNCERTAIN, {"during": "sending_transfer"}, "corr-7"))
    text = render(request)["text"]
    assert "may or may not have happened" in text and "I did not resend it" in text and "`corr-7`" in text


@pytest.mark.parametrize("kind", ["queue", "agent", "number"])
@pytest.mark.parametrize("state", list(S))
def test_every_state_and_target_is_valid_and_masks_numbers(state, kind):
    body = render(direct(state, **targets()[kind]))
    assert "+14155550100" not in json.dumps(body)


def test_break_glass_is_announced():
    body = render(direct(S.ACCEPTED, break_glass=True))
    assert "Break glass" in all_text(body)


def test_hostile_queue_name_pings_nobody():
    body = render(direct(S.SUCCEEDED, target=Target(TargetKind.QUEUE, "q", "<!channel> & friends")))
    assert "<!channel>" not in json.dumps(body)
    assert "&lt;!channel&gt; &amp; friends" in body["text"]
    assert all(b["text"]["verbatim"] for b in body["blocks"] if b["type"] == "section")
