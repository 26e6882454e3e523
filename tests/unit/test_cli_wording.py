"""The command line's own wording: plain terminal text for every problem and outcome (no Slack markup),
Genesys causes named with their host, and the permissions a 403 needs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cli.wording import outcome_text, problem_text
from bot.domain.conversation import Media
from bot.domain.problems import Code, Problem
from bot.domain.request import Ask, RequestState, Snapshot, TransferRequest
from bot.domain.target import Target, TargetKind
from bot.ports.genesys import PERMISSIONS
from tests.unit.slack.test_wording import FACTS

SLACK_MARKUP = ("`", "*", "<@", "<#", "<!", "&lt;", "&gt;", "&amp;", ":warning:", ":white_check_mark:")
CID = "c0ffee00-1234-5678-9abc-def012345678"
HOSTILE = "<!channel> *bold* `code` & <@U123>"


def assert_plain(text: str) -> None:
    for markup in SLACK_MARKUP:
        assert markup not in text, f"{markup!r} in {text!r}"


@pytest.mark.parametrize("code", list(Code))
def test_every_problem_is_plain_text(code: Code) -> None:
    text = problem_text(Problem(code, FACTS[code], correlation_id="c0rr-1d"))
    assert_plain(text.replace("U0LEAD001", ""))
    assert text and "{" not in text and "c0rr-1d" in text


@pytest.mark.parametrize("state", list(RequestState))
def test_every_outcome_is_plain_text(state: RequestState) -> None:
    request = TransferRequest(
        id="r" * 32, requester_id="cli:ops", state=state, created_at=datetime(2026, 11, 28, tzinfo=UTC),
        ask=Ask(CID, "Billing"), conversation_id=CID, target=Target(TargetKind.QUEUE, "q1", "Billing"),
        snapshot=Snapshot(CID, Media.CALL, "p1"),
        problem=Problem(Code.QUEUE_NOT_FOUND, {"name": "Biling", "suggestions": ["Billing"]}),
    )
    assert_plain(outcome_text(request))


@pytest.mark.parametrize(("cause", "host", "expected"), [
    ("dns", "api.mypurecloud.ie", "(DNS lookup failed for api.mypurecloud.ie)"),
    ("refused", "127.0.0.1", "(127.0.0.1 refused the connection)"),
    ("tls", "api.mypurecloud.ie", "(the TLS (https) handshake with api.mypurecloud.ie failed)"),
    ("connect_timeout", "api.mypurecloud.ie", "(timed out connecting to api.mypurecloud.ie)"),
    ("starting", None, "(the Genesys client was still starting)"),
    ("something_new", "api.mypurecloud.ie", "(something_new at api.mypurecloud.ie)"),
])
def test_genesys_causes_are_named_with_their_host(cause: str, host: str | None, expected: str) -> None:
    facts = {"cause": cause, **({"host": host} if host else {})}
    assert problem_text(Problem(Code.UNAVAILABLE, facts)) == f"Genesys could not be reached {expected}"


def test_no_cause_keeps_the_plain_message() -> None:
    assert problem_text(Problem(Code.UNAVAILABLE, {})) == "Genesys could not be reached"


def test_forbidden_names_every_permission_that_would_do() -> None:
    text = problem_text(Problem(Code.FORBIDDEN, {"permissions": list(PERMISSIONS["replace_queue"])}))
    assert "conversation:communication:blindTransferQueue or conversation:communication:blindTransfer" in text
    reading = problem_text(Problem(Code.FORBIDDEN, {"permissions": list(PERMISSIONS["get_conversation"])}))
    assert "conversation:communication:view" in reading


def test_hostile_names_are_printed_as_typed_not_as_slack_markup() -> None:
    text = problem_text(Problem(Code.QUEUE_NOT_FOUND, {"name": HOSTILE, "suggestions": []}))
    assert HOSTILE in text and "&lt;" not in text
