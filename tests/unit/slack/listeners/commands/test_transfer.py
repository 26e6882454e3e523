"""/transfer: every branch acks within the call, before any Genesys work; the request is stored first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.request import RequestState
from bot.slack.listeners.commands.transfer import handle_transfer
from bot.slack.origin import decode_origin
from tests.unit.slack.conftest import HOOK, REQUESTER, Harness


def command(text, **kw):
    return {"text": text, "user_id": REQUESTER, "channel_id": "C0SUPPORT", "response_url": HOOK,
            "trigger_id": "trig-1", "command": "/transfer", **kw}


def run(h: Harness, text, **kw):
    handle_transfer(h.recorder.ack, command(text, **kw), h.deps)
    assert len(h.recorder.acks) == 1, "exactly one ack"
    return h.recorder.acks[0]


def stored(h: Harness):
    return list(h.world.store._rows.values())


@pytest.mark.parametrize("text", ["help", "  HELP ", "--help", "?"])
def test_help_acks_usage_and_stores_nothing(harness: Harness, text):
    ack = run(harness, text)
    assert "/transfer <conversation-id> <queue name>" in ack["text"] and ack["response_type"] == "ephemeral"
    assert stored(harness) == [] and harness.recorder.jobs == []


@pytest.mark.parametrize("text", ["../../oauth/token Support", "not-a-uuid Support", "12345 Billing", "@alice Billing"])
def test_unreadable_command_acks_the_problem_then_usage(harness: Harness, text):
    ack = run(harness, text)
    assert "conversation" in ack["text"] and "/transfer <conversation-id> <queue name>" in ack["text"]
    assert ack["response_type"] == "ephemeral"
    assert stored(harness) == [] and harness.recorder.jobs == [] and harness.world.genesys.calls == []


def test_missing_target_is_worded(harness: Harness):
    call = harness.world.genesys.add_call()
    ack = run(harness, call.id)
    assert "You didn't say where to transfer it" in ack["text"]


def test_bare_command_acks_then_opens_the_form_at_once(harness: Harness):
    ack = run(harness, "")
    assert ack == {}
    assert harness.recorder.events[1] == ("after_ack", "_open_form")  # views.open doesn't hold up the ack
    assert harness.recorder.kinds() == ["ack", "after_ack", "open_view"]
    trigger, view = harness.delivery.opened[0]
    assert trigger == "trig-1" and view["callback_id"] == "transfer_modal"
    assert '"C0SUPPORT"' in view["private_metadata"]


def test_form_that_cannot_open_is_explained(harness: Harness):
    harness.delivery.open_ok = False
    run(harness, "")
    (url, body), = harness.delivery.responses
    assert url == HOOK and "couldn't open the transfer form" in body["text"]


def test_transfer_is_stored_before_the_ack_and_processed_later(harness: Harness):
    w = harness.world
    call = w.genesys.add_call()
    ack = run(harness, f"{call.id} Support_Tier2")
    assert "Working on it: checking call" in ack["text"] and "Support_Tier2" in ack["text"]
    assert ack["response_type"] == "ephemeral"
    # The ack came before anything touched Genesys, and before the work was handed over.
    assert harness.recorder.events[0] == ("ack", 0)
    assert harness.recorder.kinds() == ["ack", "run_later"]
    (request,) = [row.request for row in stored(harness)]
    assert request.state is RequestState.RECEIVED and request.ask.call == call.id
    assert decode_origin(request.origin, "?").channel == "C0SUPPORT"
    assert harness.state.urls[request.id] == (HOOK, w.clock.now() + timedelta(minutes=30))
    fn, args = harness.recorder.jobs[0]
    assert fn == harness.deps.service.process and args == (request.id,)
    harness.recorder.run_jobs()
    assert w.store.get(request.id).state is RequestState.PENDING


def test_break_glass_flag_reaches_the_request(harness: Harness):
    call = harness.world.genesys.add_call()
    ack = run(harness, f"--now {call.id} Support_Tier2")
    assert "break glass" in ack["text"]
    (request,) = [row.request for row in stored(harness)]
    assert request.ask.now is True


def test_foreign_response_url_is_not_remembered(harness: Harness):
    call = harness.world.genesys.add_call()
    run(harness, f"{call.id} Support_Tier2", response_url="https://evil.example.com/hook")
    assert harness.state.urls == {} and len(harness.recorder.jobs) == 1


def test_remembering_the_url_failing_does_not_lose_the_transfer(harness: Harness):
    harness.state.fail = True
    call = harness.world.genesys.add_call()
    ack = run(harness, f"{call.id} Support_Tier2")
    assert "Working on it" in ack["text"] and len(harness.recorder.jobs) == 1


def test_database_down_says_so_and_sends_nothing(harness: Harness):
    harness.world.store.down = True
    call = harness.world.genesys.add_call()
    ack = run(harness, f"{call.id} Support_Tier2")
    assert "I can't take transfers right now (the bot's database is unavailable); nothing was sent" in ack["text"]
    assert harness.recorder.jobs == []


def test_unexpected_error_still_acks(harness: Harness, monkeypatch, caplog):
    def boom(*a, **k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(harness.deps.service, "receive", boom)
    call = harness.world.genesys.add_call()
    ack = run(harness, f"{call.id} Support_Tier2")
    assert "Something went wrong" in ack["text"] and harness.recorder.jobs == []
    assert "failed" in caplog.text and "xoxb" not in caplog.text


def test_hostile_queue_name_is_escaped_in_the_ack(harness: Harness):
    call = harness.world.genesys.add_call()
    ack = run(harness, f"{call.id} <!channel> & friends")
    assert "<!channel>" not in str(ack) and "&lt;!channel&gt; &amp; friends" in ack["text"]
