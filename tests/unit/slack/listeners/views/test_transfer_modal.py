"""The form's submission: errors keep it open and send nothing; a valid one is stored, acked, processed."""

from __future__ import annotations

import json

from bot.domain.request import RequestState
from bot.slack.listeners.views.transfer_modal import STORE_DOWN, handle_submission
from bot.slack.origin import decode_origin
from tests.unit.slack.conftest import REQUESTER, Harness

S = RequestState
FORM_HOOK = "https://hooks.slack.com/app/T1/4/form"


def view(call=None, agent=None, queue=None, channel=None):
    values = {
        "call": {"call": {"type": "plain_text_input", "value": call}},
        "agent": {"agent": {"type": "users_select", "selected_user": agent}},
        "queue": {"queue": {"type": "external_select",
                            "selected_option": {"text": {"type": "plain_text", "text": "Q"}, "value": queue}
                            if queue else None}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": channel}},
    }
    return {"callback_id": "transfer_modal", "state": {"values": values},
            "private_metadata": json.dumps({"channel": "C0SUPPORT"})}


def body(v, channel=None):
    urls = [{"block_id": "channel", "action_id": "channel", "channel_id": channel, "response_url": FORM_HOOK}]
    return {"type": "view_submission", "user": {"id": REQUESTER}, "view": v,
            "response_urls": urls if channel else []}


def queue_id(h: Harness) -> str:
    return next(q.id for q in h.world.genesys.queues.values() if q.name == "Support_Tier2")


def test_field_errors_keep_the_form_open_and_send_nothing(harness: Harness):
    v = view(call="nope")
    handle_submission(harness.recorder.ack, body(v), v, harness.deps)
    (ack,) = harness.recorder.acks
    assert ack["response_action"] == "errors" and set(ack["errors"]) == {"call", "queue"}
    assert harness.world.store._rows == {} and harness.recorder.jobs == []


def test_valid_submission_is_stored_acked_and_processed(harness: Harness):
    call = harness.world.genesys.add_call()
    v = view(call=call.id, queue=queue_id(harness), channel="C0SUPPORT")
    handle_submission(harness.recorder.ack, body(v, "C0SUPPORT"), v, harness.deps)
    assert harness.recorder.acks == [{}]  # closes the form
    assert harness.recorder.kinds() == ["ack", "after_ack", "tell_user", "run_later"]
    (request,) = [row.request for row in harness.world.store._rows.values()]
    assert request.state is S.RECEIVED and request.ask.target == f"queue-id:{queue_id(harness)}"
    assert decode_origin(request.origin, "?").channel == "C0SUPPORT"
    assert harness.state.urls[request.id][0] == FORM_HOOK
    user, notice, kw = harness.delivery.told[0]
    assert user == REQUESTER and "Working on it" in notice["text"] and kw["response_url"] == FORM_HOOK
    harness.recorder.run_jobs()
    assert harness.world.store.get(request.id).state is S.PENDING


def test_no_channel_means_the_requester_gets_a_dm(harness: Harness):
    call = harness.world.genesys.add_call()
    v = view(call=call.id, queue=queue_id(harness))
    handle_submission(harness.recorder.ack, body(v), v, harness.deps)
    (request,) = [row.request for row in harness.world.store._rows.values()]
    assert decode_origin(request.origin, "?").channel is None
    assert harness.state.urls == {} and harness.delivery.told[0][2]["response_url"] is None


def test_database_down_keeps_the_form_open(harness: Harness):
    harness.world.store.down = True
    call = harness.world.genesys.add_call()
    v = view(call=call.id, queue=queue_id(harness))
    handle_submission(harness.recorder.ack, body(v), v, harness.deps)
    assert harness.recorder.acks == [{"response_action": "errors", "errors": {"queue": STORE_DOWN}}]
    assert harness.recorder.jobs == []


def test_unexpected_failure_still_answers(harness: Harness, monkeypatch):
    monkeypatch.setattr(harness.deps.service, "receive", lambda *a, **k: 1 / 0)
    call = harness.world.genesys.add_call()
    v = view(call=call.id, queue=queue_id(harness))
    handle_submission(harness.recorder.ack, body(v), v, harness.deps)
    (ack,) = harness.recorder.acks
    assert ack["response_action"] == "errors" and "nothing was sent" in ack["errors"]["queue"]
