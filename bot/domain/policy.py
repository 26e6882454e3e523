"""Who needs approval, and who may give it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from bot.domain.parsing import normalize_queue_name


@dataclass(frozen=True)
class ApprovalPolicy:
    """Approval is on when at least one approver (user or user group) is configured."""

    approver_users: frozenset[str] = field(default_factory=frozenset)
    approver_groups: frozenset[str] = field(default_factory=frozenset)
    no_approval_queues: frozenset[str] = field(default_factory=frozenset)  # normalized names

    @property
    def enabled(self) -> bool:
        return bool(self.approver_users or self.approver_groups)

    def needs_approval(self, *, requester_is_approver: bool, queue_name: str) -> bool:
        if not self.enabled or requester_is_approver:
            return False
        return normalize_queue_name(queue_name) not in self.no_approval_queues


class ClickVerdict(enum.StrEnum):
    ALLOWED = "allowed"
    NOT_APPROVER = "not_approver"
    SELF_APPROVAL = "self_approval"
    NOT_REQUESTER = "not_requester"


def may_decide(*, clicker: str, requester: str, clicker_is_approver: bool) -> ClickVerdict:
    """Approve/Deny: an approver who is not the requester."""
    if clicker == requester:
        return ClickVerdict.SELF_APPROVAL
    if not clicker_is_approver:
        return ClickVerdict.NOT_APPROVER
    return ClickVerdict.ALLOWED


def may_cancel(*, clicker: str, requester: str) -> ClickVerdict:
    return ClickVerdict.ALLOWED if clicker == requester else ClickVerdict.NOT_REQUESTER
