"""The /transfer parser: clear answers for every input, and only strict UUIDs as ids."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.parsing import (
    UUID_RE,
    HelpRequest,
    ParseError,
    TransferCommand,
    normalize_queue_name,
    parse_transfer_text,
)

CID = "3f1c2a4e-9b7d-4c1e-8f00-1234567890ab"


@pytest.mark.parametrize("text", [None, "", "   ", "help", "HELP", "?", "--help"])
def test_empty_or_help_asks_for_usage(text):
    assert parse_transfer_text(text) == HelpRequest()


@pytest.mark.parametrize(
    ("text", "queue"),
    [
        (f"{CID} Support_Tier2", "Support_Tier2"),
        (f"{CID}   Support   Tier 2  ", "Support Tier 2"),
        (f"{CID} \"Support Tier 2\"", "Support Tier 2"),
        (f"{CID.upper()} Billing", "Billing"),
        (f"{CID} &lt;!channel&gt;", "<!channel>"),
    ],
)
def test_id_then_queue_name(text, queue):
    assert parse_transfer_text(text) == TransferCommand(CID, queue)


@pytest.mark.parametrize(
    "link",
    [
        f"https://apps.mypurecloud.ie/directory/#/engage/admin/interactions/{CID}",
        f"<https://apps.mypurecloud.com/directory/#/engage/admin/interactions/{CID}>",
        f"<https://apps.euw2.pure.cloud/interactions/{CID}|interaction>",
    ],
)
def test_genesys_interaction_link_works_as_id(link):
    assert parse_transfer_text(f"{link} Billing") == TransferCommand(CID, "Billing")


@pytest.mark.parametrize(
    "text",
    [
        "../../api/v2/oauth Billing",
        f"{CID}/../x Billing",
        f"{CID[:-1]} Billing",
        f"{CID}0 Billing",
        "Billing",
        f"https://example.com/{CID}/{CID.replace('3', '4')} Billing",
    ],
)
def test_junk_ids_are_refused_with_a_message(text):
    result = parse_transfer_text(text)
    assert isinstance(result, ParseError)
    assert "conversation id" in result.message


def test_missing_queue_is_explained():
    result = parse_transfer_text(CID)
    assert isinstance(result, ParseError)
    assert "Which queue" in result.message


def test_overlong_queue_name_is_refused():
    assert isinstance(parse_transfer_text(f"{CID} {'x' * 300}"), ParseError)


def test_queue_names_compare_case_and_whitespace_insensitively():
    assert normalize_queue_name("  Support   TIER 2 ") == normalize_queue_name("support tier 2")
    assert normalize_queue_name("Support_Tier2") != normalize_queue_name("Support Tier 2")


@given(st.text())
def test_parser_never_raises_and_only_emits_uuids(text):
    result = parse_transfer_text(text)
    assert isinstance(result, HelpRequest | TransferCommand | ParseError)
    if isinstance(result, TransferCommand):
        assert UUID_RE.match(result.conversation_id)
        assert result.conversation_id == result.conversation_id.lower()
        assert result.queue_name and result.queue_name == result.queue_name.strip()


@given(st.uuids(), st.text(min_size=1))
def test_any_uuid_with_any_queue_text_parses_to_that_uuid(uid, queue):
    result = parse_transfer_text(f"{uid} {queue}")
    if isinstance(result, TransferCommand):
        assert result.conversation_id == str(uid)
    else:
        assert isinstance(result, ParseError)  # e.g. whitespace-only or overlong queue text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1).filter(lambda s: "-" not in s))
def test_text_without_a_uuid_shape_never_becomes_a_command(token):
    result = parse_transfer_text(f"{token} Billing")
    assert not isinstance(result, TransferCommand)
