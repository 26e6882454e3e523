"""The transfer form, reading its submission, and the queue typeahead options."""

from __future__ import annotations

import json

import pytest

from bot.domain.conversation import Queue, QueueHealth
from bot.service.queues import QueueOption
from bot.slack.render import ModalInput, conversation_id_in, queue_options, read_modal, transfer_modal
from tests.unit.slack.blockkit import check_view
from tests.unit.slack.conftest import CONV, QUEUE_ID

LINK = f"https://apps.mypurecloud.ie/directory/#/engage/admin/interactions/{CONV}"


def blocks_by_id(view):
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def test_modal_ids_are_the_contract():
    view = check_view(transfer_modal())
    assert view["type"] == "modal" and view["callback_id"] == "transfer_modal"
    blocks = blocks_by_id(view)
    for block_id in ("call", "agent", "queue", "channel"):
        assert blocks[block_id]["element"]["action_id"] == block_id
    assert blocks["call"]["element"]["type"] == "plain_text_input" and blocks["call"]["optional"] is True
    assert blocks["agent"]["element"]["type"] == "users_select" and blocks["agent"]["optional"] is True
    queue = blocks["queue"]["element"]
    assert queue["type"] == "external_select" and queue["min_query_length"] == 0
    channel = blocks["channel"]["element"]
    assert channel["type"] == "conversations_select" and channel["default_to_current_conversation"] is True
    assert set(channel["filter"]["include"]) == {"public", "private", "im"}
    assert blocks["channel"]["optional"] is True


def test_modal_prefills():
    view = check_view(transfer_modal(call=CONV, channel="C0SUPPORT", agent="U0ALICE01"))
    blocks = blocks_by_id(view)
    assert blocks["call"]["element"]["initial_value"] == CONV
    assert blocks["agent"]["element"]["initial_user"] == "U0ALICE01"
    assert blocks["channel"]["element"]["initial_conversation"] == "C0SUPPORT"
    assert json.loads(view["private_metadata"]) == {"channel": "C0SUPPORT"}


def test_modal_hint_and_junk_prefills():
    view = check_view(transfer_modal(channel="<!here>", agent="nobody", hint="No <!channel> id found"))
    assert json.loads(view["private_metadata"]) == {"channel": None}
    assert "<!channel>" not in json.dumps(view)
    assert "initial_user" not in blocks_by_id(view)["agent"]["element"]


def submission(call=None, agent=None, queue=QUEUE_ID, channel=None, opened_in="C0SUPPORT"):
    values = {
        "call": {"call": {"type": "plain_text_input", "value": call}},
        "agent": {"agent": {"type": "users_select", "selected_user": agent}},
        "queue": {"queue": {"type": "external_select",
                            "selected_option": {"text": {"type": "plain_text", "text": "Q"}, "value": queue}
                            if queue else None}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": channel}},
    }
    return {"state": {"values": values}, "private_metadata": json.dumps({"channel": opened_in})}


@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        ({}, {"call"}),
        ({"call": CONV, "agent": "U0ALICE01"}, {"agent"}),
        ({"call": "12345"}, {"call"}),
        ({"call": "../../oauth/token"}, {"call"}),
        ({"call": CONV, "queue": None}, {"queue"}),
        ({"call": CONV, "queue": "not-a-queue-id"}, {"queue"}),
        ({"agent": "not-a-user"}, {"agent"}),
        ({"queue": None}, {"call", "queue"}),
    ],
)
def test_field_errors_are_keyed_by_block(kwargs, errors):
    result = read_modal(submission(**kwargs))
    assert isinstance(result, dict) and set(result) == errors
    assert all(message.strip() for message in result.values())


@pytest.mark.parametrize("call", [CONV, CONV.upper(), f"  {CONV}  ", LINK, f"<{LINK}>", f"id: {CONV}",
                                  f"see {LINK} please"])
def test_valid_call_forms(call):
    result = read_modal(submission(call=call, channel="C0SUPPORT"))
    assert result == ModalInput(call=CONV, target=f"queue-id:{QUEUE_ID}", channel="C0SUPPORT", opened_in="C0SUPPORT")
    assert result.ask.call == CONV and result.ask.target == f"queue-id:{QUEUE_ID}" and not result.ask.now


def test_agent_instead_of_call_and_no_channel_means_a_dm():
    result = read_modal(submission(agent="U0ALICE01", opened_in=None))
    assert result == ModalInput(call="agent-chat:U0ALICE01", target=f"queue-id:{QUEUE_ID}", channel=None)


def test_two_different_ids_are_not_guessed():
    other = "9e2b7c1d-0000-4c1e-8f00-1234567890ab"
    assert conversation_id_in(f"{CONV} and {other}") is None
    assert conversation_id_in(f"{CONV} again {CONV}") == CONV
    assert conversation_id_in("") is None and conversation_id_in(None) is None


def option(name, health=None, qid=None, division="Home"):
    return QueueOption(Queue(qid or f"{abs(hash(name)) % 10**8:08d}-0000-4c1e-8f00-1234567890ab", name, None,
                             division), health)


def test_options_show_health_and_keep_the_order():
    opts = queue_options([option("Support Tier 2", QueueHealth(3, 5, 120)), option("Billing"),
                          option("Sales", QueueHealth(None, 2, None))])
    assert [o["text"]["text"] for o in opts] == ["Support Tier 2 · 3 available · 5 waiting · ~2 min", "Billing",
                                                 "Sales · 2 waiting"]
    assert all(o["text"]["type"] == "plain_text" for o in opts)


def test_option_text_is_at_most_75_and_keeps_the_numbers():
    (opt,) = queue_options([option("A very long queue name " * 10, QueueHealth(123, 456, 3600 * 2))])
    text = opt["text"]["text"]
    assert len(text) <= 75 and text.endswith("· 123 available · 456 waiting · ~2 h 00 min") and "…" in text


def test_at_most_100_options_values_are_ids_duplicates_dropped():
    opts = queue_options([option(f"Q{i}", qid=f"{i:08d}-0000-4c1e-8f00-1234567890ab") for i in range(250)]
                         + [option("Q0", qid="00000000-0000-4c1e-8f00-1234567890ab")])
    assert len(opts) == 100 and opts[0]["value"] == "00000000-0000-4c1e-8f00-1234567890ab"
    assert len({o["value"] for o in opts}) == 100


def test_same_name_in_two_divisions_shows_the_division():
    opts = queue_options([option("Escalations", qid="a" * 8 + "-0000-4c1e-8f00-1234567890ab", division="Home"),
                          option("Escalations", qid="b" * 8 + "-0000-4c1e-8f00-1234567890ab", division="EMEA")])
    assert [o["text"]["text"] for o in opts] == ["Escalations (Home)", "Escalations (EMEA)"]


def test_no_options_is_an_empty_list():
    assert queue_options([]) == []


def test_options_validate_with_slack_sdk():
    from slack_sdk.models.blocks import Option

    for o in queue_options([option("<!channel> & co" * 20, QueueHealth(1, 2, 30))]):
        Option(text=o["text"], value=o["value"]).to_dict()
