"""Every Problem code has its own sentence and next step, built from its facts, escaped."""

from __future__ import annotations

import pytest

from bot.domain.parsing import parse_transfer_text
from bot.domain.problems import Code, Problem
from bot.domain.request import Ask, RequestState
from bot.ports.genesys import PERMISSIONS
from bot.service.genesys_problems import During
from bot.slack import wording
from tests.unit.slack.blockkit import check_message

CID = "c0ffee00-1234-5678-9abc-def012345678"

# Realistic facts for every code, as the service raises them.
FACTS: dict[Code, dict] = {
    Code.BAD_CALL_REF: {"token": "12345"},
    Code.MISSING_TARGET: {},
    Code.BAD_TARGET: {"too_long": 256},
    Code.CALL_ENDED: {"customer_left": True},
    Code.CALL_NO_CUSTOMER: {},
    Code.CALL_IN_IVR: {},
    Code.CALL_IN_QUEUE: {},
    Code.CALL_ALERTING: {},
    Code.CALL_NO_AGENT: {},
    Code.CALL_CONFERENCE: {"agents": 2},
    Code.CALL_STATE_UNKNOWN: {"state": "outdated_sdk_version", "purpose": "agent"},
    Code.CALL_CHANGED: {"agent_then": "Alice", "agent_now": "Bob"},
    Code.MEDIA_NOT_SUPPORTED: {"media": "cobrowse", "during": During.READING_CALL},
    Code.NUMBER_NEEDS_VOICE: {"media": "chat"},
    Code.CONVERSATION_NOT_FOUND: {"during": During.READING_CALL, "operation": "get_call"},
    Code.CHAT_EMAIL_HIDDEN: {"chat_user": "U0ALICE01"},
    Code.CHAT_USER_UNKNOWN: {"chat_user": "U0GONE001"},
    Code.NO_GENESYS_USER: {"email": "alice@example.com", "chat_user": "U0ALICE01"},
    Code.NO_LIVE_CALL: {"agent": "Alice", "chat_user": "U0ALICE01", "me": False},
    Code.SEVERAL_CALLS: {"agent": "Alice", "chat_user": "U0ALICE01", "candidates": [{}, {}]},
    Code.QUEUE_NOT_FOUND: {"name": "Suport_Tier2", "suggestions": ["Support_Tier2"]},
    Code.QUEUE_AMBIGUOUS: {"name": "Billing", "candidates": [
        {"name": "Billing", "division": "Home", "id": "q1"}, {"name": "Billing", "division": "EMEA", "id": "q2"}]},
    Code.AGENT_NOT_FOUND: {"email": "bob@example.com"},
    Code.AGENT_INACTIVE: {"agent": "Bob"},
    Code.AGENT_NO_STATION: {"agent": "Bob"},
    Code.AGENT_ALREADY_ON_CALL: {"agent": "Bob"},
    Code.NUMBERS_DISABLED: {"masked": "+1 415 ••• 0100"},
    Code.NUMBER_NOT_ALLOWED: {"masked": "+1 415 ••• 0100", "prefixes": ["+44", "+1212"]},
    Code.NUMBER_INVALID: {"number": "+12"},
    Code.FORBIDDEN: {"during": During.SENDING, "operation": "replace_queue",
                     "permissions": list(PERMISSIONS["replace_queue"])},
    Code.AUTH: {"during": During.READING_CALL},
    Code.RATE_LIMITED: {"during": During.READING_CALL},
    Code.UNAVAILABLE: {"during": During.READING_CALL, "cause": "refused", "host": "api.mypurecloud.ie"},
    Code.TIMEOUT: {"during": During.READING_CALL, "cause": "read timeout", "host": "api.mypurecloud.ie"},
    Code.REJECTED: {"during": During.SENDING, "message": "Participant is not in a valid state"},
    Code.UNREADABLE: {"during": During.READING_CALL},
    Code.GENESYS_ERROR: {"during": During.READING_CALL, "message": "boom"},
    Code.UNCERTAIN: {"during": During.SENDING},
    Code.FAILED_AFTER_ACCEPT: {"genesys_state": "Timeout", "agent": "Alice"},
    Code.NEVER_CONFIRMED: {"ended": False, "waited_seconds": 600},
    Code.ALREADY_PENDING: {"target": "Billing", "asked_at": "2026-11-28T10:02:00+00:00", "requester": "U0LEAD001",
                           "request_id": "r1"},
    Code.IN_PROGRESS: {"request_id": "r1"},
    Code.NOT_APPROVER: {},
    Code.SELF_APPROVAL: {},
    Code.NOT_REQUESTER: {},
    Code.ALREADY_VOTED: {},
    Code.BREAK_GLASS_NOT_ALLOWED: {"rule": "queue:Billing"},
    Code.REQUEST_NOT_FOUND: {},
    Code.APPROVAL_POST_FAILED: {"error": "not_in_channel", "channel": "C0APPROVE"},
    Code.NO_APPROVERS: {"target_kind": "number", "rule": "defaults"},
    Code.BOT_RESTARTED: {"sent": False},
    Code.INTERNAL: {},
}


def test_every_code_has_facts_here():
    assert set(FACTS) == set(Code), "a new Code needs its wording (and a row here)"


@pytest.mark.parametrize("code", list(Code))
def test_every_code_has_its_own_sentence_and_next_step(code):
    worded = wording.word(Problem(code, FACTS[code]))
    assert worded.what.strip() and worded.next and worded.next.strip()
    assert "was stopped" not in worded.what, "generic fallback used for a known code"
    assert "None" not in worded.what + worded.next


@pytest.mark.parametrize("code", list(Code))
def test_every_code_survives_missing_facts(code):
    worded = wording.word(Problem(code, {}))
    assert worded.what.strip() and "None" not in worded.what
    assert "was stopped" not in worded.what


def test_sentences_are_distinct():
    whats = [wording.word(Problem(c, FACTS[c])).what for c in Code]
    assert len(set(whats)) == len(whats)


@pytest.mark.parametrize("code", list(Code))
def test_correlation_id_is_always_shown(code):
    text = wording.problem_text(Problem(code, FACTS[code], CID))
    assert f"`{CID}`" in text and "*Next:*" in text


@pytest.mark.parametrize("code", list(Code))
def test_facts_are_escaped(code):
    hostile = {k: ("<!channel> & co" if isinstance(v, str) else v) for k, v in FACTS[code].items()}
    text = wording.problem_text(Problem(code, hostile))
    assert "<!channel>" not in text


@pytest.mark.parametrize(
    ("code", "facts", "expected"),
    [
        (Code.QUEUE_NOT_FOUND, FACTS[Code.QUEUE_NOT_FOUND],
         "I couldn't find a queue named “Suport_Tier2”. Did you mean: Support_Tier2?"),
        (Code.QUEUE_AMBIGUOUS, FACTS[Code.QUEUE_AMBIGUOUS], "matches 2 queues"),
        (Code.QUEUE_AMBIGUOUS, FACTS[Code.QUEUE_AMBIGUOUS], "`Billing (Home)`"),
        (Code.CALL_ENDED, {}, "That call has already ended"),
        (Code.CALL_IN_QUEUE, {}, "waiting in a queue"),
        (Code.CALL_ENDED, {"media": "chat", "customer_left": True}, "That chat has already ended: the customer left"),
        (Code.CALL_IN_QUEUE, {"media": "email"}, "That email is waiting in a queue"),
        (Code.CALL_ALERTING, {"media": "callback"}, "That callback is still ringing"),
        (Code.NUMBER_NEEDS_VOICE, {"media": "email"}, "that conversation is an email"),
        (Code.CALL_CONFERENCE, {"agents": 3}, "conference with 3 agents"),
        (Code.CALL_IN_IVR, {}, "still in the IVR"),
        (Code.CALL_ALERTING, {}, "still ringing"),
        (Code.CALL_NO_CUSTOMER, {}, "no connected customer"),
        (Code.CALL_STATE_UNKNOWN, FACTS[Code.CALL_STATE_UNKNOWN], "a state this bot doesn't know"),
        (Code.CALL_CHANGED, FACTS[Code.CALL_CHANGED], "agent on the call changed (Alice → Bob)"),
        (Code.FORBIDDEN, FACTS[Code.FORBIDDEN],
         "`conversation:communication:blindTransferQueue` or `conversation:communication:blindTransfer`"),
        (Code.FORBIDDEN, {"during": During.READING_CALL, "permissions": ["conversation:communication:view"]},
         "refused permission while reading the conversation"),
        (Code.FORBIDDEN, {"permissions": ["directory:user:view"]}, "directory:user:view"),
        (Code.FORBIDDEN, {"permissions": ["analytics:queueObservation:view"]}, "analytics:queueObservation:view"),
        (Code.UNAVAILABLE, FACTS[Code.UNAVAILABLE],
         "Genesys could not be reached while reading the conversation (api.mypurecloud.ie refused the connection)"),
        (Code.TIMEOUT, FACTS[Code.TIMEOUT], "did not answer in time"),
        (Code.UNREADABLE, {}, "Genesys sent an answer I can't read"),
        (Code.RATE_LIMITED, {}, "rate-limiting"),
        (Code.FAILED_AFTER_ACCEPT, FACTS[Code.FAILED_AFTER_ACCEPT],
         "Genesys accepted the transfer but it failed (Timeout); the caller is still with Alice"),
        (Code.NEVER_CONFIRMED, FACTS[Code.NEVER_CONFIRMED], "never confirmed it"),
        (Code.NEVER_CONFIRMED, {"ended": True}, "the conversation has since ended"),
        (Code.CHAT_EMAIL_HIDDEN, FACTS[Code.CHAT_EMAIL_HIDDEN], "users:read.email"),
        (Code.NO_GENESYS_USER, FACTS[Code.NO_GENESYS_USER], "No Genesys user has the email alice@example.com"),
        (Code.NO_LIVE_CALL, FACTS[Code.NO_LIVE_CALL], "<@U0ALICE01> has no live call in Genesys right now"),
        (Code.NO_LIVE_CALL, {"me": True, "agent": "Alice"}, "You have no live call in Genesys right now"),
        (Code.ALREADY_PENDING, FACTS[Code.ALREADY_PENDING],
         "already waiting for approval: <@U0LEAD001> asked at 10:02 UTC"),
        (Code.ALREADY_PENDING, FACTS[Code.ALREADY_PENDING], "Ask them to cancel it or wait for a supervisor"),
        (Code.BOT_RESTARTED, {"sent": False}, "nothing was sent"),
        (Code.NUMBER_NOT_ALLOWED, FACTS[Code.NUMBER_NOT_ALLOWED], "+1 415 ••• 0100 isn't in the numbers I may call"),
        (Code.NUMBER_NOT_ALLOWED, FACTS[Code.NUMBER_NOT_ALLOWED], "+44, +1212"),
        (Code.SELF_APPROVAL, {}, "Use Cancel to withdraw it"),
        (Code.NOT_APPROVER, {}, "only configured transfer approvers"),
        (Code.NOT_REQUESTER, {}, "Only the person who asked"),
        (Code.APPROVAL_POST_FAILED, FACTS[Code.APPROVAL_POST_FAILED], "couldn't post the approval request"),
        (Code.APPROVAL_POST_FAILED, FACTS[Code.APPROVAL_POST_FAILED], "Invite the bot to <#C0APPROVE>"),
        (Code.MEDIA_NOT_SUPPORTED, FACTS[Code.MEDIA_NOT_SUPPORTED], "is a co-browse conversation"),
        (Code.UNCERTAIN, {}, "may or may not have happened"),
        (Code.UNCERTAIN, {}, "I did not resend it"),
    ],
)
def test_specific_wording(code, facts, expected):
    assert expected in wording.problem_text(Problem(code, facts))


def test_media_not_supported_says_it_once():
    text = wording.word(Problem(Code.MEDIA_NOT_SUPPORTED, FACTS[Code.MEDIA_NOT_SUPPORTED])).what
    assert text.count("conversation") == 1 and text.count(".") == 1


def test_email_hidden_and_no_genesys_user_say_which():
    hidden = wording.problem_text(Problem(Code.CHAT_EMAIL_HIDDEN, FACTS[Code.CHAT_EMAIL_HIDDEN]))
    missing = wording.problem_text(Problem(Code.NO_GENESYS_USER, FACTS[Code.NO_GENESYS_USER]))
    assert "Slack admin" in hidden and "Genesys admin" not in hidden
    assert "Genesys admin" in missing and "users:read.email" not in missing


def test_bot_restarted_depends_on_how_far_it_got():
    before_check = wording.word(Problem(Code.BOT_RESTARTED, {"sent": False}), state=RequestState.REFUSED).what
    before_send = wording.word(Problem(Code.BOT_RESTARTED, {"sent": False}), state=RequestState.FAILED).what
    mid_send = wording.word(Problem(Code.BOT_RESTARTED, {"sent": False, "agent": "Alice"})).what
    assert before_check == "The bot restarted before it checked your transfer; nothing was sent."
    assert "before it sent" in before_send
    assert "Alice still has the call" in mid_send


def test_malformed_stored_facts_do_not_break_a_message():
    text = wording.problem_text(Problem(Code.CALL_CONFERENCE, {"agents": "many"}))
    assert text.strip()


def test_usage_names_every_way_to_ask():
    body = check_message(wording.usage())
    assert "/transfer <conversation-id> <queue name>" in body["text"]
    text = body["blocks"][0]["text"]["text"]
    assert "<conversation-id>" not in text and "&lt;conversation-id&gt;" in text
    for phrase in ("@agent", "`me`", "agent:", "Billing (EMEA)", "queue id", "+44", "--now", "`/transfer` alone"):
        assert phrase in text, phrase
    assert body["response_type"] == "ephemeral"


def test_usage_after_a_problem_says_what_was_wrong_first():
    parsed = parse_transfer_text("not-a-uuid Billing")
    body = check_message(wording.usage(parsed))
    assert "conversation id" in body["text"] and "/transfer <conversation-id> <queue name>" in body["text"]
    assert body["blocks"][0]["text"]["text"].index("isn't a conversation id") < \
        body["blocks"][0]["text"]["text"].index("*Usage:*")


@pytest.mark.parametrize(
    ("ask", "expected"),
    [
        (Ask("3f1c2a4e-9b7d-4c1e-8f00-1234567890ab", "Support Tier 2"),
         "Working on it: checking call `3f1c2a4e` and queue “Support Tier 2”…"),
        (Ask("me", "queue-id:7d0a2c3e-1111-4c1e-8f00-1234567890ab"), "your live call and queue `7d0a2c3e`"),
        (Ask("agent-chat:U0ALICE01", "agent-email:bob@example.com"), "<@U0ALICE01>'s live call and agent bob@"),
        (Ask("agent-email:alice@example.com", "number:+14155550100"), "alice@example.com and +14155550100"),
        (Ask("me", "agent-chat:U0BOB0001", now=True), "break glass"),
        (Ask("me", "<!channel> & friends"), "&lt;!channel&gt; &amp; friends"),
    ],
)
def test_working_on_it_says_what_was_understood(ask, expected):
    assert expected in wording.working_on_it(ask)


def test_store_unavailable_says_nothing_was_sent():
    body = check_message(wording.store_unavailable())
    assert "I can't take transfers right now (the bot's database is unavailable); nothing was sent" in body["text"]
