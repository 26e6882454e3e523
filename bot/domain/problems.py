"""Why something was refused or failed: a stable code plus the facts behind it. No wording.

Each surface words problems its own way (Slack: bot/slack/wording.py; command line:
bot/cli/wording.py). Codes are also stored with requests and written to the audit trail, so
they never change meaning; add new ones instead.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Code(enum.StrEnum):
    # What was typed
    BAD_CALL_REF = "bad_call_ref"
    MISSING_TARGET = "missing_target"
    BAD_TARGET = "bad_target"
    # The conversation
    CALL_ENDED = "call_ended"
    CALL_NO_CUSTOMER = "call_no_customer"
    CALL_IN_IVR = "call_in_ivr"
    CALL_IN_QUEUE = "call_in_queue"
    CALL_ALERTING = "call_alerting"
    CALL_NO_AGENT = "call_no_agent"
    CALL_CONFERENCE = "call_conference"
    CALL_STATE_UNKNOWN = "call_state_unknown"
    CALL_CHANGED = "call_changed"  # agent leg changed between request and approval
    MEDIA_NOT_SUPPORTED = "media_not_supported"
    NUMBER_NEEDS_VOICE = "number_needs_voice"
    CONVERSATION_NOT_FOUND = "conversation_not_found"
    # Finding the call by its agent
    CHAT_EMAIL_HIDDEN = "chat_email_hidden"
    CHAT_USER_UNKNOWN = "chat_user_unknown"
    NO_GENESYS_USER = "no_genesys_user"
    NO_LIVE_CALL = "no_live_call"
    SEVERAL_CALLS = "several_calls"
    # Targets
    QUEUE_NOT_FOUND = "queue_not_found"
    QUEUE_AMBIGUOUS = "queue_ambiguous"
    AGENT_NOT_FOUND = "agent_not_found"
    AGENT_INACTIVE = "agent_inactive"
    AGENT_NO_STATION = "agent_no_station"
    AGENT_ALREADY_ON_CALL = "agent_already_on_call"
    NUMBERS_DISABLED = "numbers_disabled"
    NUMBER_NOT_ALLOWED = "number_not_allowed"
    NUMBER_INVALID = "number_invalid"
    # Genesys
    FORBIDDEN = "forbidden"
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    REJECTED = "rejected"
    UNREADABLE = "unreadable"
    GENESYS_ERROR = "genesys_error"
    # Outcomes after the POST
    UNCERTAIN = "uncertain"
    FAILED_AFTER_ACCEPT = "failed_after_accept"
    NEVER_CONFIRMED = "never_confirmed"
    # Requests and clicks
    ALREADY_PENDING = "already_pending"
    IN_PROGRESS = "in_progress"
    NOT_APPROVER = "not_approver"
    SELF_APPROVAL = "self_approval"
    NOT_REQUESTER = "not_requester"
    ALREADY_VOTED = "already_voted"
    BREAK_GLASS_NOT_ALLOWED = "break_glass_not_allowed"
    REQUEST_NOT_FOUND = "request_not_found"
    APPROVAL_POST_FAILED = "approval_post_failed"
    NO_APPROVERS = "no_approvers"
    # The bot itself
    BOT_RESTARTED = "bot_restarted"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Problem(Exception):
    """A refusal or failure. `facts` holds JSON-safe values the wording needs (names, ids, lists)."""

    code: Code
    facts: Mapping[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, self.code.value)

    def __str__(self) -> str:
        return f"{self.code.value} {dict(self.facts)}"

    def fact(self, name: str, default: Any = None) -> Any:
        return self.facts.get(name, default)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code.value, "facts": dict(self.facts), "correlation_id": self.correlation_id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Problem | None:
        if not data:
            return None
        try:
            code = Code(data["code"])
        except (KeyError, ValueError):
            code = Code.INTERNAL
        return cls(code, dict(data.get("facts") or {}), data.get("correlation_id"))
