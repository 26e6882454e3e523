"""Finish or report what a stopped process left behind, by asking Genesys, never by resending.

A request whose lease ran out was being worked on by a process that died or shut down.
Before anything was sent (`received`, `approved`) it is carried on when recent, else closed as
"not done, nothing sent"; a command-line request still `received` is always closed. Once the
POST may have gone out (`executing`), the conversation is re-read: in the target means
transferred; our transfer entry pending means keep confirming; the agent still holding it
with no entry means not transferred; anything else is uncertain.
"""

from __future__ import annotations

import logging

from bot.domain.problems import Code, Problem
from bot.domain.request import RequestState, TransferRequest, Via
from bot.domain.rules import TransferStatus, agent_still_holds, our_transfer, read_transfer
from bot.ports.genesys import GenesysError, Priority
from bot.service.context import Context
from bot.service.execution import FIRST_CHECK, Execution

log = logging.getLogger(__name__)
S = RequestState


class Recovery:
    def __init__(self, ctx: Context, intake, execution: Execution) -> None:
        self.ctx = ctx
        self._intake = intake
        self._execution = execution

    def recover(self, request: TransferRequest) -> TransferRequest | None:
        """Called with the lease already taken over by this process."""
        log.warning("recovering request %s left in %s by another process", request.id, request.state.value)
        if request.state is S.RECEIVED:
            # An operator's command that died before deciding anything is not carried on without them
            # (nor re-judged under Slack's rules, as a request nobody in Slack could see or cancel).
            if self._recent(request.created_at) and request.via is not Via.CLI:
                return self._intake.process(request.id)
            return self._close(request, S.REFUSED)
        if request.state is S.APPROVED:
            if self._recent(request.acted_at or request.updated_at or request.created_at):
                return self._execution.recheck_and_execute(request, request.acted_by or request.requester_id)
            return self._close(request, S.FAILED)
        if request.state is S.EXECUTING:
            return self._settle_executing(request)
        return request

    def _recent(self, when) -> bool:
        return when is not None and self.ctx.now() - when <= self.ctx.config.resume_window

    def _close(self, request: TransferRequest, state: RequestState) -> TransferRequest | None:
        problem = Problem(Code.BOT_RESTARTED, {"sent": False})
        return self.ctx.move(request, [request.state], state, changes={"problem": problem},
                             reason="abandoned before sending")

    def _settle_executing(self, request: TransferRequest) -> TransferRequest | None:
        ctx = self.ctx
        try:
            conversation = ctx.genesys.get_conversation(request.conversation_id or "", priority=Priority.CRITICAL)
        except GenesysError as error:
            log.info("recovery read for %s failed (%s); trying again later", request.id, error)
            ctx.store.release(request.id, ctx.instance_id)
            return None
        sent_at = request.sent_at or request.created_at
        pid = request.snapshot.agent_participant_id
        reading = read_transfer(conversation, request.target, pid, sent_at, request.transfer_id)
        if reading.status is TransferStatus.CONFIRMED:
            return ctx.move(request, [S.EXECUTING], S.SUCCEEDED, changes={"transfer_id": reading.transfer_id},
                            reason="recovered: conversation is at the target")
        if reading.status is TransferStatus.FAILED:
            problem = Problem(Code.FAILED_AFTER_ACCEPT, {"genesys_state": reading.genesys_state,
                                                          "media": _media(request),
                                                          "agent": request.snapshot.agent_name})
            return ctx.move(request, [S.EXECUTING], S.FAILED, changes={"problem": problem},
                            reason="recovered: Genesys reports the transfer failed")
        if our_transfer(conversation, request.target, sent_at, request.transfer_id) is not None:
            now = ctx.now()
            return ctx.move(request, [S.EXECUTING], S.ACCEPTED, changes={
                "transfer_id": reading.transfer_id, "confirm_deadline": now + ctx.config.confirm_timeout,
                "next_check_at": now + FIRST_CHECK}, reason="recovered: Genesys has the transfer")
        if agent_still_holds(conversation, pid):
            problem = Problem(Code.BOT_RESTARTED, {"sent": False, "agent": request.snapshot.agent_name})
            return ctx.move(request, [S.EXECUTING], S.FAILED, changes={"problem": problem},
                            reason="recovered: the agent still has the conversation, no transfer recorded")
        problem = Problem(Code.UNCERTAIN, {"during": "recovery", "agent": request.snapshot.agent_name})
        return ctx.move(request, [S.EXECUTING], S.UNCERTAIN, changes={"problem": problem},
                        reason="recovered: conversation moved, not to the target")


def _media(request: TransferRequest) -> str | None:
    return request.media.value if request.media else None
