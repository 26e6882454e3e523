"""The /transfer parser: clear answers for every input, and only strict UUIDs as ids."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.parsing import (
    AGENT_CHAT,
    AGENT_EMAIL,
    ME,
    NUMBER,
    QUEUE_ID,
    UUID_RE,
    HelpRequest,
    OpenModal,
    TransferCommand,
    loose_queue_key,
    normalize_queue_name,
    parse_transfer_text,
    split_division,
)
from bot.domain.problems import Code, Problem
from bot.domain.request import Ask

CID = "3f1c2a4e-9b7d-4c1e-8f00-1234567890ab"
QID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def cmd(call: str, target: str, now: bool = False) -> TransferCommand:
    return TransferCommand(Ask(call, target, now))


@pytest.mark.parametrize("text", [None, "", "   "])
def test_nothing_typed_opens_the_picker(text):
    assert parse_transfer_text(text) == OpenModal()


@pytest.mark.parametrize("text", ["help", "HELP", "?", "--help"])
def test_help(text):
    assert parse_transfer_text(text) == HelpRequest()


@pytest.mark.parametrize(
    ("text", "target"),
    [
        (f"{CID} Support_Tier2", "Support_Tier2"),
        (f"{CID}   Support   Tier 2  ", "Support Tier 2"),
        (f"{CID} \"Support Tier 2\"", "Support Tier 2"),
        (f"{CID.upper()} Billing", "Billing"),
        (f"{CID} &lt;!channel&gt;", "<!channel>"),
        (f"{CID} Billing (EMEA)", "Billing (EMEA)"),
        (f"{CID} {QID}", QUEUE_ID + QID),
        (f"{CID} queue:{QID.upper()}", QUEUE_ID + QID),
    ],
)
def test_id_then_queue(text, target):
    assert parse_transfer_text(text) == cmd(CID, target)


@pytest.mark.parametrize(
    "link",
    [
        f"https://apps.mypurecloud.ie/directory/#/engage/admin/interactions/{CID}",
        f"<https://apps.mypurecloud.com/directory/#/engage/admin/interactions/{CID}>",
        f"<https://apps.euw2.pure.cloud/interactions/{CID}|interaction>",
    ],
)
def test_genesys_interaction_link_works_as_id(link):
    assert parse_transfer_text(f"{link} Billing") == cmd(CID, "Billing")


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("<@U123ABC|alice> Support Tier 2", AGENT_CHAT + "U123ABC"),
        ("<@W0AGENT> Support Tier 2", AGENT_CHAT + "W0AGENT"),
        ("me Support Tier 2", ME),
        ("ME Support Tier 2", ME),
        ("agent:Alice@Example.com Support Tier 2", AGENT_EMAIL + "alice@example.com"),
        ("agent:<mailto:alice@example.com|alice@example.com> Support Tier 2", AGENT_EMAIL + "alice@example.com"),
    ],
)
def test_the_call_named_by_its_agent(text, call):
    assert parse_transfer_text(text) == cmd(call, "Support Tier 2")


def test_an_unlinked_at_name_is_explained():
    result = parse_transfer_text("@alice Support")
    assert isinstance(result, Problem) and result.code is Code.BAD_CALL_REF and result.fact("unlinked_mention")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("<@U0BOB|bob>", AGENT_CHAT + "U0BOB"),
        ("agent:bob@example.com", AGENT_EMAIL + "bob@example.com"),
        ("+1 415-555 0100", NUMBER + "+14155550100"),
        ("+44 (20) 7123 4567", NUMBER + "+442071234567"),
    ],
)
def test_agent_and_number_targets(target, expected):
    assert parse_transfer_text(f"{CID} {target}") == cmd(CID, expected)


def test_bad_numbers_and_break_glass():
    result = parse_transfer_text(f"{CID} +12")
    assert isinstance(result, Problem) and result.code is Code.NUMBER_INVALID
    assert parse_transfer_text(f"--now {CID} Billing") == cmd(CID, "Billing", now=True)
    assert isinstance(parse_transfer_text("--now"), Problem)


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
def test_junk_ids_are_refused(text):
    result = parse_transfer_text(text)
    assert isinstance(result, Problem) and result.code is Code.BAD_CALL_REF


def test_missing_and_overlong_targets():
    assert parse_transfer_text(CID).code is Code.MISSING_TARGET
    assert parse_transfer_text(f"{CID} {'x' * 300}").code is Code.BAD_TARGET


def test_queue_name_keys():
    assert normalize_queue_name("  Support   TIER 2 ") == normalize_queue_name("support tier 2")
    assert normalize_queue_name("Support_Tier2") != normalize_queue_name("Support Tier 2")
    assert loose_queue_key("Support_Tier2") == loose_queue_key("support tier 2") == loose_queue_key("Support-Tier 2")
    assert split_division("Billing (EMEA)") == ("Billing", "EMEA")
    assert split_division("Billing") == ("Billing", None)


@given(st.text())
def test_parser_never_raises_and_only_emits_uuids_or_known_prefixes(text):
    result = parse_transfer_text(text)
    assert isinstance(result, HelpRequest | OpenModal | TransferCommand | Problem)
    if isinstance(result, TransferCommand):
        call = result.ask.call
        assert (UUID_RE.match(call) and call == call.lower()) or call == ME or call.startswith((AGENT_CHAT,
                                                                                             AGENT_EMAIL))
        assert result.ask.target and result.ask.target == result.ask.target.strip()


@given(st.uuids(), st.text(min_size=1))
def test_any_uuid_with_any_target_text_parses_to_that_uuid(uid, target):
    result = parse_transfer_text(f"{uid} {target}")
    if isinstance(result, TransferCommand):
        assert result.ask.call == str(uid)
    else:
        assert isinstance(result, Problem)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1).filter(
    lambda s: "-" not in s and s.strip().casefold() not in {"me", "help", "?", "-h", "--help", "--now", "-now"}
    and not s.strip().startswith(("<@", "agent:"))))
def test_text_without_a_uuid_shape_never_becomes_a_command(token):
    result = parse_transfer_text(f"{token} Billing")
    assert not isinstance(result, TransferCommand) or result.ask.call in (ME,)
