"""Who needs approval, who approves, and which rule wins."""

from __future__ import annotations

from bot.domain.conversation import Media
from bot.domain.policy import ClickVerdict, Policy, PolicyRule, may_cancel, may_decide
from bot.domain.problems import Code
from bot.domain.target import Target, TargetKind

Q = Target(TargetKind.QUEUE, "q-esc", "Escalations")
SUPPORT = Target(TargetKind.QUEUE, "q-sup", "Support")
NUM = Target(TargetKind.NUMBER, "+442071234567", "+442071234567")


def member(groups=None):
    groups = groups or {"S0SUP": {"U0SAM", "U0KIM"}}
    return lambda user, ids: user in set(ids) or any(user in groups.get(g, set()) for g in ids)


def test_defaults_approval_off_without_approvers_and_exempt_queues():
    assert not Policy().decide(Q, Media.CALL, "U1", member()).needs_approval
    policy = Policy(default_approvers=frozenset({"S0SUP"}), no_approval_queues=frozenset({"support"}))
    assert policy.decide(Q, Media.CALL, "U1", member()).needs_approval
    assert not policy.decide(SUPPORT, Media.CALL, "U1", member()).needs_approval
    assert not policy.decide(Q, Media.CALL, "U0SAM", member()).needs_approval  # approver via group


def test_numbers_always_need_approval_unless_configured():
    policy = Policy(default_approvers=frozenset({"S0SUP"}))
    assert policy.decide(NUM, Media.CALL, "U1", member()).needs_approval
    assert not Policy(default_approvers=frozenset({"S0SUP"}), external_no_approval=True).decide(
        NUM, Media.CALL, "U1", member()).needs_approval
    assert Policy().decide(NUM, Media.CALL, "U1", member()).refusal is Code.NO_APPROVERS


def test_most_specific_rule_wins_and_media_narrows():
    rules = (
        PolicyRule(TargetKind.QUEUE, "*", approvers=frozenset({"U0ANY"})),
        PolicyRule(TargetKind.QUEUE, "Escalations", approvers=frozenset({"U0SAM", "U0KIM"}), approvals_required=2,
                   source="esc"),
        PolicyRule(TargetKind.QUEUE, "Support", direct=frozenset({"*"}), media=frozenset({Media.CHAT}), source="chat"),
        PolicyRule(TargetKind.NUMBER, "+44", approvers=frozenset({"U0UK"}), source="uk"),
        PolicyRule(TargetKind.NUMBER, "+4420", break_glass=True, approvers=frozenset({"U0LDN"}), source="london"),
    )
    policy = Policy(default_approvers=frozenset({"S0SUP"}), rules=rules)
    esc = policy.decide(Q, Media.CALL, "U1", member())
    assert (esc.needs_approval, esc.approvals_required, esc.rule) == (True, 2, "esc")
    # an approver's own request under a two-person rule still needs two others
    assert policy.decide(Q, Media.CALL, "U0SAM", member()).needs_approval
    assert not policy.decide(SUPPORT, Media.CHAT, "U1", member()).needs_approval
    assert policy.decide(SUPPORT, Media.CALL, "U1", member()).approvers == {"U0ANY"}
    london = policy.decide(NUM, Media.CALL, "U1", member())
    assert london.rule == "london" and london.break_glass and london.approvers == {"U0LDN"}


def test_click_rules():
    assert may_decide(clicker="U1", requester="U2", clicker_is_approver=True) is ClickVerdict.ALLOWED
    assert may_decide(clicker="U3", requester="U2", clicker_is_approver=False) is ClickVerdict.NOT_APPROVER
    assert may_decide(clicker="U2", requester="U2", clicker_is_approver=True) is ClickVerdict.SELF_APPROVAL
    assert may_cancel(clicker="U2", requester="U2") is ClickVerdict.ALLOWED
    assert may_cancel(clicker="U1", requester="U2") is ClickVerdict.NOT_REQUESTER
