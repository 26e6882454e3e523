"""Clicks and operator actions on a request: approve (one or two votes), deny, cancel, pick, expire.

Every click is authorised here, on the server, against the approvers fixed when the request
was validated; a refused click changes nothing and is audited.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.domain.parsing import is_uuid
from bot.domain.policy import ClickVerdict, may_cancel, may_decide
from bot.domain.problems import Code, Problem
from bot.domain.request import Ask, AuditEvent, AuditKind, RequestState, TransferRequest
from bot.service.context import Context

S = RequestState


class ClickOutcome(enum.StrEnum):
    DONE = "done"  # the click changed the request (see `request` for its state now)
    VOTED = "voted"  # one approval recorded; more are needed
    REFUSED = "refused"  # not allowed; nothing changed (see `problem`)
    ALREADY = "already"  # the request had already moved on (see `request`)
    PICKED = "picked"  # a call was picked: `request` is the new request


@dataclass(frozen=True)
class ClickResult:
    outcome: ClickOutcome
    request: TransferRequest | None = None
    problem: Problem | None = None


_VERDICT_CODES = {
    ClickVerdict.NOT_APPROVER: Code.NOT_APPROVER,
    ClickVerdict.SELF_APPROVAL: Code.SELF_APPROVAL,
    ClickVerdict.NOT_REQUESTER: Code.NOT_REQUESTER,
}


class Decisions:
    def __init__(self, ctx: Context, execution, intake) -> None:
        self.ctx = ctx
        self._execution = execution
        self._intake = intake

    def approve(self, request_id: str, clicker: str) -> ClickResult:
        request, refusal = self._open_for(request_id, clicker, self._decider)
        if refusal:
            return refusal
        if request.approvals_required > 1:
            voted = self._vote(request, clicker)
            if voted is not None:
                return voted
        ctx = self.ctx
        approved = ctx.move(request, [S.PENDING], S.APPROVED, actor=clicker, record_actor=True, reason="approved")
        if approved is None:
            return self._already(request_id)
        final = self._execution.recheck_and_execute(approved, clicker)
        return ClickResult(ClickOutcome.DONE, final or ctx.store.get(request_id))

    def _vote(self, request: TransferRequest, clicker: str) -> ClickResult | None:
        """Record a vote; None when it was the last one needed (the caller then approves)."""
        ctx = self.ctx
        if any(v.approver == clicker for v in request.votes):
            return ClickResult(ClickOutcome.REFUSED, request, Problem(Code.ALREADY_VOTED))
        if not ctx.store.add_vote(request.id, clicker, ctx.now()):
            return ClickResult(ClickOutcome.REFUSED, request, Problem(Code.ALREADY_VOTED))
        latest = ctx.store.get(request.id) or request
        if latest.state is not S.PENDING:
            return self._already(request.id)
        distinct = {v.approver for v in latest.votes if v.approver != latest.requester_id}
        if len(distinct) >= latest.approvals_required:
            return None
        ctx.announce(latest)
        return ClickResult(ClickOutcome.VOTED, latest)

    def deny(self, request_id: str, clicker: str) -> ClickResult:
        request, refusal = self._open_for(request_id, clicker, self._decider)
        if refusal:
            return refusal
        return self._finish(request, S.DENIED, clicker)

    def cancel(self, request_id: str, clicker: str) -> ClickResult:
        request, refusal = self._open_for(
            request_id, clicker, lambda r, who: may_cancel(clicker=who, requester=r.requester_id)
        )
        if refusal:
            return refusal
        return self._finish(request, S.CANCELLED, clicker)

    def operator_cancel(self, request_id: str, operator: str) -> ClickResult:
        """`python -m bot cancel <id>`: whoever runs the bot may withdraw any pending request."""
        request = self.ctx.store.get(request_id)
        if request is None:
            return ClickResult(ClickOutcome.REFUSED, None, Problem(Code.REQUEST_NOT_FOUND))
        if request.state is not S.PENDING:
            return ClickResult(ClickOutcome.ALREADY, request)
        return self._finish(request, S.CANCELLED, operator)

    def pick(self, request_id: str, conversation_id: str, clicker: str) -> ClickResult:
        """The requester picked one of an agent's several calls: ask again with that call."""
        ctx = self.ctx
        original = ctx.store.get(request_id)
        if original is None:
            return ClickResult(ClickOutcome.REFUSED, None, Problem(Code.REQUEST_NOT_FOUND))
        if clicker != original.requester_id:
            return ClickResult(ClickOutcome.REFUSED, original, Problem(Code.NOT_REQUESTER))
        candidates = original.problem.fact("candidates") if original.problem else None
        offered = {c.get("conversation_id") for c in candidates or []}
        if not is_uuid(conversation_id) or conversation_id not in offered:
            return ClickResult(ClickOutcome.REFUSED, original, Problem(Code.REQUEST_NOT_FOUND))
        ask = Ask(call=conversation_id, target=original.ask.target, now=original.ask.now)
        fresh = self._intake.receive(ask, clicker, origin=original.origin, via=original.via,
                                     simulated=original.simulated)
        return ClickResult(ClickOutcome.PICKED, fresh)

    def expire_due(self, limit: int = 100) -> list[TransferRequest]:
        """Expire pending requests past their TTL; safe on every replica at once (compare-and-set)."""
        ctx = self.ctx
        done = []
        for request in ctx.store.due_for_expiry(ctx.now(), limit):
            moved = ctx.move(request, [S.PENDING], S.EXPIRED, reason="approval TTL passed")
            if moved is not None:
                done.append(moved)
        return done

    # ---- helpers ----------------------------------------------------------------------------

    def _decider(self, request: TransferRequest, clicker: str) -> ClickVerdict:
        # Requests stored before approvers were fixed per request (an upgrade) fall back to the defaults.
        approvers = request.approvers or tuple(self.ctx.policy.default_approvers)
        return may_decide(
            clicker=clicker, requester=request.requester_id,
            clicker_is_approver=self.ctx.people.is_member(clicker, approvers),
        )

    def _open_for(self, request_id: str, clicker: str, rule) -> tuple[TransferRequest, ClickResult | None]:
        request = self.ctx.store.get(request_id)
        if request is None:
            return None, ClickResult(ClickOutcome.REFUSED, None, Problem(Code.REQUEST_NOT_FOUND))  # type: ignore[return-value]
        if request.state is not S.PENDING:
            return request, ClickResult(ClickOutcome.ALREADY, request)
        verdict = rule(request, clicker)
        if verdict is not ClickVerdict.ALLOWED:
            code = _VERDICT_CODES[verdict]
            self.ctx.store.record(_refused_click(request, clicker, code, self.ctx.now()))
            return request, ClickResult(ClickOutcome.REFUSED, request, Problem(code))
        return request, None

    def _finish(self, request: TransferRequest, state: RequestState, actor: str) -> ClickResult:
        moved = self.ctx.move(request, [S.PENDING], state, actor=actor, record_actor=True, reason=state.value)
        if moved is None:
            return self._already(request.id)
        return ClickResult(ClickOutcome.DONE, moved)

    def _already(self, request_id: str) -> ClickResult:
        return ClickResult(ClickOutcome.ALREADY, self.ctx.store.get(request_id))


def _refused_click(request: TransferRequest, clicker: str, code: Code, at) -> AuditEvent:
    target = request.target
    return AuditEvent(
        request_id=request.id, at=at, kind=AuditKind.CLICK_REFUSED, actor=clicker,
        from_state=request.state.value, to_state=request.state.value, conversation_id=request.conversation_id,
        media=request.media.value if request.media else None,
        target_kind=target.kind.value if target else None, target_id=target.id if target else None,
        target_name=target.name if target else None, reason=code.value, via=request.via.value,
        direct=request.direct, break_glass=request.break_glass, simulated=request.simulated,
    )




__all__ = ["ClickOutcome", "ClickResult", "Decisions"]
