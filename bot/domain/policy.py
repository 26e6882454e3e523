"""Who may transfer where directly, who must approve, and who may decide.

The rules come from an operator-readable file (TRANSFER_POLICY_FILE); the older environment
variables are the defaults for anything no rule matches. Everything here is pure: group
membership is asked through `is_member`, which the chat layer implements.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.domain.conversation import Media
from bot.domain.parsing import normalize_queue_name
from bot.domain.problems import Code
from bot.domain.target import Target, TargetKind

ANYONE = "*"
IsMember = Callable[[str, Iterable[str]], bool]
"""is_member(user_id, ids): True if user_id is one of ids, directly or through a user group."""


@dataclass(frozen=True)
class PolicyRule:
    kind: TargetKind
    target: str  # queue name, agent email, number prefix, or "*"
    direct: frozenset[str] = frozenset()  # who may transfer without approval ("*" = anyone)
    approvers: frozenset[str] | None = None  # None: the default approvers
    approvals_required: int = 1
    break_glass: bool = False
    media: frozenset[Media] | None = None  # None: every media
    source: str = ""  # where it was written, for messages ("rules[2]")

    def matches(self, target: Target, media: Media | None) -> bool:
        if self.kind is not target.kind:
            return False
        if self.media is not None and media is not None and media not in self.media:
            return False
        return self.target == ANYONE or self.specificity(target) > 0

    def specificity(self, target: Target) -> int:
        """0 for "*"; for numbers the prefix length, so +4420 beats +44; exact names win over both."""
        if self.target == ANYONE:
            return 0
        if self.kind is TargetKind.NUMBER:
            return len(self.target) if target.id.startswith(self.target) else -1
        if self.kind is TargetKind.QUEUE:
            same = self.target == target.id or normalize_queue_name(self.target) == normalize_queue_name(target.name)
        else:
            same = self.target.casefold() in {target.id.casefold(), (target.detail or "").casefold()}
        return 1000 if same else -1


@dataclass(frozen=True)
class Decision:
    needs_approval: bool
    approvers: frozenset[str] = frozenset()
    approvals_required: int = 1
    break_glass: bool = False  # whether approvers may bypass with --now
    rule: str = "defaults"
    refusal: Code | None = None  # set when the transfer can't be done under this policy


@dataclass(frozen=True)
class Policy:
    default_approvers: frozenset[str] = frozenset()  # TRANSFER_APPROVERS: users and groups
    no_approval_queues: frozenset[str] = frozenset()  # TRANSFER_NO_APPROVAL_QUEUES, normalized
    external_prefixes: tuple[str, ...] = ()  # TRANSFER_EXTERNAL_PREFIXES; empty = numbers off
    external_no_approval: bool = False  # TRANSFER_EXTERNAL_NO_APPROVAL
    rules: tuple[PolicyRule, ...] = field(default_factory=tuple)

    @property
    def approval_enabled(self) -> bool:
        return bool(self.default_approvers) or any(r.approvers for r in self.rules)

    def rule_for(self, target: Target, media: Media | None) -> PolicyRule | None:
        matching = [r for r in self.rules if r.matches(target, media)]
        if not matching:
            return None
        return max(matching, key=lambda r: (r.specificity(target), r.media is not None))

    def decide(self, target: Target, media: Media | None, requester: str, is_member: IsMember) -> Decision:
        rule = self.rule_for(target, media)
        if rule is None:
            return self._defaults(target, requester, is_member)
        approvers = rule.approvers if rule.approvers is not None else self.default_approvers
        base = Decision(
            needs_approval=True, approvers=approvers, approvals_required=rule.approvals_required,
            break_glass=rule.break_glass, rule=rule.source or f"{rule.kind.value}:{rule.target}",
        )
        if ANYONE in rule.direct or is_member(requester, rule.direct - {ANYONE}):
            return _direct(base)
        if rule.approvals_required == 1 and approvers and is_member(requester, approvers):
            return _direct(base)  # an approver's own request needs nobody else
        if not approvers:
            return _refused(base, Code.NO_APPROVERS)
        return base

    def _defaults(self, target: Target, requester: str, is_member: IsMember) -> Decision:
        approvers = self.default_approvers
        base = Decision(needs_approval=True, approvers=approvers)
        requester_approves = bool(approvers) and is_member(requester, approvers)
        if target.kind is TargetKind.NUMBER:
            if self.external_no_approval or requester_approves:
                return _direct(base)
            return base if approvers else _refused(base, Code.NO_APPROVERS)
        if not approvers or requester_approves:
            return _direct(base)
        if target.kind is TargetKind.QUEUE and normalize_queue_name(target.name) in self.no_approval_queues:
            return _direct(base)
        return base


def _direct(decision: Decision) -> Decision:
    return Decision(False, decision.approvers, decision.approvals_required, decision.break_glass, decision.rule)


def _refused(decision: Decision, code: Code) -> Decision:
    return Decision(True, decision.approvers, decision.approvals_required, decision.break_glass, decision.rule, code)


class ClickVerdict(enum.StrEnum):
    ALLOWED = "allowed"
    NOT_APPROVER = "not_approver"
    SELF_APPROVAL = "self_approval"
    NOT_REQUESTER = "not_requester"


def may_decide(*, clicker: str, requester: str, clicker_is_approver: bool) -> ClickVerdict:
    """Approve/Deny: an approver of this request who is not its requester."""
    if clicker == requester:
        return ClickVerdict.SELF_APPROVAL
    if not clicker_is_approver:
        return ClickVerdict.NOT_APPROVER
    return ClickVerdict.ALLOWED


def may_cancel(*, clicker: str, requester: str) -> ClickVerdict:
    return ClickVerdict.ALLOWED if clicker == requester else ClickVerdict.NOT_REQUESTER
