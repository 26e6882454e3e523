"""A transfer arrives: store it before anything else, then validate it and decide its path.

`receive` runs on Slack's ack path, so it does one database insert and nothing else: a crash
a moment later still leaves a row that recovery finishes. `process` does the Genesys reads.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace

from bot.domain.conversation import Conversation, GenesysUser
from bot.domain.parsing import is_uuid
from bot.domain.policy import Decision
from bot.domain.problems import Code, Problem
from bot.domain.request import Ask, RequestState, TransferRequest, Via
from bot.domain.rules import Transferable, assess, check_target, snapshot
from bot.domain.target import Target, TargetKind
from bot.ports.store import ConversationBusy
from bot.service.context import Context

log = logging.getLogger(__name__)
S = RequestState


@dataclass(frozen=True)
class Plan:
    """Everything validation decided, written to the request in one compare-and-set."""

    conversation: Conversation
    agent: Transferable
    target: Target
    decision: Decision
    agent_user: GenesysUser | None


class Intake:
    def __init__(self, ctx: Context, execute) -> None:
        self.ctx = ctx
        self._execute = execute

    def receive(
        self,
        ask: Ask,
        requester: str,
        *,
        origin: str | None = None,
        via: Via = Via.CHAT,
        simulated: bool = False,
    ) -> TransferRequest:
        """Store the request (state `received`, leased to this process). Fast: one insert."""
        ctx = self.ctx
        request = TransferRequest(
            id=uuid.uuid4().hex,
            requester_id=requester,
            state=S.RECEIVED,
            created_at=ctx.now(),
            ask=ask,
            via=via,
            conversation_id=ask.call if is_uuid(ask.call) else None,
            origin=origin,
            simulated=simulated or ctx.config.simulated,
        )
        return ctx.store.add(request, actor=requester, lease_owner=ctx.instance_id, lease_until=ctx.lease_until())

    def process(self, request_id: str, *, operator: bool = False) -> TransferRequest | None:
        """Validate a received request: refuse it, queue it for approval, or send it now."""
        request = self.ctx.store.get(request_id)
        if request is None or request.state is not S.RECEIVED:
            return request
        try:
            plan = self._plan(request, operator=operator)
        except Problem as problem:
            return self._refuse(request, problem)
        return self._route(request, plan, operator=operator)

    # ---- validation -------------------------------------------------------------------------

    def _plan(self, request: TransferRequest, *, operator: bool) -> Plan:
        ctx = self.ctx
        conversation = ctx.resolver.conversation(request.ask.call, request.requester_id)
        verdict = assess(conversation)
        if isinstance(verdict, Problem):
            raise verdict
        target, agent_user = ctx.resolver.target(request.ask.target, conversation.media)
        refusal = check_target(conversation, verdict.agent, target)
        if refusal is not None:
            raise refusal
        decision = ctx.policy.decide(target, conversation.media, request.requester_id, ctx.people.is_member)
        if operator:
            decision = Decision(False, decision.approvers, 1, False, "operator command line")
        elif decision.refusal is not None:
            raise Problem(decision.refusal, {"target_kind": target.kind.value, "rule": decision.rule})
        elif request.ask.now:
            decision = self._break_glass(request, decision)
        return Plan(conversation, verdict, target, decision, agent_user)

    def _break_glass(self, request: TransferRequest, decision: Decision) -> Decision:
        allowed = decision.break_glass and self.ctx.people.is_member(request.requester_id, decision.approvers)
        if not allowed:
            raise Problem(Code.BREAK_GLASS_NOT_ALLOWED, {"rule": decision.rule})
        return Decision(False, decision.approvers, decision.approvals_required, True, decision.rule)

    def _snapshot(self, plan: Plan):
        ctx = self.ctx
        snap = snapshot(plan.conversation, plan.agent.agent)
        needs_names = plan.decision.needs_approval
        queue_name = ctx.queues.name_of(snap.queue_at_request_id) if needs_names else None
        health = None
        if plan.target.kind is TargetKind.QUEUE:
            # Supervisors approve with the facts in view; a direct transfer doesn't wait for them.
            health = ctx.queues.health_now(plan.target.id) if needs_names else ctx.queues.cached_health(plan.target.id)
            ctx.queues.note_interest([plan.target.id])
        status = plan.agent_user.routing_status if plan.agent_user else None
        return replace(snap, queue_at_request_name=queue_name, target_health=health, target_routing_status=status)

    # ---- routing the request ----------------------------------------------------------------

    def _route(self, request: TransferRequest, plan: Plan, *, operator: bool) -> TransferRequest | None:
        ctx = self.ctx
        decision = plan.decision
        # decision.break_glass says the rule *allows* --now; the request is break glass only if --now was used.
        glass = bool(request.ask.now and decision.break_glass and not decision.needs_approval)
        changes = {
            "conversation_id": plan.conversation.id,
            "target": plan.target,
            "snapshot": self._snapshot(plan),
            "needs_approval": decision.needs_approval,
            "approvals_required": decision.approvals_required,
            "approvers": tuple(sorted(decision.approvers)),
            "break_glass": glass,
        }
        if decision.needs_approval:
            changes["expires_at"] = ctx.now() + ctx.config.approval_ttl
            new_state, reason = S.PENDING, f"needs approval ({decision.rule})"
        else:
            new_state = S.APPROVED
            reason = "operator command line" if operator else ("break glass" if glass else "direct")
        try:
            moved = ctx.move(
                request, [S.RECEIVED], new_state, actor=request.requester_id, changes=changes, reason=reason,
                record_actor=new_state is S.APPROVED,
            )
        except ConversationBusy as busy:
            return self._refuse(request, _busy(busy.existing))
        if moved is None or moved.state is S.PENDING:
            return moved or ctx.store.get(request.id)
        return self._execute(moved)

    def _refuse(self, request: TransferRequest, problem: Problem) -> TransferRequest | None:
        log.info("request %s refused: %s", request.id, problem.code.value)
        moved = self.ctx.move(
            request, [S.RECEIVED], S.REFUSED, actor=request.requester_id, changes={"problem": problem},
            reason=problem.code.value,
        )
        return moved or self.ctx.store.get(request.id)


def _busy(existing: TransferRequest | None) -> Problem:
    if existing is not None and existing.state is S.PENDING:
        return Problem(
            Code.ALREADY_PENDING,
            {
                "target": existing.target.name if existing.target else existing.ask.target,
                "asked_at": existing.created_at.isoformat(),
                "requester": existing.requester_id,
                "request_id": existing.id,
            },
        )
    return Problem(Code.IN_PROGRESS, {"request_id": existing.id if existing else None})
