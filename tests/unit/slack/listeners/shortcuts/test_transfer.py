"""Shortcuts open the form; from a message, prefilled with the conversation it mentions."""

from __future__ import annotations

from bot.slack.listeners.shortcuts.transfer import handle_from_message, handle_global
from tests.unit.slack.blockkit import check_view
from tests.unit.slack.conftest import CONV, REQUESTER, Harness

LINK = f"https://apps.mypurecloud.ie/directory/#/engage/admin/interactions/{CONV}"


def fields(view):
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def test_global_shortcut_opens_an_empty_form(harness: Harness):
    handle_global(harness.recorder.ack, {"trigger_id": "trig-3", "user": {"id": REQUESTER}}, harness.deps)
    assert harness.recorder.kinds() == ["ack", "after_ack", "open_view"]
    view = check_view(harness.delivery.opened[0][1])
    assert "initial_value" not in fields(view)["call"]["element"]


def message_shortcut(text):
    return {"type": "message_action", "callback_id": "transfer_call_from_message", "trigger_id": "trig-4",
            "user": {"id": REQUESTER}, "channel": {"id": "C0SUPPORT"}, "message": {"text": text, "ts": "1.2"}}


def test_message_with_a_link_prefills_call_and_channel(harness: Harness):
    handle_from_message(harness.recorder.ack, message_shortcut(f"Customer angry, see <{LINK}|this call>"),
                        harness.deps)
    assert harness.recorder.kinds() == ["ack", "after_ack", "open_view"]
    view = check_view(harness.delivery.opened[0][1])
    assert fields(view)["call"]["element"]["initial_value"] == CONV
    assert fields(view)["channel"]["element"]["initial_conversation"] == "C0SUPPORT"


def test_message_without_an_id_opens_empty_with_a_hint(harness: Harness):
    handle_from_message(harness.recorder.ack, message_shortcut("can someone take this?"), harness.deps)
    view = check_view(harness.delivery.opened[0][1])
    assert "initial_value" not in fields(view)["call"]["element"]
    assert "found no conversation id" in view["blocks"][0]["elements"][0]["text"]
