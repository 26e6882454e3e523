from __future__ import annotations

from bot.domain.policy import ApprovalPolicy, ClickVerdict, may_cancel, may_decide


def test_approval_off_without_approvers():
    assert not ApprovalPolicy().enabled
    assert not ApprovalPolicy().needs_approval(requester_is_approver=False, queue_name="Billing")


def test_approver_requests_run_directly_and_exempt_queues_skip_approval():
    policy = ApprovalPolicy(approver_users=frozenset({"U1"}), no_approval_queues=frozenset({"support tier 1"}))
    assert policy.needs_approval(requester_is_approver=False, queue_name="Billing")
    assert not policy.needs_approval(requester_is_approver=True, queue_name="Billing")
    assert not policy.needs_approval(requester_is_approver=False, queue_name="Support  TIER 1")


def test_click_rules():
    assert may_decide(clicker="U1", requester="U2", clicker_is_approver=True) is ClickVerdict.ALLOWED
    assert may_decide(clicker="U3", requester="U2", clicker_is_approver=False) is ClickVerdict.NOT_APPROVER
    assert may_decide(clicker="U2", requester="U2", clicker_is_approver=True) is ClickVerdict.SELF_APPROVAL
    assert may_cancel(clicker="U2", requester="U2") is ClickVerdict.ALLOWED
    assert may_cancel(clicker="U1", requester="U2") is ClickVerdict.NOT_REQUESTER
