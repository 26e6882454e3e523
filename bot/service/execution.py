"""Send the one transfer POST for an approved request, then follow it until Genesys settles.

After a 202 the request is `accepted` and tracked in the database: checks run in the
background at low priority with backoff, on whichever replica is free, until Genesys reports
the transfer complete or failed, or the confirmation window closes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.domain.problems import Code, Problem
from bot.domain.request import RequestState, TransferRequest, Via
from bot.domain.rules import TransferStatus, assess, read_transfer, still_same
from bot.logs import CHAT_USER_FIELD, log_context
from bot.ports.genesys import GenesysError, GenesysUnreadable, Priority
from bot.service.context import SYSTEM, Context
from bot.service.genesys_problems import During, from_genesys

log = logging.getLogger(__name__)
S = RequestState
FIRST_CHECK = timedelta(milliseconds=500)
MAX_BACKOFF = timedelta(seconds=30)


class Execution:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def recheck_and_execute(self, request: TransferRequest, actor: str) -> TransferRequest | None:
        """An approval: re-read the call; if it changed, nothing is sent (superseded)."""
        ctx = self.ctx
        try:
            conversation = ctx.resolver.read(request.conversation_id or "", during=During.RECHECKING)
        except Problem as problem:
            return ctx.move(request, [S.APPROVED], S.FAILED, actor=actor, changes={"problem": problem},
                            reason=problem.code.value)
        verdict = still_same(request.snapshot, conversation) if request.snapshot else assess(conversation)
        if isinstance(verdict, Problem):
            return ctx.move(request, [S.APPROVED], S.SUPERSEDED, changes={"problem": verdict},
                            reason=verdict.code.value)
        return self.execute(request)

    def execute(self, request: TransferRequest) -> TransferRequest | None:
        """The POST, sent at most once: the compare-and-set to `executing` is the gate."""
        ctx = self.ctx
        started = ctx.move(request, [S.APPROVED], S.EXECUTING, changes={"sent_at": ctx.now()})
        if started is None:
            return ctx.store.get(request.id)
        with log_context(**_fields(started)):
            return self._send(started)

    def _send(self, started: TransferRequest) -> TransferRequest | None:
        ctx = self.ctx
        assert started.target is not None and started.snapshot is not None and started.conversation_id
        try:
            correlation_id = ctx.genesys.transfer(
                started.conversation_id, started.snapshot.agent_participant_id, started.target
            )
        except GenesysError as error:
            if isinstance(error, GenesysUnreadable) and 200 <= (error.status or 0) < 300:
                # Genesys accepted it; only the body of its answer was unreadable. Confirmation asks Genesys.
                log.warning("transfer %s of %s: accepted by Genesys (HTTP %s) with an answer the bot can't read",
                            started.id, started.conversation_id, error.status)
                correlation_id = error.correlation_id
            else:
                problem = from_genesys(error, during=During.SENDING)
                state = S.UNCERTAIN if problem.code is Code.UNCERTAIN else S.FAILED
                log.warning("transfer %s of %s: %s", started.id, started.conversation_id, error,
                            extra={"genesys_correlation_id": error.correlation_id})
                return ctx.move(started, [S.EXECUTING], state, changes={"problem": problem,
                                "correlation_id": error.correlation_id}, reason=problem.code.value, must_record=True)
        log.info("transfer %s of %s to %s %s accepted by Genesys, correlation id %s", started.id,
                 started.conversation_id, started.target.kind.value, started.target.id, correlation_id,
                 extra={"genesys_correlation_id": correlation_id})
        now = ctx.now()
        return ctx.move(
            started, [S.EXECUTING], S.ACCEPTED,
            changes={"correlation_id": correlation_id, "confirm_deadline": now + ctx.config.confirm_timeout,
                     "next_check_at": now + FIRST_CHECK},
            reason="accepted (202)", must_record=True,
        )


    def check(self, request: TransferRequest) -> TransferRequest | None:
        """One confirmation read for an accepted transfer; reschedules itself when still pending."""
        with log_context(**_fields(request), genesys_correlation_id=request.correlation_id):
            return self._check(request)

    def _check(self, request: TransferRequest) -> TransferRequest | None:
        ctx = self.ctx
        try:
            conversation = ctx.genesys.get_conversation(request.conversation_id or "", priority=Priority.BACKGROUND)
        except GenesysError as error:
            log.info("confirmation read for %s failed: %s", request.id, error)
            return self._later_or_give_up(request, None)
        reading = read_transfer(
            conversation, request.target, request.snapshot.agent_participant_id, request.sent_at or request.created_at,
            request.transfer_id,
        )
        if reading.status is TransferStatus.CONFIRMED:
            return ctx.move(request, [S.ACCEPTED], S.SUCCEEDED, changes={"transfer_id": reading.transfer_id},
                            reason="confirmed by Genesys")
        if reading.status is TransferStatus.FAILED:
            problem = Problem(Code.FAILED_AFTER_ACCEPT, {"genesys_state": reading.genesys_state,
                                                          "media": _media(request),
                                                          "agent": request.snapshot.agent_name},
                              request.correlation_id)
            return ctx.move(request, [S.ACCEPTED], S.FAILED, changes={"problem": problem,
                            "transfer_id": reading.transfer_id}, reason=f"Genesys reported {reading.genesys_state}")
        ended = isinstance(assess(conversation), Problem) and not any(p.is_live for p in conversation.participants)
        return self._later_or_give_up(request, reading.transfer_id, ended=ended)

    def _later_or_give_up(self, request: TransferRequest, transfer_id: str | None, *, ended: bool = False):
        ctx = self.ctx
        now = ctx.now()
        if ended or (request.confirm_deadline is not None and now >= request.confirm_deadline):
            facts = {"ended": ended, "waited_seconds": int((now - (request.sent_at or now)).total_seconds())}
            problem = Problem(Code.NEVER_CONFIRMED, facts, request.correlation_id)
            return ctx.move(request, [S.ACCEPTED], S.UNCERTAIN, changes={"problem": problem},
                            reason="call ended unconfirmed" if ended else "confirmation window closed")
        age = now - (request.sent_at or request.created_at)
        delay = min(max(age / 4, FIRST_CHECK), MAX_BACKOFF)
        changes = {"next_check_at": now + delay}
        if transfer_id and not request.transfer_id:
            changes["transfer_id"] = transfer_id
        ctx.store.update(request.id, [S.ACCEPTED], changes)
        ctx.store.release(request.id, ctx.instance_id)
        return ctx.store.get(request.id)


def _fields(request: TransferRequest) -> dict[str, str | None]:
    """What the log lines of work on `request` carry (see bot.logs.CONTEXT_FIELDS, named by issue 11)."""
    return {"request_id": request.id, "conversation_id": request.conversation_id,
            CHAT_USER_FIELD: request.requester_id if request.via is Via.CHAT else None}


def actor_or_system(request: TransferRequest) -> str:
    return request.acted_by or SYSTEM


def _media(request: TransferRequest) -> str | None:
    return request.media.value if request.media else None
