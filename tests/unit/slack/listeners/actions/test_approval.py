"""Approve / Deny / Cancel clicks: ack first, remember the message, decide later, answer privately."""

from __future__ import annotations

import pytest

from bot.domain.request import RequestState
from bot.slack.listeners.actions.approval import handle_click
from bot.slack.origin import MessageRef
from tests.unit.service.conftest import APPROVER, OUTSIDER, REQUESTER
from tests.unit.slack.conftest import Harness

S = RequestState
ACTION_HOOK = "https://hooks.slack.com/actions/T1/2/xyz"


def pending(h: Harness):
    call = h.world.genesys.add_call()
    request = h.world.ask(call.id, "Support_Tier2")
    assert request.state is S.PENDING
    return request


def click(value, user=APPROVER, *, container="message", ephemeral=False, response_url=ACTION_HOOK):
    body = {
        "type": "block_actions",
        "user": {"id": user},
        "actions": [{"action_id": "transfer_approve", "value": value}],
        "container": {"type": container, "channel_id": "C0APPROVE", "message_ts": "1700000000.000100",
                      "is_ephemeral": ephemeral},
        "trigger_id": "trig-2",
    }
    if response_url:
        body["response_url"] = response_url
    return body


def run(h: Harness, verb, body):
    handle_click(h.recorder.ack, body, verb, h.deps)
    assert h.recorder.kinds()[0] == "ack"


def test_approve_from_the_channel_message(harness: Harness):
    request = pending(harness)
    calls_before = len(harness.world.genesys.calls)
    run(harness, "approve", click(request.id))
    # Acked, then (after the ack) message remembered and decision handed over: no Genesys work on the
    # listener thread.
    assert harness.recorder.events[:2] == [("ack", calls_before), ("after_ack", "hand_over")]
    assert harness.recorder.kinds() == ["ack", "after_ack", "run_later"]
    assert len(harness.world.genesys.calls) == calls_before
    assert harness.world.store.get(request.id).message_ref == MessageRef("C0APPROVE", "1700000000.000100").encode()
    harness.recorder.run_jobs()
    assert harness.world.store.get(request.id).state is S.ACCEPTED
    (url, body), = harness.delivery.responses
    assert url == ACTION_HOOK and "Approved." in body["text"] and body["response_type"] == "ephemeral"


def test_a_known_message_ref_is_kept(harness: Harness):
    request = pending(harness)
    harness.world.store.set_message_ref(request.id, "C0OTHER:1.2")
    run(harness, "deny", click(request.id))
    assert harness.world.store.get(request.id).message_ref == "C0OTHER:1.2"


def test_ephemeral_and_cancel_clicks_do_not_claim_the_message(harness: Harness):
    request = pending(harness)
    run(harness, "cancel", click(request.id, REQUESTER))
    run(harness, "approve", click(request.id, ephemeral=True))
    assert harness.world.store.get(request.id).message_ref is None


def test_cancel_replaces_the_private_notice(harness: Harness):
    request = pending(harness)
    run(harness, "cancel", click(request.id, REQUESTER, ephemeral=True))
    harness.recorder.run_jobs()
    (_, body), = harness.delivery.responses
    assert body["replace_original"] is True and "Cancelled" in body["text"]
    assert harness.world.store.get(request.id).state is S.CANCELLED


@pytest.mark.parametrize(("verb", "user", "expected"), [
    ("approve", OUTSIDER, "only configured transfer approvers"),
    ("deny", REQUESTER, "your own request"),
    ("cancel", OUTSIDER, "Only the person who asked"),
])
def test_refused_clicks_are_told_privately(harness: Harness, verb, user, expected):
    request = pending(harness)
    run(harness, verb, click(request.id, user))
    harness.recorder.run_jobs()
    (_, body), = harness.delivery.responses
    assert expected in body["text"]
    assert harness.world.store.get(request.id).state is S.PENDING


def test_second_approval_is_already_done(harness: Harness):
    from tests.unit.service.conftest import APPROVER2

    request = pending(harness)
    run(harness, "approve", click(request.id))
    run(harness, "approve", click(request.id, APPROVER2))
    harness.recorder.run_jobs()
    texts = [body["text"] for _, body in harness.delivery.responses]
    assert "Approved." in texts[0] and "already approved" in texts[1] and f"<@{APPROVER}>" in texts[1]
    assert len(harness.world.genesys.transfers) == 1


@pytest.mark.parametrize("value", ["", "not-an-id", "0" * 31, "../../x", "G" * 32])
def test_a_button_that_is_not_ours(harness: Harness, value):
    run(harness, "approve", click(value))
    assert harness.recorder.jobs == []
    (_, body), = harness.delivery.responses
    assert "doesn't belong to a transfer request" in body["text"]


def test_home_clicks_flash_on_home(harness: Harness):
    request = pending(harness)
    run(harness, "approve", click(request.id, container="view", response_url=None))
    harness.recorder.run_jobs()
    assert harness.world.store.get(request.id).message_ref is None
    (user, published), = harness.home.published
    assert user == APPROVER and "Approved." in published["flash"]
    assert harness.delivery.responses == []


def test_no_usable_response_url_falls_back_to_telling_the_user(harness: Harness):
    request = pending(harness)
    run(harness, "deny", click(request.id, response_url="https://evil.example.com/x"))
    harness.recorder.run_jobs()
    (user, body, kw), = harness.delivery.told
    assert user == APPROVER and "Denied." in body["text"] and kw["channel"] == "C0APPROVE"


def test_service_failure_is_reported_not_raised(harness: Harness, monkeypatch, caplog):
    request = pending(harness)

    def boom(*a, **k):
        raise RuntimeError("db exploded")

    monkeypatch.setattr(harness.deps.service, "approve", boom)
    run(harness, "approve", click(request.id))
    harness.recorder.run_jobs()
    (_, body), = harness.delivery.responses
    assert "Something went wrong" in body["text"] and "approve of request" in caplog.text


def test_a_click_without_a_user_is_ignored(harness: Harness):
    body = click("0" * 32)
    body["user"] = {}
    run(harness, "approve", body)
    assert harness.recorder.jobs == [] and harness.delivery.responses == []


def test_a_failing_message_bookkeeping_does_not_lose_the_click(harness: Harness, monkeypatch):
    request = pending(harness)

    def down(*a, **k):
        raise RuntimeError("db down")

    monkeypatch.setattr(harness.world.store, "set_message_ref", down)
    run(harness, "approve", click(request.id))
    assert harness.recorder.kinds() == ["ack", "after_ack", "run_later"]
